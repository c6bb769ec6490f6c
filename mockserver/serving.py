"""What `mockserver serve` runs, whichever HTTP server it runs on: the default store, the
banner that tells each vendor's client where to send, and the uvicorn runner."""
from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import __version__
from .features.admin_guard import admin_warning
from .settings import DEFAULT_DATA_DIR, Settings, env_name

if TYPE_CHECKING:
    from .providers.base import Provider

DEFAULT_SERVE_STORE = f"sqlite:{DEFAULT_DATA_DIR / 'mockserver.db'}"
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def banner(settings: Settings, providers: Sequence[Provider]) -> str:
    lines = [f"portrait-mockserver {__version__} listening on {settings.base_url}",
             f"  store: {settings.store}   time scale: {settings.time_scale}   "
             f"outbound: {settings.fetch_mode} mode",
             f"  admin: {settings.base_url}/__admin/health"
             + ("   (token required: X-Admin-Token)" if settings.admin_token else "")
             + f"   dashboard: {settings.base_url}/"]
    warning = admin_warning(settings)
    if warning:
        lines.append(f"  {warning}")
    for provider in providers:
        hint = provider.setup_hint(settings.base_url)  # may span lines: indent them
        lines.append(f"  {provider.title}: " + hint.replace("\n", "\n      "))
    if (warning := wildcard_warning(settings)) is not None:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)


def wildcard_warning(settings: Settings) -> str | None:
    """Bound to every interface with no public URL: result URLs would name 0.0.0.0."""
    if settings.host not in WILDCARD_HOSTS or settings.public_url:
        return None
    return (f"result and callback URLs will say {settings.base_url}, which clients cannot "
            f"reach; set --public-url or {env_name('public_url')} to the address they use")


def with_access_log(app: Any, settings: Settings, handler: logging.StreamHandler[Any]) -> Any:
    """The app behind the access log (one line per request), unless `--quiet`."""
    from . import logs
    from .features.access_log import AccessLog

    return AccessLog(app, logs.LineSink(handler, "mockserver.access")) if settings.access_log \
        else app


def serve_app(app: Any, settings: Settings, sockets: list[socket.socket] | None = None) -> None:
    """Run a built app the way `serve` does: uvicorn (uvloop and httptools when installed, else
    asyncio and h11) in the log format already configured, the collector tuned for a long-lived
    server once start-up is done."""
    import uvicorn

    from . import logs
    from .core.gctune import tune_for_serving
    from .http_protocol import SERVER_OPTIONS, ServingServer

    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                            log_level=logs.LEVELS[settings.log_level], **SERVER_OPTIONS)
    tune_for_serving()
    ServingServer(config).run(sockets=sockets or None)
