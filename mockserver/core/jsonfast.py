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
import re
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the fallback keeps working
    orjson = None  # type: ignore[assignment]  # the module, or None without it

if orjson is not None:
    _OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


# Integers orjson reads exactly fit in 64 bits: at most 19 digits for the negative ones and 20
# for the positive ones, so 19 consecutive digits anywhere is where json takes over.
_LONG_DIGITS_BYTES = re.compile(rb"[0-9]{19}")
_LONG_DIGITS_STR = re.compile(r"[0-9]{19}")


def _json_dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def dumps(obj: Any) -> bytes:
    if orjson is None:
        return _json_dumps(obj)
    try:
        return orjson.dumps(obj, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: let json answer, or raise its own error
        return _json_dumps(obj)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    if isinstance(data, memoryview):
        data = bytes(data)
    if orjson is None:
        return json.loads(data)
    digits = _LONG_DIGITS_STR if isinstance(data, str) else _LONG_DIGITS_BYTES
    if digits.search(data) is not None:  # type: ignore[arg-type]  # str pattern for str, bytes for bytes
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


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

