"""kill -9 of one worker, or of one whole instance, under load: no acknowledged task and no due
callback is lost; the survivors answer for every task and deliver every callback (issue 18,
issue 15 item 2 for gpt.ge)."""
from __future__ import annotations

import functools
import http.server
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.cluster import RoundRobin, ServerProcess
from mockserver.core.schemas import fixtures_root
from mockserver.testing import CallbackReceiver

SUBMIT = "/api/v1/services/aigc/album/gen_potrait"
JOB = {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 1},
       "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}
HEADSHOT = {"template": "female_portrait", "image_urls": ["https://cdn.example.com/me.jpg"]}


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


def file_server(delay: float = 0.0) -> http.server.ThreadingHTTPServer:
    """The fixture images on a plain loopback file server (each answer `delay` s late)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            time.sleep(delay)
            super().do_GET()

        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(fixtures_root() / "images"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def image_url() -> Iterator[str]:
    """A face photo reachable whichever instance survives."""
    server = file_server()
    yield f"http://127.0.0.1:{server.server_address[1]}/face.jpg"
    server.shutdown()
    server.server_close()


def test_gptge_callbacks_survive_kill_9_before_processing(tmp_path: Path,
                                                         receiver: CallbackReceiver) -> None:
    """Issue 15 item 2: the photos are still downloading when the process dies; after the
    restart every callback is delivered, with a rendered photo."""
    slow = file_server(delay=3.0)
    url = f"http://127.0.0.1:{slow.server_address[1]}/face.jpg"
    db = f"sqlite:{tmp_path / 'mock.db'}"
    server = ServerProcess(db).start()
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        ids = [client.post("/task/pic/idphoto", headers={"Authorization": f"Bearer sk-p{n}"},
                           data={"image_url": url, "callback_url": receiver.url}
                           ).json()["data"]["task_id"] for n in range(4)]
    server.kill9()
    with ServerProcess(db, port=server.port) as again, \
            httpx.Client(base_url=again.base_url, timeout=30) as client:
        client.post("/__admin/clock/advance", json={"seconds": 5}).raise_for_status()
        deadline = time.monotonic() + 60
        while {task_of(b) for b in receiver.bodies} < set(ids) and time.monotonic() < deadline:
            client.post("/__admin/callbacks/drain")
            time.sleep(0.2)
    slow.shutdown()
    slow.server_close()
    states = {task_of(b): b["data"]["state"] for b in receiver.bodies}
    assert states == {task_id: 1 for task_id in ids}


class Load:
    """Submits DashScope tasks and AceData tasks with callbacks, each with a new key, until
    stopped; remembers what was acknowledged."""

    def __init__(self, client: httpx.Client, callback_url: str) -> None:
        self.client, self.callback_url = client, callback_url
        self.tasks: list[tuple[str, str]] = []  # (key, DashScope task id)
        self.hooks: list[str] = []  # AceData task ids with a callback
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            headers = {"Authorization": f"Bearer sk-load-{n}", "X-DashScope-Async": "enable"}
            try:
                answer = self.client.post(SUBMIT, json=JOB, headers=headers)
                if answer.status_code == 200:
                    self.tasks.append((f"sk-load-{n}", answer.json()["output"]["task_id"]))
                answer = self.client.post("/headshots/generate", headers=headers,
                                          json={**HEADSHOT, "callback_url": self.callback_url})
                if answer.status_code == 200:
                    self.hooks.append(answer.json()["task_id"])
            except httpx.TransportError:
                pass  # the request in flight to the killed process: never acknowledged

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(30)


def task_of(body: dict[str, Any]) -> str | None:
    """AceData bodies carry `task_id`; gpt.ge bodies carry it in `data`."""
    data = body.get("data")
    return body.get("task_id") or (data.get("task_id") if isinstance(data, dict) else None)


def check_everything_survived(client: httpx.Client, load: Load, receiver: CallbackReceiver,
                              extra_hooks: list[str] = ()) -> None:
    assert len(load.tasks) > 10 and len(load.hooks) > 10, "too little load to mean anything"
    for key, task_id in load.tasks:
        answer = client.get(f"/api/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {key}"})
        assert answer.json()["output"]["task_status"] in {"PENDING", "RUNNING"}, task_id
    client.post("/__admin/clock/advance", json={"seconds": 600}).raise_for_status()
    expected = {*load.hooks, *extra_hooks}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        client.post("/__admin/callbacks/drain").raise_for_status()
        if expected <= {task_of(b) for b in receiver.bodies}:
            break
        time.sleep(0.2)
    delivered = {task_of(b) for b in receiver.bodies}
    assert expected - delivered == set(), "due callbacks were lost"


def test_kill_9_of_one_worker_loses_nothing(tmp_path: Path, receiver: CallbackReceiver) -> None:
    with ServerProcess(f"sqlite:{tmp_path / 'mock.db'}", workers=2) as server, \
            httpx.Client(base_url=server.base_url, timeout=10,
                         limits=httpx.Limits(max_keepalive_connections=0)) as client:
        with Load(client, receiver.url) as load:
            time.sleep(1.5)
            os.kill(server.worker_pids()[0], signal.SIGKILL)
            time.sleep(1.5)  # the survivor goes on taking the load meanwhile
        check_everything_survived(client, load, receiver)


def test_kill_9_of_one_instance_loses_nothing(redis_url: str, receiver: CallbackReceiver,
                                              image_url: str) -> None:
    one, two = ServerProcess(redis_url).start(), ServerProcess(redis_url).start()
    try:
        with RoundRobin([one.base_url, two.base_url], timeout=10) as both, \
                httpx.Client(base_url=two.base_url, timeout=30) as survivor:
            photos = []  # gpt.ge tasks acknowledged by the instance about to die
            with httpx.Client(base_url=one.base_url, timeout=30) as victim:
                for n in range(3):
                    answer = victim.post("/task/pic/idphoto", headers={
                        "Authorization": f"Bearer sk-photo-{n}"},
                        data={"image_url": image_url, "callback_url": receiver.url})
                    assert answer.status_code == 200, answer.text
                    photos.append(answer.json()["data"]["task_id"])
            with Load(both, receiver.url) as load:
                time.sleep(1.5)
                one.kill9()
                time.sleep(0.5)
            load.client = survivor
            check_everything_survived(survivor, load, receiver, photos)
            bodies = [b for b in receiver.bodies if task_of(b) in photos]
            assert {b["data"]["state"] for b in bodies} == {1}  # real photos, rendered anew
    finally:
        one.stop()
        two.stop()
