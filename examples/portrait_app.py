"""A tiny application under test: it orders an AI portrait from DashScope over plain httpx.

It knows nothing about the mock. Production code reads the base URL from the environment with
the real host as the default, which is all a test needs to point it elsewhere (plugin mode), or
not even that (respx mode answers the real host in-process).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import httpx

REAL_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"
LORA = [{"resource_id": "my-face-lora", "resource_type": "facelora"}]


class PortraitError(Exception):
    """DashScope refused the order or the task failed; `code` is the vendor's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class PortraitClient:
    api_key: str
    base_url: str = field(
        default_factory=lambda: os.environ.get("DASHSCOPE_HTTP_BASE_URL", REAL_BASE_URL))
    poll_seconds: float = 1.0

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def order(self, style: str = "f_idcard_female", n: int = 1) -> str:
        """Submit a portrait task; returns its task id."""
        body = {"model": "facechain-generation", "parameters": {"style": style, "n": n},
                "resources": LORA}
        answer = httpx.post(f"{self.base_url}/services/aigc/album/gen_potrait", json=body,
                            headers={**self._headers(), "X-DashScope-Async": "enable"})
        if answer.status_code != 200:
            raise PortraitError(answer.json()["code"], answer.json()["message"])
        return str(answer.json()["output"]["task_id"])

    def status(self, task_id: str) -> dict[str, object]:
        answer = httpx.get(f"{self.base_url}/tasks/{task_id}", headers=self._headers())
        answer.raise_for_status()
        return dict(answer.json()["output"])

    def result_urls(self, task_id: str, timeout: float = 600.0) -> list[str]:
        """Poll until the task ends; the result image URLs, or PortraitError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.status(task_id)
            if output["task_status"] == "SUCCEEDED":
                return [r["url"] for r in output["results"]]  # type: ignore[attr-defined]
            if output["task_status"] in ("FAILED", "CANCELED", "UNKNOWN"):
                raise PortraitError(str(output.get("code", output["task_status"])),
                                    str(output.get("message", "")))
            time.sleep(self.poll_seconds)
        raise TimeoutError(task_id)
