"""`mockserver serve`, `mockserver openapi` and `mockserver config`.

Every mistake on the way in (a flag, a MOCKSERVER_* variable, the config file, a busy port)
is one line on stderr and exit status 2, never a traceback. The server binds its port before
it builds the app, and prints the banner only once it holds the port.
"""
from __future__ import annotations

import argparse
import errno
import json
import logging
import socket
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .serving import DEFAULT_SERVE_STORE, banner, serve_app, wildcard_warning, with_access_log
from .settings import CONFIG_ENV, Settings, SettingsError, env_name
from .workers import refusal, reserve_port, run_workers

if TYPE_CHECKING:
    from .providers.base import Provider

EXIT_USAGE = 2
# How `serve` runs rather than what the emulator is: flags and variables, not Settings fields.
WORKERS_ENV, SERVER_ENV = "MOCKSERVER_WORKERS", "MOCKSERVER_SERVER"
SERVERS = ("uvicorn", "granian")
log = logging.getLogger("mockserver")

SERVE_EXAMPLES = f"""\
examples:
  mockserver serve                                  127.0.0.1:8000, tasks kept in {DEFAULT_SERVE_STORE}
  mockserver serve --port 9000 --store memory --time-scale 60
  mockserver serve --config mock.toml --log-format json --quiet
  mockserver serve --host 0.0.0.0 --public-url http://mock.internal:8000
  mockserver serve --store redis://127.0.0.1:6379/0 --workers 2
  MOCKSERVER_TIME_SCALE=60 mockserver serve         every flag has a MOCKSERVER_* variable

precedence: flags > MOCKSERVER_* variables > the config file > defaults.
The config file's schema: docs/config.schema.json, or `mockserver config --schema`."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the problem and where to read more)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _env(name: str, value: str | None = None) -> str:
    return f"env {name}" + (f"={value}" if value else "")


def _serve_parser(commands: Any) -> argparse.ArgumentParser:
    serve = commands.add_parser(
        "serve", help="run the emulator", description="Run the emulator on one port.",
        epilog=SERVE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = serve.add_argument
    add("--host", help=f"bind address (default 127.0.0.1; {_env(env_name('host'))})")
    add("--port", type=int,
        help=f"TCP port 1-65535, 0 for any free one (default 8000; {_env(env_name('port'))})")
    add("--store", help=f"'memory', 'sqlite:PATH' or 'redis://HOST:PORT/DB' (default "
                        f"{DEFAULT_SERVE_STORE}; {_env(env_name('store'))})")
    add("--workers", type=int, help="worker processes sharing the store (SQLite or Redis; "
                                    f"default 1; {_env(WORKERS_ENV)})")
    add("--server", choices=SERVERS, help="HTTP server: uvicorn, or granian (the optional "
                                          f"[granian] extra) (default uvicorn; {_env(SERVER_ENV)})")
    add("--time-scale", type=float,
        help=f"emulated seconds per real second, > 0 (default 1; {_env(env_name('time_scale'))})")
    add("--public-url", help="base URL put into result and callback URLs (default "
                             f"http://HOST:PORT; {_env(env_name('public_url'))})")
    add("--config", dest="config_path", metavar="FILE",
        help=f"TOML configuration file ({_env(CONFIG_ENV)})")
    add("--strict-auth", action="store_const", const=True,
        help=f"accept only the keys listed in the config ({_env(env_name('strict_auth'), '1')})")
    add("--no-limits", dest="limits_enabled", action="store_const", const=False,
        help="switch off rate and concurrency limits, for load tests of an app "
             f"({_env(env_name('limits_enabled'), '0')})")
    add("--admin-token", help="token every /__admin route but health and fixtures requires "
                              f"(prefer the variable: flags show in the process list; "
                              f"{_env(env_name('admin_token'))})")
    add("--fetch-mode", help="outbound policy for image URLs and callbacks: single (default; "
                             "loopback and private networks allowed) or shared (refused; "
                             f"{_env(env_name('fetch_mode'))})")
    add("--log-level", help="critical, error, warning, info, debug or trace (default info; "
                            f"{_env(env_name('log_level'))})")
    add("--log-format", help=f"text or json (default text; {_env(env_name('log_format'))})")
    add("--quiet", dest="access_log", action="store_const", const=False,
        help=f"no access log ({_env(env_name('access_log'), '0')})")
    return serve


FLAG_LABELS = {"config_path": "--config", "limits_enabled": "--no-limits",
               "access_log": "--quiet"}


def _parser() -> Parser:
    parser = Parser(prog="mockserver", description="portrait-mockserver: the vendor emulator.")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serve_parser(commands)
    spec = commands.add_parser("openapi", help="write the OpenAPI 3.1 documents (each vendor's "
                                               "and the admin API's)")
    spec.add_argument("--vendor", action="append", help="only this vendor (repeatable)")
    spec.add_argument("--out", default="openapi", help="directory to write into (default ./openapi)")
    spec.add_argument("--base-url", help="also list this running mock under `servers`")
    config = commands.add_parser(
        "config", help="check the configuration serve would use, or print its schema",
        description="Check the config file, MOCKSERVER_* variables and flags as `serve` "
                    "would, without starting; or print the config file's JSON Schema.")
    config.add_argument("--config", dest="config_path", metavar="FILE",
                        help=f"TOML configuration file ({_env(CONFIG_ENV)})")
    config.add_argument("--schema", action="store_true", help="print the JSON Schema and exit")
    # The contract kit's commands: their options belong to the kit (`contract_tests/cli.py`,
    # `contract_tests/proxy.py`), which is imported only when one of them runs.
    for name, text in KIT_COMMANDS.items():
        commands.add_parser(name, help=text, add_help=False)
    return parser


def fail(message: str) -> NoReturn:
    print(f"mockserver: {message}", file=sys.stderr, flush=True)
    sys.exit(EXIT_USAGE)


# --- serve --------------------------------------------------------------------------------


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or SettingsError saying why the address cannot be had."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise SettingsError(f"host {host!r} cannot be resolved ({error.strerror})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it; asyncio does not set it on a socket handed to uvicorn.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        reasons = {errno.EADDRINUSE: f"port {port} is in use on {host}; stop the other "
                                     f"server or choose another --port",
                   errno.EACCES: f"port {port} needs privileges this user lacks (ports "
                                 f"below 1024); choose another --port",
                   errno.EADDRNOTAVAIL: f"host {host} is not an address of this machine"}
        reason = reasons.get(error.errno or 0, f"cannot listen on {host}:{port}: {error.strerror}")
        raise SettingsError(reason) from None
    return sock


def serve(args: argparse.Namespace) -> None:
    from . import logs

    workers, server = _how_to_run(args)
    if server == "granian":
        from .granian_server import run

        return run(_flags(args), args.log_level or "info")
    settings, sources = _load(args)
    if (problem := refusal(settings, workers)) is not None:
        fail(problem)
    handler = logs.configure(settings.log_level, settings.log_format)
    try:  # workers bind their own sockets on the port: hold it without listening
        sock = reserve_port(settings.host, settings.port) if workers > 1 else bind(
            settings.host, settings.port)
    except (SettingsError, OSError) as error:
        fail(str(error))
    settings = replace(settings, port=sock.getsockname()[1])
    app: Any = _build_app(settings, sources)
    providers = list(app.state.emulator.providers.values())
    _announce(settings, providers)
    if workers > 1:
        print(f"  workers: {workers} processes on the shared store", flush=True)
        app.state.emulator.store.close()
        run_workers(settings, workers, settings.log_level, sock)
        return
    serve_app(with_access_log(app, settings, handler), settings, [sock])


def _how_to_run(args: argparse.Namespace) -> tuple[int, str]:
    """(--workers, --server), each from its flag, else its variable, else the default."""
    import os

    workers: int | str = args.workers if args.workers is not None else os.environ.get(
        WORKERS_ENV, "1")
    server = args.server or os.environ.get(SERVER_ENV, "uvicorn")
    try:
        count = int(workers)
    except ValueError:
        fail(f"{WORKERS_ENV}={workers}: must be a whole number of worker processes")
    if server not in SERVERS:
        fail(f"{SERVER_ENV}={server}: must be one of {', '.join(SERVERS)}")
    return count, server


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    flags = {k: v for k, v in vars(args).items()
             if k not in {"command", "schema", "workers", "server"}}
    for key in ("log_level", "log_format"):
        if isinstance(flags.get(key), str):
            flags[key] = flags[key].lower()
    return flags


def _load(args: argparse.Namespace) -> tuple[Settings, dict[str, str]]:
    from .config import load

    try:
        return load(_flags(args), default_store=DEFAULT_SERVE_STORE, flag_labels=FLAG_LABELS)
    except SettingsError as error:
        fail(str(error))


def _build_app(settings: Settings, sources: Mapping[str, str]) -> Any:
    """The app, or one line naming the setting that stopped it (a vendor option, a standing
    fault rule, a plugin, the store)."""
    from .app import FEATURES, PluginError, create_app
    from .config import describe_store_failure
    from .features.access_log import access_log
    from .features.fault_rules import FaultError
    from .providers.options import OptionError

    where = f"config file {settings.config_path}: " if settings.config_path else ""
    try:
        return create_app(settings, features=(*FEATURES, access_log))
    except PluginError as error:
        fail(f"{sources.get('plugins', 'plugins')}: {error}")
    except (OptionError, FaultError, ValueError) as error:  # options, accounts, fault rules
        fail(f"{where}{error}")
    except (OSError, sqlite3.Error) as error:
        fail(describe_store_failure(settings.store, sources.get("store", "store"), error))


def _announce(settings: Settings, providers: Sequence[Provider]) -> None:
    if settings.log_format == "json":
        hints = {p.name: p.setup_hint(settings.base_url) for p in providers}
        log.info("portrait-mockserver %s listening on %s", __version__, settings.base_url,
                 extra={"banner": {"url": settings.base_url, "store": settings.store,
                                   "time_scale": settings.time_scale, "vendors": hints}})
        if (warning := wildcard_warning(settings)) is not None:
            log.warning(warning)
        return
    print(banner(settings, providers), flush=True)


# --- openapi, config ----------------------------------------------------------------------


def write_openapi(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .core.schemas import SchemaRegistry
    from .features.admin_openapi import admin_document
    from .features.openapi import write_documents
    from .providers import provider_classes

    specs = {cls.spec.name: cls.spec for cls in provider_classes()}
    unknown = set(args.vendor or ()) - set(specs)
    if unknown:
        fail(f"unknown vendor(s): {', '.join(sorted(unknown))}; known: {', '.join(specs)}")
    chosen = [spec for name, spec in specs.items() if name in (args.vendor or [name])]
    for path in write_documents(chosen, SchemaRegistry.shared(), Path(args.out), args.base_url):
        print(path)
    if not args.vendor:  # the admin API's document too
        admin = Path(args.out) / "admin.openapi.json"
        admin.write_text(json.dumps(admin_document(list(specs), args.base_url), indent=2,
                                    ensure_ascii=False) + "\n", encoding="utf-8")
        print(admin)


def check_config(args: argparse.Namespace) -> None:
    if args.schema:
        from .config import config_schema

        print(json.dumps(config_schema(), indent=2, ensure_ascii=False))
        return
    settings, sources = _load(args)
    print(f"ok: {settings.config_path or 'no config file'}; "
          f"{len(sources)} setting(s) given, store {settings.store}, "
          f"vendor tables: {', '.join(settings.vendors) or 'none'}")


KIT_COMMANDS = {"contract": "check a running mock or a live vendor against the contract "
                            "(the [contract] extra; --help for its options)",
                "proxy": "forward an app's traffic to a vendor and check every answer "
                         "(the [contract] extra; --help for its options)"}


def run_kit_command(name: str, argv: list[str]) -> None:
    """Hand the command line to the contract kit, imported now (never at import time)."""
    try:
        from contract_tests.cli import main as contract
        from contract_tests.proxy import main as proxy
    except ImportError as error:
        sys.exit(f"mockserver {name}: the contract kit needs its extra: pip install "
                 f"'portrait-mockserver[contract]' ({error})")
    sys.exit({"contract": contract, "proxy": proxy}[name](argv))


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in KIT_COMMANDS:
        run_kit_command(argv[0], argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "serve":
        serve(args)
    elif args.command == "openapi":
        write_openapi(args)
    elif args.command == "config":
        check_config(args)
