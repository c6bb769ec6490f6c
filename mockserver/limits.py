"""Per-account rate limits, shared by every vendor: one check, the vendor's own error code."""
from __future__ import annotations

from .core.errors import VendorError
from .web import Call


def check_rate(call: Call, operation: str, default_qps: float, error_code: str,
               headers: dict[str, str] | None = None) -> None:
    """Raise `error_code` when the account exceeds `<operation>_qps` requests per second.

    The limit comes from `[vendors.<name>] <operation>_qps` (0 switches it off) and the whole
    check from `limits_enabled` (`--no-limits`).
    """
    emulator = call.emulator
    if not emulator.settings.limits_enabled:
        return
    qps = float(emulator.settings.vendor_option(call.vendor, f"{operation}_qps", default_qps))
    if qps <= 0:
        return
    if not emulator.limiter.allow((call.vendor, operation, call.account or ""), qps, call.now):
        raise VendorError(error_code, headers=headers)
