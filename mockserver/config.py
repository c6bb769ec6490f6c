"""The operator's side of the settings: one JSON Schema for the whole TOML file, and the checks
that turn any bad value (in the file, a flag, a MOCKSERVER_* variable or the pytest marker)
into one message naming where it was written, what is allowed, and the closest valid name.

The schema is built from the `Settings` fields this module describes (`SERVER_FIELDS`) and
every vendor's declared options (`VendorSpec.all_options()`), so a new vendor or option is
checked and documented without a change here. `mockserver config --schema` prints it; the
copy in docs/config.schema.json is kept current by tests/test_config_schema.py.
"""
from __future__ import annotations

import difflib
import math
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .features.fault_rules import RULE_FIELDS, rule_schema
from .providers import vendor_packages
from .providers.options import Options
from .providers.spec import VendorSpec
from .settings import (
    LOG_FORMATS,
    LOG_LEVELS,
    SERVER_KEYS,
    Settings,
    SettingsError,
    resolve_settings,
)

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

SCHEMA_ID = "https://portrait-mockserver.invalid/config.schema.json"
SQLITE_HEADER = b"SQLite format 3\x00"


class ConfigError(SettingsError):
    """A configuration the server refuses to start with; the message is the one line to show."""


_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
SERVER_FIELDS: dict[str, dict[str, Any]] = {
    "host": {"type": "string", "minLength": 1, "description": "bind address"},
    "port": {"type": "integer", "minimum": 0, "maximum": 65535,
             "description": "TCP port, 1-65535 (0: any free port)"},
    "store": {"type": "string", "pattern": "^(memory|sqlite:.+|(rediss?|unix)://.+)$",
              "description": "'memory', 'sqlite:PATH' or 'redis://HOST:PORT/DB'"},
    "time_scale": {"type": "number", "exclusiveMinimum": 0,
                   "description": "emulated seconds per real second (> 0)"},
    "public_url": {"type": "string", "pattern": "^(https?://[^/\\s]+.*)?$",
                   "description": "base URL put into result and callback URLs"},
    "strict_auth": {"type": "boolean", "description": "accept only the keys in [auth] keys"},
    "limits_enabled": {"type": "boolean", "description": "rate and concurrency limits"},
    "journal_size": {"type": "integer", "minimum": 1,
                     "description": "requests the journal keeps"},
    "validate_responses": {"type": "boolean",
                           "description": "check every answer against its JSON Schema"},
    "plugins": {**_STRINGS, "description": "features to install, package.module:function"},
    "log_level": {"type": "string", "enum": list(LOG_LEVELS), "description": "log level"},
    "log_format": {"type": "string", "enum": list(LOG_FORMATS),
                   "description": "text, or json (one object a line)"},
    "access_log": {"type": "boolean", "description": "one log line per request"},
    "fetch_mode": {"type": "string", "enum": ["single", "shared"],
                   "description": "outbound policy: single (loopback and private networks "
                                  "allowed) or shared (refused)"},
    "admin_token": {"type": "string",
                    "description": "token every /__admin route but health and fixtures requires"},
    "max_body_bytes": {"type": "integer", "minimum": 1,
                       "description": "largest request body of a vendor that declares no cap"},
}
assert set(SERVER_FIELDS) == set(SERVER_KEYS)


def _signing(spec: VendorSpec) -> bool:
    """A vendor whose clients sign requests (no bearer key) takes `[auth.<vendor>]` key pairs."""
    return any(scheme.get("scheme") != "bearer" for scheme in spec.security_schemes.values())


def vendor_specs() -> dict[str, VendorSpec]:
    return {name: package.provider.spec for name, package in vendor_packages().items()}


def vendor_table_schema(spec: VendorSpec) -> dict[str, Any]:
    """The `[vendors.<name>]` table: exactly the options the vendor declares."""
    schema = Options(spec.name, spec.all_options(), {}).json_schema()
    return {**schema, "description": f"{spec.title}: options"}


