"""Ready settings for the official `dashscope` SDK, as test handles offer them."""
from __future__ import annotations

from ..base import ClientKit


class DashScopeKit(ClientKit):
    @property
    def kwargs(self) -> dict[str, str]:
        """`BaseAsyncApi.async_call(..., **handle.dashscope_kwargs)` (also fetch/wait/cancel)."""
        return {"api_key": self.api_key, "base_address": self.base_url}

    def env(self) -> dict[str, str]:
        return {"DASHSCOPE_HTTP_BASE_URL": self.base_url,  # SDK 1.x API
                "DASHSCOPE_BASE_URL": self.base_url,  # SDK 2.x dashscope.Client
                "DASHSCOPE_API_KEY": self.api_key}
