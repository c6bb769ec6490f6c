"""Exchanges as HAR 1.2 (what browsers' developer tools read), secrets masked."""
from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .masking import Masker
from .targets import Exchange

CREATOR = {"name": "portrait-mockserver contract proxy", "version": "1"}


def entry(ex: Exchange, started: float, elapsed_ms: float, masker: Masker) -> dict[str, Any]:
    url = masker.text(ex.url)
    request_type = ex.request_headers.get("content-type", "")
    return {
        "startedDateTime": datetime.datetime.fromtimestamp(started, datetime.UTC)
        .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "time": round(elapsed_ms, 3),
        "request": {
            "method": ex.method, "url": url, "httpVersion": "HTTP/1.1",
            "headers": _headers(masker.headers(ex.request_headers)),
            "queryString": [{"name": k, "value": v}
                            for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
            "cookies": [], "headersSize": -1, "bodySize": len(ex.request_body),
            **({"postData": {"mimeType": request_type, "text": _text(ex.request_body, masker)}}
               if ex.request_body else {}),
        },
        "response": {
            "status": ex.status, "statusText": "", "httpVersion": "HTTP/1.1",
            "headers": _headers(masker.headers(ex.headers)), "cookies": [],
            "content": {"size": len(ex.content), "mimeType": ex.content_type,
                        "text": _text(ex.content, masker)},
            "redirectURL": "", "headersSize": -1, "bodySize": len(ex.content),
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(elapsed_ms, 3), "receive": 0},
    }


def write(path: Path, entries: list[dict[str, Any]]) -> None:
    doc = {"log": {"version": "1.2", "creator": CREATOR, "entries": entries}}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def _headers(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in headers.items()]


def _text(data: bytes, masker: Masker) -> str:
    return masker.text(data.decode("utf-8", "replace"))
