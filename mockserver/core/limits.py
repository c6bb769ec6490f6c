"""Bounds on what a client can make the emulator hold or compute.

- `read_body(receive, cap)`: an ASGI request body, read chunk by chunk and abandoned at the
  cap (a declared Content-Length over the cap is refused before a byte is read).
- `strict_loads(data)`: JSON as every door reads it: nesting at most `MAX_DEPTH` deep and
  only finite numbers (no `NaN`, no `Infinity`, no `1e400`), because the journal, the task
  list and the HAR export must stay valid JSON, and deep nesting overflows the stack.
- `clock_seconds(value)` and `stored_offset(offset)`: what the admin clock and a stored clock
  offset may be.

Nothing here speaks Starlette: the body reader takes the raw ASGI `receive` callable.
"""
from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from . import jsonfast

MiB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 20 * MiB  # a vendor that documents no cap, and requests to no vendor
ADMIN_MAX_BODY_BYTES = 1 * MiB  # the admin API's JSON bodies (rules, patterns, clock)
MAX_DEPTH = 64  # nesting of JSON bodies; the vendors' own bodies are under 6 levels deep
MAX_CLOCK_SECONDS = 100 * 365 * 24 * 3600.0  # one advance of the admin clock: a century

Receive = Callable[[], Awaitable[Mapping[str, Any]]]


class BodyTooLarge(Exception):
    """The body passed `limit` bytes; `received` is how many were read before stopping."""

    def __init__(self, limit: int, received: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit
        self.received = received


class ClientGone(Exception):
    """The client disconnected before it sent its whole body."""


async def read_body(receive: Receive, cap: int, declared: str | None = None) -> bytes:
    """The request body, at most `cap` bytes; BodyTooLarge as soon as it would be more."""
    if declared is not None and declared.strip().isdigit() and int(declared) > cap:
        raise BodyTooLarge(cap, 0)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone("the client disconnected before sending its whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:  # stop here: the rest is never pulled off the connection
            raise BodyTooLarge(cap, size)
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class BadJSON(ValueError):
    """A body that is not JSON every door accepts; the message says why."""


# A float can only be non-finite if it is spelled NaN/Infinity or has an exponent of 3 digits
# or more (or 309 digits before its point): only then is the parsed document walked.
# A string can only hold a lone surrogate (no valid Unicode: it cannot be encoded back) if the
# text escapes one.
_SUSPICIOUS = rb"NaN|Infinity|[eE][+-]?0*[1-9][0-9]{2}|[0-9]{300}|\\[uU][dD][89a-fA-F]"
_MAYBE_NONFINITE = re.compile(_SUSPICIOUS)
_MAYBE_NONFINITE_STR = re.compile(_SUSPICIOUS.decode())


def strict_loads(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` for untrusted bodies: BadJSON (a ValueError) for invalid JSON, nesting
    deeper than `max_depth`, or a number that is not finite. Never RecursionError."""
    try:
        doc, by_orjson = jsonfast.parse(data)
    except RecursionError:
        raise BadJSON(f"the JSON is nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise BadJSON("the body is not valid JSON") from None
    brackets = data.count(b"[") + data.count(b"{") if isinstance(data, bytes) \
        else data.count("[") + data.count("{")
    # orjson refuses non-finite numbers and lone surrogates itself: only json's reading is scanned
    suspicious = not by_orjson and (
        _MAYBE_NONFINITE if isinstance(data, bytes) else _MAYBE_NONFINITE_STR
    ).search(data) is not None  # type: ignore[arg-type]  # same type as data
    if brackets > max_depth or suspicious:
        problem = document_problem(doc, max_depth)
        if problem:
            raise BadJSON(problem)
    return doc


def document_problem(doc: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a parsed document must be refused (too deep, a non-finite number), or None.
    Iterative, so no document can exhaust the stack."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return "the JSON holds a number that is not finite (NaN, Infinity or out of range)"
        if isinstance(node, str) and not _encodable(node):
            return "the JSON holds a string that is not valid Unicode (a lone surrogate)"
        if isinstance(node, (dict, list)):
            if depth > max_depth:
                return f"the JSON is nested deeper than {max_depth} levels"
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clock_seconds(value: Any) -> float:
    """Seconds for one advance of the admin clock: a finite number in [0, a century]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("'seconds' must be a number")
    try:
        seconds = float(value)
    except OverflowError:  # an integer beyond any float
        seconds = math.inf
    if not 0 <= seconds <= MAX_CLOCK_SECONDS:  # NaN fails both comparisons
        raise ValueError(f"'seconds' must be a finite number from 0 to {MAX_CLOCK_SECONDS:g}")
    return seconds


def stored_offset(offset: float, where: str) -> float:
    """The clock offset a store holds; ValueError (one line, naming `where`) if it is not a
    finite number (an older version accepted NaN, which breaks every task's state)."""
    if not math.isfinite(offset):
        raise ValueError(f"the stored clock offset in {where} is {str(offset)!r}, not a finite "
                         "number of seconds (an older version accepted NaN): start with a fresh "
                         "store")
    return offset
