"""Finding the route of a request, quickly: the grouped router and the vendor fast path.

Starlette tries every route in order until one matches, and every request passes its whole
middleware stack. The vendor routes are the hot ones (clients poll them), so:

- `IndexedRouter` asks only the routes that can match the path's first segment;
- `MockApp` hands a request that fully matches a vendor route straight to it, past Starlette's
  middleware stack and router (the vendor pipeline answers every exception itself); anything
  else goes the whole way through Starlette.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Message, Receive, Scope, Send

from .core.shared import SharedState
from .web import COMMITTED, VendorEndpoint, wait_for_commit

log = logging.getLogger("mockserver")


class IndexedRouter(Router):
    """Starlette's router on groups of routes. The routes are grouped by the literal first
    segment of their path (`api`, `task`, `__admin`, ...); a route whose first segment is a
    parameter, or that is neither a `Route` nor a `Mount`, sits in every group. Each group
    keeps the app's order, so the first full match is the one Starlette would pick; a route
    whose literal start the path does not share, or whose path has no parameter and differs
    from the request's, is passed over without running its regular expression (a poll of
    `/api/v1/tasks/{id}` tries one expression, not four). Anything
    else (no full match: a 405, a slash redirect) is left to Starlette's own search over every
    route. Route subclasses are assumed to match no path their own path does not
    (BrowserRoute only narrows it). The groups are built on the first request: routes are not
    added once the app serves."""

    # Per first segment, its routes with the literal start of each and whether that start is
    # the route's whole path (a route without parameters); None until the first request.
    _groups: dict[str, list[tuple[str, bool, BaseRoute]]] | None = None
    _anywhere: list[tuple[str, bool, BaseRoute]] = []

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.first_match(scope) if scope["type"] == "http" else None
        if found is None:
            await super().app(scope, receive, send)
            return
        route, child_scope = found
        self.enter(scope, route, child_scope)
        await route.handle(scope, receive, send)

    def first_match(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The route Starlette would hand this HTTP request to, with its scope additions, or
        None when no route fully matches."""
        path: str = scope["path"]
        for start, whole, route in self._pairs(scope):
            if (path != start) if whole else not path.startswith(start):
                continue
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope
        return None

    def enter(self, scope: Scope, route: BaseRoute, child_scope: Scope) -> None:
        """What Starlette's router records in the scope before it calls the route."""
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child_scope)

    def candidates(self, scope: Scope) -> list[BaseRoute]:
        """The routes that may match this HTTP scope, in the app's order."""
        return [route for _, _, route in self._pairs(scope)]

    def _pairs(self, scope: Scope) -> list[tuple[str, bool, BaseRoute]]:
        """`candidates` with the literal start of each ("" where any path may match) and
        whether it is the only path the route matches."""
        if self._groups is None:
            self._build_groups()
        assert self._groups is not None
        path: str = scope["path"]
        if scope.get("root_path") or not path.startswith("/"):  # behind a prefix: every route
            return [("", False, route) for route in self.routes]
        return self._groups.get(path.split("/", 2)[1], self._anywhere)

    def _build_groups(self) -> None:
        keyed = [(_first_segment(route), (*_literal_start(route), route)) for route in self.routes]
        self._anywhere = [pair for key, pair in keyed if key is None]
        self._groups = {key: [pair for k, pair in keyed if k in (key, None)]
                        for key in {k for k, _ in keyed if k is not None}}


def _literal_start(route: BaseRoute) -> tuple[str, bool]:
    """What every path `route` matches begins with ("" when that is not known), and whether
    that is the one path it matches (a `Route` without parameters; a `Mount` matches below)."""
    if not isinstance(route, (Route, Mount)) or not route.path.startswith("/"):
        return "", False
    literal = route.path.split("{", 1)[0]
    return literal, isinstance(route, Route) and literal == route.path


def _first_segment(route: BaseRoute) -> str | None:
    """The literal first path segment every path `route` matches begins with, or None."""
    if not isinstance(route, (Route, Mount)) or not route.path.startswith("/"):
        return None
    literal = route.path.split("{", 1)[0]
    first, slash, _ = literal[1:].partition("/")
    return first if slash or "{" not in route.path else None


def _after_commit(scope: Scope, send: Send,
                  pending_commit: Callable[[], Awaitable[None] | None]) -> Send:
    """`send`, holding a response's head until the writes made before it are committed (the
    vendor pipeline waits itself, and says so in the scope)."""
    async def send_after_commit(message: Message) -> None:
        if message["type"] == "http.response.start" and not scope.get(COMMITTED):
            await wait_for_commit(pending_commit)
        await send(message)

    return send_after_commit


class MockApp(Starlette):
    """Starlette with the vendor routes in front of its middleware stack. Every HTTP request
    first takes in what other instances changed (`SharedState.refresh_this_turn`, so an answer
    never lags behind an admin call another instance acknowledged); then a request that fully
    matches a vendor route goes straight to it: the vendor pipeline answers every exception
    itself and the only middleware, the admin guard, concerns /__admin alone, so vendor
    requests skip Starlette's error and exception middleware, the guard and a second route
    search (clients poll these routes). Everything else goes the whole way through Starlette."""

    def __init__(self, router: IndexedRouter, shared: SharedState, **options: Any) -> None:
        super().__init__(**options)
        self.router = self.indexed_router = router  # the second is typed as what it is
        self.shared = shared
        # A store that shares one commit per loop turn (core/sqlite_turns.py): no answer may
        # go out before the writes it acknowledges are committed.
        self.pending_commit: Callable[[], Awaitable[None] | None] | None = getattr(
            shared.store, "pending_commit", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["app"] = self
            if self.pending_commit is not None:
                send = _after_commit(scope, send, self.pending_commit)
            try:
                self.shared.refresh_this_turn()
            except Exception:  # a store hiccup: the request still runs (and says so itself)
                log.exception("shared state: refresh before a request failed")
            found = self.indexed_router.first_match(scope)
            if found is not None:
                route, child_scope = found
                endpoint = route.app if isinstance(route, Route) else None
                if isinstance(endpoint, VendorEndpoint):
                    self.indexed_router.enter(scope, route, child_scope)
                    await endpoint(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)
