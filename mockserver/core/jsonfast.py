"""JSON in and out on the hot path: orjson where it gives the same answer as `json`, else `json`.

`dumps(obj)` is `json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()`: compact,
UTF-8, non-string dict keys turned into strings. What orjson would handle differently (values
`json` refuses, like dataclasses and datetimes, or integers beyond 64 bits) goes to `json`, so
the result and the errors are the same. One difference is kept: NaN and infinities become
`null` (valid JSON) instead of `json`'s `NaN` (which no JSON parser has to accept).

`loads(data)` is `json.loads(data)`: what orjson rejects (NaN literals, UTF-16 bodies, invalid
input) is handed to `json`, which accepts or raises exactly as before.
"""
from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the fallback keeps working
    orjson = None  # type: ignore[assignment]

if orjson is not None:
    _OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS
                | orjson.OPT_PASSTHROUGH_DATETIME)


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
    if orjson is None:
        return json.loads(data if not isinstance(data, memoryview) else bytes(data))
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data if not isinstance(data, memoryview) else bytes(data))
