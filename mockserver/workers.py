"""`mockserver serve --workers N`: N uvicorn worker processes answering as one emulator.

Every worker builds its own app on the same store (SQLite or Redis), so they share tasks,
clock, faults, journal, limits and callback claims through it (issue 18). The settings travel
to the workers as JSON in an environment variable, since they build the app by import string.

Each worker listens on its own socket bound with SO_REUSEPORT, so the kernel spreads the
connections over the workers. (With one shared listening socket, as uvicorn's own `--workers`
does, one worker tends to accept every connection of a keep-alive client: measured, 32 of 32
wrk connections on one worker.) The supervisor restarts a worker that dies (kill -9 included).
Where SO_REUSEPORT does not exist, uvicorn's supervisor is used instead.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import os
import socket
import sys
from typing import Any

from .settings import Settings

SETTINGS_ENV = "MOCKSERVER_WORKER_SETTINGS"
_TUPLES = {f.name for f in dataclasses.fields(Settings) if str(f.type).startswith("tuple")}


def settings_to_json(settings: Settings) -> str:
    return json.dumps(dataclasses.asdict(settings))


def settings_from_json(text: str) -> Settings:
    doc: dict[str, Any] = json.loads(text)
    for name in _TUPLES & set(doc):
        doc[name] = tuple(doc[name])
    return Settings(**doc)


def worker_app() -> Any:
    """The app factory uvicorn calls in each worker process: the app `serve` builds (its
    settings were checked by the parent), in the same log format, with the access log."""
    from . import logs
    from .app import FEATURES, create_app
    from .features.access_log import access_log
    from .serving import with_access_log

    settings = settings_from_json(os.environ[SETTINGS_ENV])
    handler = logs.configure(settings.log_level, settings.log_format)
    return with_access_log(create_app(settings, features=(*FEATURES, access_log)), settings,
                           handler)


def refusal(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run `workers` processes (one line), or None."""
    from .core.stores import is_shared

    if workers < 1:
        return f"--workers must be at least 1, not {workers}"
    if workers > 1 and not is_shared(settings.store):
        return (f"--workers {workers} needs a store the workers can share: "
                "use --store sqlite:PATH or --store redis://HOST:PORT/DB, not memory")
    return None


def reserve_port(host: str, port: int = 0) -> socket.socket:
    """The port for the workers (0: a free one): bound with SO_REUSEPORT but not listening, so
    it holds the port (a busy one fails here) while the workers bind their own sockets, and
    takes no connections itself."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot hold {host}:{port} for the workers: {error.strerror}") from None
    return sock


def _listen(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it every answer waits ~40 ms for Nagle and the client's delayed ACK.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                         socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _serve_one(host: str, port: int, log_level: str) -> None:
    """One worker process: its own listening socket, its own app on the shared store."""
    import uvicorn

    from . import logs
    from .http_protocol import SERVER_OPTIONS, ServingServer

    config = uvicorn.Config("mockserver.workers:worker_app", factory=True, log_config=None,
                            log_level=logs.LEVELS[log_level], **SERVER_OPTIONS)
    ServingServer(config).run(sockets=[_listen(host, port)])


def _supervise(settings: Settings, workers: int, log_level: str) -> None:
    import multiprocessing
    import signal
    import time

    spawn = multiprocessing.get_context("spawn")
    args = (settings.host, settings.port, log_level)
    procs = [spawn.Process(target=_serve_one, args=args) for _ in range(workers)]
    for proc in procs:
        proc.start()
    stopping: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: stopping.append(number))
    while not stopping:
        time.sleep(0.2)
        for index, proc in enumerate(procs):
            if not proc.is_alive() and not stopping:
                print(f"mockserver: worker {proc.pid} ended ({proc.exitcode}); starting another",
                      file=sys.stderr, flush=True)
                procs[index] = spawn.Process(target=_serve_one, args=args)
                procs[index].start()
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(20)


def run_workers(settings: Settings, workers: int, log_level: str,
                sock: socket.socket | None) -> None:
    os.environ[SETTINGS_ENV] = settings_to_json(settings)
    if hasattr(socket, "SO_REUSEPORT"):
        _supervise(settings, workers, log_level)
        return
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from .http_protocol import SERVER_OPTIONS, ServingServer

    config = uvicorn.Config("mockserver.workers:worker_app", factory=True, host=settings.host,
                            port=settings.port, workers=workers, log_level=log_level,
                            **SERVER_OPTIONS)
    bound = sock if sock is not None else config.bind_socket()
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.52
        Multiprocess(config, target=ServingServer(config).run, sockets=[bound]).run()  # type: ignore[call-arg]  # the older signature
    else:
        Multiprocess(config, sockets=[bound]).run()
