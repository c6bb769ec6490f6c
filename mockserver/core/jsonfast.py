"""JSON in and out on the hot path: orjson where it gives the same answer as `json`, else `json`.

`dumps(obj)` is `json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()`: compact,
UTF-8. What orjson would handle differently goes to `json`, so the result and the errors are
the same: values `json` refuses (dataclasses, datetimes), integers beyond 64 bits, and dict keys
that are not strings (the two spell float keys differently: `1e+16` against `1e16`). One difference is kept: NaN and infinities become
`null` (valid JSON) instead of `json`'s `NaN` (which no JSON parser has to accept).

`loads(data)` is `json.loads(data)`: what orjson rejects (NaN literals, UTF-16 bodies, lone
surrogates, invalid input) is handed to `json`, which accepts or raises exactly as before. So
is any text with a run of 19 or more digits, because orjson turns integers beyond 64 bits into
floats instead of failing (tests/core/test_jsonfast.py found it).
"""
from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the fallback keeps working
    orjson = None  # type: ignore[assignment]  # the module, or None without it

if orjson is not None:
    _OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


# Integers orjson reads exactly fit in 64 bits: at most 19 digits for the negative ones and 20
# for the positive ones, so 19 consecutive digits anywhere is where json takes over. The run is
# found by mapping every byte to "1" (an ASCII digit) or "0" and searching for nineteen "1"s:
# a plain substring search, several times cheaper than the regex it replaced.
_DIGIT_MAP = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
_LONG_RUN = b"1" * 19


def _has_long_integer(data: bytes | bytearray | str) -> bool:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return _LONG_RUN in raw.translate(_DIGIT_MAP)


def _json_dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def dumps(obj: Any) -> bytes:
    return dumps_marked(obj)[0]


def dumps_marked(obj: Any) -> tuple[bytes, bool]:
    """`dumps(obj)`, and whether orjson wrote it. What orjson writes it reads back exactly (no
    integer beyond 64 bits, no NaN, no lone surrogate), so a store that keeps the mark reads
    its own documents with `loads_marked`, without the checks `loads` makes of any text."""
    if orjson is None:
        return _json_dumps(obj), False
    try:
        return orjson.dumps(obj, option=_OPTIONS), True
    except TypeError:  # orjson.JSONEncodeError: let json answer, or raise its own error
        return _json_dumps(obj), False


def loads_marked(data: bytes, by_orjson: bool) -> Any:
    """A document `dumps_marked` wrote, with its mark."""
    return orjson.loads(data) if by_orjson else loads(data)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    return parse(data)[0]


def parse(data: bytes | bytearray | memoryview | str) -> tuple[Any, bool]:
    """(`loads(data)`, whether orjson read it). What orjson reads holds no NaN, no infinity
    and no lone surrogate: it refuses all three, and `json` answers for them instead."""
    if isinstance(data, memoryview):
        data = bytes(data)
    if orjson is None or _has_long_integer(data):
        return json.loads(data), False
    try:
        return orjson.loads(data), True
    except orjson.JSONDecodeError:
        return json.loads(data), False


def embedded(data: bytes) -> Any:
    """Already-encoded JSON (an answer as it was sent), to place inside a document `dumps_any`
    encodes without parsing and encoding it again; parsed where orjson is missing."""
    return orjson.Fragment(data) if orjson is not None else loads(data)


def dumps_any(obj: Any) -> str:
    """Compact JSON text of anything a log keeps: values JSON has no type for become `str()`,
    non-string keys become strings. orjson first; `json` for what it refuses (integers beyond
    64 bits, nesting deeper than 255)."""
    if orjson is not None:
        try:
            return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # orjson.JSONEncodeError
            pass
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)

