"""pytest plugin (auto-loaded through the `pytest11` entry point `portrait_mockserver`).

Fixtures:
- `portrait_mock`: a handle on a real server on 127.0.0.1 (reset before each test). Clients that
  are not httpx (the vendors' SDKs use `requests`) reach it at `portrait_mock.base_url`; the
  handle has ready settings per vendor, the clock (`advance`), tasks, journal, callbacks, faults.
- `portrait_mock_inprocess`: the same handle in respx mode: httpx calls to the vendors' real
  hostnames are answered by the emulator in this process (see `mockserver.respx_mode`).
- `portrait_mock_server`: the session's shared server; `portrait_mock_settings`: its settings
  (override this fixture in a conftest.py to change them for a whole run).

Marker: `@pytest.mark.portrait_mock(time_scale=60, strict_auth=True, vendors={...})` gives one
test its own server with those `Settings` fields changed, plus the plugin's own option
`check_schemas=False` (by default a test fails if the mock broke its own JSON Schemas).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import fields, replace
from typing import Any

import pytest

from .settings import Settings
from .testing import MockHandle, ServerThread, with_test_key

MARKER = "portrait_mock"
PLUGIN_OPTIONS = frozenset({"check_schemas"})
SERVER_ONLY = frozenset({"host", "port"})  # the plugin picks these
LOOPBACK = ("127.0.0.1", "localhost")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): run this test against its own portrait-mockserver with these "
        "Settings fields changed (time_scale, strict_auth, api_keys, vendors, ...), "
        "check_schemas=False to allow answers that break the mock's JSON Schemas",
    )


class PortraitMock(MockHandle):
    """The per-test handle: a `MockHandle` plus the server it talks to and an httpx client."""

    def __init__(self, server: ServerThread, base_url: str | None = None) -> None:
        super().__init__(server.emulator, base_url or server.base_url)
        self.server = server
        self._http: Any = None

    @property
    def settings(self) -> Settings:
        return self.emulator.settings

    @property
    def http(self) -> Any:
        """A synchronous `httpx.Client` on `base_url` (closed after the test); it sends the
        admin token when the server has one."""
        if self._http is None:
            import httpx

            self._http = httpx.Client(base_url=self.base_url, trust_env=False,
                                      headers=self.admin_headers)
        return self._http

    def drain_callbacks(self) -> None:
        """Deliver every callback that is due now and wait for the attempts to finish."""
        self.http.post("/__admin/callbacks/drain").raise_for_status()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


def marker_options(node: pytest.Item) -> dict[str, Any]:
    """The keyword options of every `portrait_mock` marker on the test (closest wins)."""
    options: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword options only")
        options.update(mark.kwargs)
    return options


def apply_options(base: Settings, options: dict[str, Any]) -> Settings:
    """`base` with the marker's Settings fields changed; unknown names are a usage error."""
    known = {f.name for f in fields(Settings)} - SERVER_ONLY
    wanted = {k: v for k, v in options.items() if k not in PLUGIN_OPTIONS}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER}: unknown option(s) {', '.join(unknown)}; "
            f"use Settings fields ({', '.join(sorted(known))}) or {', '.join(PLUGIN_OPTIONS)}")
    if isinstance(wanted.get("api_keys"), (list, str)):
        keys = wanted["api_keys"]
        wanted["api_keys"] = (keys,) if isinstance(keys, str) else tuple(keys)
    return with_test_key(replace(base, **wanted))


@pytest.fixture(scope="session")
def portrait_mock_settings() -> Settings:
    """Settings of the shared server. Override in a conftest.py to change them for a run."""
    return Settings(validate_responses=True)


@pytest.fixture(scope="session")
def portrait_mock_server(portrait_mock_settings: Settings) -> Iterator[ServerThread]:
    """One real server for the whole session; `portrait_mock` resets it before each test."""
    with ServerThread(with_test_key(portrait_mock_settings)) as running:
        yield running


@pytest.fixture
def portrait_mock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                  portrait_mock_settings: Settings) -> Iterator[PortraitMock]:
    options = marker_options(request.node)
    _bypass_proxies(monkeypatch)
    if set(options) - PLUGIN_OPTIONS:
        with ServerThread(apply_options(portrait_mock_settings, options)) as own:
            yield from _handle(own, options)
    else:
        shared: ServerThread = request.getfixturevalue("portrait_mock_server")
        yield from _handle(shared, options)


def _handle(server: ServerThread, options: dict[str, Any]) -> Iterator[PortraitMock]:
    handle = PortraitMock(server)
    handle.reset()
    try:
        yield handle
    finally:
        handle.close()
    if options.get("check_schemas", True):
        handle.assert_schema_clean()


@pytest.fixture
def portrait_mock_inprocess(request: pytest.FixtureRequest,
                            portrait_mock_settings: Settings) -> Iterator[Any]:
    """respx mode for one test: httpx calls to the vendors' hosts are answered in-process."""
    from .respx_mode import InProcessMock

    options = marker_options(request.node)
    with InProcessMock(apply_options(portrait_mock_settings, options)) as mock:
        yield mock
    if options.get("check_schemas", True):
        mock.assert_schema_clean()


def _bypass_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDKs honour proxy variables; the mock is on loopback, so never proxy it."""
    for name in ("NO_PROXY", "no_proxy"):
        present = [h for h in os.environ.get(name, "").split(",") if h.strip()]
        monkeypatch.setenv(name, ",".join(dict.fromkeys([*present, *LOOPBACK])))
