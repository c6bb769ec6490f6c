"""Declared, typed per-vendor options: the `[vendors.<name>]` table of the config.

A provider declares every option it reads (name, kind, default, what it does); the shared
mechanisms (timing, rate limits, queue caps, result files, blocking waits, callbacks) add their
own. The same declarations check a configuration before the server starts and produce its JSON
Schema, so an option that is read is always an option that is documented.
"""
from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NUMBER, INTEGER, BOOLEAN, STRING, STRINGS, TABLE = (
    "number", "integer", "boolean", "string", "strings", "table")
KINDS = (NUMBER, INTEGER, BOOLEAN, STRING, STRINGS, TABLE)


class OptionError(ValueError):
    """A `[vendors.<name>]` entry that is unknown or of the wrong kind; the message says why."""


@dataclass(frozen=True)
class Option:
    name: str
    kind: str
    default: Any
    doc: str
    minimum: float | None = None
    choices: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()  # older names still accepted

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name}: unknown kind {self.kind!r}")

    def check(self, value: Any) -> Any:
        """The value in its canonical Python type, or OptionError naming what is allowed."""
        if value is None and self.default is None:
            return None
        checked = _CHECKS[self.kind](value)
        if checked is _BAD:
            raise OptionError(f"{self.name} must be {_DESCRIPTIONS[self.kind]}, not {value!r}")
        if self.minimum is not None and checked < self.minimum:
            raise OptionError(f"{self.name} must be at least {self.minimum:g}, not {value!r}")
        if self.choices is not None and checked not in self.choices:
            raise OptionError(f"{self.name} must be one of {', '.join(self.choices)}, "
                              f"not {value!r}")
        return checked

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = dict(_SCHEMAS[self.kind])
        if self.default is None:
            schema = {"anyOf": [schema, {"type": "null"}]}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.choices is not None:
            schema["enum"] = list(self.choices)
        schema["description"] = self.doc
        if self.default is not None:
            schema["default"] = list(self.default) if isinstance(self.default, tuple) \
                else self.default
        return schema


_BAD = object()


def _number(value: Any) -> Any:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else _BAD


def _integer(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else _BAD


def _boolean(value: Any) -> Any:
    return value if isinstance(value, bool) else _BAD


def _string(value: Any) -> Any:
    return value if isinstance(value, str) else _BAD


def _strings(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return _BAD


def _table(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else _BAD


_CHECKS = {NUMBER: _number, INTEGER: _integer, BOOLEAN: _boolean, STRING: _string,
           STRINGS: _strings, TABLE: _table}
_DESCRIPTIONS = {NUMBER: "a finite number", INTEGER: "an integer", BOOLEAN: "true or false",
                 STRING: "a string", STRINGS: "a list of strings", TABLE: "a table"}
_SCHEMAS: dict[str, dict[str, Any]] = {
    NUMBER: {"type": "number"}, INTEGER: {"type": "integer"}, BOOLEAN: {"type": "boolean"},
    STRING: {"type": "string"}, STRINGS: {"type": "array", "items": {"type": "string"}},
    TABLE: {"type": "object"},
}


class Options:
    """One vendor's option values: the declared defaults overlaid with its config table."""

    def __init__(self, vendor: str, declared: Iterable[Option], given: Mapping[str, Any]) -> None:
        self.vendor = vendor
        self.declared = {o.name: o for o in declared}
        names = {alias: o.name for o in self.declared.values() for alias in o.aliases}
        names.update({name: name for name in self.declared})
        self._values = {name: o.default for name, o in self.declared.items()}
        for key, value in given.items():
            name = names.get(key)
            if name is None:
                raise OptionError(self._unknown(key))
            try:
                self._values[name] = self.declared[name].check(value)
            except OptionError as error:
                raise OptionError(f"[vendors.{vendor}] {error}") from None

    def _unknown(self, key: str) -> str:
        close = difflib.get_close_matches(key, list(self.declared), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return (f"[vendors.{self.vendor}] has no option {key!r}{hint}; "
                f"options: {', '.join(sorted(self.declared))}")

    def __contains__(self, name: str) -> bool:
        return name in self.declared

    def get(self, name: str) -> Any:
        """The value of a declared option (KeyError for an undeclared one: declare it)."""
        return self._values[name]

    def number(self, name: str) -> float:
        return float(self._values[name])

    def integer(self, name: str) -> int:
        return int(self._values[name])

    def strings(self, name: str) -> frozenset[str]:
        return frozenset(self._values[name])

    def text(self, name: str) -> str:
        return str(self._values[name])

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this vendor's `[vendors.<name>]` table."""
        properties = {}
        for name, option in sorted(self.declared.items()):
            properties[name] = option.json_schema()
            for alias in option.aliases:
                properties[alias] = {**option.json_schema(), "deprecated": True,
                                     "description": f"older name of {name}"}
        return {"type": "object", "additionalProperties": False, "properties": properties}
