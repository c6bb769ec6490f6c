"""The Dockerfile, without Docker (this machine has no engine): its shape, that the image gets
every file `pip install .` needs, and that its CMD and HEALTHCHECK work when run directly."""
from __future__ import annotations

import fnmatch
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from mockserver.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            keyword, _, rest = pending.strip().partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
            pending = ""
    return found


def one(keyword: str) -> str:
    [value] = [rest for k, rest in instructions() if k == keyword]
    return value


def exec_form(text: str) -> list[str]:
    value = json.loads(text)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def healthcheck_command() -> list[str]:
    return exec_form(one("HEALTHCHECK").split(" CMD ", 1)[1])


def env(port: int, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "MOCKSERVER_PORT": str(port),
            "MOCKSERVER_STORE": f"sqlite:{tmp_path / 'mockserver.db'}",
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
            "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}


def test_shape() -> None:
    assert one("FROM") == "python:3.11-slim"
    assert one("EXPOSE") == "8000"
    assert exec_form(one("CMD")) == ["mockserver", "serve", "--host", "0.0.0.0"]
    assert "/__admin/health" in " ".join(healthcheck_command())
    assert any(k == "RUN" and "pip install ." in rest for k, rest in instructions())


def test_image_gets_every_file_the_wheel_is_built_from() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {"pyproject.toml", project["project"]["readme"], *wheel["packages"],
              *wheel.get("force-include", {})}
    copied = {src.rstrip("/").removeprefix("./") for k, rest in instructions() if k == "COPY"
              for src in rest.split()[:-1]}
    assert needed <= copied, needed - copied
    ignored = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
               if p.strip() and not p.startswith("#")]
    assert [n for n in needed if any(fnmatch.fnmatch(n, p) for p in ignored)] == []
    assert {".git", ".venv", "tests"} <= set(ignored)


def wait_healthy(command: list[str], environ: dict[str, str], deadline: float) -> int:
    while True:
        code = subprocess.run(command, env=environ, capture_output=True, timeout=10).returncode
        if code == 0 or time.monotonic() > deadline:
            return code
        time.sleep(0.1)


def test_cmd_serves_and_healthcheck_passes_when_run_directly(tmp_path: Path) -> None:
    port = free_port()
    environ = env(port, tmp_path)
    server = subprocess.Popen(exec_form(one("CMD")), cwd=tmp_path, env=environ,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_healthy(healthcheck_command(), environ, time.monotonic() + 20) == 0
    finally:
        server.send_signal(signal.SIGTERM)  # what `docker stop` sends
        output, _ = server.communicate(timeout=20)
    # uvicorn shuts down gracefully, then re-raises the signal it caught (exit 143 in Docker).
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert f"listening on http://0.0.0.0:{port}" in output
    assert (tmp_path / "mockserver.db").exists()  # MOCKSERVER_STORE from the image's ENV


def test_healthcheck_fails_when_nothing_answers(tmp_path: Path) -> None:
    environ = env(free_port(), tmp_path)
    done = subprocess.run(healthcheck_command(), env=environ, capture_output=True, timeout=10)
    assert done.returncode != 0


@pytest.mark.parametrize("variable", ["MOCKSERVER_PORT", "MOCKSERVER_STORE"])
def test_image_env_names_settings_the_server_reads(variable: str) -> None:
    assert variable in one("ENV")
    from mockserver.settings import load_settings

    value = "8123" if variable == "MOCKSERVER_PORT" else "sqlite:/data/x.db"
    loaded = load_settings({}, {variable: value})
    assert str(getattr(loaded, variable.removeprefix("MOCKSERVER_").lower())) == value
