"""The grouped route search picks the route Starlette would, and the vendor fast path takes
only vendor routes."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import Match, Mount, Route

from mockserver.app import create_app
from mockserver.routing import IndexedRouter
from mockserver.settings import Settings

APP = create_app(Settings(store="memory"))
ROUTER = APP.router
METHODS = ("GET", "POST", "DELETE", "HEAD", "PUT")


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"",
            "headers": headers or [], "app": APP}


def _first_full(routes: list, scope: dict) -> object | None:
    return next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)


def _found(scope: dict) -> object | None:
    """The route the router's own search picks."""
    found = ROUTER.first_match(scope)
    return None if found is None else found[0]


def _example_paths() -> list[str]:
    """Every route's own path with its parameters filled in, and its neighbours."""
    paths = []
    for route in ROUTER.routes:
        if isinstance(route, (Route, Mount)):
            filled = re.sub(r"\{[^}]+\}", "x1", route.path) or "/"
            paths += [filled, filled + "/", filled + "/more", filled.rstrip("/") + "x"]
    return paths


def test_the_app_uses_the_grouped_router_and_groups_narrow_the_search() -> None:
    assert isinstance(ROUTER, IndexedRouter)
    query = _scope("GET", "/api/v1/tasks/abc")
    assert len(ROUTER.candidates(query)) < len(ROUTER.routes) / 2
    assert _first_full(ROUTER.candidates(query), query).name == "dashscope.query_task"


def test_every_route_path_picks_starlettes_route() -> None:
    for path in _example_paths():
        for method in METHODS:
            scope = _scope(method, path)
            assert _first_full(ROUTER.candidates(scope), scope) is \
                _first_full(ROUTER.routes, scope), (method, path)
            assert _found(scope) is _first_full(ROUTER.routes, scope), (method, path)


def test_the_dashboard_route_still_answers_browsers_at_the_root() -> None:
    browser = _scope("GET", "/", [(b"accept", b"text/html")])
    assert _first_full(ROUTER.candidates(browser), browser) is _first_full(ROUTER.routes, browser)


@settings(max_examples=300, deadline=None)
@given(method=st.sampled_from(METHODS),
       parts=st.lists(st.sampled_from(["api", "v1", "tasks", "task", "__admin", "results", "x",
                                       "", "headshots", "ui", "faults", "1"]), max_size=5))
def test_any_path_picks_starlettes_route(method: str, parts: list[str]) -> None:
    scope = _scope(method, "/" + "/".join(parts))
    assert _first_full(ROUTER.candidates(scope), scope) is _first_full(ROUTER.routes, scope)
    assert _found(scope) is _first_full(ROUTER.routes, scope)


def test_the_app_answers_vendor_routes_itself_and_passes_everything_else_on() -> None:
    import asyncio

    passed_on: list[str] = []

    async def starlette_stack(scope: dict, receive: object, send: object) -> None:
        passed_on.append(scope["path"])

    fast = create_app(Settings(store="memory"))
    fast.middleware_stack = starlette_stack  # type: ignore[assignment]  # records what reaches it
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    auth = [(b"authorization", b"Bearer sk-fast")]
    asyncio.run(fast(_scope("GET", "/api/v1/tasks/no-such-task", auth), receive, send))
    asyncio.run(fast(_scope("GET", "/__admin/health"), receive, send))
    assert passed_on == ["/__admin/health"]  # the admin API goes through Starlette's stack
    assert sent[0]["status"] == 200 and b"UNKNOWN" in sent[1]["body"]  # the vendor's answer
