"""Start-up, memory and the first image-bearing request, each from a fresh process.

- start-up: spawn to the first 200 on /__admin/health (the floor the same way);
- RSS (VmRSS from /proc/<pid>/status) at the first answer and after `settle_s` idle;
- the first DashScope submit with images, timed together with the query that waits for its
  input check (download, decode, face detection), against a warm one doing the same work:
  photos never seen before (`PhotoServer`), so the mock's verdict cache cannot answer; and
  against a repeat of photos it has seen (a new URL, so only the verdict cache answers);
- RSS once OpenCV has been used.
"""
from __future__ import annotations

import compileall
import hashlib
import io
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import servers
from PIL import Image
from servers import SUBMIT_PATH, Server

IMAGE_STYLE = "train_free_portrait_url_template"


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "images"


class PhotoServer:
    """The fixture portrait and template on loopback, a different JPEG under every tag: the
    same picture with one corner pixel recoloured from the tag, re-encoded. Each tag is a
    photo the mock has never seen, of the same size and with the same face."""

    def __init__(self) -> None:
        self._made: dict[str, bytes] = {}
        self._lock = threading.Lock()
        photos = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                data = photos.photo(self.path.split("?")[0].strip("/"))
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._http.server_address[1]}"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def photo(self, path: str) -> bytes:
        """`<tag>/<fixture name>`: that fixture, made different by the tag."""
        with self._lock:
            if path not in self._made:
                tag, _, name = path.partition("/")
                with Image.open(FIXTURES / name) as image:
                    picture = image.convert("RGB")
                picture.putpixel((0, 0), tuple(hashlib.blake2b(tag.encode()).digest()[:3]))
                out = io.BytesIO()
                picture.save(out, "JPEG", quality=90)
                self._made[path] = out.getvalue()
            return self._made[path]

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def image_body(photos: PhotoServer, tag: str, query: str = "") -> dict[str, Any]:
    return {"model": "facechain-generation", "parameters": {"style": IMAGE_STYLE, "n": 1},
            "input": {"template_url": f"{photos.base}/{tag}/template.jpg{query}",
                      "user_urls": [f"{photos.base}/{tag}/face.jpg{query}"]}}


def image_request_ms(server: Server, body: dict[str, Any], key: str) -> float:
    """Submit + the query that waits for the input check; checks the task was accepted."""
    # Limits are on (as shipped): one key per task stays inside the per-account submit rate.
    headers = (("Authorization", f"Bearer sk-image-{key}"), *servers.DASHSCOPE_HEADERS[1:])
    started = time.perf_counter()
    answer = servers.http("POST", server.base + SUBMIT_PATH, body, headers)
    task_id = answer["output"]["task_id"]
    status = servers.http("GET", f"{server.base}/api/v1/tasks/{task_id}", None, headers)["output"]
    elapsed = (time.perf_counter() - started) * 1000
    if status["task_status"] not in ("PENDING", "RUNNING", "SUCCEEDED"):
        raise RuntimeError(f"image task did not pass its input check: {status}")
    return elapsed


def one_mock(settle_s: float, photos: PhotoServer) -> dict[str, float]:
    server = servers.spawn_mock("mock")  # as shipped: default SQLite store, limits on
    run = f"{server.port}-{time.monotonic_ns()}"  # every mock process sees new photos
    try:
        figures = {"startup_ms": server.startup_s * 1000, "rss_first_answer_mb": server.rss_mb()}
        time.sleep(settle_s)
        figures["rss_idle_mb"] = server.rss_mb()
        figures["first_image_ms"] = image_request_ms(
            server, image_body(photos, f"{run}-first"), "first")
        warm = [image_request_ms(server, image_body(photos, f"{run}-warm{i}"), f"warm{i}")
                for i in range(5)]
        figures["warm_image_ms"] = statistics.median(warm)
        seen = [image_request_ms(server, image_body(photos, f"{run}-warm{i}", "?again"),
                                 f"seen{i}") for i in range(5)]
        figures["seen_image_ms"] = statistics.median(seen)
        figures["rss_after_images_mb"] = server.rss_mb()
        return figures
    finally:
        server.stop()


def one_floor() -> dict[str, float]:
    server = servers.spawn_floor()
    try:
        return {"startup_ms": server.startup_s * 1000, "rss_first_answer_mb": server.rss_mb()}
    finally:
        server.stop()


def compile_bytecode() -> None:
    """Write the package's .pyc files first, as pip does when it installs a wheel: start-up is
    then not measured compiling the sources (with PYTHONDONTWRITEBYTECODE set, as on some
    machines, an editable install would compile them again at every start)."""
    import mockserver

    compileall.compile_dir(Path(mockserver.__file__).parent, quiet=1)


def run(repeats: int = 3, settle_s: float = 3.0) -> dict[str, Any]:
    compile_bytecode()
    floors, mocks = [], []
    photos = PhotoServer()
    try:
        for _ in range(repeats):  # interleaved, so both see the same machine
            floors.append(one_floor())
            mocks.append(one_mock(settle_s, photos))
    finally:
        photos.close()
    floor = {k: statistics.median(f[k] for f in floors) for k in floors[0]}
    mock = {k: statistics.median(m[k] for m in mocks) for k in mocks[0]}
    mock["startup_ratio"] = mock["startup_ms"] / floor["startup_ms"]
    mock["first_image_ratio"] = mock["first_image_ms"] / mock["warm_image_ms"]
    return {"repeats": repeats, "settle_s": settle_s, "floor": floor, "mock": mock,
            "mock_runs": mocks, "floor_runs": floors}


def print_result(result: dict[str, Any]) -> None:
    floor, mock = result["floor"], result["mock"]
    print(f"\nstart-up to first answer (median of {result['repeats']} fresh processes)")
    print(f"  floor {floor['startup_ms']:.0f} ms, RSS {floor['rss_first_answer_mb']:.1f} MB")
    print(f"  mockserver serve {mock['startup_ms']:.0f} ms ({mock['startup_ratio']:.1f}x floor), "
          f"RSS at first answer {mock['rss_first_answer_mb']:.1f} MB, "
          f"after {result['settle_s']:g} s idle {mock['rss_idle_mb']:.1f} MB, "
          f"after image checks {mock['rss_after_images_mb']:.1f} MB")
    print(f"  first image-bearing submit+query {mock['first_image_ms']:.0f} ms, warm (new "
          f"photos) {mock['warm_image_ms']:.0f} ms ({mock['first_image_ratio']:.1f}x), photos "
          f"already checked {mock['seen_image_ms']:.0f} ms")


if __name__ == "__main__":
    print_result(run(1, 1.0))