@cache
def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the whole TOML configuration file."""
    specs = vendor_specs()
    assert set(rule_schema(list(specs))["properties"]) == RULE_FIELDS
    pairs = {"type": "object", "additionalProperties": {"type": "string"},
             "description": "key id = secret, added to the vendor's default pair"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "portrait-mockserver configuration (TOML)",
        "description": "Generated from the Settings fields and every vendor's declared "
                       "options: mockserver config --schema > docs/config.schema.json",
        "type": "object", "additionalProperties": False,
        "properties": {
            "server": {"type": "object", "additionalProperties": False,
                       "properties": SERVER_FIELDS},
            "auth": {"type": "object", "additionalProperties": False, "properties": {
                "keys": {**_STRINGS, "description": "keys accepted with strict_auth"},
                **{name: pairs for name, spec in specs.items() if _signing(spec)}}},
            "fetch": {"type": "object", "additionalProperties": False, "properties": {
                "allow_hosts": {**_STRINGS, "description": "hosts image URLs may name"},
                "deny_hosts": {**_STRINGS, "description": "hosts image URLs may not name"},
                "mode": {**SERVER_FIELDS["fetch_mode"]}}},
            "vendors": {"type": "object", "additionalProperties": False, "properties": {
                name: vendor_table_schema(spec) for name, spec in specs.items()}},
            "faults": {"type": "array", "items": rule_schema(list(specs)),
                       "description": "standing fault rules (docs/faults.md)"},
        },
    }


# --- turning a schema error into one line -------------------------------------------------


def _plain(value: Any) -> Any:
    """Python values as JSON Schema sees them (tuples are arrays)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _non_finite(value: Any, path: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    """The path of the first NaN or infinity (TOML has both; JSON Schema bounds let NaN by)."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    items = value.items() if isinstance(value, Mapping) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        if (found := _non_finite(child, (*path, key))) is not None:
            return found
    return None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def describe(schema: Mapping[str, Any]) -> str:
    """What a schema allows, in words ("an integer from 0 to 65535")."""
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "pattern" in schema and "description" in schema:
        return str(schema["description"])
    if "anyOf" in schema:  # TOML has no null: an option that may be unset is just its kind
        return " or ".join(describe(s) for s in schema["anyOf"] if s.get("type") != "null")
    kinds = schema.get("type", "any value")
    words: dict[str, str] = {
        "integer": "an integer", "number": "a finite number", "string": "a string",
        "boolean": "true or false", "array": "a list", "object": "a table", "null": "nothing"}
    if isinstance(kinds, list):
        text = " or ".join(words.get(str(k), str(k)) for k in kinds)
    else:
        text = words.get(str(kinds), str(kinds))
    if kinds == "array" and schema.get("items", {}).get("type") == "string":
        text = "a list of strings"
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum")
    if low is not None and high is not None:
        text += f" from {low:g} to {high:g}"
    elif "exclusiveMinimum" in schema:
        text += f" greater than {schema['exclusiveMinimum']:g}"
    elif low is not None:
        text += f" of at least {low:g}"
    return text


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


class Where:
    """How a place in the document is named: `[vendors.<name>] run_seconds` in a TOML file;
    `vendors.<name>.run_seconds` in a marker or another Python mapping."""

    def __init__(self, toml: bool) -> None:
        self.toml = toml

    def table(self, path: Sequence[Any]) -> str:
        if not self.toml:
            return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)[1:] \
                if path else "the options"
        if path and path[0] == "faults":
            return "[[faults]]" + (f" entry {path[1] + 1}" if len(path) > 1 else "")
        return "[" + ".".join(map(str, path)) + "]" if path else "the top level"

    def key(self, path: Sequence[Any]) -> str:
        """A key with its table: `[server] port`, `[vendors.<name>] run_seconds`,
        `[auth.<vendor>] KEYID`, `[[faults]] entry 2 code`."""
        if not self.toml or len(path) <= 1:
            return self.table(path)
        nested = path[0] == "faults" or (path[0] in ("vendors", "auth") and len(path) > 2)
        table_depth = 2 if nested else 1
        return f"{self.table(path[:table_depth])} {'.'.join(map(str, path[table_depth:]))}"

    def unknown_names(self, path: Sequence[Any], extra: str, allowed: Sequence[str]) -> str:
        """`[srever] is not a section` / `[vendors.<name>] has no option run_secs`."""
        if not path and self.toml:
            close = difflib.get_close_matches(extra, list(allowed), n=1)
            hint = f" (did you mean {_sections(close)[0]}?)" if close else ""
            return f"[{extra}] is not a section{hint}; sections: {', '.join(_sections(allowed))}"
        hint = _did_you_mean(extra, allowed)
        if list(path) == ["vendors"]:
            return (f"{self.table([*path, extra])} is not a vendor{hint}; "
                    f"vendors: {', '.join(allowed)}")
        what = "option" if path and path[0] == "vendors" else "key"
        return (f"{self.table(path)} has no {what} {extra!r}{hint}; "
                f"{what}s: {', '.join(allowed)}")


def _sections(allowed: Sequence[str]) -> list[str]:
    return [f"[[{s}]]" if s == "faults" else f"[{s}.<name>]" if s == "vendors" else f"[{s}]"
            for s in allowed]


def first_problem(doc: Any, schema: Mapping[str, Any], where: Where) -> str | None:
    """One line for the first problem of `doc` against `schema` in document order, or None."""
    doc = _plain(doc)
    bad_number = _non_finite(doc)
    if bad_number is not None:
        return f"{where.key(bad_number)} must be a finite number"
    import jsonschema_rs

    if jsonschema_rs.validator_for(dict(schema)).is_valid(doc):  # compiled: the usual answer
        return None
    from jsonschema import Draft202012Validator  # only to explain a problem (~60 ms to load)

    errors = sorted(Draft202012Validator(schema).iter_errors(doc),
                    key=lambda e: (len(e.absolute_path) == 0, [str(p) for p in e.absolute_path]))
    return _explain(errors[0], where) if errors else None


def _explain(error: ValidationError, where: Where) -> str:
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = list(schema.get("properties", {}))
        extra = next(k for k in error.instance if k not in allowed)
        if not path and where.toml and not isinstance(error.instance[extra], (dict, list)):
            return (f"{extra} = {_toml_value(error.instance[extra])} is outside any table; "
                    f"put it in one of {', '.join(_sections(allowed))}")
        return where.unknown_names(path, str(extra), allowed)
    if error.validator == "required":
        return f"{where.table(path)}: {error.message}"
    if error.validator == "type" and schema.get("type") == "object":
        return f"{where.key(path)} must be a table, not {_toml_value(error.instance)}"
    shown = _toml_value(error.instance) if not isinstance(error.instance, (dict, list)) else \
        "this value"
    return f"{where.key(path)} = {shown}: must be {describe(schema)}"


# --- the checks the entry points call ---------------------------------------------------------


def check_config(doc: Mapping[str, Any], path: str) -> None:
    """Refuse a config document that breaks its schema (ConfigError naming file and key)."""
    problem = first_problem(doc, config_schema(), Where(toml=True))
    if problem is not None:
        raise ConfigError(f"config file {path}: {problem}")


def marker_schema() -> dict[str, Any]:
    """The Settings fields as Python keyword options (the pytest marker, `Settings(...)`)."""
    full = config_schema()["properties"]
    fields: dict[str, Any] = {
        **SERVER_FIELDS,
        "api_keys": {"anyOf": [{"type": "string"}, _STRINGS]},
        "credentials": {"type": "object", "additionalProperties": False,
                        "properties": {k: v for k, v in full["auth"]["properties"].items()
                                       if k != "keys"}},
        "vendors": full["vendors"], "faults": full["faults"],
        "fetch_allow_hosts": _STRINGS, "fetch_deny_hosts": _STRINGS,
        "config_path": {"type": ["string", "null"]},
    }
    return {"type": "object", "properties": fields, "additionalProperties": False}


def check_options(options: Mapping[str, Any], *, server_chosen: Iterable[str] = (),
                  extra: Iterable[str] = ()) -> None:
    """Check Settings fields given as Python values (the pytest marker): unknown names, wrong
    types and bad vendor options, as for the config file. `server_chosen` are fields the caller
    picks itself (refused), `extra` the caller's own option names (left alone)."""
    schema = marker_schema()
    chosen, own = set(server_chosen), set(extra)
    fields = {name: rule for name, rule in schema["properties"].items() if name not in chosen}
    given = {k: v for k, v in options.items() if k not in own}
    for name in given:
        if name in chosen:
            raise ConfigError(f"{name} is chosen by the caller, not an option")
        if name not in fields:
            allowed = sorted([*fields, *own])
            raise ConfigError(f"unknown option(s) {name}{_did_you_mean(name, allowed)}; "
                              f"options: {', '.join(allowed)}")
    problem = first_problem(given, {**schema, "properties": fields}, Where(toml=False))
    if problem is not None:
        raise ConfigError(problem)


def check_values(settings: Settings, sources: Mapping[str, str]) -> None:
    """The `[server]` rules for values that came from flags or MOCKSERVER_* variables (the
    file was checked by its schema): one message naming the flag or variable."""
    for name, rule in SERVER_FIELDS.items():
        source = sources.get(name)
        if source is None or source.startswith("config file"):
            continue
        value = getattr(settings, name)
        if first_problem(value, rule, Where(toml=False)) is not None:
            shown = ",".join(value) if isinstance(value, tuple) else value
            raise ConfigError(f"{written(source, shown)}: must be {describe(rule)}")


def written(source: str, value: object) -> str:
    """A value as the operator wrote it: `MOCKSERVER_PORT=x`, `--port x`, `config file F: ...`."""
    return f"{source}={value}" if source.startswith("MOCKSERVER_") else f"{source} {value}"


def check_store(spec: str, source: str) -> None:
    """A store the server can open: 'memory', a Redis URL (its server is reached when the
    store opens), or an SQLite file that is a database (or does not exist yet) in a directory
    the server can create and write."""
    if spec == "memory" or spec.startswith(("redis://", "rediss://", "unix://")):
        return
    if not spec.startswith("sqlite:") or not spec.removeprefix("sqlite:"):
        raise ConfigError(f"{written(source, spec)}: unknown store; use 'memory', "
                          "'sqlite:PATH' or 'redis://HOST:PORT/DB'")
    path = Path(spec.removeprefix("sqlite:"))
    problem = _sqlite_problem(path)
    if problem is not None:
        raise ConfigError(f"{written(source, spec)}: {problem}")


def _sqlite_problem(path: Path) -> str | None:
    if path.is_dir():
        return "is a directory, not a database file"
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return "the database file is not readable and writable by this user"
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
        if head and head != SQLITE_HEADER:
            return "the file exists and is not an SQLite database"
        if not os.access(path.parent, os.W_OK):  # WAL and journal files live beside it
            return f"the directory {path.parent} is not writable (SQLite keeps its WAL there)"
        return None
    existing = next(p for p in [path.parent, *path.parent.parents] if p.exists())
    if not existing.is_dir():
        return f"{existing} is a file, so no directory can be made under it"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot create the database: {existing} is not writable by this user"
    return None


def describe_store_failure(spec: str, source: str, error: BaseException) -> str:
    """The message for a store that failed to open after the checks above (a race, a full
    disk): never SQLite's traceback."""
    reason = str(error) or type(error).__name__
    if isinstance(error, sqlite3.DatabaseError):
        reason = f"SQLite: {reason}"
    return f"{written(source, spec)}: cannot open the store ({reason})"


def load(flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None, *,
         default_store: str = "memory",
         flag_labels: Mapping[str, str] | None = None) -> tuple[Settings, dict[str, str]]:
    """Settings for `mockserver serve`, every value checked (ConfigError otherwise)."""
    settings, sources = resolve_settings(flags, env, default_store=default_store,
                                         check_config=check_config, flag_labels=flag_labels)
    check_values(settings, sources)
    check_store(settings.store, sources.get("store", "the default store"))
    return settings, sources
