"""Issue 18: several processes answer as one emulator.

The same scenario (submits, clock advances, fault rules with `times`, a rate-limited burst, a
queue cap, callbacks, a blocking call woken by an advance elsewhere, the journal) runs against
one process, against `serve --workers 2` on SQLite, and against two instances on one Redis
with every request sent to the next instance in turn. The vendor-visible answers must be the
same (ids, URLs and timestamps aside).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.cluster import RoundRobin, ServerProcess
from mockserver.testing import CallbackReceiver

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
JOB = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
       "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}
HEADSHOT = {"template": "female_portrait", "image_urls": ["https://cdn.example.com/me.jpg"]}


def key(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer sk-{name}", "X-DashScope-Async": "enable"}


def submit(client: httpx.Client, name: str) -> tuple[int, str, str | None]:
    answer = client.post(SUBMIT, json=JOB, headers=key(name))
    body = answer.json()
    if answer.status_code != 200:
        return answer.status_code, body["code"], None
    return 200, body["output"]["task_status"], body["output"]["task_id"]


def status(client: httpx.Client, name: str, task_id: str) -> str:
    answer = client.get(f"/api/v1/tasks/{task_id}", headers=key(name))
    return str(answer.json()["output"]["task_status"])


def advance(client: httpx.Client, seconds: float) -> None:
    client.post("/__admin/clock/advance", json={"seconds": seconds}).raise_for_status()


def scenario(client: httpx.Client, receiver: CallbackReceiver) -> list[Any]:
    """Every vendor-visible answer, in order."""
    seen: list[Any] = []
    client.post("/__admin/reset").raise_for_status()
    # One running task per account, FIFO: the schedule is shared.
    queued = [submit(client, "alice") for _ in range(2)]
    advance(client, 1.0)  # out of the 2 QPS window
    queued.append(submit(client, "alice"))
    seen += [q[:2] for q in queued]
    ids = [q[2] for q in queued]
    seen.append([status(client, "alice", t) for t in ids])
    advance(client, 5)
    seen.append([status(client, "alice", t) for t in ids])
    # A rule that fires twice fires twice in total.
    rule = client.post("/__admin/faults", json={"vendor": "dashscope", "operation": "gen_potrait",
                                                "effect": "error", "code": "Throttling.RateQuota",
                                                "times": 2}).json()
    seen.append([submit(client, f"f{i}")[:2] for i in range(4)])
    listed = client.get(f"/__admin/faults/{rule['id']}").json()
    seen.append((listed["fired"], listed["times"], listed["active"]))
    # A burst on one key: one window of 2 per second, whichever instance answers.
    seen.append([submit(client, "burst")[:2] for _ in range(5)])
    advance(client, 60)
    seen.append([status(client, "alice", t) for t in ids])
    # Callbacks: each delivered once, by whichever worker claims it.
    for _ in range(3):
        answer = client.post("/headshots/generate", json={**HEADSHOT, "callback_url": receiver.url},
                             headers={"Authorization": "Bearer sk-hooks"})
        seen.append(answer.status_code)
    advance(client, 300)
    client.post("/__admin/callbacks/drain").raise_for_status()
    deadline = time.monotonic() + 10
    while len(receiver.bodies) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # would a second delivery arrive?
    seen.append(sorted((b["success"], len(b["data"])) for b in receiver.bodies))
    seen.append(len({b["task_id"] for b in receiver.bodies}) == len(receiver.bodies))
    statuses = [c["status"] for c in client.get("/__admin/callbacks").json()["callbacks"]]
    seen.append(sorted(statuses))
    # A blocking call on one instance wakes when the clock moves through another.
    seen.append(blocking_call_woken_elsewhere(client))
    # The journal is one journal.
    count = client.post("/__admin/requests/count",
                        json={"vendor": "dashscope", "operation": "gen_potrait"}).json()
    seen.append(count["count"])
    seen.append(len(client.get("/__admin/tasks", params={"vendor": "dashscope"}).json()["tasks"]))
    return seen


def blocking_call_woken_elsewhere(client: httpx.Client) -> tuple[int, bool, float]:
    result: dict[str, Any] = {}
    target = client.base_urls[0] if isinstance(client, RoundRobin) else str(client.base_url)

    def call() -> None:
        with httpx.Client(base_url=target, timeout=30) as own:
            started = time.monotonic()
            answer = own.post("/headshots/generate", json=HEADSHOT,
                              headers={"Authorization": "Bearer sk-blocking"})
            result.update(status=answer.status_code, body=answer.json(),
                          seconds=time.monotonic() - started)

    waiter = threading.Thread(target=call)
    waiter.start()
    time.sleep(1.0)  # the call waits for a task that needs about 100 emulated seconds
    others = client.base_urls[1:] if isinstance(client, RoundRobin) else [target]
    with httpx.Client(base_url=others[-1]) as other:
        advance(other, 600)
    waiter.join(30)
    return result["status"], bool(result["body"].get("success")), round(min(result["seconds"],
                                                                            5.0) / 5.0)


@pytest.fixture
def receiver() -> Any:
    with CallbackReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The answers of one process (on SQLite, as `serve` defaults)."""
    db = tmp_path_factory.mktemp("one") / "one.db"
    with ServerProcess(f"sqlite:{db}") as server, CallbackReceiver() as hooks, \
            httpx.Client(base_url=server.base_url, timeout=30) as client:
        return scenario(client, hooks)


def test_the_scenario_means_something(baseline: list[Any]) -> None:
    assert baseline[:3] == [(200, "PENDING")] * 3
    assert baseline[3] == ["PENDING"] * 3 and baseline[4] == ["RUNNING", "PENDING", "PENDING"]
    assert baseline[5] == [(429, "Throttling.RateQuota")] * 2 + [(200, "PENDING")] * 2
    assert baseline[6] == (2, 0, False)
    assert baseline[7] == [(200, "PENDING")] * 2 + [(429, "Throttling.RateQuota")] * 3
    assert baseline[8] == ["SUCCEEDED", "SUCCEEDED", "RUNNING"]
    assert baseline[12] == [(True, 2)] * 3 and baseline[13] is True
    assert baseline[14] == ["delivered"] * 3
    assert baseline[15] == (200, True, 0)  # woken at once, not after a timeout
    assert baseline[16] == 3 + 4 + 5


def test_two_workers_on_sqlite_answer_as_one_process(baseline: list[Any], tmp_path: Path,
                                                     receiver: CallbackReceiver) -> None:
    with ServerProcess(f"sqlite:{tmp_path / 'shared.db'}", workers=2) as server, \
            httpx.Client(base_url=server.base_url, timeout=30,
                         limits=httpx.Limits(max_keepalive_connections=0)) as client:
        assert len(server.worker_pids()) == 2
        assert scenario(client, receiver) == baseline


def test_two_instances_on_redis_answer_as_one_process(baseline: list[Any], redis_url: str,
                                                      receiver: CallbackReceiver) -> None:
    with ServerProcess(redis_url) as one, ServerProcess(redis_url) as two, \
            RoundRobin([one.base_url, two.base_url], timeout=30) as client:
        assert scenario(client, receiver) == baseline


def test_workers_refuse_the_memory_store() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--store", "memory",
                           "--workers", "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--workers 2 needs a store" in done.stderr


Check = Callable[[], bool]
