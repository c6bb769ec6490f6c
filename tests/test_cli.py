"""`python -m mockserver serve`: the banner names the real URL and every vendor's setting."""
from __future__ import annotations

import subprocess
import sys
import time

import httpx

from mockserver.emulator import Emulator
from mockserver.providers import vendor_names
from mockserver.settings import Settings


def test_serve_on_a_free_port_prints_where_and_how(tmp_path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--store", "memory",
         "--log-level", "warning"], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        # The header lines, then one hint per vendor (a hint may span lines).
        hints = [p.setup_hint("") for p in Emulator(Settings()).providers.values()]
        lines = 3 + sum(hint.count("\n") + 1 for hint in hints)
        banner = [proc.stdout.readline() for _ in range(lines)]
        url = banner[0].split("listening on ")[1].strip()
        assert not url.endswith(":0")
        assert "dashscope.base_http_api_url = " in "".join(banner)
        assert "DASHSCOPE_HTTP_BASE_URL" in "".join(banner)
        assert f"dashscope.Client(base_url='{url}/api/v1')" in "".join(banner)
        assert "DASHSCOPE_BASE_URL" in "".join(banner)
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


def test_a_bad_config_stops_serve_with_one_line(tmp_path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('[vendors.dashscope.accounts]\nteam = "sk-1"\n')
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--config", str(config), "--port", "0",
         "--store", "memory"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "[vendors.dashscope.accounts] team: give a non-empty list of keys" in done.stderr


def test_a_refused_vendor_option_stops_serve_with_one_line(tmp_path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('[vendors.tencent]\ndownload_error_code = "Oops"\n')
    done = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--port", "0",
                           "--store", "memory", "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "mockserver: [vendors.tencent] download_error_code must be one of "
        "FailedOperation.DownloadError, FailedOperation.ImageDownloadError, not 'Oops'"]
