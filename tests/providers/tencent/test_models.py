"""GlamPic rules without HTTP: schema-error mapping, job ids, code tables."""
from __future__ import annotations

import json
import re

import pytest

from mockserver.core.image_fetch import Problem
from mockserver.core.schemas import SchemaRegistry, schemas_root
from mockserver.core.tasks import State, Task
from mockserver.providers.tencent import models
from mockserver.providers.tencent.signing import SignatureError, sign_request, verify_request

CATALOGUE = json.loads((schemas_root() / "tencent" / "catalogue.json").read_text("utf-8"))["errors"]


def test_request_error_prefers_missing_then_unknown_then_type() -> None:
    schemas = SchemaRegistry()
    errors = list(schemas.errors("tencent/submit-request", {"Num": "x", "Bogus": 1}))
    error = models.request_error(errors)
    assert error is not None and (error.code, error.params) == (
        "MissingParameter", {"param": "TemplateUrl"})
    assert models.request_error([]) is None


def test_job_id_shape_and_stable_account_number() -> None:
    job_id = models.new_job_id("AKIDmock", 1739859949.7)
    pattern = json.loads((schemas_root() / "tencent" / "common.schema.json").read_text())[
        "$defs"]["JobId"]["pattern"]
    assert re.match(pattern, job_id) and job_id.split("-")[1] == "1739859949"
    assert models.account_number("AKIDmock") == models.account_number("AKIDmock")
    assert models.account_number("AKIDmock") != models.account_number("AKIDother")


def test_every_problem_and_status_maps_to_something_documented() -> None:
    assert set(models.IMAGE_PROBLEM_CODES) == set(Problem)
    assert set(models.IMAGE_PROBLEM_CODES.values()) <= set(CATALOGUE)
    assert {s for s in State if not s.terminal} | {State.SUCCEEDED, State.FAILED} == set(
        models.JOB_STATUS)


def test_expired_job_has_no_view() -> None:
    task = Task(id="j", vendor="tencent", account="a", pool="glampic", created_at=0,
                queue_seconds=0, run_seconds=1, ttl_seconds=10, start_at=0, end_at=1,
                data={"num": 1})
    assert models.job_view(task, 5, ["u"]) is not None
    assert models.job_view(task, 11, ["u"]) is None


def test_absurd_timestamp_is_a_signature_failure_not_a_crash() -> None:
    headers, body = sign_request(secret_id="A", secret_key="K", host="h", action="QueryGlamPicJob",
                                 timestamp=1700000000, params={})
    headers["X-TC-Timestamp"] = "9" * 30
    with pytest.raises(SignatureError) as err:
        verify_request(method="POST", query="", body=body, credentials={"A": "K"}, now=0,
                       max_skew=None, headers={k.lower(): v for k, v in headers.items()})
    assert err.value.code == "AuthFailure.SignatureFailure"
