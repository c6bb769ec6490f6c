"""pytest plugin (auto-loaded through the `pytest11` entry point `portrait_mockserver`).

Fixtures:
- `portrait_mock`: a handle on a real server on 127.0.0.1 (reset before each test). Clients
  reach it at `portrait_mock.base_url`; the handle has ready settings per vendor, the clock
  (`advance`), tasks, journal, callbacks, faults.
- `portrait_mock_inprocess`: the same handle in in-process mode: httpx, requests and aiohttp
  calls to the vendors' real hostnames are answered by the emulator in this process, no socket
  opened (see `mockserver.respx_mode`).
- `portrait_mock_server`: the session's shared server; `portrait_mock_settings`: its settings
  (override this fixture in a conftest.py to change them for a whole run).

Marker: `@pytest.mark.portrait_mock(time_scale=60, strict_auth=True, vendors={...})` gives one
test its own server (or in-process mock) with those `Settings` fields changed, plus the
plugin's own options: `check_schemas=False` (by default a test fails if the mock broke its own
JSON Schemas), and for `portrait_mock_inprocess` `block_other_hosts=True` and
`allow_loopback=False`. Unknown fields, vendors and vendor options are usage errors.

Options: `--portrait-mock-port PORT|FIRST-LAST` (env `PORTRAIT_MOCK_PORT`, ini
`portrait_mock_port`) puts the session server on a fixed port, or the first free one of a range
(the marker's own servers then take the next free ones); `portrait_mock_block_other_hosts`
(ini, bool) is the default of `block_other_hosts` for in-process tests.
"""
from __future__ import annotations

import difflib
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import fields, replace
from typing import Any

import pytest

from .settings import Settings
from .testing import MockHandle, ServerThread, reserve_port, with_test_key

MARKER = "portrait_mock"
IN_PROCESS_OPTIONS = frozenset({"block_other_hosts", "allow_loopback"})
PLUGIN_OPTIONS = frozenset({"check_schemas"}) | IN_PROCESS_OPTIONS
SERVER_ONLY = frozenset({"host", "port"})  # the plugin picks these
LOOPBACK = ("127.0.0.1", "localhost")
PORT_OPTION, PORT_INI, PORT_ENV = "--portrait-mock-port", "portrait_mock_port", "PORTRAIT_MOCK_PORT"
BLOCK_INI = "portrait_mock_block_other_hosts"
PORTS = pytest.StashKey["PortRange | None"]()
SESSION_SOCKET = pytest.StashKey[socket.socket]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("portrait-mockserver")
    group.addoption(PORT_OPTION, dest="portrait_mock_port", default=None, metavar="PORT|FIRST-LAST",
                    help=f"port, or range of ports, for the mock's session server (env {PORT_ENV}, "
                         f"ini {PORT_INI}); default: any free port")
    parser.addini(PORT_INI, f"port or FIRST-LAST range for the mock's session server "
                            f"(overridden by {PORT_ENV} and {PORT_OPTION})", default="")
    parser.addini(BLOCK_INI, "in-process tests refuse every host that is not a vendor's "
                             "(loopback stays allowed); the marker can override it",
                  type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): run this test against its own portrait-mockserver with these "
        "Settings fields changed (time_scale, strict_auth, api_keys, vendors, ...), "
        "check_schemas=False to allow answers that break the mock's JSON Schemas, "
        "block_other_hosts=True / allow_loopback=False for in-process tests",
    )
    ports = PortRange.from_config(config)
    config.stash[PORTS] = ports
    if ports is not None:  # bind now: a busy port is a usage error before any test runs
        config.stash[SESSION_SOCKET] = ports.bind()


def pytest_unconfigure(config: pytest.Config) -> None:
    sock = config.stash.get(SESSION_SOCKET, None)
    if sock is not None:
        sock.close()


class PortRange:
    """The ports the plugin's servers may use, from the option, env var or ini (that order)."""

    def __init__(self, first: int, last: int, source: str) -> None:
        self.first, self.last, self.source = first, last, source

    @classmethod
    def from_config(cls, config: pytest.Config) -> PortRange | None:
        for source, value in ((PORT_OPTION, config.getoption("portrait_mock_port")),
                              (PORT_ENV, os.environ.get(PORT_ENV)),
                              (PORT_INI, str(config.getini(PORT_INI)))):
            if value:
                return cls.parse(value.strip(), source)
        return None

    @classmethod
    def parse(cls, text: str, source: str) -> PortRange:
        first, _, last = text.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            low = high = -1
        if not 1 <= low <= high <= 65535:
            raise pytest.UsageError(f"{source}: {text!r} is not a port (8000) or a range of "
                                    "ports (8000-8010) between 1 and 65535")
        return cls(low, high, source)

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    def bind(self, host: str = "127.0.0.1") -> socket.socket:
        """A listening socket on the first free port of the range (the OS knows which are
        taken, by this session's servers too); a usage error if none is."""
        for port in range(self.first, self.last + 1):
            try:
                sock = reserve_port(host, port)
                sock.listen()  # held from now on: a second session cannot take it too
            except OSError:
                continue
            return sock
        what = f"port {self}" if self.first == self.last else f"every port of {self}"
        raise pytest.UsageError(f"{self.source} {self}: {what} on {host} is in use; free it "
                                "or choose another")


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
        """A synchronous `httpx.Client` on `base_url` (closed after the test)."""
        if self._http is None:
            import httpx

            self._http = httpx.Client(base_url=self.base_url, trust_env=False)
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
    """`base` with the marker's Settings fields changed; unknown names are a usage error, and
    so are unknown vendors and vendor options in `vendors={...}`."""
    known = {f.name for f in fields(Settings)} - SERVER_ONLY
    wanted = {k: v for k, v in options.items() if k not in PLUGIN_OPTIONS}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER}: unknown option(s) {', '.join(unknown)}; use Settings fields "
            f"({', '.join(sorted(known))}) or {', '.join(sorted(PLUGIN_OPTIONS))}")
    if isinstance(wanted.get("api_keys"), (list, str)):
        keys = wanted["api_keys"]
        wanted["api_keys"] = (keys,) if isinstance(keys, str) else tuple(keys)
    if "vendors" in wanted:
        check_vendor_options(wanted["vendors"])
    return with_test_key(replace(base, **wanted))


