"""Helpers for running the emulator inside a test process: a threaded uvicorn server, and the
handle a test uses to drive one emulator (clock, tasks, journal, SDK settings)."""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, Self

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .core.journal import Entry, Journal
from .core.tasks import Task
from .emulator import Emulator
from .http_protocol import SERVER_OPTIONS
from .providers import vendor_packages
from .providers.base import ClientKit
from .settings import Settings

if TYPE_CHECKING:
    from .core.callbacks import CallbackDispatcher
    from .features.fault_rules import FaultRule
    from .features.faults import Faults


def reserve_port(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A socket bound to `port` (0: a free one) before the app exists, so URLs can carry it.
    OSError if the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this; asyncio does not set it on sockets handed to uvicorn,
    # and without it every answer waits ~40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class AppThread:
    """Any ASGI app under a real uvicorn server on loopback, in a daemon thread.

    Tests use it for the mock itself (`ServerThread`) and for their own peers: callback
    receivers, servers of input images.
    """

    def __init__(self, app: Any, *, sock: socket.socket | None = None,
                 lifespan: Literal["auto", "on", "off"] = "on",
                 host: str = "127.0.0.1") -> None:
        self._socket = sock or reserve_port(host)
        host, port = self._socket.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        # As `serve` runs uvicorn, so tests see the bytes a served mock sends.
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, **SERVER_OPTIONS)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self, timeout: float = 10.0) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server for {self.base_url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CallbackReceiver(AppThread):
    """A callback endpoint on loopback (`url`) that answers 200 and keeps every JSON body it
    gets in `bodies`, in arrival order: for checking what the mock delivered."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        self.bodies: list[Any] = []

        async def hook(request: Request) -> Response:
            self.bodies.append(json.loads(await request.body()))
            return Response("ok")

        super().__init__(Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
                         lifespan="off", host=host)
        self.url = f"{self.base_url}/hook"


class ServerThread(AppThread):
    """The mock on a real uvicorn server on 127.0.0.1 and a free port, in a daemon thread.

    The port is reserved before the app is built so result URLs already carry it.
    """

    def __init__(self, settings: Settings | None = None, host: str = "127.0.0.1",
                 sock: socket.socket | None = None) -> None:
        sock = sock or reserve_port(host)  # a test may bring its own (a fixed port)
        host = sock.getsockname()[0]
        self.settings = replace(settings or Settings(), host=host, port=sock.getsockname()[1])
        self.app: Starlette = create_app(self.settings)
        self.emulator: Emulator = self.app.state.emulator
        super().__init__(self.app, sock=sock)
        self.base_url = self.settings.base_url


TEST_API_KEY = "sk-portrait-test"  # a key for the bearer vendors; listed when auth is strict


def with_test_key(settings: Settings) -> Settings:
    """Strict auth accepts only listed keys: make sure the handle's own key is one of them."""
    if settings.strict_auth and TEST_API_KEY not in settings.api_keys:
        return replace(settings, api_keys=(*settings.api_keys, TEST_API_KEY))
    return settings


class MockHandle:
    """One emulator as a test sees it: clock, tasks, journal, callbacks, faults, and the
    settings that point each vendor's client at it (`base_url` is where clients send).

    `handle.<vendor>_<name>` is `<name>` of that vendor's client kit (`providers/<vendor>/
    client.py`): `base_url` for every vendor, plus ready SDK settings where a vendor has an SDK.
    """

    def __init__(self, emulator: Emulator, base_url: str) -> None:
        self.emulator = emulator
        self.base_url = base_url.rstrip("/")
        self.api_key = TEST_API_KEY

    # --- state ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget tasks, callbacks, faults added by tests, the journal and the clock offset."""
        self.emulator.reset()
        self.emulator.schema_violations.clear()

    def advance(self, seconds: float) -> float:
        """Move the emulated clock forward; every task moves and waiting requests wake."""
        return self.emulator.clock.advance(seconds)

    def now(self) -> float:
        return self.emulator.clock.now()

    def tasks(self, vendor: str | None = None) -> list[Task]:
        return self.emulator.store.list_tasks(vendor, 10_000)

    def task(self, task_id: str) -> Task | None:
        return self.emulator.store.get_task(task_id)

    def requests(self, vendor: str | None = None, operation: str | None = None) -> list[Entry]:
        """The journal, newest first: every vendor call with the answer it got."""
        return [e for e in self.emulator.journal.entries()
                if vendor in (None, e.vendor) and operation in (None, e.operation)]

    def account_label(self, key: str) -> str | None:
        """How the journal and the admin API show the account of `key` (its configured name,
        or a masked label: never the key itself)."""
        return self.emulator.account_label(key)

    @property
    def journal(self) -> Journal:
        return self.emulator.journal

    @property
    def callbacks(self) -> CallbackDispatcher:
        """The callback dispatcher (`.records()`, `.get(id)`, async `.drain()`)."""
        return self.emulator.callbacks

    def callback_records(self, vendor: str | None = None,
                         task_id: str | None = None) -> list[dict[str, Any]]:
        return self.callbacks.records(vendor, task_id)

    @property
    def faults(self) -> Faults:
        """The fault rules (`.add(rule)`, `.rules()`, `.remove(id)`, `.clear()`)."""
        faults: Faults = self.emulator.features["faults"]
        return faults

    def add_fault(self, **rule: Any) -> FaultRule:
        """`add_fault(vendor=<name>, effect="error", code=<catalogue code>)`; docs/faults.md."""
        return self.faults.add(rule)

    @property
    def schema_violations(self) -> list[dict[str, Any]]:
        return self.emulator.schema_violations

    def assert_schema_clean(self) -> None:
        """Fail if any answer of the mock broke its own JSON Schema (a mock bug, not yours)."""
        assert self.schema_violations == [], self.schema_violations

    # --- where each vendor's client should send -------------------------------------------

    def vendor_url(self, vendor: str) -> str:
        """The base URL for `vendor`'s client: this handle's URL plus the SDK's base path."""
        return self.base_url + self.emulator.providers[vendor].spec.base_path

    def client_kit(self, vendor: str) -> ClientKit:
        kit_class = vendor_packages()[vendor].client_kit
        return kit_class(self.emulator.providers[vendor], self.vendor_url(vendor), self.api_key)

    def __getattr__(self, name: str) -> Any:
        """`<vendor>_<name>`: that attribute of the vendor's client kit."""
        vendor, _, attribute = name.partition("_")
        if attribute and vendor in vendor_packages():
            return getattr(self.client_kit(vendor), attribute)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def auth_headers(self) -> dict[str, str]:
        """`Authorization` for the bearer vendors."""
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def admin_headers(self) -> dict[str, str]:
        """The admin token header, when the emulator has one (else nothing to send)."""
        token = self.emulator.settings.admin_token
        return {"X-Admin-Token": token} if token else {}

    def settings_env(self) -> dict[str, str]:
        """Environment variables for a child process (SDK base URLs, the test key)."""
        env = {"MOCKSERVER_URL": self.base_url, "PORTRAIT_MOCK_API_KEY": self.api_key}
        for vendor in self.emulator.providers:
            env.update(self.client_kit(vendor).env())
        return env


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for child processes that bind it themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def fixture_url(base_url: str, name: str) -> str:
    """The URL of a sample image the mock serves (see fixtures/images/README.md)."""
    return f"{base_url}/__admin/fixtures/{name}"
