"""`retrieve_batch` without `ids`: the caller's task list as the vendor's web app asked for it
(vendors-2026-12.md AD-2), over HTTP in-process and against a real server."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mockserver.settings import Settings

pytestmark = pytest.mark.anyio

GENERATE, TASKS = "/headshots/generate", "/headshots/tasks"
ALICE, BOB = {"authorization": "Bearer alice"}, {"authorization": "Bearer bob"}
TOK_A, TOK_B = {"authorization": "Bearer tok-a"}, {"authorization": "Bearer tok-b"}
ASYNC = {"mode": "fast", "template": "wedding", "image_urls": ["https://cdn.example.com/me.jpg"],
         "async": True}


@pytest.fixture
def settings() -> Settings:
    return replace(Settings(validate_responses=True), vendors={"acedata": {
        "generate_qps": 0, "accounts": {"studio": ["tok-a", "tok-b"]}}})


async def submit(mock, headers: dict[str, str] = ALICE, **extra: Any) -> str:
    answer = await mock.client.post(GENERATE, json={**ASYNC, **extra}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["task_id"]


async def history(mock, headers: dict[str, str] = ALICE, **filters: Any) -> dict[str, Any]:
    answer = await mock.client.post(TASKS, json={"action": "retrieve_batch", **filters},
                                    headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def ids(listing: dict[str, Any]) -> list[str]:
    return [record["id"] for record in listing["items"]]


async def test_lists_the_callers_tasks_newest_first_and_counts_every_match(mock) -> None:
    mine = []
    for _ in range(12):
        mine.append(await submit(mock))
        await mock.advance(1)
    await submit(mock, BOB)
    first = await history(mock)
    assert first["count"] == 12
    assert ids(first) == mine[::-1][:10]  # the default page (option list_limit)
    page = await history(mock, limit=5, offset=10)
    assert page["count"] == 12 and ids(page) == mine[1::-1]
    assert (await history(mock, limit=0))["items"] == []
    assert (await history(mock, offset=40)) == {"items": [], "count": 12}


async def test_records_in_the_list_are_the_retrieve_records(mock) -> None:
    queued = await submit(mock, mode="relax")
    listing = await history(mock)
    [record] = listing["items"]
    single = await mock.client.post(TASKS, json={"id": queued}, headers=ALICE)
    assert record == single.json()
    assert "response" not in record  # still queued (AD-3)


async def test_created_at_bounds_are_inclusive_as_the_web_app_pages_back(mock) -> None:
    made = []
    for _ in range(4):
        made.append(await submit(mock))
        await mock.advance(10)
    records = {r["id"]: r for r in (await history(mock))["items"]}
    times = [records[task]["created_at"] for task in made]
    older = await history(mock, created_at_max=times[2])
    assert ids(older) == [made[2], made[1], made[0]] and older["count"] == 3
    window = await history(mock, created_at_min=times[1], created_at_max=times[2])
    assert ids(window) == [made[2], made[1]]
    assert ids(await history(mock, created_at_min=times[3] + 0.5)) == []


async def test_user_and_application_filters_match_the_records_ids(mock) -> None:
    task = await submit(mock)
    [record] = (await history(mock))["items"]
    own = {"user_id": record["user_id"], "application_id": record["application_id"]}
    assert ids(await history(mock, **own)) == [task]
    assert (await history(mock, user_id="ad7afe47-cea9-4cda-980f-2ad8810e51cf"))["count"] == 0
    assert (await history(mock, BOB))["items"] == []
    assert (await history(mock, BOB, **own))["count"] == 0  # another caller never sees them


async def test_keys_of_one_account_list_each_others_tasks(mock) -> None:
    a, b = await submit(mock, TOK_A), await submit(mock, TOK_B)
    assert set(ids(await history(mock, TOK_A))) == {a, b}
    assert set(ids(await history(mock, TOK_B))) == {a, b}
    assert (await history(mock))["count"] == 0


async def test_expired_tasks_leave_the_list(mock) -> None:
    await submit(mock)
    await mock.advance(30 * 24 * 3600 + 120)
    fresh = await submit(mock)
    listing = await history(mock)
    assert listing["count"] == 1 and ids(listing) == [fresh]


async def test_the_ids_form_is_unchanged_and_ignores_the_filters(mock) -> None:
    task = await submit(mock)
    listing = await history(mock, ids=[task, "no-such-task"], user_id="someone-else", limit=0)
    assert listing["count"] == 1 and ids(listing) == [task]


def test_the_web_apps_history_call_works_against_a_real_server(server) -> None:
    """The body the vendor's web app sent (Nexior headshots.ts tasks(): user_id and the
    created_at bounds, no ids), through requests as in the vendor's own examples."""
    import requests

    base = server.base_url
    created = requests.post(f"{base}{GENERATE}", json=ASYNC, headers=ALICE, timeout=10).json()
    server.emulator.clock.advance(60)
    first = requests.post(f"{base}{TASKS}", json={"action": "retrieve_batch"}, headers=ALICE,
                          timeout=10).json()
    user_id = first["items"][0]["user_id"]
    body = {"action": "retrieve_batch", "user_id": user_id,
            "created_at_max": first["items"][0]["created_at"]}
    answer = requests.post(f"{base}{TASKS}", json=body, headers=ALICE, timeout=10)
    assert answer.status_code == 200
    listing = answer.json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == created["task_id"]
    assert listing["items"][0]["response"]["success"] is True
    assert listing["items"][0]["elapsed"] == pytest.approx(60, abs=0.01)
