"""`mockserver serve --workers N`: N uvicorn worker processes answering as one emulator.

Every worker builds its own app on the same store (SQLite or Redis), so they share tasks,
clock, faults, journal, limits and callback claims through it (issue 18). The settings travel
to the workers as JSON in an environment variable, since uvicorn starts them by import string.
uvicorn's supervisor restarts a worker that dies (kill -9 included).
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import os
import socket
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
    """The app factory uvicorn calls in each worker process."""
    from .app import create_app

    return create_app(settings_from_json(os.environ[SETTINGS_ENV]))


def refusal(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run `workers` processes (one line), or None."""
    from .core.store import is_shared

    if workers < 1:
        return f"--workers must be at least 1, not {workers}"
    if workers > 1 and not is_shared(settings.store):
        return (f"--workers {workers} needs a store the workers can share: "
                "use --store sqlite:PATH or --store redis://HOST:PORT/DB, not memory")
    return None


def run_workers(settings: Settings, workers: int, log_level: str,
                sock: socket.socket | None) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ[SETTINGS_ENV] = settings_to_json(settings)
    config = uvicorn.Config("mockserver.workers:worker_app", factory=True, host=settings.host,
                            port=settings.port, workers=workers, log_level=log_level,
                            access_log=False)
    bound = sock if sock is not None else config.bind_socket()
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.52
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=[bound]).run()  # type: ignore[call-arg]
    else:
        Multiprocess(config, sockets=[bound]).run()
