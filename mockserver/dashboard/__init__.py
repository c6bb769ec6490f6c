"""The browser dashboard under /__admin/: tasks, input and result images, the journal,
callbacks, faults and the clock, rendered by the mock itself (Jinja2 templates, a little plain
JavaScript, no build step, nothing loaded from another host).

Pages only read the emulator's state. Every action on them (advance the clock, add or remove a
fault, redeliver a callback, reset) is a `fetch()` to the existing admin API, so the dashboard
is never a second implementation. Open pages poll themselves and swap the parts that changed.

The one entry point is `dashboard_routes(emulator)`; put its routes before the vendors' routes,
so a browser asking for `/` (Accept: text/html, no credentials, no query) gets the dashboard
while every API call at `/` (a vendor whose API lives there) is routed as before.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from .. import __version__
from . import pages
from .present import FILTERS
from .tasks import STATES, Schedules, TaskFilter, task_detail, task_page
from .thumbs import Thumbnails

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates

    from ..emulator import Emulator

HERE = Path(__file__).resolve().parent
HOME = "/__admin/"
UI = "/__admin/ui"
NAV = (("overview", HOME, "Overview"), ("tasks", f"{UI}/tasks", "Tasks"),
       ("journal", f"{UI}/journal", "Journal"), ("callbacks", f"{UI}/callbacks", "Callbacks"),
       ("faults", f"{UI}/faults", "Faults"), ("clock", f"{UI}/clock", "Clock"))
def wants_dashboard(scope: Scope) -> bool:
    """True for a browser opening `/`: GET or HEAD, Accept naming text/html, no credentials and
    no query string. An API call always carries credentials (a header, or signed query
    parameters) and its SDK never asks for HTML."""
    if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    headers = Headers(scope=scope)
    if "authorization" in headers or scope.get("query_string"):
        return False
    return "text/html" in headers.get("accept", "").lower()


class BrowserRoute(Route):
    """A route that matches only requests `wants_dashboard` accepts; others fall through to the
    next route with the same path (a vendor's gateway at `/`)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is Match.NONE or not wants_dashboard(scope):
            return Match.NONE, {}
        return match, child


@functools.cache
def _templates() -> Jinja2Templates:
    """Loaded on the first page view: Jinja2 costs start-up time no API client should pay.
    One environment serves every app in the process (it holds no app state)."""
    from starlette.templating import Jinja2Templates

    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters.update(FILTERS)
    templates.env.globals.update(nav=NAV, version=__version__, ui=UI, home=HOME)
    return templates


def dashboard_routes(emulator: Emulator) -> list[BaseRoute]:
    thumbs = Thumbnails(emulator)
    known_accounts: dict[str, str] = {}  # fingerprint -> account, for the account filter
    schedules = Schedules(emulator)
    emulator.resetters += [thumbs.clear, known_accounts.clear]

    def render(request: Request, name: str, page: str, context: dict[str, Any],
               status: int = 200) -> Response:
        context.update(current=page, clock=pages.clock_state(emulator),
                       vendor_names=list(emulator.providers))
        return _templates().TemplateResponse(request, name, context, status_code=status,
                                             headers={"Cache-Control": "no-store"})

    async def to_home(request: Request) -> Response:
        return RedirectResponse(HOME, 302)

    async def overview(request: Request) -> Response:
        return render(request, "overview.html", "overview", pages.overview(emulator, schedules))

    async def tasks(request: Request) -> Response:
        chosen, notes = TaskFilter.parse(request.query_params, list(emulator.providers))
        listing = task_page(emulator, chosen, schedules, known_accounts)
        return render(request, "tasks.html", "tasks",
                      {**listing, "filter": chosen, "notes": notes, "states": STATES})

    async def task(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        found = emulator.store.get_task(task_id)
        if found is None:
            return render(request, "missing.html", "tasks",
                          {"what": f"No task {task_id!r} in the store."}, 404)
        return render(request, "task.html", "tasks", task_detail(emulator, found))

    async def journal(request: Request) -> Response:
        return render(request, "journal.html", "journal",
                      pages.journal_page(emulator, request.query_params))

    async def callbacks(request: Request) -> Response:
        return render(request, "callbacks.html", "callbacks",
                      pages.callbacks_page(emulator, request.query_params))

    async def faults(request: Request) -> Response:
        return render(request, "faults.html", "faults", pages.faults_page(emulator))

    async def clock(request: Request) -> Response:
        return render(request, "clock.html", "clock", pages.clock_page(emulator))

    # One Mount for the pages: a vendor request tests four patterns here, not a dozen.
    pages_under_ui = [
        Route("/tasks", tasks, methods=["GET"]),
        Route("/tasks/{task_id}", task, methods=["GET"]),
        Route("/tasks/{task_id}/inputs/{index:int}", thumbs.serve, methods=["GET"]),
        Route("/journal", journal, methods=["GET"]),
        Route("/callbacks", callbacks, methods=["GET"]),
        Route("/faults", faults, methods=["GET"]),
        Route("/clock", clock, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static")),
    ]
    return [
        BrowserRoute("/", to_home, methods=["GET"]),
        Route("/__admin", to_home, methods=["GET"]),
        Route(HOME, overview, methods=["GET"]),
        Mount(UI, routes=pages_under_ui),
    ]
