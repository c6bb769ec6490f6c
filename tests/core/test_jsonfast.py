"""`jsonfast` answers what `json` answers (compact, UTF-8, same errors), only faster."""
from __future__ import annotations

import dataclasses
import datetime
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core import jsonfast

SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text() | st.integers() | st.floats() | st.booleans(),
                                                         inner, max_size=4),
                         max_leaves=20)


def _reference(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS)
def test_dumps_means_what_json_dumps_means(doc: Any) -> None:
    assert json.loads(jsonfast.dumps(doc)) == json.loads(_reference(doc))


@settings(max_examples=500, deadline=None)
@given(DOCUMENTS)
def test_loads_reads_what_json_reads(doc: Any) -> None:
    text = _reference(doc)
    assert jsonfast.loads(text) == json.loads(text)


def test_compact_utf8_with_string_keys() -> None:
    doc = {"message": "请求参数错误 é", 3: [1, None, True], "nested": {"k": "v"}}
    assert jsonfast.dumps(doc) == _reference(doc)


@pytest.mark.parametrize("value", [datetime.datetime(2026, 1, 1), {(1, 2): 3}, object()])
def test_what_json_refuses_is_still_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        _reference(value)
    with pytest.raises(TypeError):
        jsonfast.dumps(value)


def test_dataclasses_are_refused_as_json_refuses_them() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    with pytest.raises(TypeError):
        jsonfast.dumps({"p": Point(1)})


@pytest.mark.parametrize("text", ["-9223372036854775809", "18446744073709551616",
                                  '{"n": 123456789012345678901234567890}', "9223372036854775807",
                                  "-9223372036854775808", "18446744073709551615"])
def test_integers_beyond_64_bits_stay_exact(text: str) -> None:
    for data in (text, text.encode()):
        value = jsonfast.loads(data)
        assert value == json.loads(text) and type(value) is type(json.loads(text))


def test_lenient_inputs_json_accepts_still_parse() -> None:
    assert math.isnan(jsonfast.loads(b'{"x": NaN}')["x"])
    assert jsonfast.loads('{"a": 1}'.encode("utf-16")) == {"a": 1}
    assert jsonfast.loads(b"1e400") == float("inf")
    assert jsonfast.loads(b'"\\ud800"') == "\ud800"
    assert jsonfast.loads(memoryview(b'{"a": [1]}')) == {"a": [1]}


@pytest.mark.parametrize("raw", [b"{bad", b"", b'{"a": 1} trailing', b"\xff\xfe\xfa"])
def test_invalid_input_raises_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(raw)
    with pytest.raises(ValueError):
        jsonfast.loads(raw)


@pytest.mark.parametrize("doc", [
    {"id": "t1", "n": 3, "price": 0.1, "text": "肖像 \u2028"},
    {"big": 1 << 70, "also": [-(10 ** 25)]},  # json writes these, and only json reads them right
    {"nan": float("nan")},
])
def test_marked_documents_read_back_as_loads_reads_them(doc: dict[str, Any]) -> None:
    """`dumps_marked` says who wrote the document; `loads_marked` with that mark gives what
    `loads` gives for the same bytes (orjson's own output skips the checks)."""
    data, by_orjson = jsonfast.dumps_marked(doc)
    assert data == jsonfast.dumps(doc)
    assert by_orjson == ("big" not in doc)
    assert jsonfast.loads_marked(data, by_orjson) == jsonfast.loads(data)
