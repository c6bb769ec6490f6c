"""The emulated vendors: every subpackage of `mockserver.providers` that exports `VENDOR`.

Discovery, not a hand-kept list: a new vendor is its own package (plus its schemas, fixtures,
tests and docs page; see `scripts/new_vendor.py`), and nothing else has to name it.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.runtime import Runtime
    from .base import Provider, VendorPackage


@cache
def vendor_packages() -> dict[str, VendorPackage]:
    """Vendor name -> its package's `VENDOR`, ordered by name."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            module = importlib.import_module(f"{__name__}.{info.name}")
            package: VendorPackage | None = getattr(module, "VENDOR", None)
            if package is not None:
                found[package.provider.spec.name] = package
    return dict(sorted(found.items()))


def provider_classes() -> tuple[type[Provider], ...]:
    return tuple(package.provider for package in vendor_packages().values())


def vendor_names() -> tuple[str, ...]:
    return tuple(vendor_packages())


def build_providers(runtime: Runtime) -> dict[str, Provider]:
    return {name: package.provider(runtime) for name, package in vendor_packages().items()}
