"""`mockserver serve`'s log: one access line per request (method, path, status, duration,
vendor.operation, task id, a masked account), never a secret; `--log-format json`; `--quiet`;
one format for every line, uvicorn's included; a dropped connection is one line."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SECRET = "sk-very-secret-key-0042"
HEADERS = {"Authorization": f"Bearer {SECRET}", "X-DashScope-Async": "enable"}
BODY = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
        "resources": [{"resource_id": "my-face-lora", "resource_type": "facelora"}]}
SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
                       r"[\w.]+ \S")
ACCESS = re.compile(r" INFO mockserver\.access (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\S+) "
                    r"(?P<ms>[\d.]+)ms (?P<operation>\S+)(?: task=(?P<task>\S+))?"
                    r"(?: account=(?P<account>\S+))?")


class Served:
    """`mockserver serve` in a subprocess; stderr goes to a file, read after it stops."""

    def __init__(self, tmp: Path, *flags: str) -> None:
        self.err_path = tmp / "stderr.log"
        self._err = self.err_path.open("w")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--store", "memory",
             *flags], stdout=subprocess.PIPE, stderr=self._err, text=True, cwd=tmp,
            env={**env, "NO_PROXY": "127.0.0.1"})
        self.url = self._wait_for_url(json_mode="json" in flags)
        self.http = httpx.Client(base_url=self.url, trust_env=False, timeout=10)

    def _wait_for_url(self, json_mode: bool) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if json_mode:
                for line in self.err_path.read_text().splitlines():
                    if '"banner"' in line and line.endswith("}"):
                        return str(json.loads(line)["banner"]["url"])
                time.sleep(0.05)
                continue
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            if "listening on " in line:
                return line.split("listening on ")[1].strip()
        raise AssertionError(self.err_path.read_text())

    def ready(self) -> None:
        for _ in range(200):
            try:
                self.http.get("/__admin/health")
                return
            except httpx.TransportError:
                time.sleep(0.05)

    def stop(self) -> tuple[str, str]:
        self.http.close()
        self.proc.terminate()
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()  # what readline() buffered comes first
        self.proc.stdout.close()
        self.proc.wait(timeout=20)
        self._err.close()
        return out, self.err_path.read_text()


@pytest.fixture
def tmp(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def traffic(served: Served) -> str:
    """Submit, query, let it finish, fetch the result, ask the admin API, miss a route."""
    served.ready()
    task_id = served.http.post(SUBMIT, json=BODY, headers=HEADERS).json()["output"]["task_id"]
    served.http.post("/__admin/clock/advance", json={"seconds": 120})
    done = served.http.get(f"/api/v1/tasks/{task_id}", headers=HEADERS).json()
    result = httpx.URL(done["output"]["results"][0]["url"])
    assert served.http.get(result.path).status_code == 200
    assert served.http.get("/no/such/route").status_code == 404
    return str(task_id)


def test_one_access_line_per_request_with_operation_task_and_no_secret(tmp: Path) -> None:
    served = Served(tmp)
    task_id = traffic(served)
    out, err = served.stop()
    lines = err.splitlines()
    assert all(TEXT_LINE.match(line) for line in lines), lines  # uvicorn's lines too
    assert any(" uvicorn.error " in line for line in lines)
    access = [m.groupdict() for line in lines if (m := ACCESS.search(line))]
    by_path = {(a["method"], a["path"]): a for a in access}
    submit = by_path[("POST", SUBMIT)]
    assert (submit["status"], submit["operation"], submit["task"]) == \
        ("200", "dashscope.gen_potrait", task_id)
    assert submit["account"] == "sk-v***"  # masked as the journal masks keys
    query = by_path[("GET", f"/api/v1/tasks/{task_id}")]
    assert (query["operation"], query["task"]) == ("dashscope.query_task", task_id)
    assert by_path[("POST", "/__admin/clock/advance")]["operation"] == "-"
    assert by_path[("GET", "/no/such/route")]["status"] == "404"
    assert any(a["path"].startswith(f"/results/dashscope/{task_id}/") for a in access)
    health = [a for a in access if a["path"] == "/__admin/health"]
    assert len(access) == len(health) + 5  # one line per request, no more
    assert all(float(a["ms"]) >= 0 for a in access)
    assert SECRET not in err and SECRET not in out


def test_json_format_is_one_object_a_line_for_every_logger(tmp: Path) -> None:
    served = Served(tmp, "--log-format", "json")
    task_id = traffic(served)
    _, err = served.stop()
    records = [json.loads(line) for line in err.splitlines()]  # every line is JSON
    assert {r["logger"] for r in records} >= {"mockserver", "mockserver.access", "uvicorn.error"}
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    [banner] = [r["banner"] for r in records if "banner" in r]
    assert set(banner["vendors"]) == {"acedata", "dashscope", "gptge", "tencent"}
    submit = next(r["access"] for r in records if r.get("access", {}).get("path") == SUBMIT)
    assert submit == {"method": "POST", "path": SUBMIT, "status": 200,
                      "duration_ms": submit["duration_ms"], "operation": "dashscope.gen_potrait",
                      "task_id": task_id, "account": "sk-v***"}
    assert SECRET not in err


def test_quiet_turns_the_access_log_off(tmp: Path) -> None:
    served = Served(tmp, "--quiet")
    traffic(served)
    _, err = served.stop()
    assert "mockserver.access" not in err
    assert "Application startup complete" in err  # the server's own lines stay


@pytest.mark.parametrize("flags", [(), ("--quiet",), ("--log-format", "json")])
def test_a_dropped_connection_is_one_line_not_a_traceback(tmp: Path, flags: tuple[str, ...]) -> None:
    served = Served(tmp, *flags)
    served.ready()
    served.http.post("/__admin/faults", json={"vendor": "dashscope", "effect": "drop"})
    with pytest.raises(httpx.TransportError):
        served.http.get("/api/v1/tasks/any", headers=HEADERS)
    _, err = served.stop()
    assert "Traceback" not in err and "Exception in ASGI application" not in err
    mentions = [line for line in err.splitlines() if "dropped" in line]
    assert len(mentions) == 1, err
    assert "fault f1" in mentions[0]
    if "--quiet" not in flags:
        assert "dashscope.query_task" in mentions[0]


def test_bound_to_every_interface_the_banner_warns_about_result_urls(tmp: Path) -> None:
    served = Served(tmp, "--host", "0.0.0.0")
    assert served.url.startswith("http://0.0.0.0:")
    assert served.proc.stdout is not None
    rest = [served.proc.stdout.readline() for _ in range(6)]
    out, _ = served.stop()
    warning = "".join(rest) + out
    assert "warning: result and callback URLs will say http://0.0.0.0:" in warning
    assert "MOCKSERVER_PUBLIC_URL" in warning


def test_no_warning_when_the_public_url_is_set(tmp: Path) -> None:
    served = Served(tmp, "--host", "0.0.0.0", "--public-url", "http://mock.internal:8000")
    assert served.url == "http://mock.internal:8000"
    out, _ = served.stop()
    assert "warning" not in out


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_direct_sink_writes_what_a_log_record_would(fmt: str) -> None:
    """`serve` writes access lines without a log record (cheaper); they must be the lines the
    logging module would have written, in the same format as every other line."""
    import io
    import logging

    from mockserver import logs

    saved = logging.getLogger().handlers[:], logging.getLogger().level
    stream = io.StringIO()
    try:
        handler = logs.configure("info", fmt, stream=stream)
        extra = {"access": {"method": "GET", "path": "/x", "status": 200}}
        logging.getLogger("mockserver.access").info("GET /x 200 0.1ms -", extra=extra)
        logs.LineSink(handler, "mockserver.access")("GET /x 200 0.1ms -", extra)
    finally:
        logging.getLogger().handlers[:], _ = saved
        logging.getLogger().setLevel(saved[1])
    via_record, direct = stream.getvalue().splitlines()
    if fmt == "json":
        first, second = json.loads(via_record), json.loads(direct)
        for doc in (first, second):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc.pop("time"))
        assert first == second
    else:
        assert via_record.split(" ", 2)[2] == direct.split(" ", 2)[2]
        assert TEXT_LINE.match(direct)
