"""The per-vendor adapters, found by vendor name: `contract_tests/adapters/<vendor>.py` exporting
`ADAPTER`. A vendor is tested once both its provider and its adapter exist."""
from __future__ import annotations

import importlib
import pkgutil

from .base import Adapter

ADAPTERS = tuple(sorted(info.name for info in pkgutil.iter_modules(__path__)
                        if info.name != "base"))


def adapter_class(vendor: str) -> type[Adapter] | None:
    """The adapter for `vendor`, or None when the kit has none."""
    if vendor not in ADAPTERS:
        return None
    found: type[Adapter] = importlib.import_module(f"{__name__}.{vendor}").ADAPTER
    return found
