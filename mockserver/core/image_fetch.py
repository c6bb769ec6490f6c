"""Fetching of user-supplied image references (URLs, ``data:`` URIs, bare base64).

The vendors we emulate download the images a client names by URL, or decode the
base64 it sends inline.  This module reproduces that step offline and safely:
bodies are streamed and cut off at the caller's byte cap, redirects are followed
by hand, every URL and every connection is judged by the outbound policy
(:mod:`mockserver.core.netpolicy`), each account gets its own share of the
connection pool (:mod:`mockserver.core.fairness`), every failure becomes an
:class:`ImageRejected` carrying a :class:`Problem`, and nothing ever raises a
bare ``httpx`` or ``binascii`` error to the caller.

:mod:`mockserver.core.images` re-exports everything public here; import from
there.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import functools
import re
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Protocol

from .fairness import AccountSlots, ShareTimeout
from .netpolicy import FETCH, REFUSED, SINGLE, GuardedTransport, OutboundPolicy, PolicyRefused

if TYPE_CHECKING:  # imported on first download: httpx costs ~90 ms and 5 MB at start-up
    import httpx

__all__ = [
    "FetchPolicy",
    "ImageFetcher",
    "ImageRejected",
    "ImageSource",
    "Problem",
    "check_ref",
    "contains_cjk",
    "fetch_account",
]

#: The account a download is made for; set by whoever starts the work for a task
#: (`core.input_checks`), read by the fetcher to pick that account's share of the pool.
fetch_account: ContextVar[str | None] = ContextVar("mockserver_fetch_account", default=None)


class Problem(enum.Enum):
    """Why an image reference or payload was refused (vendor-neutral)."""

    DOWNLOAD_FAILED = "download_failed"
    URL_FORBIDDEN = "url_forbidden"
    TOO_MANY_BYTES = "too_many_bytes"
    UNSUPPORTED_FORMAT = "unsupported_format"
    DECODE_FAILED = "decode_failed"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    TOO_MANY_FACES = "too_many_faces"
    TOO_FEW_FACES = "too_few_faces"


# What a tenant may be told about a download: never what a target answered or how it failed
# (refused, reset, a status, a content type), or the mock becomes a port scanner.
DOWNLOAD_FAILED_TEXT = "the image could not be downloaded"
_PUBLIC = {Problem.DOWNLOAD_FAILED: DOWNLOAD_FAILED_TEXT, Problem.URL_FORBIDDEN: REFUSED,
           Problem.TOO_MANY_BYTES: "the image exceeds the size limit"}


class ImageRejected(Exception):
    """An image failed a vendor rule; ``problem`` says which, ``detail`` says how (for the
    operator), ``public`` what a tenant may be told (for download problems a fixed text)."""

    def __init__(self, problem: Problem, detail: str, public: str | None = None) -> None:
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem
        self.detail = detail
        self.public = public or _PUBLIC.get(problem, detail)


@dataclass(frozen=True)
class FetchPolicy:
    """Which hosts may be fetched, how patiently, and how much of the pool one account gets.

    ``allow_hosts``/``deny_hosts`` hold case-insensitive :mod:`fnmatch` globs or
    CIDR ranges, matched against the normalised host and every address it
    resolves to (see :mod:`mockserver.core.netpolicy`, which also states what
    ``mode`` allows).  Deny wins over allow; an empty ``allow_hosts`` means any
    host.  In single-user mode loopback hosts stay reachable even with a
    non-empty allow list unless ``allow_loopback`` is false, because the
    emulator mostly fetches its own fixture URLs.
    """

    allow_hosts: tuple[str, ...] = ()
    deny_hosts: tuple[str, ...] = ()
    allow_loopback: bool = True
    mode: str = SINGLE
    own_base_url: str = ""
    max_connections: int = 100
    #: Connections one account may hold at once (its share of ``max_connections``), and how
    #: long its next download waits for one before it fails (that account's, nobody else's).
    per_account_connections: int = 10
    pool_timeout: float = 10.0
    connect_timeout: float = 10.0
    read_timeout: float = 10.0
    #: Wall-clock bound for one fetch including redirects; a server dripping one
    #: byte just inside ``read_timeout`` must not hold a task forever.
    total_timeout: float | None = 30.0
    max_redirects: int = 5

    @cached_property
    def rules(self) -> OutboundPolicy:
        """The outbound policy these fields describe (shared with the callback dispatcher)."""
        return OutboundPolicy(self.mode, self.allow_hosts, self.deny_hosts,
                              self.allow_loopback, self.own_base_url)


class ImageSource(Protocol):
    """Anything that turns an image reference into bytes (tests may fake it)."""

    async def fetch(self, ref: str, max_bytes: int) -> bytes:
        """Return the bytes behind ``ref`` or raise :class:`ImageRejected`."""
        ...


TransportHook = Callable[[str], "httpx.AsyncBaseTransport | None"]

_CJK_RE = re.compile(
    "[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    "\U00020000-\U0002fa1f]"
)
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Media types a real image server never uses for a picture; anything else
# (missing, image/*, octet-stream, odd vendor types) is left to the decoder.
_NOT_IMAGE_TYPES = frozenset(
    {"application/json", "application/xml", "application/javascript", "application/pdf",
     "application/xhtml+xml", "application/x-www-form-urlencoded", "multipart/form-data"}
)


def contains_cjk(text: str) -> bool:
    """True if ``text`` holds Han ideographs or CJK/full-width punctuation."""
    return _CJK_RE.search(text) is not None


def check_ref(
    ref: str,
    *,
    forbid_cjk: bool = False,
    max_url_chars: int | None = None,
    policy: FetchPolicy | None = None,
) -> None:
    """Refuse a reference up front (``URL_FORBIDDEN``) without any I/O.

    Only URL-looking references are checked; inline base64 has no URL rules.
    Percent-encoded CJK is accepted: the vendors object to raw characters.
    """
    if not _SCHEME_RE.match(ref) or ref[:5].lower() == "data:":
        return
    if forbid_cjk and contains_cjk(ref):
        raise ImageRejected(Problem.URL_FORBIDDEN, "URL contains Chinese (CJK) characters")
    if max_url_chars is not None and len(ref) > max_url_chars:
        raise ImageRejected(
            Problem.URL_FORBIDDEN, f"URL is {len(ref)} characters, limit is {max_url_chars}"
        )
    _check_url_policy(ref, policy or FetchPolicy())


def _check_url_policy(url: str, policy: FetchPolicy) -> None:
    try:
        policy.rules.check_url(url, FETCH)
    except PolicyRefused as refused:
        raise ImageRejected(Problem.URL_FORBIDDEN, refused.reason) from None


def _decode_base64(text: str, max_bytes: int) -> bytes:
    compact = "".join(text.split())
    # Refuse from the length alone so a 1 GB string is never decoded.
    if len(compact) * 3 // 4 > max_bytes + 3:
        raise ImageRejected(Problem.TOO_MANY_BYTES, f"base64 payload exceeds {max_bytes} bytes")
    if "-" in compact or "_" in compact:  # URL-safe alphabet, as some SDKs send
        compact = compact.replace("-", "+").replace("_", "/")
    compact += "=" * (-len(compact) % 4)
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ImageRejected(
            Problem.DOWNLOAD_FAILED, "reference is neither an http(s) URL nor valid base64"
        ) from None
    if not data:
        raise ImageRejected(Problem.DOWNLOAD_FAILED, "empty base64 payload")
    if len(data) > max_bytes:
        raise ImageRejected(Problem.TOO_MANY_BYTES, f"payload is {len(data)} bytes > {max_bytes}")
    return data


def _decode_data_uri(ref: str, max_bytes: int) -> bytes:
    header, sep, payload = ref[5:].partition(",")
    if not sep:
        raise ImageRejected(Problem.DOWNLOAD_FAILED, "data: URI without a comma")
    if header.lower().split(";")[-1].strip() == "base64":
        return _decode_base64(urllib.parse.unquote(payload), max_bytes)
    if len(payload) > 3 * max_bytes:  # each byte is at most 3 chars (%XX)
        raise ImageRejected(Problem.TOO_MANY_BYTES, f"data: URI exceeds {max_bytes} bytes")
    data = urllib.parse.unquote_to_bytes(payload)
    if len(data) > max_bytes:
        raise ImageRejected(Problem.TOO_MANY_BYTES, f"payload is {len(data)} bytes > {max_bytes}")
    return data


@cache
def _keep_open_class() -> Any:
    import httpx

    class KeepOpenTransport(httpx.AsyncBaseTransport):
        """Lends a hook's transport to a client without letting the client close it."""

        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self._inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return await self._inner.handle_async_request(request)

        async def aclose(self) -> None:  # the hook's owner closes the real transport
            return None

    return KeepOpenTransport


