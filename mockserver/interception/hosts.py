"""Which hosts in-process mode answers, and what happens to every other host.

The vendors' hosts come from their declarations (`VendorSpec.hosts` and `host_patterns`), so a
new vendor is answered without a change here. The public host is the one result URLs and
fixture URLs carry. Every other host is the `OutboundPolicy`'s to decide: passed through to
the network (the default: a callback receiver of the test is a real server), or refused.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..providers import provider_classes

OPTION_NAME = "block_other_hosts"


def host_of(url: str) -> str:
    """The host of a URL, lower case, without port or IPv6 brackets."""
    return (urlsplit(url).hostname or "").lower()


@dataclass(frozen=True)
class HostMap:
    """Host -> the vendor that publishes it; `public_host` is answered by the whole app."""

    public_host: str
    _vendors: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def from_specs(cls, public_url: str) -> HostMap:
        vendors = []
        for spec in (provider.spec for provider in provider_classes()):
            alternatives = [re.escape(host) for host in spec.hosts] + list(spec.host_patterns)
            vendors.append((spec.name, re.compile("|".join(alternatives), re.IGNORECASE)))
        return cls(host_of(public_url), tuple(vendors))

    def vendor_for(self, host: str) -> str | None:
        """The vendor whose published host this is (None for any other host)."""
        return next((name for name, pattern in self._vendors if pattern.fullmatch(host)), None)

    def answers(self, host: str) -> bool:
        """Whether in-process mode answers this host itself."""
        return host.lower() == self.public_host or self.vendor_for(host) is not None

    def pattern(self) -> str:
        """One regex (full match) for every host answered, for routers that take a pattern."""
        return rf"(?i)^(?:{self._alternatives()})$"

    def url_pattern(self) -> re.Pattern[str]:
        """A regex for the URLs of every host answered, for mocks that match whole URLs."""
        return re.compile(rf"^[a-z][a-z0-9+.-]*://(?:{self._alternatives()})(?::\d+)?(?:[/?#]|$)",
                          re.IGNORECASE)

    def _alternatives(self) -> str:
        return "|".join([re.escape(self.public_host), *(p.pattern for _, p in self._vendors)])


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BlockedHost(Exception):
    """A request to a host the policy refuses; each transport re-raises it as its own
    connection error, so client code sees what a network failure would give it."""


@dataclass(frozen=True)
class OutboundPolicy:
    """What happens to a request for a host in-process mode does not answer.

    By default it goes out as usual. With `block_other_hosts`, it is refused with a connection
    error that names the host and the option; loopback peers (a test's callback receiver or
    image server) stay reachable unless `allow_loopback` is False.
    """

    block_other_hosts: bool = False
    allow_loopback: bool = True

    def check(self, method: str, url: str) -> None:
        """Raise BlockedHost if this request must not leave the process."""
        host = host_of(url)
        if not self.block_other_hosts or (self.allow_loopback and is_loopback(host)):
            return
        spared = " except loopback" if self.allow_loopback else ""
        raise BlockedHost(
            f"portrait-mockserver refused {method} {url}: {host} is not a vendor host, and "
            f"{OPTION_NAME}=True keeps every other host{spared} off the network")
