"""gpt.ge ID photos (`/task/pic/idphoto`, resold PicWish), seed 003 and vendors.md section 3."""
from __future__ import annotations

from ..base import VendorPackage
from .provider import GptGe
from .routes import HANDLERS

VENDOR = VendorPackage(GptGe, HANDLERS)
