"""What a serving process loads in the background once it listens.

Start-up defers what no first answer needs, so the first image download paid, before its own
work, for httpx and httpcore, the TLS context, and anyio's event-loop backend and socket layer
(loaded on first use): about 0.2 s on the development machine. A server that is up loads them
in a daemon thread (about 14 MB), ready before most clients send an image; the first callback
delivery gains the same. Pillow's plugins, NumPy and OpenCV (about 35 MB more) are loaded by the
first request that brings images, beside its download (`core.images.start_image_imports`), so
an idle server keeps under the 60 MB it is allowed.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading

log = logging.getLogger("mockserver")


async def _connect_once() -> None:
    """One loopback connection through httpcore's anyio backend, as every download makes."""
    import httpcore

    with socket.create_server(("127.0.0.1", 0)) as listener:  # the backlog accepts it
        stream = await httpcore.AnyIOBackend().connect_tcp("127.0.0.1", listener.getsockname()[1])
        await stream.aclose()


def _load_now() -> None:
    try:
        from .core.netpolicy import prepare_transport

        prepare_transport()  # image downloads and callback deliveries
        asyncio.run(_connect_once())
    except Exception:  # whatever fails here fails again at first use, with its own message
        log.debug("background loading failed", exc_info=True)


def start_background_loading() -> None:
    threading.Thread(target=_load_now, name="background-loading", daemon=True).start()
