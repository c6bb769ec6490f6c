"""`python -m mockserver serve`: the banner names the real URL and every vendor's setting."""
from __future__ import annotations

import subprocess
import sys
import time

import httpx

from mockserver.providers import vendor_names


def test_serve_on_a_free_port_prints_where_and_how(tmp_path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--store", "memory",
         "--log-level", "warning"], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(3 + len(vendor_names()))]
        url = banner[0].split("listening on ")[1].strip()
        assert not url.endswith(":0")
        assert "dashscope.base_http_api_url = " in "".join(banner)
        assert "HttpProfile(endpoint=" in "".join(banner)
        for _ in range(100):
            try:
                health = httpx.get(f"{url}/__admin/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        vendors = health.json()["vendors"]
        assert vendors == list(vendor_names())  # a new vendor needs no edit here
        assert {"acedata", "dashscope", "gptge", "tencent"} <= set(vendors)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_version_flag() -> None:
    done = subprocess.run([sys.executable, "-m", "mockserver", "--version"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip()
