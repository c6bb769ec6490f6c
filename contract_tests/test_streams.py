"""Line-by-line answers (an operation's `streamed` entry in operations.json, AceData's NDJSON):
asked for by their request header, every line is documented and the last one is the answer."""
from __future__ import annotations

import pytest

from contract_tests.adapters.base import Adapter
from contract_tests.checks import Expect
from contract_tests.targets import Exchange
from mockserver.core.operations import StreamedAnswer


def _streamed(adapter: Adapter) -> StreamedAnswer:
    streamed = adapter.spec(adapter.submit_op).streamed
    if streamed is None:
        pytest.skip(f"{adapter.vendor} documents no line-by-line answer")
    return streamed


def _is_stream(adapter: Adapter, streamed: StreamedAnswer, ex: Exchange) -> None:
    media_type = ex.content_type.split(";")[0].strip().lower()
    if media_type != streamed.media_type:
        adapter.fail(adapter.submit_op, "stream_media_type", f"asked for {streamed.media_type} "
                     f"but got {ex.content_type!r}", ex)
    adapter.passed(adapter.submit_op, "stream_media_type")


@pytest.mark.billable
def test_an_accepted_submission_answers_in_lines(adapter: Adapter) -> None:
    streamed = _streamed(adapter)
    creds = adapter.credentials("A")
    assert creds is not None
    adapter.target.budget.spend()
    ex = adapter.submit(creds, adapter.example_body(), headers=streamed.requested_by)
    adapter.verify(adapter.submit_op, ex, Expect(status=streamed.status))
    _is_stream(adapter, streamed, ex)
    if adapter.task_id(ex) is None:
        adapter.fail(adapter.submit_op, "task_id", "the streamed answer names no task", ex)


@pytest.mark.billable
def test_a_blocking_submission_streams_until_its_answer(adapter: Adapter) -> None:
    streamed = _streamed(adapter)
    if not adapter.blocking:
        pytest.skip(f"{adapter.vendor} documents no blocking submit")
    ex = adapter.submit_blocking(headers=streamed.requested_by)
    adapter.verify(adapter.submit_op, ex, Expect(status=streamed.status,
                                                 schemas=adapter.blocking_schemas))
    _is_stream(adapter, streamed, ex)
