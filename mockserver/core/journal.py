"""The journal of every request and the answer given, newest first, kept in the store.

Shared by every worker and instance on the same store, and bounded twice: in entries
(`journal_size`) and in bytes (`journal_bytes`). A body or answer larger than
`MAX_FIELD_BYTES` is stored truncated, with its full size in `note` (`body_bytes`,
`response_bytes`), so one huge upload cannot push everything else out or fill memory.

On a shared store (SQLite, Redis) entries are written in batches, every `FLUSH_SECONDS` or
`FLUSH_ENTRIES`, so workers do not queue for SQLite's write lock on every request; readers
first write their own batch and `settle()` waits one interval for the other processes'. An
entry's `id` is therefore assigned when it is written, and kill -9 loses at most the last
interval's entries.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from difflib import SequenceMatcher
from email import policy as email_policy
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from .jsonfast import dumps_any, embedded, loads
from .limits import BadJSON, strict_loads
from .patterns import Matcher, linear_regex

if TYPE_CHECKING:
    from .store import Store

SECRET_HEADERS = {"authorization", "x-tc-token", "x-api-key", "cookie", "x-admin-token"}
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
MAX_FIELD_BYTES = 64 * 1024  # a body or answer beyond this is kept as a preview
PREVIEW_CHARS = 2048
FLUSH_SECONDS = 0.02
FLUSH_ENTRIES = 64


def mask_secret(value: str) -> str:
    """A short hint of a secret, never the secret itself: the scheme (`Bearer`) and the first
    four characters of the rest."""
    scheme, _, rest = value.partition(" ")
    return f"{scheme} {rest[:4]}***" if rest else f"{value[:4]}***"


def mask_headers(headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers as the journal keeps them, from a mapping or from an ASGI scope's list
    (decoded, the first value of a name sent twice): of each secret only its scheme and a
    short hint."""
    kept: dict[str, str] = {}
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if name not in kept:
                kept[name] = _masked(value, _is_secret(name))
        return kept
    for raw_name, raw_value in headers:
        name, secret = _NAMES.get(raw_name) or _known_name(raw_name)
        if name not in kept:
            kept[name] = _masked(raw_value.decode("latin-1"), secret)
    return kept


def _is_secret(name: str) -> bool:
    return name.lower() in SECRET_HEADERS


def _masked(value: str, secret: bool) -> str:
    return mask_secret(value) if secret and value else value


# Header names of the ASGI list, decoded, with whether their value is a secret: clients send
# the same few names request after request. Bounded (emptied when full); values are never kept.
_NAMES: dict[bytes, tuple[str, bool]] = {}
_NAMES_MAX = 1024


def _known_name(raw_name: bytes) -> tuple[str, bool]:
    name = raw_name.decode("latin-1")
    if len(_NAMES) >= _NAMES_MAX:
        _NAMES.clear()
    found = _NAMES[raw_name] = (name, _is_secret(name))
    return found


@dataclass
class Entry:
    id: int
    time: float
    vendor: str | None
    operation: str | None
    account: str | None
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    status: int
    response: Any
    task_id: str | None = None
    injected: bool = False
    duration_ms: float = 0.0
    note: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Shallow (no `dataclasses.asdict`, which deep-copies)."""
        return {name: getattr(self, name) for name in ENTRY_FIELDS}


ENTRY_FIELDS = tuple(Entry.__dataclass_fields__)
_SCALARS = (type(None), bool, int, float)  # never longer than a field may be


def _bounded(doc: dict[str, Any], name: str, encoded: bytes | None = None) -> None:
    """Store the field whole, or a preview with its size in the note when it is oversized.
    `encoded` is the field's JSON as it was sent, embedded as is when it fits."""
    if encoded is None and isinstance(doc[name], _SCALARS):
        return
    if encoded is not None:
        if len(encoded) <= MAX_FIELD_BYTES:
            doc[name] = embedded(encoded)
            return
        text = encoded.decode("utf-8", "replace")
    else:
        text = doc[name] if isinstance(doc[name], str) else dumps_any(doc[name])
    if len(text) > MAX_FIELD_BYTES // 4 and len(text.encode()) > MAX_FIELD_BYTES:
        doc[name] = text[:PREVIEW_CHARS]
        doc["note"] = {**doc["note"], f"{name}_bytes": len(text.encode()),
                       f"{name}_truncated": True}


