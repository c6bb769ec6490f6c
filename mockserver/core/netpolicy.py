"""The one policy for every request the emulator sends out: image downloads and callbacks.

A tenant names the URLs (an input image, a `callback_url`), so every hop is judged twice:

1. The URL (`OutboundPolicy.check_url`), before anything is sent: the scheme, the host as
   written and normalised (case, trailing dots, IDNA, every IPv4 spelling `inet_aton` accepts:
   `2130706433`, `0x7f000001`, `017700000001`, `127.1`; IPv6 literals with the IPv4 inside
   `::ffff:127.0.0.1`, 6to4 and NAT64 unwrapped), the configured `allow_hosts`/`deny_hosts`
   (globs on names and addresses, or CIDR ranges), cloud metadata names, and the path: the
   admin API under `/__admin/` is never a target, on any host (it may be this mock, or another
   instance sharing its state), except the fixture images a fetch may read.
2. Each address the host resolves to (`check_address`), when the connection is made
   (`GuardedTransport`): the connection goes to an address that passed, so a name that
   resolves to a refused address, or changes its answer between the two checks, cannot
   reach it. Redirects open new connections, so each hop is judged the same way.

Ranges, by mode (`[fetch] mode`, `--fetch-mode`, `MOCKSERVER_FETCH_MODE`):

| range | single (default) | shared |
|---|---|---|
| link-local 169.254.0.0/16, fe80::/10; cloud metadata (fd00:ec2::254, 100.100.100.200, metadata.google.internal, ...); multicast, broadcast, reserved | refused | refused |
| loopback 127.0.0.0/8, ::1, 0.0.0.0/8, :: | allowed | refused unless listed in allow_hosts |
| private 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, 198.18/15 | allowed | refused unless listed in allow_hosts |

Single-user mode is for a developer's machine and CI, where fixtures and receivers live on
loopback; shared mode is for a team instance, where a tenant must not reach the host's own
network. A refusal is a `PolicyRefused` whose `reason` is for the operator; what a tenant sees
is `REFUSED` ("refused by policy"), never what a target answered.
"""
from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import posixpath
import re
import socket
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported with the first outbound request (httpx costs ~90 ms at start-up)
    import httpx

__all__ = ["CALLBACK", "FETCH", "MODES", "REFUSED", "GuardedTransport", "OutboundPolicy",
           "PolicyRefused", "canonical_host"]

SINGLE, SHARED = "single", "shared"
MODES = (SINGLE, SHARED)
FETCH, CALLBACK = "fetch", "callback"
REFUSED = "refused by policy"
ADMIN_PREFIX = "/__admin/"
FETCHABLE_ADMIN = ("/__admin/fixtures/",)  # sample images stay fetchable; no other admin path

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Never a target in any mode: no image or receiver lives there, and the metadata services hand
# out the host's cloud credentials.
_ALWAYS_REFUSED: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in (
    "169.254.0.0/16", "fe80::/10",  # link-local, with 169.254.169.254 (AWS, GCP, Azure, ...)
    "fd00:ec2::254/128",  # AWS IMDS over IPv6
    "100.100.100.200/32",  # Alibaba Cloud ECS metadata (inside 100.64/10)
    "224.0.0.0/4", "ff00::/8",  # multicast
    "240.0.0.0/4",  # reserved, and the broadcast address
))
_METADATA_NAMES = ("metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                   "instance-data.ec2.internal", "metadata.azure.internal",
                   "metadata.platformequinix.com")
_LOOPBACK: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128"))  # 0.0.0.0 and :: reach this host
_PRIVATE: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "198.18.0.0/15",
    "fc00::/7", "fec0::/10"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_SPELLING = re.compile(r"[0-9a-fx.]+", re.I)


