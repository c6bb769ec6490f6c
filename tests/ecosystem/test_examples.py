"""Every program under examples/ runs, as a user would run it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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


def workflow_steps() -> dict[str, str]:
    doc = yaml.safe_load((EXAMPLES / "ci" / "github-actions.yml").read_text())
    [job] = doc["jobs"].values()
    return {step["name"]: step["run"] for step in job["steps"] if "name" in step and "run" in step}


@pytest.mark.skipif(shutil.which("curl") is None, reason="the workflow's health wait uses curl")
def test_ci_workflow_starts_waits_for_and_stops_the_mock(tmp_path: Path) -> None:
    steps = workflow_steps()
    port = str(free_port())
    for name in ("Start the mock", "Wait for the mock", "Stop the mock"):
        script = steps[name].replace("8000", port)
        done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=ENV,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (name, done.stdout, done.stderr)
    assert f"listening on http://127.0.0.1:{port}" in done.stdout  # the log, printed at stop
    wait_until_gone(int((tmp_path / "mockserver.pid").read_text()))


def wait_until_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"the mock (pid {pid}) did not stop")
