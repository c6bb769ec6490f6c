"""Admin API protection: with a token, every /__admin route but health and the fixtures needs
it (result files are no admin route); the banner warns about an open admin API beyond loopback;
the test handles (pytest plugin, in-process mode) send the token they were configured with."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mockserver.features.admin_guard import admin_warning
from mockserver.respx_mode import PUBLIC_URL, InProcessMock
from mockserver.serving import banner
from mockserver.settings import Settings, load_settings
from mockserver.testing import ServerThread

from .conftest import App, started

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-admin-token"
GUARDED = [("POST", "/__admin/reset"), ("GET", "/__admin/clock"),
           ("POST", "/__admin/clock/advance"), ("GET", "/__admin/tasks"),
           ("GET", "/__admin/requests"), ("GET", "/__admin/requests.har"),
           ("POST", "/__admin/requests/count"), ("GET", "/__admin/faults"),
           ("POST", "/__admin/faults"), ("GET", "/__admin/callbacks"),
           ("POST", "/__admin/callbacks/drain"), ("GET", "/__admin/openapi/dashscope.json"),
           ("GET", "/__admin/schema-violations"), ("GET", "/__admin/no-such-route"),
           ("GET", "/__admin")]


async def test_every_admin_route_but_health_and_fixtures_needs_the_token() -> None:
    async with started(Settings(admin_token=TOKEN)) as running:
        client = running.client
        for method, path in GUARDED:
            for headers in ({}, {"X-Admin-Token": "wrong"}, {"Authorization": "Bearer nope"}):
                answer = await client.request(method, path, headers=headers, json={})
                assert answer.status_code == 401, (method, path, answer.text)
                assert "admin token" in answer.json()["error"]
        assert (await client.get("/__admin/health")).status_code == 200
        assert (await client.get("/__admin/fixtures")).status_code == 200
        assert (await client.get("/__admin/fixtures/face.jpg")).status_code == 200
        for headers in ({"X-Admin-Token": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}):
            assert (await client.get("/__admin/tasks", headers=headers)).status_code == 200
        # Vendor routes and result files are not admin routes.
        submitted = await client.post("/api/v1/services/aigc/album/gen_potrait", json={
            "model": "facechain-generation", "parameters": {"style": "f_idcard_female"},
            "resources": [{"resource_id": "r", "resource_type": "facelora"}]},
            headers={"Authorization": "Bearer sk-t", "X-DashScope-Async": "enable"})
        assert submitted.status_code == 200
        running.emulator.clock.advance(60)
        task_id = submitted.json()["output"]["task_id"]
        result = await client.get(f"/results/dashscope/{task_id}/0.jpg")
        assert result.status_code == 200


async def test_without_a_token_the_admin_api_is_open(app: App) -> None:
    assert (await app.client.post("/__admin/reset")).status_code == 200


def test_the_banner_warns_when_the_admin_api_is_open_beyond_loopback() -> None:
    assert admin_warning(Settings(host="127.0.0.1")) is None
    assert admin_warning(Settings(host="0.0.0.0", admin_token=TOKEN)) is None
    for host in ("0.0.0.0", "::", "192.168.1.5", "mock.internal"):
        warning = admin_warning(Settings(host=host))
        assert warning is not None and "no admin token" in warning
        assert warning in banner(Settings(host=host), [])
    assert "token required" in banner(Settings(admin_token=TOKEN), [])


def test_the_token_comes_from_flag_env_or_config(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('[server]\nadmin_token = "from-config"\n[fetch]\nmode = "shared"\n')
    assert load_settings({"config_path": str(config)}, env={}).admin_token == "from-config"
    assert load_settings({"config_path": str(config)}, env={}).fetch_mode == "shared"
    env = {"MOCKSERVER_ADMIN_TOKEN": "from-env", "MOCKSERVER_FETCH_MODE": "single"}
    assert load_settings({"config_path": str(config)}, env=env).admin_token == "from-env"
    assert load_settings({"admin_token": "from-flag"}, env=env).admin_token == "from-flag"


def test_serve_with_a_token_guards_and_warns(tmp_path: Path) -> None:
    from mockserver.testing import free_port

    port = free_port()
    env = {**os.environ, "MOCKSERVER_ADMIN_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", str(port),
                             "--store", "memory", "--log-level", "warning"],
                            stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    try:
        assert proc.stdout is not None
        head = [proc.stdout.readline() for _ in range(3)]
        assert "token required" in "".join(head)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/__admin/health", timeout=1)
                break
            except httpx.TransportError:
                pass
        assert httpx.post(f"{base}/__admin/reset").status_code == 401
        assert httpx.post(f"{base}/__admin/reset", headers={"X-Admin-Token": TOKEN}
                          ).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_test_handles_send_the_token() -> None:
    from mockserver.pytest_plugin import PortraitMock

    with ServerThread(Settings(admin_token=TOKEN)) as server:
        handle = PortraitMock(server)
        try:
            handle.drain_callbacks()  # POSTs /__admin/callbacks/drain with the token
            assert handle.http.get("/__admin/tasks").status_code == 200
        finally:
            handle.close()
    with InProcessMock(Settings(admin_token=TOKEN)) as mock:
        assert httpx.get(f"{PUBLIC_URL}/__admin/tasks").status_code == 200
        mock.drain_callbacks()
