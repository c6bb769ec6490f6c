"""Documented refusals under load are waited out, never reported as drift: a mock's queue cap
by moving its clock until the queue drains, a live vendor's 429s by backing off within the
budget; a mock whose refusal never ends is a finding, a live one that never ends a skip."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from contract_tests import targets
from contract_tests.session import Kit, Options, TargetSpec
from mockserver.settings import Settings
from mockserver.testing import AppThread, ServerThread

CAP = 10  # Tencent's queue cap per account (the provider's max_queued; INFERRED 10)


@pytest.fixture
def kit_on_server() -> Iterator[Kit]:
    with ServerThread(Settings()) as server:
        kit = Kit(Options(targets={"*": TargetSpec(server.base_url)}, vendors=("tencent",)))
        try:
            yield kit
        finally:
            kit.close()


@pytest.mark.server
def test_a_full_tencent_queue_is_waited_out_by_moving_the_mock_clock(kit_on_server: Kit) -> None:
    adapter = kit_on_server.adapter("tencent")
    owner = adapter.credentials("A")
    assert owner is not None
    before = adapter.target.now()
    for _ in range(CAP):
        accepted = adapter.submit(owner, adapter.example_body())
        assert adapter.task_id(accepted) and adapter.target.throttles_waited == 0
    one_more = adapter.submit(owner, adapter.example_body())  # JobNumExceed, then accepted
    assert adapter.task_id(one_more) is not None
    assert adapter.target.throttles_waited >= 1 and adapter.target.now() > before + 1
    assert not kit_on_server.drift.findings


class Flaky:
    """A vendor-like server that answers 429 `refusals` times, then 404s as for unknown ids."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals

    def app(self) -> Starlette:
        async def answer(request: Request) -> JSONResponse:
            if request.url.path.startswith("/__admin"):
                return JSONResponse({"code": "NotFound"}, 404)
            if self.refusals > 0:
                self.refusals -= 1
                return JSONResponse({"status": 429, "message": "Too Many Requests"}, 429)
            return JSONResponse({"status": 404, "message": "Not Found"}, 404)

        return Starlette(routes=[Route("/{p:path}", answer)])


def live_adapter(url: str, monkeypatch: pytest.MonkeyPatch, pauses: list[float]) -> Kit:
    monkeypatch.setenv("GPTGE_API_KEY", "sk-live-test")
    monkeypatch.setattr(targets.time, "sleep", pauses.append)
    return Kit(Options(targets={"gptge": TargetSpec(url, "live")}, vendors=("gptge",)))


def test_a_live_vendor_is_given_time_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    with AppThread(Flaky(2).app(), lifespan="off") as vendor:
        kit = live_adapter(vendor.base_url, monkeypatch, pauses)
        adapter = kit.adapter("gptge")
        creds = adapter.credentials("A")
        assert creds is not None
        polled = adapter.poll(creds, adapter.unknown_task_id())
        kit.close()
    backoffs = [p for p in pauses if p >= 1.0]  # the others pace requests at the vendor's QPS
    assert polled.status == 404 and backoffs == list(targets.LIVE_BACKOFF[:2])
    assert not kit.drift.findings


def test_a_live_vendor_that_keeps_refusing_skips_with_the_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    with AppThread(Flaky(100).app(), lifespan="off") as vendor:
        kit = live_adapter(vendor.base_url, monkeypatch, pauses)
        adapter = kit.adapter("gptge")
        creds = adapter.credentials("A")
        assert creds is not None
        with pytest.raises(pytest.skip.Exception, match="kept refusing under load"):
            adapter.poll(creds, adapter.unknown_task_id())
        kit.close()
    backoffs = [p for p in pauses if p >= 1.0]
    assert 0 < sum(backoffs) <= targets.LIVE_THROTTLE_BUDGET and not kit.drift.findings
