"""Tencent Cloud AI Art (aiart 2022-12-29) GlamPic jobs, seed 002 and vendors.md section 2."""
from __future__ import annotations

from ..base import VendorPackage
from .client import TencentKit
from .provider import Tencent
from .routes import routes

VENDOR = VendorPackage(Tencent, route_builder=routes, client_kit=TencentKit)
