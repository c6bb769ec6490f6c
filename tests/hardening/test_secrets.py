"""Issue 15, item 9: the journal, the task list and the HAR export show an account as its
configured name or a stable masked label, never the full key; filters take the key, the name
or the label."""
from __future__ import annotations

import pytest

from mockserver.core.labels import AccountLabels, mask
from mockserver.settings import Settings

from .conftest import started

pytestmark = pytest.mark.anyio

KEY = "sk-live-4f9a2c1b8e7d6a5f"
JOB = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female"},
       "resources": [{"resource_id": "r", "resource_type": "facelora"}]}


def test_labels_are_stable_distinct_and_idempotent() -> None:
    labels = AccountLabels({"team"})
    assert labels(KEY) == labels(KEY) == mask(KEY) and KEY not in labels(KEY)
    assert labels(KEY) != labels(KEY + "x")
    assert labels(labels(KEY)) == labels(KEY) and labels("team") == "team"
    assert labels.matches(KEY, labels(KEY)) and labels.matches(KEY, KEY)


async def test_no_listing_shows_a_key_and_filters_still_work() -> None:
    settings = Settings(vendors={"dashscope": {"accounts": {"team": ["sk-team-1"]}}})
    async with started(settings) as running:
        client = running.client
        for key in (KEY, "sk-team-1"):
            answer = await client.post("/api/v1/services/aigc/album/gen_potrait", json=JOB,
                                       headers={"Authorization": f"Bearer {key}",
                                                "X-DashScope-Async": "enable"})
            assert answer.status_code == 200
        for path in ("/__admin/requests", "/__admin/tasks", "/__admin/requests.har"):
            text = (await client.get(path)).text
            assert KEY not in text and "sk-team-1" not in text, path
        tasks = (await client.get("/__admin/tasks")).json()["tasks"]
        assert sorted(t["account"] for t in tasks) == sorted([mask(KEY), "team"])
        for wanted in (KEY, mask(KEY)):
            found = (await client.get("/__admin/tasks", params={"account": wanted})).json()
            assert [t["account"] for t in found["tasks"]] == [mask(KEY)]
            journal = (await client.get("/__admin/requests", params={"account": wanted})).json()
            assert [e["account"] for e in journal["requests"]] == [mask(KEY)]
            count = await client.post("/__admin/requests/count", json={"account": wanted})
            assert count.json()["count"] == 1
        team = (await client.get("/__admin/requests", params={"account": "team"})).json()
        assert team["count"] == 1
