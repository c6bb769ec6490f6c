"""Ready objects for the official `tencentcloud-sdk-python-aiart` SDK, as test handles offer them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ..base import ClientKit

if TYPE_CHECKING:
    from .provider import Tencent

DEFAULT_REGION = "ap-guangzhou"


class TencentKit(ClientKit):
    @property
    def endpoint(self) -> str:
        """`HttpProfile(endpoint=...)`: host and port, no scheme (the SDK adds it)."""
        return self.base_url.split("://", 1)[-1]

    @property
    def scheme(self) -> str:
        return self.base_url.split("://", 1)[0]

    @property
    def secret(self) -> tuple[str, str]:
        """A (SecretId, SecretKey) pair the mock accepts."""
        credentials = cast("Tencent", self.provider).credentials
        return next(iter(credentials.items()))

    def credential(self) -> Any:
        from tencentcloud.common.credential import Credential

        return Credential(*self.secret)

    def client_profile(self) -> Any:
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile

        return ClientProfile(httpProfile=HttpProfile(protocol=self.scheme, endpoint=self.endpoint))

    def client(self, region: str = DEFAULT_REGION) -> Any:
        """A ready `AiartClient` (the `requests`-based one) signed with a known credential."""
        from tencentcloud.aiart.v20221229.aiart_client import AiartClient

        return AiartClient(self.credential(), region, self.client_profile())