class Journal:
    def __init__(self, store: Store, size: int = 5000, max_bytes: int = DEFAULT_MAX_BYTES,
                 *, batched: bool = False,
                 label: Callable[[str | None], str | None] | None = None) -> None:
        self.store = store
        self.size = size
        self.max_bytes = max_bytes
        self.batched = batched  # shared stores: write in batches once start() ran
        self._label = label  # accounts are journaled as labels, never as keys (core.labels)
        self._pending: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._flusher: asyncio.Task[None] | None = None

    def record(self, *, response_json: bytes | None = None, **fields: Any) -> None:
        """Journal one request: `Entry`'s fields but `id`; `headers` may be a mapping or an
        ASGI scope's list. `response_json`, the answer's bytes as sent, stands in for
        `response` (it is stored without being encoded again)."""
        self.add({"task_id": None, "injected": False, "duration_ms": 0.0, "note": {}, **fields},
                 response_json)

    def add(self, doc: dict[str, Any], response_json: bytes | None = None) -> None:
        """`record` for a caller that has every field of the entry but `id` in one dict (the
        vendor pipeline, on every request); the dict becomes the entry."""
        doc["headers"] = mask_headers(doc.get("headers", ()))
        if self._label is not None:
            doc["account"] = self._label(doc.get("account"))
        # Encoded once where the whole entry is within a field's bound (nearly always): no field
        # can then be over it. The answer as sent is embedded unless it alone is too large.
        oversized_answer = response_json is not None and len(response_json) > MAX_FIELD_BYTES
        if response_json is not None and not oversized_answer:
            doc["response"] = embedded(response_json)
        text = dumps_any(doc)
        if oversized_answer or (len(text) > MAX_FIELD_BYTES // 4
                                and len(text.encode()) > MAX_FIELD_BYTES):
            _bounded(doc, "body")
            _bounded(doc, "response", response_json)
            text = dumps_any(doc)
        size = len(text) if text.isascii() else len(text.encode())
        if self._flusher is None:
            self.store.journal_add(text, size, self.size, self.max_bytes)
            return
        with self._lock:
            self._pending.append((text, size))
            full = len(self._pending) >= FLUSH_ENTRIES
        if full:
            self.flush()

    def flush(self) -> None:
        """Write this process's batch now."""
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self.store.journal_extend(batch, self.size, self.max_bytes)

    async def settle(self) -> None:
        """Before reading: write our batch and give other processes time to write theirs."""
        if self._flusher is not None:
            self.flush()
            await asyncio.sleep(FLUSH_SECONDS * 1.5)

    async def start(self) -> None:
        if self.batched:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_often())

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None
        self.flush()

    async def _flush_often(self) -> None:
        # A store that shares one commit per loop turn (SQLite) takes the batch into the turn's
        # transaction here; a thread would open a second one and contend for the write lock.
        inline = getattr(self.store, "pending_commit", None) is not None
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            if not self._pending:
                continue
            if inline:
                self.flush()
            else:
                await asyncio.to_thread(self.flush)

    def entries(self, limit: int | None = None) -> list[Entry]:
        """Newest first."""
        self.flush()
        found = []
        for entry_id, text in self.store.journal_entries(limit if limit is not None else self.size):
            doc = loads(text)
            found.append(Entry(id=entry_id, **doc))
        return found

    def find(self, query: EntryQuery, limit: int | None = None) -> list[Entry]:
        """Newest first, the entries `query` matches."""
        found = [e for e in self.entries() if query.matches(e)]
        return found if limit is None else found[:limit]

    def clear(self) -> None:
        """The journal lives in the store, which the reset clears: drop our unwritten batch."""
        with self._lock:
            self._pending = []


# --- Looking things up in journaled requests (used by the journal API and fault rules) ---

MISSING = object()


def field_value(doc: Any, path: str) -> Any:
    """The value at `path` in a JSON-like document, or MISSING.

    `path` is a JSON pointer (`/parameters/style`, RFC 6901 escapes) or a dotted path
    (`parameters.style`, `FaceInfos.0.ImageUrls`); numbers index lists.
    """
    if path.startswith("/"):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    else:
        parts = path.split(".") if path else []
    node = doc
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def fields_match(doc: Any, expected: Mapping[str, Any]) -> bool:
    """True when every `path: value` pair of `expected` holds in `doc`."""
    return all(field_value(doc, path) == value for path, value in expected.items())


