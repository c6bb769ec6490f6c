"""Alibaba DashScope facechain-generation (人物写真), seed 004 and vendors.md section 4."""
from __future__ import annotations

from ..base import VendorPackage
from .client import DashScopeKit
from .provider import DashScope
from .routes import HANDLERS

VENDOR = VendorPackage(DashScope, HANDLERS, client_kit=DashScopeKit)
