"""API 3.0 flattened parameters: `FaceInfos.0.ImageUrls.0=https://...`.

A GET request (TC3 or signature v1) carries its fields flattened in the query string, a v1 POST
in a form-urlencoded body [DOC signature pages]. This module parses that form, rebuilds the JSON
shape the action's schema describes, and turns the strings back into the types the schema
declares. Flattening follows the official SDK (`AbstractClient._format_params`).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from .models import TencentError

if TYPE_CHECKING:
    from referencing._core import Resolver

    from ...core.schemas import SchemaRegistry

# [3P] the gateway's text for a query or form item without "=" (live capture in
# HIllya51/LunaTranslator#264, a v1 client).
PAIR_MESSAGE = "Url key and value should be splited by `=`."
# [3P] the gateway's text when a flattened string does not convert to the declared type (live
# capture of a v1 request, `Nonce`; vendors-2026-12.md TC-6). Used for every such conversion.
TYPE_MESSAGE = "Parameter `{name}` type error."
_INTEGER = re.compile(r"[+-]?[0-9]+")
MAX_NUMBER_CHARS = 64  # INFERRED: longer digit strings are no 64-bit number
MAX_KEY_PARTS = 16  # INFERRED: parts of a flattened name (FaceInfos.0.ImageUrls.0 has 4)
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def parse_form(raw: bytes) -> list[tuple[str, str]]:
    """`name=value&...` (a query string or a form body), percent-decoded as UTF-8, in order.

    Empty items (`a=1&&b=2`) are skipped; an item without `=` is the gateway's InvalidParameter.
    """
    try:
        text = raw.decode("utf-8")
        pairs = []
        for item in text.split("&"):
            if not item:
                continue
            name, sep, value = item.partition("=")
            if not sep:
                raise TencentError("InvalidParameter", PAIR_MESSAGE,
                                   detail=f"form item {item[:60]!r} has no '='")
            pairs.append((unquote_plus(name, errors="strict"),
                          unquote_plus(value, errors="strict")))
    except UnicodeDecodeError:
        raise TencentError("InvalidParameter", PAIR_MESSAGE,
                           detail="the form is not UTF-8 once percent-decoded") from None
    return pairs


def flatten(params: Any, prefix: str = "") -> list[tuple[str, str]]:
    """The SDK's flattening: `a.0.b` names, values as `str()` (what `urlencode` sends); None
    values are dropped, like the SDK's models drop unset fields."""
    if params is None:
        return []
    if isinstance(params, Mapping):
        items: Iterable[tuple[Any, Any]] = params.items()
    elif isinstance(params, (list, tuple)):
        items = enumerate(params)
    else:
        return [(prefix, str(params))]
    return [pair for key, value in items
            for pair in flatten(value, f"{prefix}.{key}" if prefix else str(key))]


def _is_index(key: str) -> bool:
    """An array index: ASCII digits ("²".isdigit() is true too), few enough to be one."""
    return key.isascii() and key.isdigit() and len(key) <= 6


def _listify(node: Any, name: str) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v, f"{name}.{k}" if name else k) for k, v in node.items()}
    if items and all(_is_index(k) for k in items):
        indexes = sorted(int(k) for k in items)
        if indexes != list(range(len(indexes))):
            raise TencentError("InvalidParameter", param=name or ".".join(items),
                               detail="array indexes must run 0..N-1")
        return [items[str(i)] for i in indexes]
    return items


def unflatten(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Flattened names back into the JSON shape; every value stays a string (see `coerce`)."""
    root: dict[str, Any] = {}
    for key, raw in pairs:
        parts = key.split(".")
        if len(parts) > MAX_KEY_PARTS:  # the schemas nest 4 deep; deeper only costs stack
            raise TencentError("InvalidParameter", param=key[:80],
                               detail=f"a parameter name of {len(parts)} parts")
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            existing = node.get(part)
            if (not part or (last and part in node)
                    or (not last and existing is not None and not isinstance(existing, dict))):
                raise TencentError("InvalidParameter", param=key, detail="conflicting parameter")
            if last:
                node[part] = raw
            else:
                node = node.setdefault(part, {})
    listed = _listify(root, "")
    return listed if isinstance(listed, dict) else {}


# --- strings back into the schema's types ----------------------------------------------------

def _resolved(node: Any, resolver: Resolver[Any]) -> tuple[Any, Resolver[Any]]:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        found = resolver.lookup(node["$ref"])
        node, resolver = found.contents, found.resolver
    return node, resolver


def _scalar(raw: str, kind: Any, name: str) -> Any:
    """One flattened string as the declared JSON type. INFERRED: the gateway's exact rules are
    not documented; integers are decimal digits, numbers decimal literals, booleans
    true/false in any case."""
    if kind in ("integer", "number") and len(raw) > MAX_NUMBER_CHARS:
        raise TencentError("InvalidParameter", TYPE_MESSAGE.format(name=name),
                           detail=f"{name} is {len(raw)} characters, too long for a {kind}")
    if kind == "integer" and _INTEGER.fullmatch(raw):
        return int(raw)
    if kind == "number" and _NUMBER.fullmatch(raw) and (
            _INTEGER.fullmatch(raw) or math.isfinite(float(raw))):  # 1e400 is no number
        return int(raw) if _INTEGER.fullmatch(raw) else float(raw)
    if kind == "boolean" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if kind in ("integer", "number", "boolean"):
        raise TencentError("InvalidParameter", TYPE_MESSAGE.format(name=name),
                           detail=f"{name}={raw[:40]!r} is not a valid {kind}")
    return raw


def _coerce(value: Any, node: Any, resolver: Resolver[Any], name: str) -> Any:
    node, resolver = _resolved(node, resolver)
    if not isinstance(node, dict):
        return value
    if isinstance(value, dict):
        props = node.get("properties", {})
        return {k: _coerce(v, props[k], resolver, f"{name}.{k}" if name else k)
                if k in props else v for k, v in value.items()}
    if isinstance(value, list):
        items = node.get("items")
        return [_coerce(v, items, resolver, f"{name}.{i}") if items is not None else v
                for i, v in enumerate(value)]
    if isinstance(value, str):
        return _scalar(value, node.get("type"), name)
    return value


def coerce(params: dict[str, Any], schema: str, schemas: SchemaRegistry) -> dict[str, Any]:
    """Turn the strings of an un-flattened request into the types `schema` declares for them.

    Fields the schema does not know stay strings: the schema check answers UnknownParameter.
    """
    document = schemas.documents[schema]
    resolver = schemas.registry.resolver(base_uri=document["$id"])
    coerced = _coerce(params, document, resolver, "")
    return coerced if isinstance(coerced, dict) else params
