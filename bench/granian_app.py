"""Optional comparison: the same apps under granian (a Rust HTTP server) instead of uvicorn.

Not a dependency of the project; `pip install granian` to try it. The bench runs
    granian --interface asgi --loop uvloop bare_app:app                 (floor)
    granian --interface asgi --loop uvloop --factory granian_app:mock  (the mock, memory store,
                                                                        limits off)
"""
from __future__ import annotations

import os
from typing import Any


def mock() -> Any:
    from mockserver.app import create_app
    from mockserver.core.gctune import tune_for_serving
    from mockserver.settings import load_settings

    settings = load_settings({"port": int(os.environ["MOCKBENCH_PORT"]), "store": "memory",
                              "limits_enabled": False})
    app = create_app(settings)
    tune_for_serving()
    return app
