"""Throughput of the image pipeline: fetch + decode + face detection (mockserver.core.images).

Serves a typical 1024x1024 JPEG portrait (the public-domain NASA astronaut picture bundled
with scikit-image, upscaled) from an HTTP server on 127.0.0.1, then for a bounded time per
case repeatedly fetches it with the cache disabled and inspects it against the DashScope
user-photo rules, and prints images inspected per second.  Loopback only; stops by itself.

    .venv/bin/python bench/bench_images.py --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Allow running as a plain script from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402
from skimage import data as skimage_data  # noqa: E402

from mockserver.core.images import ImageFetcher, inspect  # noqa: E402
from mockserver.providers.dashscope.inputs import USER_RULES as DASHSCOPE_USER  # noqa: E402


def portrait_jpeg() -> bytes:
    img = Image.fromarray(skimage_data.astronaut()).resize((1024, 1024), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def serve(body: bytes) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real image CDN

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread


def timed(label: str, seconds: float, step: Callable[[], Any]) -> None:
    count = 0
    start = time.perf_counter()
    # Always run at least once so a tiny budget still yields a number.
    while count == 0 or time.perf_counter() - start < seconds:
        step()
        count += 1
    elapsed = time.perf_counter() - start
    print(f"{label}: {count / elapsed:.1f} images/s ({count} in {elapsed:.2f} s, "
          f"{elapsed / count * 1000:.1f} ms each)")


async def fetch_loop(url: str, seconds: float, check: bool = True) -> tuple[int, float]:
    fetcher = ImageFetcher(cache_entries=0)  # measure the download every time
    count = 0
    start = time.perf_counter()
    try:
        while count == 0 or time.perf_counter() - start < seconds:
            data = await fetcher.fetch(url, DASHSCOPE_USER.max_bytes)
            if check:
                await asyncio.to_thread(inspect, data, DASHSCOPE_USER)
            count += 1
    finally:
        await fetcher.aclose()
    return count, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="wall-clock budget per case (default 5)")
    args = parser.parse_args(argv)
    body = portrait_jpeg()
    faces = inspect(body, DASHSCOPE_USER).faces  # warm-up: cascade load, lazy imports
    print(f"portrait 1024x1024 JPEG, {len(body)} bytes, {len(faces)} face(s); "
          f"budget {args.seconds:g} s per case")
    httpd, thread = serve(body)
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/portrait.jpg"
        for label, check in (("fetch+decode+faces", True), ("fetch only", False)):
            count, elapsed = asyncio.run(fetch_loop(url, args.seconds, check))
            print(f"{label}: {count / elapsed:.1f} images/s ({count} in {elapsed:.2f} s, "
                  f"{elapsed / count * 1000:.1f} ms each)")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
    timed("decode+faces", args.seconds, lambda: inspect(body, DASHSCOPE_USER))
    timed("decode only", args.seconds, lambda: inspect(body, DASHSCOPE_USER, detect_faces=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
