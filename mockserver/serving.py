"""What `mockserver serve` runs, whichever HTTP server it runs on: the default store, the
banner that tells each vendor's client where to send, and the uvicorn runner."""
from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import __version__
from .settings import DEFAULT_DATA_DIR, Settings

if TYPE_CHECKING:
    from .providers.base import Provider

DEFAULT_SERVE_STORE = f"sqlite:{DEFAULT_DATA_DIR / 'mockserver.db'}"


def banner(settings: Settings, providers: Sequence[Provider]) -> str:
    lines = [f"portrait-mockserver {__version__} listening on {settings.base_url}",
             f"  store: {settings.store}   time scale: {settings.time_scale}",
             f"  admin: {settings.base_url}/__admin/health   dashboard: {settings.base_url}/"]
    for provider in providers:
        hint = provider.setup_hint(settings.base_url)
        lines.append(f"  {provider.title}: " + hint.replace("\n", "\n      "))
    return "\n".join(lines)


def serve_app(app: Any, settings: Settings, log_level: str = "info",
              sockets: list[socket.socket] | None = None) -> None:
    """Run a built app the way `serve` does: uvicorn (uvloop and httptools when installed, else
    asyncio and h11), the collector tuned for a long-lived server once start-up is done."""
    import uvicorn

    from .core.gctune import tune_for_serving

    config = uvicorn.Config(app, host=settings.host, port=settings.port,
                            log_level=log_level, access_log=False)
    tune_for_serving()
    uvicorn.Server(config).run(sockets=sockets or None)
