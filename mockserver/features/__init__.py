"""Features the app factory installs around an emulator: each is a function that takes the
emulator, hooks into its extension points (pipeline, engine, dispatcher, lifespan, reset) and
returns its HTTP routes. A user's own feature has exactly the same shape (`Settings.plugins`)."""
from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from ..emulator import Emulator

Feature = Callable[[Emulator], list[BaseRoute]]
