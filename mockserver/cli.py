"""`mockserver serve` and friends."""
from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Sequence
from dataclasses import replace

from . import __version__
from .serving import DEFAULT_SERVE_STORE, banner, serve_app
from .settings import load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the emulator")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--store", help=f"'memory' or 'sqlite:PATH' (default {DEFAULT_SERVE_STORE})")
    serve.add_argument("--time-scale", type=float, help="emulated seconds per real second")
    serve.add_argument("--public-url", help="base URL put into result and callback URLs")
    serve.add_argument("--config", dest="config_path", help="TOML configuration file")
    serve.add_argument("--strict-auth", action="store_const", const=True,
                       help="accept only the keys listed in the config")
    serve.add_argument("--no-limits", dest="limits_enabled", action="store_const", const=False,
                       help="switch off rate and concurrency limits (load tests of an app)")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn",
                       help="HTTP server (granian is optional: the [granian] extra)")
    spec = commands.add_parser("openapi", help="write each vendor's OpenAPI 3.1 document")
    spec.add_argument("--vendor", action="append", help="only this vendor (repeatable)")
    spec.add_argument("--out", default="openapi", help="directory to write into (default ./openapi)")
    spec.add_argument("--base-url", help="also list this running mock under `servers`")
    # The contract kit's commands: their options belong to the kit (`contract_tests/cli.py`,
    # `contract_tests/proxy.py`), which is imported only when one of them runs.
    for name, text in KIT_COMMANDS.items():
        commands.add_parser(name, help=text, add_help=False)
    return parser


def serve(args: argparse.Namespace) -> None:
    from .app import create_app

    flags = {k: v for k, v in vars(args).items() if k not in {"command", "log_level", "server"}}
    if args.server == "granian":
        from .granian_server import run

        return run(flags, args.log_level)
    try:
        settings = load_settings(flags, default_store=DEFAULT_SERVE_STORE)
    except (ValueError, OSError) as error:  # a bad config file: one line, no traceback
        sys.exit(f"mockserver: {error}")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    sockets = []
    if settings.port == 0:  # bind first, so the banner and result URLs carry the real port
        sock = socket.create_server((settings.host, 0))
        settings = replace(settings, port=sock.getsockname()[1])
        sockets.append(sock)
    try:
        app = create_app(settings)
    except ValueError as error:  # a bad option, account table or standing fault rule
        sys.exit(f"mockserver: {error}")
    print(banner(settings, list(app.state.emulator.providers.values())), flush=True)
    serve_app(app, settings, args.log_level, sockets)


def write_openapi(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .core.schemas import SchemaRegistry
    from .features.openapi import write_documents
    from .providers import provider_classes

    specs = {cls.spec.name: cls.spec for cls in provider_classes()}
    unknown = set(args.vendor or ()) - set(specs)
    if unknown:
        sys.exit(f"unknown vendor(s): {', '.join(sorted(unknown))}; known: {', '.join(specs)}")
    chosen = [spec for name, spec in specs.items() if name in (args.vendor or [name])]
    for path in write_documents(chosen, SchemaRegistry.shared(), Path(args.out), args.base_url):
        print(path)


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
    else:  # pragma: no cover - argparse enforces the choices
        sys.exit(2)
