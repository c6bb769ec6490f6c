#!/usr/bin/env python3
"""Screenshots of the dashboard's main pages, into docs/dashboard/ (shown by docs/dashboard.md).

    .venv/bin/python scripts/dashboard_screenshots.py [--out docs/dashboard]

Starts the mock on a free loopback port, makes every vendor do something through its real API
(a template-mode DashScope task with judged inputs, a failing one, AceData with a delivered and
an undeliverable callback, a Tencent job through the official SDK, a gpt.ge ID photo from an
upload, an injected fault, a near miss), advances the clock, then photographs each page with
headless Chromium. Needs the test extra and the Debian chromium packages (`python3 dev.py test`
installs both).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mockserver.dashboard.browser import Browser, missing  # noqa: E402
from mockserver.settings import Settings  # noqa: E402
from mockserver.testing import CallbackReceiver, MockHandle, ServerThread, fixture_url  # noqa: E402

DASHSCOPE = "/api/v1/services/aigc/album/gen_potrait"
ALICE = {"Authorization": "Bearer sk-alice-demo", "X-DashScope-Async": "enable"}
CAROL = {"Authorization": "Bearer sk-carol-demo", "X-DashScope-Async": "enable"}
BOB = {"Authorization": "Bearer sk-bob-demo"}


def dashscope_body(base: str, user: str | None = None) -> dict[str, object]:
    if user is None:
        return {"model": "facechain-generation", "parameters": {"style": "f_idcard_female", "n": 2},
                "resources": [{"resource_id": "women_model", "resource_type": "facelora"}]}
    return {"model": "facechain-generation",
            "parameters": {"style": "train_free_portrait_url_template", "n": 1},
            "input": {"template_url": fixture_url(base, "template.jpg"),
                      "user_urls": [fixture_url(base, user)]}}


def tencent_job(base: str, server: ServerThread) -> None:
    from tencentcloud.aiart.v20221229 import models

    handle = MockHandle(server.emulator, base)
    request = models.SubmitGlamPicJobRequest()
    user = {"ImageUrls": [fixture_url(base, "face.jpg")]}
    request.from_json_string(json.dumps({"TemplateUrl": fixture_url(base, "template.jpg"),
                                         "FaceInfos": [user], "Num": 2}))
    handle.tencent_client().SubmitGlamPicJob(request)


def seed(server: ServerThread, hook: str) -> str:
    """Traffic through the vendors' APIs; returns the id of the task to show in detail."""
    base = server.base_url
    with httpx.Client(base_url=base, timeout=60) as client:
        def post(path: str, **kwargs: object) -> httpx.Response:
            answer = client.post(path, **kwargs)  # type: ignore[arg-type]
            answer.raise_for_status()
            return answer

        shown = post(DASHSCOPE, json=dashscope_body(base, "face.jpg"), headers=ALICE).json()
        post(DASHSCOPE, json=dashscope_body(base, "no_face.jpg"), headers=ALICE)
        post(DASHSCOPE, json=dashscope_body(base), headers=CAROL)  # 2 submits/s per key
        post("/headshots/generate", headers=BOB, json={
            "template": "business_photo", "image_urls": [fixture_url(base, "face.png")],
            "callback_url": hook})
        post("/headshots/generate", headers=BOB, json={
            "template": "wedding", "image_urls": ["https://cdn.example.com/me.jpg"],
            "callback_url": "http://127.0.0.1:9/unreachable"})
        post("/task/pic/idphoto", headers=BOB, data={"size": "295x413", "bg_color": "438EDB"},
             files={"image_file": ("me.jpg", (ROOT / "fixtures/images/face.jpg").read_bytes())})
        tencent_job(base, server)
        post("/__admin/faults", json={"vendor": "dashscope", "operation": "gen_potrait",
                                      "effect": "error", "code": "Throttling.RateQuota",
                                      "account": "sk-carol-demo", "times": 3})
        post("/__admin/faults", json={"vendor": "gptge", "effect": "latency", "latency": 0.5})
        client.post(DASHSCOPE, json=dashscope_body(base), headers=CAROL)  # the fault: 429
        client.get("/api/v1/task/no-such-path", headers=ALICE)  # a near miss
        for task in server.emulator.store.list_tasks():
            client.get(f"/api/v1/tasks/{task.id}", headers=ALICE)
        post("/__admin/clock/advance", json={"seconds": 90})
        post("/__admin/callbacks/drain")
        post(DASHSCOPE, json=dashscope_body(base), headers=ALICE)  # one still queued
        return str(shown["output"]["task_id"])


PAGES = (("overview", "/__admin/"), ("tasks", "/__admin/ui/tasks"),
         ("task", "/__admin/ui/tasks/{task}"), ("journal", "/__admin/ui/journal?limit=12"),
         ("callbacks", "/__admin/ui/callbacks?vendor=acedata"), ("faults", "/__admin/ui/faults"),
         ("clock", "/__admin/ui/clock"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard")
    args = parser.parse_args()
    if (problem := missing()) is not None:
        print(f"cannot take screenshots: {problem}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with CallbackReceiver() as receiver, ServerThread(Settings(time_scale=0.0001)) as server:
        task_id = seed(server, receiver.url)
        browser = Browser(1280, 800)
        try:
            for name, path in PAGES:
                browser.driver.get(server.base_url + path.format(task=task_id))
                browser.driver.execute_script(
                    "return Promise.all([...document.images].map(i => i.decode().catch(() => 0)))")
                if name == "journal":  # show one request/response pair opened
                    browser.driver.execute_script("document.querySelector('details').open = true")
                target = args.out / f"{name}.png"
                browser.screenshot(target)
                shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
                print(f"wrote {shown}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
