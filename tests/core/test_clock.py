from __future__ import annotations

import asyncio
import threading
import time

import pytest

from mockserver.core.clock import Clock


def test_scale_and_advance() -> None:
    wall = [100.0]
    clock = Clock(scale=10, wall=lambda: wall[0])
    wall[0] += 1
    assert clock.now() == pytest.approx(110.0)
    clock.advance(5)
    assert clock.now() == pytest.approx(115.0)
    clock.reset()
    assert clock.now() == pytest.approx(110.0)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        Clock(scale=0)


def test_on_change_reports_the_offset() -> None:
    seen: list[float] = []
    clock = Clock()
    clock.on_change(seen.append)
    clock.advance(3)
    clock.advance(4)
    assert seen == [3, 7]


def test_advance_from_another_thread_wakes_a_sleeper() -> None:
    clock = Clock()

    async def sleeper() -> float:
        started = time.monotonic()
        assert await clock.sleep_until(clock.now() + 3600)
        return time.monotonic() - started

    def advance_soon() -> None:
        time.sleep(0.2)
        clock.advance(3600)

    threading.Thread(target=advance_soon).start()
    assert asyncio.run(sleeper()) < 5


def test_sleep_gives_up_after_its_real_limit() -> None:
    clock = Clock()
    assert asyncio.run(clock.sleep_until(clock.now() + 3600, real_limit=0.05)) is False
