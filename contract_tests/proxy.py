"""`mockserver proxy`: a validating proxy between an app and a vendor (or a mock).

    mockserver proxy --vendor V --upstream URL [--port P] [--report DIR]

The app points its vendor base URL at the proxy. Every exchange is forwarded as it is and
nothing else is sent: the proxy spends exactly what the app spends. Each answer goes through
the kit's checks (status, content type, schema, error codes against the catalogue) and each
task state the app polls through the passive lifecycle rules; findings land in DIR/drift.md
and DIR/drift.xml (the kit's report format), the exchanges in DIR/exchanges.har, secrets
masked. Requests of a vendor that signs them (Tencent TC3, signature v1) are signed again for
the upstream host with the credentials the proxy holds (the vendor's usual environment
variables): the app signs for the proxy's host, with any key pair.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.core.errors import Catalogue
from mockserver.core.operations import OperationSpec, load_operations
from mockserver.core.schemas import SchemaRegistry, schemas_root

from . import har
from .adapters import ADAPTERS, adapter_class
from .adapters.base import Adapter, Credentials
from .budget import Budget
from .checks import Context, run_checks
from .drift import DriftLog
from .lifecycle import check_state
from .masking import Masker
from .targets import Exchange, Target

UPSTREAM_TIMEOUT = httpx.Timeout(330.0, connect=10.0)  # blocking calls may wait minutes
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailers", "transfer-encoding", "upgrade", "host",
                        "content-length", "content-encoding"})
ANY_METHOD = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
HAR_FILE = "exchanges.har"


@dataclass
class ProxySession:
    masker: Masker = field(default_factory=Masker)
    drift: DriftLog = field(default_factory=DriftLog)


class Proxy:
    def __init__(self, vendor: str, upstream: str, report_dir: Path,
                 credentials: Credentials | None = None) -> None:
        cls = adapter_class(vendor)
        if cls is None:
            raise ValueError(f"unknown vendor {vendor!r}; known: {', '.join(ADAPTERS)}")
        self.upstream = upstream.rstrip("/")
        self.report_dir = report_dir
        self.session = ProxySession(drift=DriftLog({vendor: f"live traffic through the proxy "
                                                            f"to {self.upstream}"}))
        self.session.drift.states_required = False
        target = Target(vendor, self.upstream, "live", _NoTransport(), Budget(0),
                        self.session.masker)
        self.adapter: Adapter = cls(self.session, target, list(load_operations(vendor)),
                                    Catalogue.load(schemas_root() / vendor / "catalogue.json"),
                                    SchemaRegistry.shared())
        self.credentials = credentials
        if credentials is not None:
            self.session.masker.add(*credentials.secrets)
        self.routes = [(_pattern(path), spec) for spec in load_operations(vendor)
                       for path in (spec.path, *spec.extra_paths)]
        self.states: dict[str, str] = {}  # task id -> the last state the app was told
        self.entries: list[dict[str, Any]] = []
        self.unmatched: dict[str, None] = {}
        self._client: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()

    # --- forwarding ---------------------------------------------------------------------------

    def app(self) -> Starlette:
        async def forward(request: Request) -> Response:
            return await self.forward(request)

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            yield
            await self.close()

        return Starlette(routes=[Route("/{path:path}", forward, methods=ANY_METHOD)],
                         lifespan=lifespan)

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        query = request.url.query
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        self._learn_secrets(headers)
        if self.credentials is not None:
            query, headers, body = self.adapter.resign(
                request.method, request.url.path, query, headers, body,
                urlsplit(self.upstream).netloc, self.credentials)
        url = f"{self.upstream}{request.url.path}" + (f"?{query}" if query else "")
        started, clock = time.time(), time.perf_counter()
        upstream = httpx.Request(request.method, url, headers=headers, content=body)
        try:
            answer = await self.client().send(upstream)
        except httpx.HTTPError as error:
            return Response(f"proxy: upstream {self.upstream} failed: {error}\n", 502,
                            media_type="text/plain")
        elapsed = (time.perf_counter() - clock) * 1000
        ex = Exchange(request.method, url, dict(upstream.headers), body, answer.status_code,
                      {k.lower(): v for k, v in answer.headers.items()}, answer.content)
        async with self._lock:
            self.check(ex, request.url.path, query)
            self.entries.append(har.entry(ex, started, elapsed, self.session.masker))
            await asyncio.to_thread(self.write)
        out = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        return Response(answer.content, answer.status_code, out)

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT, follow_redirects=False)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        self.write()

    def _learn_secrets(self, headers: dict[str, str]) -> None:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and key.strip():
            self.session.masker.add(key.strip())

    # --- checking -----------------------------------------------------------------------------

    def operation(self, ex: Exchange, path: str, query: str) -> tuple[OperationSpec, dict[str, str]] | None:
        matches = [(spec, m.groupdict()) for pattern, spec in self.routes
                   if spec.method == ex.method and (m := pattern.fullmatch(path))]
        if len(matches) > 1:  # one door for every action: the request names it
            action = self.adapter.action_of(ex.request_headers, query, ex.request_body)
            matches = [(s, p) for s, p in matches if s.operation == action]
        return matches[0] if matches else None

    def check(self, ex: Exchange, path: str, query: str) -> None:
        found = self.operation(ex, path, query)
        if found is None:
            self.unmatched.setdefault(f"{ex.method} {path}", None)
            self.session.drift.notes = [f"not in the operations file (forwarded, not checked): "
                                        f"{', '.join(self.unmatched)}"]
            return
        spec, params = found
        findings = run_checks(Context(self.adapter, spec), ex)
        if findings:
            return
        self.follow_task(spec, params, ex)

    def follow_task(self, spec: OperationSpec, params: dict[str, str], ex: Exchange) -> None:
        """The passive lifecycle check: the state the app is told for a task must follow the
        last one it was told by a documented transition (terminal states stay terminal)."""
        adapter = self.adapter
        if spec.operation not in (adapter.submit_op, adapter.poll_op):
            return
        task = params.get("task_id") or adapter.task_id(ex) or adapter.request_task_id(ex)
        state = adapter.state(ex)
        if task is None or state is None:
            return
        try:
            check_state(adapter, spec.operation, self.states.get(task), state,
                        adapter.has_results(ex), ex)
        except AssertionError:  # the finding is in the drift log
            return
        adapter.observed(state)
        self.states[task] = state

    def write(self) -> None:
        self.report_dir.mkdir(parents=True, exist_ok=True)
        har.write(self.report_dir / HAR_FILE, self.entries)
        self.session.drift.write(self.report_dir)


class _NoTransport:
    """The proxy's adapter never sends anything of its own."""

    def send(self, request: httpx.Request) -> httpx.Response:
        raise AssertionError("the validating proxy sends only the app's requests")

    def close(self) -> None:
        pass


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", path)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(regex)


