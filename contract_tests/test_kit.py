"""The kit's own parts: masking, budget, drift report, invalid variants, strategies."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from contract_tests.budget import Budget
from contract_tests.drift import DriftLog, Finding
from contract_tests.masking import Masker
from contract_tests.negative import violations
from contract_tests.repro import curl
from contract_tests.session import TargetSpec, UsageError, parse_targets
from contract_tests.strategies import from_schema
from contract_tests.targets import Exchange, TargetError, probe
from mockserver.providers import vendor_names
from mockserver.settings import Settings
from mockserver.testing import AppThread, ServerThread, free_port

SCHEMA = {
    "type": "object", "required": ["name", "n"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "n": {"type": "integer", "minimum": 1, "maximum": 4},
        "kind": {"enum": ["a", "b"]},
        "urls": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
    },
}


def test_secrets_are_masked_in_text_headers_and_exchanges() -> None:
    masker = Masker(["sk-very-secret", "AKIDsecretid"])
    assert masker.text("key sk-very-secret and AKIDsecretid") == "key *** and ***"
    assert masker.header("Authorization", "Bearer anything") == "Bearer ***"
    assert masker.header("X-TC-Token", "tok") == "***"
    ex = Exchange("POST", "http://h/p?k=sk-very-secret", {"authorization": "Bearer sk-very-secret"},
                  b'{"key": "sk-very-secret"}', 200, {}, b'{"echo": "sk-very-secret"}')
    assert "sk-very-secret" not in ex.describe(masker)


def test_budget_counts_across_calls_and_skips_when_exhausted() -> None:
    budget = Budget(2)
    budget.spend()
    budget.spend()
    assert budget.remaining() == 0 and not budget.allows()
    with pytest.raises(pytest.skip.Exception):
        budget.spend()
    assert Budget(None).allows(10**6)


def test_drift_report_deduplicates_and_writes_markdown_and_junit(tmp_path: Path) -> None:
    log = DriftLog({"dashscope": "the mock, in-process"})
    log.passed("dashscope", "query_task", "status_documented")
    finding = Finding("dashscope", "gen_potrait", "expected_status", "expected 400, got 200",
                      "POST /x\n-> HTTP 200")
    log.add(finding)
    log.add(finding)  # Hypothesis replays a failure: one finding in the report
    markdown, junit = log.write(tmp_path)
    assert markdown.read_text().count("expected 400, got 200") == 2  # table row + section
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"


def test_each_violation_breaks_exactly_one_rule_of_the_schema() -> None:
    base = {"name": "x", "n": 2, "kind": "a", "urls": ["u"]}
    found = {v.label: v.body for v in violations(SCHEMA, base)}
    assert found["missing:name"] == {"n": 2, "kind": "a", "urls": ["u"]}
    assert found["above-maximum:n"]["n"] == 5 and found["below-minimum:n"]["n"] == 0
    assert found["unknown-enum:kind"]["kind"] == "undocumented-value"
    assert found["too-few-items:urls"]["urls"] == [] and len(found["too-many-items:urls"]["urls"]) == 3
    assert "wrong-type:<body>" in found and "too-short:name" in found


def test_strategies_only_draw_documented_keys_and_valid_values() -> None:
    # Speed is not the point here (the in-process mock may still be busy with earlier tasks).
    @settings(max_examples=30, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(from_schema(SCHEMA))
    def drawn(value: dict[str, object]) -> None:
        assert set(value) <= set(SCHEMA["properties"]) and {"name", "n"} <= set(value)
        assert 1 <= value["n"] <= 4  # type: ignore[operator]

    drawn()


def test_targets_accept_a_bare_url_vendor_urls_and_a_forced_kind() -> None:
    assert parse_targets(["http://127.0.0.1:9/"]) == {"*": TargetSpec("http://127.0.0.1:9")}
    assert parse_targets(["dashscope=https://dashscope.aliyuncs.com", "tencent=http://x"]) == {
        "dashscope": TargetSpec("https://dashscope.aliyuncs.com"),
        "tencent": TargetSpec("http://x")}
    assert parse_targets(["mock=http://h:1", "gptge=live=https://g"]) == {
        "*": TargetSpec("http://h:1", "mock"), "gptge": TargetSpec("https://g", "live")}
    with pytest.raises(UsageError, match="expected .VENDOR=..mock=.live=.http"):
        parse_targets(["nobody=http://x"])


def test_a_url_where_nothing_listens_is_an_error_naming_it() -> None:
    port = free_port()
    for forced in (None, "live", "mock"):
        with pytest.raises(TargetError, match=f"target http://127.0.0.1:{port} does not answer: "
                                              "connection failed"):
            probe(f"http://127.0.0.1:{port}", forced)


@pytest.fixture(scope="module")
def vendor_like() -> Iterator[AppThread]:
    """A server that answers, but not as the mock: what a vendor's host looks like."""
    def elsewhere(request: Request) -> JSONResponse:
        return JSONResponse({"code": "NotFound"}, 404)

    with AppThread(Starlette(routes=[Route("/{path:path}", elsewhere)]), lifespan="off") as app:
        yield app


def test_mock_or_live_is_decided_by_what_the_url_answers(vendor_like: AppThread) -> None:
    with ServerThread(Settings()) as mock:
        found = probe(vendor_like.base_url)
        assert found.kind == "live" and "answered HTTP 404" in found.how
        assert probe(vendor_like.base_url, "live").kind == "live"
        with pytest.raises(TargetError, match="given as mock= but"):
            probe(vendor_like.base_url, "mock")
        found = probe(mock.base_url)
        assert found.kind == "mock" and set(found.vendors) == set(vendor_names())
        assert probe(mock.base_url, "live").kind == "live"  # forced: a user's decision


def test_a_live_target_gets_a_zero_budget_and_the_live_profile(vendor_like: AppThread) -> None:
    from contract_tests.session import Kit, Options

    kit = Kit(Options(targets={"dashscope": TargetSpec(vendor_like.base_url)},
                      vendors=("dashscope",)))
    try:
        assert kit.modes == {"dashscope": "live"} and kit.live
        assert kit.budget.limit == 0 and not kit.budget.allows()
        assert kit.profile.max_examples == settings.get_profile("contract-live").max_examples
        adapter = kit.adapter("dashscope")
        assert adapter.target.min_interval == 0.5 and not adapter.target.is_mock
    finally:
        kit.close()


def test_curl_reproductions_are_one_line_with_secrets_masked() -> None:
    masker = Masker(["sk-very-secret"])
    line = curl("POST", "http://h/api?key=sk-very-secret",
                {"Authorization": "Bearer sk-very-secret", "Content-Type": "multipart/form-data",
                 "Host": "h", "Content-Length": "9"}, b"a\r\nb'sk-very-secret", masker)
    assert "\n" not in line and "sk-very-secret" not in line
    assert line == ("curl -sS -X POST 'http://h/api?key=***' -H 'Authorization: Bearer ***' "
                    "-H 'Content-Type: multipart/form-data' --data-binary $'a\\r\\nb\\'***'")
