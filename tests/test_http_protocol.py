"""The served protocol writes each response once: the per-turn buffer alone, uvicorn's own
protocol on the real app with its writes counted at the transport, and a served mock answering
pipelined and closing requests whole and in order. (Streamed answers through a served mock are
covered by the AceData stream tests, which run against `testing` servers too.)"""
from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from mockserver.app import create_app
from mockserver.http_protocol import SERVER_OPTIONS, CoalescingHTTPProtocol, TurnBuffer
from mockserver.settings import Settings
from mockserver.testing import AppThread

KEY = b"Bearer sk-protocol"


class CountingTransport(asyncio.Transport):
    """The socket end of a connection: records each write the protocol makes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _turns(count: int = 20) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def test_writes_of_one_turn_leave_together_and_later_turns_separately() -> None:
    async def scenario() -> list[bytes]:
        real = CountingTransport()
        buffered = TurnBuffer(real, asyncio.get_running_loop())
        buffered.write(b"head ")
        buffered.writelines([b"body", b"!"])
        assert real.writes == []  # held until the turn ends
        await _turns(1)
        buffered.write(b"next part")
        await _turns(1)
        return real.writes

    assert asyncio.run(scenario()) == [b"head body!", b"next part"]


def test_close_writes_what_is_held_first_and_a_gone_peer_gets_nothing() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        loop = asyncio.get_running_loop()
        closing, gone = CountingTransport(), CountingTransport()
        first = TurnBuffer(closing, loop)
        first.write(b"last answer")
        first.close()
        second = TurnBuffer(gone, loop)
        second.write(b"unsent")
        gone.closed = True  # the peer left before the turn ended
        await _turns(1)
        return closing.writes, gone.writes

    assert asyncio.run(scenario()) == ([b"last answer"], [])


def _request(method: str, path: str, body: bytes = b"", extra: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ").encode() + KEY
    if body:
        head += b"\r\nContent-Type: application/json\r\nX-DashScope-Async: enable"
        head += f"\r\nContent-Length: {len(body)}".encode()
    return head + extra + b"\r\n\r\n" + body


SUBMIT = json.dumps({"model": "facechain-generation",
                     "parameters": {"style": "f_idcard_male"},
                     "resources": [{"resource_id": "r1", "resource_type": "facelora"}]}).encode()
SUBMIT_PATH = "/api/v1/services/aigc/album/gen_potrait"


def test_uvicorns_protocol_on_the_real_app_writes_each_answer_once() -> None:
    async def scenario() -> list[bytes]:
        app = create_app(Settings(store="memory"))
        config = uvicorn.Config(app, lifespan="off", log_level="warning", **SERVER_OPTIONS)
        config.load()
        protocol = CoalescingHTTPProtocol(config, ServerState(), {})
        transport = CountingTransport()
        protocol.connection_made(transport)
        protocol.data_received(_request("POST", SUBMIT_PATH, SUBMIT))
        await _turns()
        protocol.data_received(_request("GET", "/api/v1/tasks/no-such-task"))
        await _turns()
        protocol.connection_lost(None)
        return transport.writes

    writes = asyncio.run(scenario())
    assert len(writes) == 2, writes  # head and body of each answer in one write
    assert all(w.startswith(b"HTTP/1.1 ") and b"\r\n\r\n{" in w for w in writes)
    assert b'"task_status":"PENDING"' in writes[0] and b"UNKNOWN" in writes[1]


def _read_answers(sock: socket.socket, count: int) -> list[tuple[int, dict[str, Any]]]:
    """`count` HTTP/1.1 answers with a content-length, read off the socket in order."""
    data, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"connection ended after {len(answers)} answers: {data!r}"
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        size = int(headers["content-length"])
        while len(data) < size:
            data += sock.recv(65536)
        answers.append((int(lines[0].split()[1]), json.loads(data[:size])))
        data = data[size:]
    return answers


@pytest.fixture(scope="module")
def served() -> Any:
    with AppThread(create_app(Settings(store="memory", limits_enabled=False))) as server:
        yield server


@pytest.mark.server
def test_pipelined_requests_are_answered_whole_and_in_order(served: AppThread) -> None:
    host, port = served.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(_request("POST", SUBMIT_PATH, SUBMIT) * 2
                     + _request("GET", "/api/v1/tasks/no-such-task"))
        answers = _read_answers(sock, 3)
    assert [status for status, _ in answers] == [200, 200, 200]
    first, second, unknown = (doc["output"] for _, doc in answers)
    assert first["task_id"] != second["task_id"]
    assert unknown["task_status"] == "UNKNOWN"


@pytest.mark.server
def test_a_closing_request_gets_its_whole_answer_before_the_end(served: AppThread) -> None:
    host, port = served.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(_request("GET", "/api/v1/tasks/gone", extra=b"\r\nConnection: close"))
        (status, doc), = _read_answers(sock, 1)
        assert sock.recv(1) == b""  # then the server closes
    assert status == 200 and doc["output"]["task_status"] == "UNKNOWN"
