"""The per-vendor adapters, by vendor name. A vendor is tested once its provider has landed."""
from __future__ import annotations

import importlib

from .base import Adapter

# vendor -> "module:Class"; imported lazily so an adapter waiting for its provider costs nothing.
ADAPTERS = {
    "dashscope": "contract_tests.adapters.dashscope:DashScopeAdapter",
    "acedata": "contract_tests.adapters.acedata:AceDataAdapter",
    "tencent": "contract_tests.adapters.tencent:TencentAdapter",
    "gptge": "contract_tests.adapters.gptge:GptGeAdapter",
}


def adapter_class(vendor: str) -> type[Adapter] | None:
    """The adapter for `vendor`, or None when the kit has none yet."""
    module_name, _, class_name = ADAPTERS[vendor].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as missing:
        if missing.name != module_name:
            raise
        return None
    found: type[Adapter] = getattr(module, class_name)
    return found
