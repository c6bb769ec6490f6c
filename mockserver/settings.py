"""One frozen settings object, built from flags > MOCKSERVER_* env > TOML config > defaults.

`resolve_settings` also says where each value came from (a flag, a variable, the file), so a
value that is refused later can be named the way the operator wrote it. Reading the file is
here; checking it against its schema is `mockserver.config`'s job (it knows every vendor).
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(".mockserver-data")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
LOG_FORMATS = ("text", "json")


class SettingsError(ValueError):
    """A setting that cannot be read: the message names where it came from and what is allowed."""


@dataclass(frozen=True)
class Settings:
    """Everything an app needs; tests build their own with `Settings(...)` or `replace()`."""

    host: str = "127.0.0.1"
    port: int = 8000
    store: str = "memory"
    time_scale: float = 1.0
    public_url: str = ""
    strict_auth: bool = False
    api_keys: tuple[str, ...] = ()
    # Signing vendors' key pairs, `[auth.<vendor>]` tables: vendor -> {key id: secret}. Each
    # such vendor adds these to the pair it accepts by default.
    credentials: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    limits_enabled: bool = True
    journal_size: int = 5000
    journal_bytes: int = 32 * 1024 * 1024  # the journal's second bound (issue 15)
    # Largest request body of a vendor that declares no cap, and of a request to no vendor.
    max_body_bytes: int = 20 * 1024 * 1024
    validate_responses: bool = False
    vendors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    faults: tuple[Mapping[str, Any], ...] = ()
    fetch_allow_hosts: tuple[str, ...] = ()
    fetch_deny_hosts: tuple[str, ...] = ()
    fetch_mode: str = "single"  # outbound policy: "single" (one user) or "shared" (a team)
    config_path: str | None = None
    plugins: tuple[str, ...] = ()  # features to install, `package.module:function`
    # How `mockserver serve` logs (the app itself does not read these).
    log_level: str = "info"
    log_format: str = "text"
    access_log: bool = True
    admin_token: str = ""  # required by /__admin routes (but health and fixtures) when set

    @cached_property  # every result URL of every answer starts with it
    def base_url(self) -> str:
        """The URL clients should use; `--public-url` wins over host:port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    def vendor_option(self, vendor: str, key: str, default: Any) -> Any:
        """A per-vendor tunable from `[vendors.<name>]`, or the provider's default."""
        return self.vendors.get(vendor, {}).get(key, default)


_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}
# Settings a `[server]` table and a MOCKSERVER_<NAME> variable may set.
SERVER_KEYS = ("host", "port", "store", "time_scale", "public_url", "strict_auth",
               "limits_enabled", "journal_size", "validate_responses", "plugins", "log_level",
               "log_format", "access_log", "fetch_mode", "admin_token", "max_body_bytes")
ENV_PREFIX = "MOCKSERVER_"
CONFIG_ENV = f"{ENV_PREFIX}CONFIG"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def env_name(key: str) -> str:
    return f"{ENV_PREFIX}{key.upper()}"


def _from_text(name: str, raw: str, where: str) -> Any:
    """A setting written as text (an env var) in its field's type, or SettingsError."""
    kind = _FIELD_TYPES[name]
    text = raw.strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        wanted = "an integer" if kind == "int" else "a number"
        raise SettingsError(f"{where}={raw}: must be {wanted}") from None
    if kind == "bool":
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise SettingsError(f"{where}={raw}: must be one of 1, 0, true, false, yes, no, on, off")
    if kind == "tuple[str, ...]":  # comma-separated
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return raw


def read_config(path: str) -> dict[str, Any]:
    """The TOML document at `path`, or SettingsError naming the file and the problem."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"config file {path}: no such file") from None
    except IsADirectoryError:
        raise SettingsError(f"config file {path}: is a directory, not a TOML file") from None
    except PermissionError:
        raise SettingsError(f"config file {path}: not readable (permission denied)") from None
    except UnicodeDecodeError:
        raise SettingsError(f"config file {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"config file {path}: not valid TOML: {error}") from None


def _from_config(doc: Mapping[str, Any], path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Settings from a (checked) config document, and where each came from."""
    out: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def put(key: str, value: Any, where: str) -> None:
        out[key] = value
        sources[key] = f"config file {path}: {where}"

    for key, value in doc.get("server", {}).items():
        if key in SERVER_KEYS:
            put(key, tuple(value) if isinstance(value, list) else value, f"[server] {key}")
    auth = doc.get("auth", {})
    if "keys" in auth:
        put("api_keys", tuple(auth["keys"]), "[auth] keys")
    credentials = {vendor: dict(pairs) for vendor, pairs in auth.items() if vendor != "keys"}
    if credentials:
        put("credentials", credentials, "[auth.<vendor>]")
    if "vendors" in doc:
        put("vendors", doc["vendors"], "[vendors]")
    if "faults" in doc:
        put("faults", tuple(doc["faults"]), "[[faults]]")
    fetch = doc.get("fetch", {})
    for key in ("allow_hosts", "deny_hosts"):
        if key in fetch:
            put(f"fetch_{key}", tuple(fetch[key]), f"[fetch] {key}")
    if "mode" in fetch:
        put("fetch_mode", str(fetch["mode"]), "[fetch] mode")
    return out, sources


def _from_env(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    found: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in SERVER_KEYS:
        raw = env.get(env_name(key))
        if raw is not None and raw != "":
            found[key] = _from_text(key, raw, env_name(key))
            sources[key] = env_name(key)
    return found, sources


ConfigCheck = Callable[[Mapping[str, Any], str], None]


def resolve_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    default_store: str = "memory",
    check_config: ConfigCheck | None = None,
    flag_labels: Mapping[str, str] | None = None,
) -> tuple[Settings, dict[str, str]]:
    """The merged settings and, per field that was set, where it was set (`--port`,
    `MOCKSERVER_PORT`, `config file F: [server] port`). `check_config(doc, path)` may refuse
    the config document before anything is read from it."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env = os.environ if env is None else env
    labels = flag_labels or {}
    config_path = flags.get("config_path") or env.get(CONFIG_ENV) or None
    merged: dict[str, Any] = {"store": default_store}
    sources: dict[str, str] = {}
    if config_path:
        doc = read_config(config_path)
        if check_config is not None:
            check_config(doc, config_path)
        found, where = _from_config(doc, config_path)
        merged.update(found)
        sources.update(where)
        merged["config_path"] = config_path
    found, where = _from_env(env)
    merged.update(found)
    sources.update(where)
    for key, value in flags.items():
        if key in _FIELD_TYPES:
            merged[key] = value
            sources[key] = labels.get(key, f"--{key.replace('_', '-')}")
    return replace(Settings(), **merged), sources


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    default_store: str = "memory",
) -> Settings:
    """Merge the layers. `default_store` lets `serve` default to SQLite while tests stay in memory."""
    return resolve_settings(flags, env, default_store=default_store)[0]
