"""Every program under examples/ runs, as a user would run it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.settings import Settings
from mockserver.testing import ServerThread, free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
       "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}


def run(args: list[str], cwd: Path = ROOT, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done


@pytest.fixture
def scaled_server() -> Iterator[ServerThread]:
    # The DashScope SDK's wait() sleeps for real between polls.
    with ServerThread(Settings(validate_responses=True, time_scale=60.0)) as server:
        yield server
    assert server.emulator.schema_violations == []


@pytest.fixture
def plain_server() -> Iterator[ServerThread]:
    with ServerThread(Settings(validate_responses=True)) as server:
        yield server
    assert server.emulator.schema_violations == []


def test_app_tests_with_the_plugin_and_respx_mode() -> None:
    """examples/ is its own pytest project (pytest.ini): the plugin loads by entry point."""
    done = run([sys.executable, "-m", "pytest", "-q", "test_with_plugin.py", "test_with_respx.py"],
               cwd=EXAMPLES)
    assert "4 passed" in done.stdout


def _can_unplug() -> bool:
    """`unshare -n` (a network namespace with no interface up) needs root or user namespaces."""
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


UNPLUG_PROBE = """
import socket
try:
    socket.create_connection(("dashscope.aliyuncs.com", 443), timeout=5)
except OSError:
    print("no network")
"""


@pytest.mark.skipif(not _can_unplug(), reason="needs `unshare -n` (root or user namespaces)")
def test_official_sdks_in_process_with_the_network_unplugged() -> None:
    """The issue's bar: a suite that uses only in-process mode runs every official SDK with no
    network at all, and a deliberately unmocked vendor call never leaves the process."""
    assert run(["unshare", "-n", sys.executable, "-c", UNPLUG_PROBE]).stdout == "no network\n"
    done = run(["unshare", "-n", sys.executable, "-m", "pytest", "-q", "test_sdks_inprocess.py"],
               cwd=EXAMPLES)
    assert "6 passed" in done.stdout


def test_dashscope_sdk_script(scaled_server: ServerThread) -> None:
    out = run([sys.executable, "examples/dashscope_sdk.py", scaled_server.base_url]).stdout
    assert "finished SUCCEEDED images: 2" in out
    assert out.count("image/jpeg") == 2


def test_tencent_sdk_script(plain_server: ServerThread) -> None:
    out = run([sys.executable, "examples/tencent_sdk.py", plain_server.base_url]).stdout
    assert "status 5" in out  # JobStatusCode "5": 处理完成
    assert [e.operation for e in plain_server.emulator.journal.entries()] == \
        ["QueryGlamPicJob", "SubmitGlamPicJob"]


def test_respx_standalone_script() -> None:
    out = run([sys.executable, "examples/respx_standalone.py"]).stdout
    assert "result https://portrait-mockserver.invalid/results/acedata/" in out
    assert "[('acedata', 'generate', 200), ('acedata', 'tasks', 200)]" in out


def workflow() -> dict[str, Any]:
    [job] = yaml.safe_load((EXAMPLES / "ci" / "github-actions.yml").read_text())["jobs"].values()
    return dict(job)


NOT_RUN = {"Install": "installs a wheel into the runner's Python; the suite has its own venv"}


@pytest.mark.skipif(shutil.which("curl") is None, reason="the workflow's health wait uses curl")
def test_ci_workflow_runs_as_written(tmp_path: Path) -> None:
    """Every `run` step but Install, in order, as written (port 8000 swapped for a free one),
    with a copy of examples/ as the application: start, wait, the app's tests, the
    Schemathesis contract check and stop all succeed."""
    job = workflow()
    port = str(free_port())
    app = tmp_path / "app"
    shutil.copytree(EXAMPLES, app, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    env = {**ENV, **{k: str(v).replace("8000", port) for k, v in job["env"].items()}}
    steps = [s for s in job["steps"] if "run" in s and s["name"] not in NOT_RUN]
    assert [s["name"] for s in job["steps"] if "run" in s and s["name"] in NOT_RUN] == \
        list(NOT_RUN)
    stopped = False
    try:
        for step in steps:
            done = subprocess.run(["bash", "-e", "-c", step["run"].replace("8000", port)],
                                  cwd=app, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, (step["name"], done.stdout[-6000:], done.stderr[-3000:])
            stopped = step["name"] == "Stop the mock"
    finally:
        pid = app / "mockserver.pid"
        if pid.exists() and not stopped:  # a failed step left the mock running
            subprocess.run(["kill", pid.read_text().strip()], capture_output=True)
    assert [s["name"] for s in steps][-1] == "Stop the mock"
    assert f"listening on http://127.0.0.1:{port}" in done.stdout  # the log, printed at stop
    wait_until_gone(int((app / "mockserver.pid").read_text()))


def wait_until_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"the mock (pid {pid}) did not stop")
