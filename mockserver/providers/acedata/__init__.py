"""AceData Cloud AI headshots (AI 证件照), seeds 000/001 and vendors.md section 1."""
from __future__ import annotations

from ..base import VendorPackage
from .provider import AceData
from .routes import HANDLERS

VENDOR = VendorPackage(AceData, HANDLERS)