def request_document(content_type: str, body: bytes | str | None) -> Any:
    """A request body as data: parsed JSON, or a dict of form fields (files give their
    filename), or None when it is neither."""
    if not body:
        return None
    raw = body.encode() if isinstance(body, str) else body
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    if kind == "multipart/form-data":
        return _multipart_fields(content_type, raw)
    try:
        return strict_loads(raw)  # never RecursionError, never a NaN the listings cannot encode
    except BadJSON:
        return None


def _multipart_fields(content_type: str, raw: bytes) -> dict[str, str]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=email_policy.HTTP).parsebytes(head + raw)
    found: dict[str, str] = {}
    for part in message.iter_parts() if message.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = part.get_filename()
        if filename is not None:
            found[name] = filename
        else:
            payload = part.get_payload(decode=True)
            found[name] = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return found


def parse_time(value: Any) -> float:
    """Seconds since the epoch from a number or an ISO 8601 string (naive means UTC)."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not a time: {value!r} (use epoch seconds or ISO 8601)") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    raise ValueError(f"not a time: {value!r}")


def _status_matcher(value: Any) -> Callable[[int], bool]:
    """`429`, `"429"` or a class such as `"4xx"`."""
    text = str(value).strip().lower()
    if len(text) == 3 and text.isascii() and text[0].isdigit() and text[1:] == "xx":
        low = int(text[0]) * 100
        return lambda status: low <= status < low + 100
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or len(text) > 3:
        raise ValueError(f"status must be a code such as 429 or a class such as 4xx, not {value!r}")
    return lambda status: status == int(text)


_EXACT_FIELDS = ("vendor", "operation", "account", "task_id")
QUERY_FIELDS = (*_EXACT_FIELDS, "status", "since", "until", "method", "path", "path_regex",
                "body", "injected", "near_miss")


@dataclass(frozen=True)
class EntryQuery:
    """Which journal entries to pick. Empty fields match everything."""

    exact: Mapping[str, str] = field(default_factory=dict)  # vendor/operation/account/task_id
    status: Callable[[int], bool] | None = None
    since: float | None = None
    until: float | None = None
    method: str | None = None
    path: str | None = None
    path_regex: Matcher | None = None  # RE2: linear time, whatever the pattern
    body: Mapping[str, Any] = field(default_factory=dict)
    injected: bool | None = None
    near_miss: bool | None = None

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> EntryQuery:
        """From query parameters or a JSON pattern; raises ValueError naming the bad field."""
        unknown = sorted(set(doc) - set(QUERY_FIELDS) - {"limit"})
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; known: {list(QUERY_FIELDS)}")
        body = doc.get("body") or {}
        if not isinstance(body, Mapping):
            raise ValueError("'body' must be an object of field path -> expected value")
        regex = doc.get("path_regex")
        try:
            compiled = linear_regex(str(regex)) if regex is not None else None
        except ValueError as error:
            raise ValueError(f"path_regex does not compile: {error}") from None
        return cls(
            exact={k: str(doc[k]) for k in _EXACT_FIELDS if doc.get(k) is not None},
            status=_status_matcher(doc["status"]) if doc.get("status") is not None else None,
            since=parse_time(doc["since"]) if doc.get("since") is not None else None,
            until=parse_time(doc["until"]) if doc.get("until") is not None else None,
            method=str(doc["method"]).upper() if doc.get("method") is not None else None,
            path=str(doc["path"]) if doc.get("path") is not None else None,
            path_regex=compiled,
            body=dict(body),
            injected=_flag(doc, "injected"),
            near_miss=_flag(doc, "near_miss"),
        )

    def matches(self, entry: Entry) -> bool:
        # getattr, not to_dict(): asdict() deep-copies every entry, slow on a full journal.
        if any(getattr(entry, k) != v for k, v in self.exact.items()):
            return False
        if self.status is not None and not self.status(entry.status):
            return False
        if (self.since is not None and entry.time < self.since) or (
                self.until is not None and entry.time > self.until):
            return False
        if self.method is not None and entry.method.upper() != self.method:
            return False
        if self.path is not None and entry.path != self.path:
            return False
        if self.path_regex is not None and not self.path_regex.fullmatch(entry.path):
            return False
        if self.injected is not None and entry.injected != self.injected:
            return False
        if self.near_miss is not None and ("near_miss" in entry.note) != self.near_miss:
            return False
        return not self.body or fields_match(entry_document(entry), self.body)


def _flag(doc: Mapping[str, Any], name: str) -> bool | None:
    value = doc.get(name)
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes"}:
        return True
    if text in {"0", "false", "no"}:
        return False
    raise ValueError(f"'{name}' must be true or false, not {value!r}")


def entry_document(entry: Entry) -> Any:
    """The journaled body as data (JSON is stored parsed; forms are parsed here)."""
    if isinstance(entry.body, str):
        content_type = next((v for k, v in entry.headers.items() if k.lower() == "content-type"), "")
        return request_document(content_type, entry.body)
    return entry.body


# --- Near misses: which known route a request that matched none was closest to -----------


@dataclass(frozen=True)
class KnownRoute:
    """A documented operation as plain data (built from a provider's OperationSpec table)."""

    vendor: str
    operation: str
    method: str
    path: str  # template, `{name}` segments match any one segment
    required_headers: Mapping[str, str] = field(default_factory=dict)


def closest_route(method: str, path: str, headers: Mapping[str, str],
                  routes: list[KnownRoute]) -> dict[str, Any] | None:
    """The known route nearest to a request that matched none, and why it did not match."""
    lowered = {k.lower(): v for k, v in headers.items()}
    scored = [(_route_score(method, path, lowered, r), r) for r in routes]
    if not scored:
        return None
    score, best = max(scored, key=lambda pair: pair[0])
    return {"vendor": best.vendor, "operation": best.operation, "method": best.method,
            "path": best.path, "reason": _mismatch(method, path, lowered, best),
            "score": round(score[-1], 3)}


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _segment_matches(template: str, actual: str) -> bool:
    return (template.startswith("{") and template.endswith("}")) or template == actual


def _path_matches(template: str, path: str) -> bool:
    want, got = _segments(template), _segments(path)
    return len(want) == len(got) and all(map(_segment_matches, want, got))


def _is_placeholder(value: str) -> bool:
    """Documented header values such as `<unix seconds>` or `TC3-HMAC-SHA256 ...` only ask
    for the header to be there."""
    return "<" in value or "..." in value


def _header_problems(headers: Mapping[str, str], route: KnownRoute) -> list[str]:
    problems = []
    for name, value in route.required_headers.items():
        got = headers.get(name.lower())
        if got is None:
            problems.append(f"missing header {name}")
        elif not _is_placeholder(value) and got.lower() != value.lower():
            problems.append(f"header {name} is {got!r}, expected {value!r}")
    return problems


def _route_score(method: str, path: str, headers: Mapping[str, str],
                 route: KnownRoute) -> tuple[int, int, int, float]:
    """Path first (whole, then segment by segment), then method, then headers; text similarity
    breaks ties (typos)."""
    want, got = _segments(route.path), _segments(path)
    same = sum(1 for w, g in zip(want, got) if _segment_matches(w, g))
    fixed = {k: v for k, v in route.required_headers.items() if not _is_placeholder(v)}
    texts = [path, *(headers.get(k.lower(), "") for k in fixed)]
    wanted = [route.path, *fixed.values()]
    similarity = sum(SequenceMatcher(None, a, b).ratio() for a, b in zip(texts, wanted))
    return (int(_path_matches(route.path, path)), same - abs(len(want) - len(got)),
            int(method.upper() == route.method), similarity - len(_header_problems(headers, route)))


def _mismatch(method: str, path: str, headers: Mapping[str, str], route: KnownRoute) -> str:
    problems = [] if _path_matches(route.path, path) else [_path_problem(path, route.path)]
    if method.upper() != route.method:
        problems.append(f"wrong method {method.upper()} (the route takes {route.method})")
    problems += _header_problems(headers, route)
    return "; ".join(problems) if problems else "the request matched no route"


def _path_problem(path: str, template: str) -> str:
    want, got = _segments(template), _segments(path)
    for index, (w, g) in enumerate(zip(want, got)):
        if not _segment_matches(w, g):
            return f"unknown path segment {g!r} at position {index + 1} (expected {w!r})"
    if len(got) < len(want):
        return f"path too short: missing {'/'.join(want[len(got):])!r}"
    return f"path too long: unexpected {'/'.join(got[len(want):])!r}"