class PolicyRefused(Exception):
    """A URL or an address the outbound policy refuses; `reason` is for the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{REFUSED}: {reason}")
        self.reason = reason


_THIS_HOST: dict[Address, Address] = {
    ipaddress.IPv4Address("0.0.0.0"): ipaddress.IPv4Address("127.0.0.1"),
    ipaddress.IPv6Address("::"): ipaddress.IPv6Address("::1")}
_LOCALHOST = ipaddress.IPv4Address("127.0.0.1")


def _unwrap(address: Address) -> Address:
    """The address a connection really reaches: the IPv4 address inside an IPv6 one (mapped,
    6to4, NAT64, compatible), and loopback for the unspecified address (0.0.0.0, ::)."""
    address = _THIS_HOST.get(address, address)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d (deprecated form)
            return _unwrap(ipaddress.IPv4Address(int(address)))
    return address


def parse_address(text: str) -> Address | None:
    """An IP address in any spelling a resolver accepts, unwrapped; None for a name."""
    text = text.strip("[]").split("%", 1)[0]  # brackets and an IPv6 zone id
    try:
        return _unwrap(ipaddress.ip_address(text))
    except ValueError:
        pass
    if _IPV4_SPELLING.fullmatch(text) and not text.startswith(".") and ".." not in text:
        try:  # 2130706433, 0x7f000001, 017700000001, 127.1, 0x7f.0.0.1: what inet_aton reads
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def canonical_host(host: str) -> str:
    """The host as policies compare it: lower case, no trailing dots, IDNA for names, and the
    canonical text of an address however it was spelled."""
    host = host.strip().lower().rstrip(".")
    address = parse_address(host)
    if address is not None:
        return str(address)
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


@dataclass(frozen=True)
class _Pattern:
    """One allow/deny entry: a CIDR range, or a glob on a canonical name or address."""

    text: str
    network: Network | None = None

    @classmethod
    def parse(cls, entry: str) -> _Pattern:
        text = entry.strip()
        if "/" in text:
            try:
                return cls(text, ipaddress.ip_network(text.strip("[]"), strict=False))
            except ValueError:
                pass
        address = parse_address(text)
        if address is not None:
            return cls(text, ipaddress.ip_network(f"{address}/{address.max_prefixlen}"))
        globbed = "*" in text or "?" in text or "[" in text
        return cls(text.lower().rstrip(".") if globbed else canonical_host(text))

    def matches(self, host: str, address: Address | None) -> bool:
        if self.network is not None:
            return address is not None and address.version == self.network.version \
                and address in self.network
        return fnmatch.fnmatchcase(host, self.text) or (
            address is not None and fnmatch.fnmatchcase(str(address), self.text))


def _patterns(entries: Iterable[str]) -> tuple[_Pattern, ...]:
    return tuple(_Pattern.parse(e) for e in entries if e.strip())


def _category(address: Address) -> str | None:
    if any(address in n for n in _ALWAYS_REFUSED if n.version == address.version):
        return "link-local, metadata or reserved"
    if any(address in n for n in _LOOPBACK if n.version == address.version):
        return "loopback"
    if any(address in n for n in _PRIVATE if n.version == address.version):
        return "private"
    return None


def _admin_path(raw_path: str) -> str | None:
    """The path as a server would route it (percent-decoded once, slashes collapsed, dot
    segments resolved), lower case; returned only when it is under the admin API."""
    path = re.sub(r"/+", "/", "/" + urllib.parse.unquote(raw_path))
    path = posixpath.normpath(path).lower()
    path = path + "/" if not path.endswith("/") else path
    return path if path.startswith(ADMIN_PREFIX) or path == "/__admin/" else None


@dataclass(frozen=True)
class OutboundPolicy:
    """Where the emulator may send. `allow_hosts` empty means any host (deny wins over allow);
    `own_base_url` is this mock's base URL, whose fixture and result files are always
    fetchable (they are answered in-process, never over the network)."""

    mode: str = SINGLE
    allow_hosts: tuple[str, ...] = ()
    deny_hosts: tuple[str, ...] = ()
    allow_loopback: bool = True  # False refuses loopback in single-user mode too
    own_base_url: str = ""
    _allow: tuple[_Pattern, ...] = field(init=False, repr=False, compare=False)
    _deny: tuple[_Pattern, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"[fetch] mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        object.__setattr__(self, "_allow", _patterns(self.allow_hosts))
        object.__setattr__(self, "_deny", _patterns(self.deny_hosts))

    @property
    def shared(self) -> bool:
        return self.mode == SHARED

    # --- the URL -------------------------------------------------------------------------

    def check_url(self, url: str, purpose: str = FETCH) -> None:
        """Raise PolicyRefused for a URL that must not be requested for `purpose`."""
        try:
            parts = urllib.parse.urlsplit(url.strip())
            raw_host = parts.hostname or ""
            port = parts.port
        except ValueError as exc:  # a malformed IPv6 literal or port
            raise PolicyRefused(f"malformed URL ({exc})") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise PolicyRefused(f"scheme {parts.scheme!r} is not allowed")
        host = canonical_host(raw_host)
        if not host:
            raise PolicyRefused("the URL has no host")
        admin = _admin_path(parts.path)
        if admin is not None and not (purpose == FETCH and admin.startswith(FETCHABLE_ADMIN)):
            raise PolicyRefused(f"the admin API ({parts.path}) is never a {purpose} target")
        if self.is_own(parts.scheme, host, port):
            return  # our own fixture and result files, answered in-process
        self._check_name(host)
        address = parse_address(host) or (_LOCALHOST if _is_loopback_name(host, None) else None)
        if address is not None:  # a literal, or a name no resolver may answer otherwise
            self.check_address(host, address)

    def is_own(self, scheme: str, host: str, port: int | None) -> bool:
        """True when (scheme, canonical host, port) is this mock's own base URL."""
        if not self.own_base_url:
            return False
        own = urllib.parse.urlsplit(self.own_base_url)
        default = {"http": 80, "https": 443}
        return (scheme.lower() == own.scheme.lower()
                and host == canonical_host(own.hostname or "")
                and (port or default.get(scheme.lower())) ==
                (own.port or default.get(own.scheme.lower())))

    def _check_name(self, host: str) -> None:
        address = parse_address(host)
        if address is None and _is_loopback_name(host, None):
            address = _LOCALHOST  # RFC 6761: localhost names are loopback, before any lookup
        if host in _METADATA_NAMES or host.endswith(".metadata.google.internal"):
            raise PolicyRefused(f"{host} is a cloud metadata service")
        if any(p.matches(host, address) for p in self._deny):
            raise PolicyRefused(f"host {host} is in deny_hosts")
        if self._allow and not self._allowed(host, address) and not (
                not self.shared and self.allow_loopback and _is_loopback_name(host, address)):
            raise PolicyRefused(f"host {host} is not in allow_hosts")

    def _allowed(self, host: str, address: Address | None) -> bool:
        return any(p.matches(host, address) for p in self._allow)

    # --- each resolved address -----------------------------------------------------------

    def check_address(self, host: str, address: Address) -> None:
        """Raise PolicyRefused when `host` must not be reached at `address`."""
        address = _unwrap(address)
        kind = _category(address)
        if kind == "link-local, metadata or reserved":
            raise PolicyRefused(f"{host} is {address}, a {kind} address")
        if any(p.matches(host, address) for p in self._deny):
            raise PolicyRefused(f"{host} is {address}, in deny_hosts")
        if kind is None:
            return
        if kind == "loopback" and not self.allow_loopback and not self._allowed(host, address):
            raise PolicyRefused(f"{host} is {address}, a loopback address")
        if self.shared and not self._allowed(host, address):
            raise PolicyRefused(f"{host} is {address}, a {kind} address (shared mode)")

    async def resolve(self, host: str, port: int) -> list[Address]:
        """Every address `host` resolves to that this policy lets us connect to, in the
        resolver's order; PolicyRefused when there is none."""
        literal = parse_address(host)
        if literal is not None:
            found = [literal]
        else:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM)
            found = list(dict.fromkeys(_unwrap(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
                                       for info in infos))
        allowed: list[Address] = []
        refusal: PolicyRefused | None = None
        for address in found:
            try:
                self.check_address(canonical_host(host), address)
                allowed.append(address)
            except PolicyRefused as refused:
                refusal = refusal or refused
        if not allowed:
            raise refusal or PolicyRefused(f"{host} resolves to no address")
        return allowed


def _is_loopback_name(host: str, address: Address | None) -> bool:
    if address is not None:
        return any(address in n for n in _LOOPBACK if n.version == address.version)
    return host == "localhost" or host.endswith(".localhost")


# --- the transport that checks every connection ----------------------------------------------

def prepare_transport() -> None:
    """Import and build now what the first `GuardedTransport` needs (httpx, httpcore, the TLS
    context): about 0.2 s the first download would otherwise wait for (`warmup`)."""
    _guarded_classes()
    _tls_context()


@cache
def _tls_context() -> Any:
    """One verifying TLS context for every guarded connection: loading the CA bundle costs
    about 17 ms, and a context may serve any number of connections."""
    import httpx

    return httpx.create_ssl_context(trust_env=False)


@cache
def _guarded_classes() -> tuple[Any, Any]:
    """(backend class, transport class), built on first use so httpx loads lazily."""
    import httpcore
    import httpx

    class GuardedBackend(httpcore.AsyncNetworkBackend):
        """Connects only to addresses the policy allows (every connection, every hop)."""

        def __init__(self, policy: OutboundPolicy) -> None:
            self.policy = policy
            self.inner = httpcore.AnyIOBackend()

        async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                              local_address: str | None = None,
                              socket_options: Iterable[Any] | None = None
                              ) -> httpcore.AsyncNetworkStream:
            try:
                addresses = await self.policy.resolve(host, port)
            except OSError as exc:  # the name does not resolve
                raise httpcore.ConnectError(str(exc)) from None
            error: Exception | None = None
            for address in addresses:
                try:
                    return await self.inner.connect_tcp(
                        str(address), port, timeout=timeout, local_address=local_address,
                        socket_options=socket_options)
                except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                    error = exc
            assert error is not None
            raise error

        async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                      socket_options: Iterable[Any] | None = None
                                      ) -> httpcore.AsyncNetworkStream:
            raise PolicyRefused("unix sockets are never an outbound target")

        async def sleep(self, seconds: float) -> None:
            await self.inner.sleep(seconds)

    class Transport(httpx.AsyncHTTPTransport):
        """httpx's own transport (its request mapping and error handling) on a connection
        pool whose network backend is the guarded one. httpx builds its pool in `__init__`
        with no way to pass a backend, hence the replacement of `_pool`; the policy tests
        fail if a later httpx renames it."""

        def __init__(self, policy: OutboundPolicy, limits: httpx.Limits) -> None:
            super().__init__(verify=_tls_context(), trust_env=False, limits=limits)
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=_tls_context(),
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=GuardedBackend(policy))

    return GuardedBackend, Transport


