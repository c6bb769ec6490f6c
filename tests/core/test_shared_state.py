"""The state row before each request (`SharedState.refresh_this_turn`): one look at the store
for all the requests a turn of the event loop starts, and never an answer that misses a change
another instance made before the request arrived."""
from __future__ import annotations

import asyncio

import pytest

from mockserver.core.shared import SharedState
from mockserver.core.stores import open_store

pytestmark = pytest.mark.anyio


class CountingStore:
    """A real store that counts how often it is asked whether the state row changed."""

    def __init__(self, spec: str) -> None:
        self.inner = open_store(spec)
        self.polls = 0

    def poll_state(self, known_version: float):  # type: ignore[no-untyped-def]
        self.polls += 1
        return self.inner.poll_state(known_version)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


@pytest.fixture
def stores(shared_store_spec: str):  # type: ignore[no-untyped-def]
    """This instance's store (counted) and another instance's, on the same data."""
    here, other = CountingStore(shared_store_spec), open_store(shared_store_spec)
    other.clear()
    yield here, other
    here.inner.close()
    other.close()


async def test_one_look_per_turn_and_a_new_one_each_turn(stores) -> None:  # type: ignore[no-untyped-def]
    here, _ = stores
    shared = SharedState(here)
    for _ in range(10):  # ten requests started by one turn
        shared.refresh_this_turn()
    assert here.polls == 1
    await asyncio.sleep(0)  # the next turn
    shared.refresh_this_turn()
    shared.refresh_this_turn()
    assert here.polls == 2


async def test_a_change_made_before_a_request_arrives_is_seen(stores) -> None:  # type: ignore[no-untyped-def]
    here, other = stores
    shared = SharedState(here)
    shared.refresh_this_turn()
    offset = shared.row["clock_offset"]
    other.state_add("clock_offset", 30.0)  # another instance advances the clock and says so

    async def request() -> float:  # a request received from now on starts in a later turn
        shared.refresh_this_turn()
        return shared.row["clock_offset"]

    assert await asyncio.get_running_loop().create_task(request()) == offset + 30.0


def test_outside_an_event_loop_every_call_looks(stores) -> None:  # type: ignore[no-untyped-def]
    here, other = stores
    shared = SharedState(here)
    shared.refresh_this_turn()
    other.state_add("clock_offset", 5.0)
    shared.refresh_this_turn()
    assert here.polls == 2 and shared.row["clock_offset"] == other.state()["clock_offset"]
