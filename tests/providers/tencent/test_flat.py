"""Flattened parameters without HTTP: the form parser, the SDK's flattening, un-flattening and
the schema-driven type coercion of GET and signature v1 requests."""
from __future__ import annotations

import pytest

from mockserver.core.schemas import SchemaRegistry
from mockserver.providers.tencent import flat
from mockserver.providers.tencent.models import TencentError

SUBMIT = "tencent/submit-request"


@pytest.fixture(scope="module")
def schemas() -> SchemaRegistry:
    return SchemaRegistry.shared()


def test_flatten_is_the_sdks_format_params() -> None:
    from tencentcloud.common.abstract_client import AbstractClient

    params = {"TemplateUrl": "https://t", "Num": 2, "Similarity": 0.5, "Clarity": None,
              "FaceInfos": [{"ImageUrls": ["https://a", "https://b"],
                             "TemplateFaceRect": {"X": 3, "Y": 0, "Width": 9, "Height": 9}}]}
    sdk = AbstractClient._format_params(AbstractClient.__new__(AbstractClient), None, params)
    assert dict(flat.flatten(params)) == {k: str(v) for k, v in sdk.items() if v is not None}
    assert ("FaceInfos.0.ImageUrls.1", "https://b") in flat.flatten(params)


def test_parse_form_decodes_like_urlencode_encodes() -> None:
    assert flat.parse_form(b"a=1&&b=x+y%2Bz&c=&d=%E4%B8%AD") == [
        ("a", "1"), ("b", "x y+z"), ("c", ""), ("d", "中")]


@pytest.mark.parametrize("raw", [b"a=1&broken", b"a=%FF"])
def test_parse_form_refuses_items_without_equals_or_utf8(raw: bytes) -> None:
    with pytest.raises(TencentError) as err:
        flat.parse_form(raw)
    assert (err.value.code, err.value.message) == ("InvalidParameter", flat.PAIR_MESSAGE)


def test_unflatten_restores_lists_and_objects_keeping_strings() -> None:
    pairs = [("TemplateUrl", "https://t"), ("FaceInfos.0.ImageUrls.1", "https://b"),
             ("FaceInfos.0.ImageUrls.0", "https://a"), ("FaceInfos.0.TemplateFaceRect.X", "3"),
             ("Num", "2"), ("Style.0", "real")]
    assert flat.unflatten(pairs) == {
        "TemplateUrl": "https://t", "Num": "2", "Style": ["real"],
        "FaceInfos": [{"ImageUrls": ["https://a", "https://b"], "TemplateFaceRect": {"X": "3"}}]}


@pytest.mark.parametrize("pairs", [
    [("Num", "1"), ("Num", "2")],
    [("Num", "1"), ("Num.0", "2")],
    [("Num.0", "1"), ("Num", "2")],
    [("Style.1", "real")],
    [("a..b", "1")],
    [(".x", "1")],
])
def test_unflatten_rejects_conflicts_and_gaps(pairs) -> None:
    with pytest.raises(TencentError) as err:
        flat.unflatten(pairs)
    assert err.value.code == "InvalidParameter"


def test_unflatten_of_a_bare_index_list_is_an_empty_object() -> None:
    assert flat.unflatten([("0", "x")]) == {}


def test_coerce_follows_the_schema_through_refs(schemas: SchemaRegistry) -> None:
    params = flat.unflatten([
        ("TemplateUrl", "https://t"), ("Num", "2"), ("Similarity", "0.75"), ("LogoAdd", "0"),
        ("FaceInfos.0.ImageUrls.0", "https://a"),
        ("FaceInfos.0.TemplateFaceRect.X", "3"), ("FaceInfos.0.TemplateFaceRect.Width", "10"),
        ("LogoParam.LogoRect.Y", "7"), ("Style.0", "real"), ("Colour", "9")])
    assert flat.coerce(params, SUBMIT, schemas) == {
        "TemplateUrl": "https://t", "Num": 2, "Similarity": 0.75, "LogoAdd": 0,
        "FaceInfos": [{"ImageUrls": ["https://a"], "TemplateFaceRect": {"X": 3, "Width": 10}}],
        "LogoParam": {"LogoRect": {"Y": 7}}, "Style": ["real"],
        "Colour": "9"}  # unknown to the schema: left for UnknownParameter


def test_a_number_may_be_written_as_an_integer(schemas: SchemaRegistry) -> None:
    assert flat.coerce({"Similarity": "1"}, SUBMIT, schemas) == {"Similarity": 1}


@pytest.mark.parametrize(("pairs", "name"), [
    ([("Num", "two")], "Num"),
    ([("Num", "2.0")], "Num"),
    ([("Similarity", "nan")], "Similarity"),
    ([("FaceInfos.0.TemplateFaceRect.X", "")], "FaceInfos.0.TemplateFaceRect.X"),
])
def test_a_string_that_is_not_the_declared_type(schemas: SchemaRegistry, pairs, name) -> None:
    with pytest.raises(TencentError) as err:
        flat.coerce(flat.unflatten(pairs), SUBMIT, schemas)
    assert (err.value.code, err.value.message) == ("InvalidParameter",
                                                   f"Parameter `{name}` type error.")


def test_shapes_the_schema_does_not_expect_are_left_for_it(schemas: SchemaRegistry) -> None:
    assert flat.coerce({"Num": {"a": "1"}, "FaceInfos": "x"}, SUBMIT, schemas) == {
        "Num": {"a": "1"}, "FaceInfos": "x"}
