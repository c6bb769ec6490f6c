"""`mockserver serve --server granian`: the same app under granian, a Rust HTTP server.

Optional (`pip install 'portrait-mockserver[granian]'`). In two benchmark runs on the loaded
2-core machine (README, Performance) it answered 2.6-3x uvicorn's requests/s on a vendor's
task query and 1.25-2.6x on the submit: its HTTP handling runs in Rust threads beside the
Python event loop, so it also takes more of the machine. uvicorn stays the default: the test
suite and the pytest plugin run on it.

granian imports the app in a worker process, so the parsed flags travel in an environment
variable and the worker builds the app (and prints the banner) itself.
"""
from __future__ import annotations

import json
import logging
import os
import socket
from typing import Any

FLAGS_ENV = "MOCKSERVER_GRANIAN_FLAGS"


def run(flags: dict[str, Any], log_level: str) -> None:
    try:
        from granian import Granian
        from granian.constants import Interfaces, Loops
    except ImportError:
        raise SystemExit("--server granian needs granian: pip install 'portrait-mockserver[granian]'")
    from .serving import DEFAULT_SERVE_STORE
    from .settings import load_settings

    settings = load_settings(flags, default_store=DEFAULT_SERVE_STORE)
    if settings.port == 0:  # granian binds by itself: pick the free port here
        with socket.socket() as probe:
            probe.bind((settings.host, 0))
            flags = {**flags, "port": probe.getsockname()[1]}
        settings = load_settings(flags, default_store=DEFAULT_SERVE_STORE)
    os.environ[FLAGS_ENV] = json.dumps({**flags, "log_level": log_level})
    Granian(f"{__name__}:build_app", address=settings.host, port=settings.port,
            interface=Interfaces.ASGI, factory=True, workers=1, websockets=False,
            loop=_loop(Loops), log_level=_log_level(log_level), log_access=False).serve()


def build_app() -> Any:
    """The factory granian calls in its worker process."""
    from .app import create_app
    from .core.gctune import tune_for_serving
    from .serving import DEFAULT_SERVE_STORE, banner
    from .settings import load_settings
    from .warmup import start_background_loading

    flags = json.loads(os.environ[FLAGS_ENV])
    log_level = flags.pop("log_level")
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings(flags, default_store=DEFAULT_SERVE_STORE)
    app = create_app(settings)
    print(banner(settings, list(app.state.emulator.providers.values())), flush=True)
    tune_for_serving()
    start_background_loading()  # granian serves as soon as this returns
    return app


def _loop(loops: Any) -> Any:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return loops.asyncio
    return loops.uvloop


def _log_level(name: str) -> Any:
    from granian.log import LogLevels

    try:
        return LogLevels(name.lower())
    except ValueError:
        return LogLevels.info
