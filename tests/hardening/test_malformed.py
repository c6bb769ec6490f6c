"""The hand-written malformed-input table (issue 15): every request a hostile or careless client
could send, against a real server. None may answer an unintended 5xx, and nothing may be
logged at ERROR (a traceback is a bug even when the answer looked right).

Each row is (name, method, path, headers, body). Rows are grouped by door; Tencent rows are
signed, so the signature is no excuse for reaching only the first check.
"""
from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.providers.tencent.signing import sign_request
from mockserver.settings import Settings
from mockserver.testing import ServerThread

from .conftest import SECRET_ID, SECRET_KEY, ErrorLog, tencent_request

Row = tuple[str, str, str, dict[str, str], bytes]
BEARER = {"Authorization": "Bearer sk-fuzz"}
JSON = {"content-type": "application/json"}
DEEP = b"[" * 1500 + b"]" * 1500
HOSTILE_JSON = [b"", b"{", b"null", b"[]", b'"x"', b"1e400", b'{"a": NaN}', b"[Infinity]",
                DEEP, b'{"a":' * 300 + b"1" + b"}" * 300, b"\xff\xfe\x00", b'{"\\ud800": 1}',
                b"1" * 5000, json.dumps({"x": "y" * 100_000}).encode()]
# Documented 5xx answers (a vendor's own internal or upstream errors): fidelity, not a crash.
DOCUMENTED_5XX = {("acedata", "api_error"), ("acedata", "timeout")}


def vendor_rows() -> list[Row]:
    rows: list[Row] = []
    doors = [("acedata generate", "POST", "/headshots/generate", {**BEARER, **JSON}),
             ("acedata tasks", "POST", "/headshots/tasks", {**BEARER, **JSON}),
             ("dashscope submit", "POST", "/api/v1/services/aigc/album/gen_potrait",
              {**BEARER, **JSON, "X-DashScope-Async": "enable"}),
             ("gptge create", "POST", "/task/pic/idphoto", {**BEARER, **JSON})]
    for name, method, path, headers in doors:
        rows += [(f"{name}: {body[:12]!r}", method, path, headers, body) for body in HOSTILE_JSON]
    fields: list[Any] = [None, True, -1, 1e308, "", "x" * 5000, [], {}, [[[]]], {"a": {}},
                         ["http://169.254.169.254/"], ["http://[::1"], ["file:///etc/passwd"]]
    for value in fields:
        for key in ("image_urls", "template", "mode", "callback_url", "async", "id", "ids",
                    "action"):
            body = json.dumps({"template": "business_photo", "image_urls": ["x"], key: value,
                               "async": True}).encode()
            rows.append((f"acedata {key}={value!r:.20}", "POST", "/headshots/generate",
                         {**BEARER, **JSON}, body))
        for key in ("model", "input", "parameters", "resources"):
            body = json.dumps({"model": "facechain-generation", key: value}).encode()
            rows.append((f"dashscope {key}={value!r:.20}", "POST",
                         "/api/v1/services/aigc/album/gen_potrait",
                         {**BEARER, **JSON, "X-DashScope-Async": "enable"}, body))
    for query in ("page_no=-1", "page_size=99999999999999999999", "start_time=1e400",
                  "status=%00", "page_no=%C2%B2", "end_time=9" * 30, "model_name=" + "x" * 5000):
        rows.append((f"dashscope list {query[:20]}", "GET", f"/api/v1/tasks?{query}", BEARER,
                     b""))
    for task_id in ("%00", "x" * 300, "..%2F..%2Fetc", "%C2%B2"):
        rows += [(f"dashscope query {task_id[:10]}", "GET", f"/api/v1/tasks/{task_id}",
                  BEARER, b""),
                 (f"gptge query {task_id[:10]}", "GET", f"/task/{task_id}", BEARER, b"")]
    form = "multipart/form-data; boundary=b"
    for body in (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n", b"--b",
                 b"--b\r\nContent-Disposition: form-data; name=\"image_file\"; filename=\"a\""
                 b"\r\n\r\n\x00\x01\r\n--b--\r\n", b"\x00" * 1000):
        rows.append((f"gptge multipart {body[:10]!r}", "POST", "/task/pic/idphoto",
                     {**BEARER, "content-type": form}, body))
    for value in ("%00", "99999x99999", "1e400x1", "²x²", "x" * 600, "http://[::1", "-1"):
        for key in ("size", "image_url", "sync", "return_type", "callback_url", "bg_color"):
            rows.append((f"gptge {key}={value[:10]}", "POST", "/task/pic/idphoto",
                         {**BEARER, "content-type": "application/x-www-form-urlencoded"},
                         f"{key}={value}&image_url=http://127.0.0.1:9/a.jpg".encode()))
    for auth in ("Bearer", "Bearer  ", "Basic x", "Bearer a b", "Bearer \x7f", "x" * 9000):
        rows.append((f"auth {auth[:10]!r}", "POST", "/headshots/tasks",
                     {"Authorization": auth, **JSON}, b'{"id": "x"}'))
    return rows