def held_credentials(vendor: str) -> Credentials | None:
    """A signing vendor's key pair from its usual environment variables, if set."""
    cls = adapter_class(vendor)
    if cls is None or not cls.signs_requests:
        return None
    values = tuple(os.environ.get(name, "") for name in cls.credential_env)
    return Credentials("proxy", values) if all(values) else None


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="mockserver proxy", description=__doc__.splitlines()[0])
    found.add_argument("--vendor", required=True, choices=ADAPTERS)
    found.add_argument("--upstream", required=True, metavar="URL",
                       help="the vendor's base URL (or a mock's)")
    found.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    found.add_argument("--port", type=int, default=8899, help="port (default 8899)")
    found.add_argument("--report", default="proxy-report", metavar="DIR",
                       help="where drift.md, drift.xml and exchanges.har go (default proxy-report/)")
    return found


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    args = parser().parse_args(argv)
    if not args.upstream.startswith(("http://", "https://")):
        print(f"mockserver proxy: --upstream {args.upstream!r} is not an http(s) URL",
              file=sys.stderr)
        return 2
    credentials = held_credentials(args.vendor)
    cls = adapter_class(args.vendor)
    assert cls is not None
    proxy = Proxy(args.vendor, args.upstream, Path(args.report), credentials)
    signing = ""
    if cls.signs_requests:
        signing = (f"; requests re-signed with {cls.credential_env[0]}" if credentials else
                   f"; {' and '.join(cls.credential_env)} not set: requests are forwarded "
                   "with the app's own signature")
    print(f"mockserver proxy: {args.vendor} at http://{args.host}:{args.port} -> "
          f"{proxy.upstream}{signing}; findings in {args.report}/drift.md, exchanges in "
          f"{args.report}/{HAR_FILE}", flush=True)
    uvicorn.run(proxy.app(), host=args.host, port=args.port, log_level="warning")
    drift = proxy.session.drift
    print(f"mockserver proxy: {len(proxy.entries)} exchanges, {len(drift.exercised)} cases "
          f"checked, {len(drift.findings)} drift finding(s); report in {args.report}/")
    return 1 if drift.findings else 0


if __name__ == "__main__":
    sys.exit(main())