class ImageFetcher:
    """Resolves image references to bytes; implements :class:`ImageSource`.

    Accepts ``http(s)://`` URLs, ``data:`` URIs and bare (standard or URL-safe)
    base64.  Use one instance per event loop and ``await aclose()`` it.  URL
    results are kept in a small LRU cache keyed by the URL, and concurrent
    fetches of the same URL share one download.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        transport_for: TransportHook | None = None,
        client: httpx.AsyncClient | None = None,
        cache_entries: int = 64,
        cache_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        """``transport_for(url)`` may return a transport (e.g. ``httpx.ASGITransport``)
        to answer that URL in-process; ``client`` is a shared client this object
        will not close.  ``cache_entries=0`` disables the cache."""
        self.policy = policy or FetchPolicy()
        self._transport_for = transport_for
        self._shared_client = client
        self._own_client: httpx.AsyncClient | None = None
        self._hook_clients: dict[int, tuple[httpx.AsyncBaseTransport, httpx.AsyncClient]] = {}
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_entries = cache_entries
        self._cache_bytes = cache_bytes
        self._cached_total = 0
        self._inflight: dict[tuple[str, int], asyncio.Task[bytes]] = {}
        self._slots: AccountSlots | None = None  # per-account shares, made in the loop
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Number of HTTP GETs actually sent (redirect hops included); for tests.
        self.requests_sent = 0

    async def fetch(self, ref: str, max_bytes: int) -> bytes:
        """Return the image bytes behind ``ref``, at most ``max_bytes`` of them.

        Raises :class:`ImageRejected` with ``DOWNLOAD_FAILED``, ``URL_FORBIDDEN``
        or ``TOO_MANY_BYTES``; never another exception (except cancellation).
        """
        ref = ref.strip()
        if ref[:5].lower() == "data:":
            return _decode_data_uri(ref, max_bytes)
        lowered = ref[:8].lower()
        if not (lowered.startswith("http://") or lowered.startswith("https://")):
            if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", ref):
                raise ImageRejected(Problem.URL_FORBIDDEN, "only http(s) URLs may be fetched")
            return _decode_base64(ref, max_bytes)
        cached = self._cache.get(ref)
        if cached is not None:
            self._cache.move_to_end(ref)
            if len(cached) > max_bytes:
                raise ImageRejected(Problem.TOO_MANY_BYTES, f"body exceeds {max_bytes} bytes")
            return cached
        self._bind_loop()
        key = (ref, max_bytes)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._download(ref, max_bytes))
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._settle, key))
        # shield: one impatient caller must not cancel the download others await.
        return await asyncio.shield(task)

    def _bind_loop(self) -> None:
        # Clients and tasks belong to one event loop.  aclose() at the end of
        # each loop is the contract; if a caller forgot it, start afresh rather
        # than touch a dead loop's connections (they leak, and warn, as unclosed).
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                self._own_client = None
                self._hook_clients.clear()
                self._inflight.clear()
            self._loop = loop
            self._slots = AccountSlots(self.policy.per_account_connections,
                                       self.policy.max_connections)

    def _settle(self, key: tuple[str, int], task: asyncio.Task[bytes]) -> None:
        self._inflight.pop(key, None)
        if task.cancelled() or task.exception() is not None:  # marks exception retrieved
            return
        self._remember(key[0], task.result())

    def _remember(self, url: str, data: bytes) -> None:
        if self._cache_entries <= 0 or len(data) > self._cache_bytes:
            return
        old = self._cache.pop(url, None)
        self._cached_total -= len(old) if old is not None else 0
        self._cache[url] = data
        self._cached_total += len(data)
        while len(self._cache) > self._cache_entries or self._cached_total > self._cache_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._cached_total -= len(dropped)

    def clear_cache(self) -> None:
        """Forget every cached download."""
        self._cache.clear()
        self._cached_total = 0

    def _client_for(self, url: str) -> httpx.AsyncClient:
        import httpx

        transport = self._transport_for(url) if self._transport_for else None
        if transport is not None:
            entry = self._hook_clients.get(id(transport))
            if entry is None or entry[0] is not transport:
                # trust_env=False: proxy variables must not reroute in-process calls.
                client = httpx.AsyncClient(transport=_keep_open_class()(transport),
                                           trust_env=False)
                entry = (transport, client)
                self._hook_clients[id(transport)] = entry
            return entry[1]
        if self._shared_client is not None:
            return self._shared_client
        if self._own_client is None:
            # trust_env=False keeps loopback fixture fetches away from any proxy; the guarded
            # transport judges the address of every connection it opens.
            transport = GuardedTransport(self.policy.rules, self.policy.max_connections)
            self._own_client = httpx.AsyncClient(transport=transport, trust_env=False)
        return self._own_client

    async def _download(self, url: str, max_bytes: int) -> bytes:
        """One download in the account's share of the pool. Every failure is an ImageRejected
        whose public text says nothing of what the target answered."""
        import httpx

        assert self._slots is not None
        limit = self.policy.total_timeout
        try:
            async with self._slots.hold(fetch_account.get(), self.policy.pool_timeout), \
                    asyncio.timeout(limit):
                return await self._follow(url, max_bytes)
        except ShareTimeout as busy:
            raise ImageRejected(Problem.DOWNLOAD_FAILED, f"download of {url}: {busy}") from None
        except PolicyRefused as refused:  # a hop's address, judged as it was connected
            raise ImageRejected(Problem.URL_FORBIDDEN, refused.reason) from None
        except TimeoutError:
            raise ImageRejected(Problem.DOWNLOAD_FAILED, f"download of {url} timed out") from None
        except httpx.TimeoutException as exc:
            raise ImageRejected(
                Problem.DOWNLOAD_FAILED, f"download of {url} timed out ({type(exc).__name__})"
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            raise ImageRejected(
                Problem.DOWNLOAD_FAILED, f"could not download {url}: {type(exc).__name__}: {exc}"
            ) from None

    async def _follow(self, url: str, max_bytes: int) -> bytes:
        import httpx

        timeout = httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout,
                                pool=self.policy.pool_timeout)
        for _hop in range(self.policy.max_redirects + 1):
            _check_url_policy(url, self.policy)
            client = self._client_for(url)
            request = client.build_request(
                "GET",
                url,
                # identity: a compressed body could inflate far past max_bytes per chunk.
                headers={"Accept": "image/*, */*;q=0.5", "Accept-Encoding": "identity"},
                timeout=timeout,
            )
            self.requests_sent += 1
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    url = urllib.parse.urljoin(url, location)
                    continue
                return await self._read_body(url, response, max_bytes)
            finally:
                await response.aclose()
        raise ImageRejected(
            Problem.DOWNLOAD_FAILED, f"more than {self.policy.max_redirects} redirects"
        )

    @staticmethod
    async def _read_body(url: str, response: httpx.Response, max_bytes: int) -> bytes:
        if not 200 <= response.status_code < 300:
            raise ImageRejected(
                Problem.DOWNLOAD_FAILED, f"GET {url} answered HTTP {response.status_code}"
            )
        ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
        main = ctype.partition("/")[0]
        if (
            main in ("text", "audio", "video", "font")
            or ctype in _NOT_IMAGE_TYPES
            or (ctype.endswith(("+json", "+xml")) and main != "image")
        ):
            raise ImageRejected(
                Problem.DOWNLOAD_FAILED, f"GET {url} returned {ctype}, not an image"
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ImageRejected(
                Problem.TOO_MANY_BYTES, f"Content-Length {declared} exceeds {max_bytes} bytes"
            )
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > max_bytes:  # stop reading: the rest is never pulled off the wire
                raise ImageRejected(Problem.TOO_MANY_BYTES, f"body exceeds {max_bytes} bytes")
            chunks.append(chunk)
        if received == 0:
            raise ImageRejected(Problem.DOWNLOAD_FAILED, f"GET {url} returned an empty body")
        return b"".join(chunks)

    async def aclose(self) -> None:
        """Close the clients this fetcher created (never a shared client or hook transport).

        The fetcher stays usable (new clients are made on demand) and keeps its cache.
        """
        pending = list(self._inflight.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        clients = [c for _, c in self._hook_clients.values()]
        self._hook_clients.clear()
        if self._own_client is not None:
            clients.append(self._own_client)
            self._own_client = None
        for client in clients:
            await client.aclose()
