"""Schemathesis (its CLI, in a subprocess) against a running mock, one vendor's generated
OpenAPI document at a time, with bounded examples per operation and a fixed seed.

Every check runs except those listed below, each with the reason it cannot hold for an
emulator that copies the vendor faithfully. The mock must also stay clean itself: no answer
may break its own JSON Schemas, nothing may be logged at ERROR level during the run, no request
may have been answered with a 5xx the vendor does not document (the journal says), and the
journal must stay valid JSON (issue 15). Each run is bounded by examples per operation and by
`MAX_SECONDS`, and prints how many requests it sent. `MOCKSERVER_FUZZ_SECONDS=N` fuzzes each
vendor for N seconds instead (the README's Reliability figures: `-s` shows the counts).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.core.limits import strict_loads
from mockserver.providers import provider_classes
from mockserver.settings import Settings
from mockserver.testing import ServerThread

KEY = "sk-schemathesis"
MAX_EXAMPLES = 12
MAX_SECONDS = 300  # a bound on one vendor's run (it takes seconds)
FUZZ_SECONDS = os.environ.get("MOCKSERVER_FUZZ_SECONDS")  # a longer run, by hand
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from schemathesis_hooks import DOCUMENTED_5XX  # noqa: E402  (the hooks' own list)

NOT_FOR_ANY_VENDOR = {
    "positive_data_acceptance": "a schema-valid body can still break a documented cross-field "
    "or state rule (DashScope: resources unless train-free; cancel only while PENDING)",
    "unsupported_method": "the vendors' answers to undeclared methods are undocumented; the "
    "mock answers the vendor's own not-found error",
}
SIGNED_BY_HOOK = frozenset({"tencent"})
NOT_FOR = {
    # Tencent answers HTTP 200 for every error, signature failures included [DOC seed 002].
    "tencent": {"negative_data_rejection": "errors are HTTP 200 with Response.Error",
                "ignored_auth": "auth failures are HTTP 200 with Response.Error",
                "missing_required_header": "a missing header is an HTTP 200 error"},
}


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@pytest.fixture(scope="module")
def running() -> Iterator[ServerThread]:
    # Strict auth so generated keys are refused; a high time scale so calls that wait for a
    # task (AceData's blocking generate) answer within the request timeout; image downloads
    # only from loopback (generated image URLs name random hosts).
    # Tencent's timestamp window is measured on the emulated clock, which a time scale of
    # 1000 moves far from the wall clock the hook signs with: switch that one check off.
    settings = Settings(validate_responses=True, strict_auth=True, api_keys=(KEY,),
                        time_scale=1000.0, fetch_allow_hosts=("127.0.0.1",),
                        vendors={"tencent": {"max_skew_seconds": 0}}, journal_size=100_000)
    with ServerThread(settings) as server:
        yield server


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logger = logging.getLogger("mockserver")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def schemathesis_command(url: str, vendor: str) -> list[str]:
    excluded = {**NOT_FOR_ANY_VENDOR, **NOT_FOR.get(vendor, {})}
    # Bearer vendors get the configured key; Tencent requests are signed by the hook instead.
    auth = [] if vendor in SIGNED_BY_HOOK else ["--header", f"Authorization: Bearer {KEY}"]
    return [sys.executable, "-m", "schemathesis.cli", "run", url,
            "--checks", "all", "--exclude-checks", ",".join(sorted(excluded)),
            "--max-examples", str(MAX_EXAMPLES), "--seed", "20240601", "--workers", "1",
            *(["--max-time", FUZZ_SECONDS] if FUZZ_SECONDS else []),
            "--request-timeout", "20", *auth, "--suppress-health-check", "all", "--no-color"]


@pytest.mark.parametrize("vendor", [cls.spec.name for cls in provider_classes()])
def test_schemathesis_finds_no_failures(vendor: str, running: ServerThread, error_log: ErrorLog,
                                        tmp_path: Path) -> None:
    running.emulator.reset()
    url = f"{running.base_url}/__admin/openapi/{vendor}.json"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           "PORTRAIT_MOCK_HOST": running.base_url.split("://", 1)[1]}
    done = subprocess.run(schemathesis_command(url, vendor), cwd=tmp_path, env=env,
                          capture_output=True, text=True,
                          timeout=MAX_SECONDS + float(FUZZ_SECONDS or 0))
    report = done.stdout[-12000:] + done.stderr[-4000:]
    assert done.returncode == 0, report
    assert "No issues found" in done.stdout or " passed" in done.stdout, report
    assert running.emulator.schema_violations == [], running.emulator.schema_violations[:3]
    assert error_log.records == [], error_log.records[:3]
    entries = running.emulator.journal.entries()
    assert entries, "Schemathesis never reached the mock"
    crashes = [(e.method, e.path, e.status) for e in entries
               if e.status >= 500 and not _documented_5xx(e.path, e.response)]
    assert not crashes, crashes[:5]
    strict_loads(json.dumps([e.to_dict() for e in entries], allow_nan=False), max_depth=200)
    print(f"schemathesis {vendor}: {len(entries)} requests, "
          f"{sum(e.status >= 500 for e in entries)} documented 5xx, 0 unintended")


def _documented_5xx(path: str, response: object) -> bool:
    error = response.get("error") if isinstance(response, dict) else None
    found = (error.get("code"), error.get("message")) if isinstance(error, dict) else None
    return any(path.startswith(prefix) and found == (code, message)
               for prefix, code, message in DOCUMENTED_5XX)
