"""The explicit, ordered registry of emulated vendors."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..runtime import Emulator
    from .base import Provider


def provider_classes() -> list[type[Provider]]:
    from .acedata import AceData
    from .dashscope import DashScope
    from .gptge import GptGe
    from .tencent import Tencent

    return [AceData, DashScope, GptGe, Tencent]


def build_providers(emulator: Emulator) -> list[Provider]:
    return [cls(emulator) for cls in provider_classes()]
