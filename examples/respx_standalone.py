"""respx mode outside pytest: a script (or a unittest, or a notebook) whose httpx calls to
the real vendor hostnames are answered by an emulator inside this process. Nothing to start.

    python examples/respx_standalone.py
"""
from __future__ import annotations

import httpx

from mockserver.respx_mode import InProcessMock

HEADERS = {"Authorization": "Bearer sk-example"}


def main() -> None:
    with InProcessMock() as mock:
        body = {"mode": "fast", "template": "business_photo", "async": True,
                "image_urls": ["https://cdn.example.com/me.jpg"]}
        accepted = httpx.post("https://api.acedata.cloud/headshots/generate", json=body,
                              headers=HEADERS).json()
        print("AceData task", accepted["task_id"])
        mock.advance(600)  # past the fast channel's 1-2 minutes
        record = httpx.post("https://api.acedata.cloud/headshots/tasks", headers=HEADERS,
                            json={"action": "retrieve", "id": accepted["task_id"]}).json()
        image_url = record["response"]["data"][0]["image_url"]
        image = httpx.get(image_url)
        print("result", image_url, image.headers["content-type"], len(image.content), "bytes")
        print("journal:", [(e.vendor, e.operation, e.status) for e in reversed(mock.requests())])


if __name__ == "__main__":
    main()