def GuardedTransport(policy: OutboundPolicy, max_connections: int = 100) -> httpx.AsyncBaseTransport:  # noqa: N802 - a class factory
    """An httpx transport whose every connection obeys `policy`."""
    import httpx

    transport: httpx.AsyncBaseTransport = _guarded_classes()[1](
        policy, httpx.Limits(max_connections=max_connections,
                             max_keepalive_connections=min(20, max_connections)))
    return transport


async def post_json(client: httpx.AsyncClient, policy: OutboundPolicy, url: str, data: bytes,
                    timeout: float) -> dict[str, Any]:
    """POST a callback body: `{status_code, error, ok, refused}`. The answer's body is never
    read (an endless or huge answer costs nothing), and a refusal sends nothing."""
    import httpx

    try:
        policy.check_url(url, CALLBACK)
        request = client.build_request("POST", url, content=data, timeout=timeout,
                                       headers={"content-type": "application/json"})
        answer = await client.send(request, stream=True)
        await answer.aclose()
        status, error, refused = answer.status_code, None, False
    except PolicyRefused as exc:
        status, error, refused = None, str(exc), True
    # Refused, reset, timed out, or a URL httpx cannot use (e.g. a host IDNA rejects): a
    # failed attempt like any other, so the record moves on instead of staying pending.
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        status, error, refused = None, f"{type(exc).__name__}: {exc}".rstrip(": "), False
    return {"status_code": status, "error": error, "refused": refused,
            "ok": status is not None and 200 <= status < 300}
