"""One frozen settings object, built from flags > MOCKSERVER_* env > TOML config > defaults."""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(".mockserver-data")


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
    admin_token: str = ""  # required by /__admin routes (but health and fixtures) when set

    @property
    def base_url(self) -> str:
        """The URL clients should use; `--public-url` wins over host:port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    def vendor_option(self, vendor: str, key: str, default: Any) -> Any:
        """A per-vendor tunable from `[vendors.<name>]`, or the provider's default."""
        return self.vendors.get(vendor, {}).get(key, default)


_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}
_ENV_KEYS = ("host", "port", "store", "time_scale", "public_url", "strict_auth", "limits_enabled",
             "plugins", "fetch_mode", "admin_token", "max_body_bytes")


def _coerce(name: str, value: Any) -> Any:
    kind = _FIELD_TYPES[name]
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool" and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if kind == "tuple[str, ...]" and isinstance(value, str):  # comma-separated in env vars
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _from_config(path: str) -> dict[str, Any]:
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    server = dict(doc.get("server", {}))
    auth = doc.get("auth", {})
    out: dict[str, Any] = {k: _coerce(k, v) for k, v in server.items() if k in _FIELD_TYPES}
    if "keys" in auth:
        out["api_keys"] = tuple(auth["keys"])
    credentials = {vendor: dict(pairs) for vendor, pairs in auth.items() if vendor != "keys"}
    if credentials:
        out["credentials"] = credentials
    if "vendors" in doc:
        out["vendors"] = doc["vendors"]
    if "faults" in doc:
        out["faults"] = tuple(doc["faults"])
    fetch = doc.get("fetch", {})
    if "allow_hosts" in fetch:
        out["fetch_allow_hosts"] = tuple(fetch["allow_hosts"])
    if "deny_hosts" in fetch:
        out["fetch_deny_hosts"] = tuple(fetch["deny_hosts"])
    if "mode" in fetch:
        out["fetch_mode"] = str(fetch["mode"])
    return out


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    found = {}
    for key in _ENV_KEYS:
        raw = env.get(f"MOCKSERVER_{key.upper()}")
        if raw is not None and raw != "":
            found[key] = _coerce(key, raw)
    return found


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    default_store: str = "memory",
) -> Settings:
    """Merge the layers. `default_store` lets `serve` default to SQLite while tests stay in memory."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env = os.environ if env is None else env
    config_path = flags.get("config_path") or env.get("MOCKSERVER_CONFIG") or None
    merged: dict[str, Any] = {"store": default_store}
    if config_path:
        merged.update(_from_config(config_path))
        merged["config_path"] = config_path
    merged.update(_from_env(env))
    merged.update({k: _coerce(k, v) for k, v in flags.items() if k in _FIELD_TYPES})
    return replace(Settings(), **merged)