def check_vendor_options(vendors: Any) -> None:
    """`vendors={name: {option: value}}` as each vendor declares its options."""
    from .providers import vendor_packages
    from .providers.options import OptionError, Options

    where = f"@pytest.mark.{MARKER}(vendors=...)"
    if not isinstance(vendors, Mapping):
        raise pytest.UsageError(f"{where}: give a dict of vendor name -> {{option: value}}")
    packages = vendor_packages()
    for name, table in vendors.items():
        if name not in packages:
            close = difflib.get_close_matches(str(name), list(packages), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise pytest.UsageError(f"{where}: unknown vendor {name!r}{hint}; vendors: "
                                    f"{', '.join(packages)}")
        if not isinstance(table, Mapping):
            raise pytest.UsageError(f"{where}: the options of {name} must be a dict")
        try:
            Options(name, packages[name].provider.spec.all_options(), table)
        except OptionError as error:
            raise pytest.UsageError(f"{where}: {error}") from None


@pytest.fixture(scope="session")
def portrait_mock_settings() -> Settings:
    """Settings of the shared server. Override in a conftest.py to change them for a run."""
    return Settings(validate_responses=True)


@pytest.fixture(scope="session")
def portrait_mock_server(request: pytest.FixtureRequest,
                         portrait_mock_settings: Settings) -> Iterator[ServerThread]:
    """One real server for the whole session; `portrait_mock` resets it before each test. On
    the port `--portrait-mock-port` names, if it names one."""
    sock = request.config.stash.get(SESSION_SOCKET, None)
    with ServerThread(with_test_key(portrait_mock_settings), sock=sock) as running:
        yield running


@pytest.fixture
def portrait_mock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                  portrait_mock_settings: Settings) -> Iterator[PortraitMock]:
    options = marker_options(request.node)
    misplaced = sorted(set(options) & IN_PROCESS_OPTIONS)
    if misplaced:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: {', '.join(misplaced)} apply to "
                                "portrait_mock_inprocess; portrait_mock is a real server")
    _bypass_proxies(monkeypatch)
    if set(options) - PLUGIN_OPTIONS:
        settings = apply_options(portrait_mock_settings, options)
        with ServerThread(settings, sock=_own_socket(request.config)) as own:
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


def _own_socket(config: pytest.Config) -> socket.socket | None:
    """A marker's own server takes the next free port of a `--portrait-mock-port` range; with
    one fixed port (the session server's) or none, any free port."""
    ports = config.stash.get(PORTS, None)
    return ports.bind() if ports is not None and ports.first < ports.last else None


@pytest.fixture
def portrait_mock_inprocess(request: pytest.FixtureRequest,
                            portrait_mock_settings: Settings) -> Iterator[Any]:
    """In-process mode for one test: httpx, requests and aiohttp calls to the vendors' hosts
    are answered by an emulator in this process."""
    from .respx_mode import InProcessMock

    options = marker_options(request.node)
    settings = apply_options(portrait_mock_settings, options)
    block = options.get("block_other_hosts", request.config.getini(BLOCK_INI))
    loopback = options.get("allow_loopback", True)
    for name, value in (("block_other_hosts", block), ("allow_loopback", loopback)):
        if not isinstance(value, bool):
            raise pytest.UsageError(f"@pytest.mark.{MARKER}: {name} must be True or False")
    with InProcessMock(settings, block_other_hosts=block, allow_loopback=loopback) as mock:
        yield mock
    if options.get("check_schemas", True):
        mock.assert_schema_clean()


def _bypass_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDKs honour proxy variables; the mock is on loopback, so never proxy it."""
    for name in ("NO_PROXY", "no_proxy"):
        present = [h for h in os.environ.get(name, "").split(",") if h.strip()]
        monkeypatch.setenv(name, ",".join(dict.fromkeys([*present, *LOOPBACK])))
