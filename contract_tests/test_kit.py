"""The kit's own parts: masking, budget, drift report, invalid variants, strategies."""
from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings

from contract_tests.budget import Budget
from contract_tests.drift import DriftLog, Finding
from contract_tests.masking import Masker
from contract_tests.negative import violations
from contract_tests.session import parse_targets
from contract_tests.strategies import from_schema
from contract_tests.targets import Exchange

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
    @settings(max_examples=30, database=None)
    @given(from_schema(SCHEMA))
    def drawn(value: dict[str, object]) -> None:
        assert set(value) <= set(SCHEMA["properties"]) and {"name", "n"} <= set(value)  # type: ignore[arg-type]
        assert 1 <= value["n"] <= 4  # type: ignore[operator]

    drawn()


def test_targets_accept_a_bare_url_or_vendor_urls() -> None:
    assert parse_targets(["http://127.0.0.1:9/"]) == {"*": "http://127.0.0.1:9"}
    assert parse_targets(["dashscope=https://dashscope.aliyuncs.com", "tencent=http://x"]) == {
        "dashscope": "https://dashscope.aliyuncs.com", "tencent": "http://x"}


def test_a_url_that_is_not_a_mock_is_live_with_a_zero_budget_by_default() -> None:
    from contract_tests.session import Kit, Options

    kit = Kit(Options(targets={"dashscope": "http://127.0.0.1:9"}, vendors=("dashscope",)))
    try:
        assert kit.modes == {"dashscope": "live"} and kit.live
        assert kit.budget.limit == 0 and not kit.budget.allows()
        assert kit.profile.max_examples == settings.get_profile("contract-live").max_examples
        adapter = kit.adapter("dashscope")
        assert adapter.target.min_interval == 0.5 and not adapter.target.is_mock
    finally:
        kit.close()