def tencent_rows(host: str) -> list[Row]:
    rows: list[Row] = []
    for body in HOSTILE_JSON:
        headers, signed = tencent_request(host, "SubmitGlamPicJob", body=body)
        rows.append((f"tencent json {body[:12]!r}", "POST", "/", headers, signed))
    for stamp in ("1e400", "²", "9" * 5000, "-1", "", " ", "0x10", str(10 ** 30), "1.5"):
        headers, signed = tencent_request(host, "QueryGlamPicJob", {"JobId": "x"})
        headers["X-TC-Timestamp"] = stamp
        rows.append((f"tencent timestamp {stamp[:10]!r}", "POST", "/", headers, signed))
    for key in ("FaceInfos." + ".".join(["0"] * 5000), "FaceInfos.%C2%B2", "FaceInfos.9999999999",
                "." * 50, "Num", "Num=%FF", "Similarity", "%00", "a" * 5000, "Style.0.0.0.0"):
        query = f"Action=QueryGlamPicJob&Version=2022-12-29&Region=ap-guangzhou&{key}=1"
        rows.append((f"tencent v1 key {key[:16]!r}", "GET", f"/?{query}&Timestamp=1&Nonce=1"
                     f"&SecretId={SECRET_ID}&Signature=x", {}, b""))
        query = f"TemplateUrl=http%3A%2F%2F127.0.0.1%3A9%2Ft.jpg&{key}=1"
        headers, _ = sign_request(secret_id=SECRET_ID, secret_key=SECRET_KEY, host=host,
                                  action="SubmitGlamPicJob", timestamp=int(time.time()),
                                  method="GET", query=query)
        rows.append((f"tencent GET key {key[:16]!r}", "GET", f"/?{query}", headers, b""))
    for value in ("NaN", "1e400", "-0", "9" * 400, "Infinity", "0x1"):
        headers, signed = tencent_request(host, "SubmitGlamPicJob", body=(
            '{"TemplateUrl": "http://127.0.0.1:9/t.jpg", "FaceInfos": [{"ImageUrls": ["x"]}],'
            f' "Similarity": {value}}}').encode())
        rows.append((f"tencent Similarity {value[:10]}", "POST", "/", headers, signed))
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        rows.append((f"tencent {method}", method, "/", {}, b""))
    assert SECRET_KEY  # the rows above are signed with the default pair
    return rows


def admin_rows() -> list[Row]:
    rows: list[Row] = []
    for body in HOSTILE_JSON:
        for path in ("/__admin/clock/advance", "/__admin/faults", "/__admin/requests/count"):
            rows.append((f"admin {path} {body[:10]!r}", "POST", path, JSON, body))
    rule_values: list[Any] = [["acedata"], {"a": 1}, 1e308, -1, True, None, "x" * 5000, [], 0]
    for field in ("vendor", "operation", "account", "body", "effect", "code", "message",
                  "latency", "times", "probability", "seed"):
        for value in rule_values:
            rule = {"vendor": "acedata", "effect": "error", "code": "api_error", field: value}
            rows.append((f"fault {field}={value!r:.16}", "POST", "/__admin/faults", JSON,
                         json.dumps(rule).encode()))
    for value in (["acedata"], {"x": 1}, 1, None, "²xx", "4xx", "x" * 3000, "(a+)+$", "(?=a)"):
        for field in ("vendor", "status", "since", "until", "path_regex", "body", "injected",
                      "near_miss", "limit", "method"):
            rows.append((f"count {field}={value!r:.16}", "POST", "/__admin/requests/count",
                         JSON, json.dumps({field: value}).encode()))
    for query in ("status=%C2%B2", "status=5xx", "since=1e400", "until=nan", "limit=-5",
                  "limit=" + "9" * 5000, "path_regex=(", "path_regex=" + "a" * 2000,
                  "injected=maybe", "body=x", "account=%00", "unknown=1"):
        for path in ("/__admin/requests", "/__admin/requests.har"):
            rows.append((f"journal {path} {query[:16]}", "GET", f"{path}?{query}", {}, b""))
    for name in ("x" * 300, "..%2Fsecret", "%00", ".hidden", "a/b", "face.jpg%00.png",
                 "x" * 255 + ".jpg"):
        rows.append((f"fixture {name[:12]}", "GET", f"/__admin/fixtures/{name}", {}, b""))
    for path in ("/__admin/callbacks/x" * 40, "/__admin/callbacks/%00/redeliver",
                 "/__admin/faults/" + "f" * 300, "/__admin/tasks?limit=%C2%B2",
                 "/__admin/openapi/x" * 20 + ".json", "/results/a/b/" + "c" * 300,
                 "/results/%00/%00/%00"):
        rows.append((f"admin path {path[:24]}", "GET", path, {}, b""))
    return rows


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    settings = Settings(validate_responses=True, time_scale=1000.0,
                        vendors={"acedata": {"input_check_seconds": 2.0}})
    with ServerThread(settings) as running:
        yield running


def raw_request(base_url: str, method: str, path: str, headers: dict[str, str],
                body: bytes) -> int:
    """One request as the bytes of HTTP/1.1 (a path httpx would normalise goes out as is);
    the status code answered, or 0 when the server closed without one."""
    host, port = base_url.split("://", 1)[1].split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items()
                                                 if k.lower() not in ("host", "content-length"))]
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall("\r\n".join(lines).encode("latin-1", "replace") + b"\r\n\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    if not answer:
        return 0
    return int(answer.split(b" ", 2)[1])


def test_the_malformed_table_answers_no_unintended_5xx(server: ServerThread,
                                                       error_log: ErrorLog) -> None:
    host = server.base_url.split("://", 1)[1]
    rows = vendor_rows() + tencent_rows(host) + admin_rows()
    started = time.perf_counter()
    crashes = []
    journal = server.emulator.journal
    for name, method, path, headers, body in rows:
        before = journal.entries()[0].id if journal.entries() else 0
        status = raw_request(server.base_url, method, path, headers, body)
        entries = [e for e in journal.entries() if e.id > before]
        codes = {(e.vendor, _error_code(e.response)) for e in entries}
        internal = {(v, c) for v, c in codes if v is not None and
                    c == server.emulator.providers[v].internal_error_code}
        if status == 0 or internal - DOCUMENTED_5XX or (
                status >= 500 and not codes & DOCUMENTED_5XX):
            crashes.append(f"{name}: HTTP {status} {sorted(map(str, codes))}")
    elapsed = time.perf_counter() - started
    print(f"malformed table: {len(rows)} requests in {elapsed:.1f} s")
    assert not crashes, crashes[:20]
    assert error_log.records == [], error_log.records[:5]
    assert server.emulator.schema_violations == [], server.emulator.schema_violations[:3]
    assert httpx.get(f"{server.base_url}/__admin/health").status_code == 200
    assert len(rows) > 600


def _error_code(response: Any) -> str | None:
    """The error code of any vendor's envelope (gpt.ge's has none: its HTTP status)."""
    if not isinstance(response, dict):
        return None
    if isinstance(response.get("error"), dict):
        return response["error"].get("code")
    error = response.get("Response", {}).get("Error") if isinstance(
        response.get("Response"), dict) else None
    if isinstance(error, dict):
        return error.get("Code")
    if isinstance(response.get("code"), str):
        return response["code"]
    if response.get("status") == 500:
        return "internal_error"
    return None
