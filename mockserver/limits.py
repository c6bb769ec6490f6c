"""Per-account limits shared by every vendor: request rates and queue depth, each answered with
the vendor's own error code. (Running-task concurrency is part of the schedule: `Timing`.)"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .core.errors import VendorError
from .core.tasks import CreationHook, Task, Timing
from .web import Call

if TYPE_CHECKING:
    from .providers.base import Provider
    from .runtime import Emulator


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


def queue_depth_hook(emulator: Emulator) -> CreationHook:
    """A task-creation hook that refuses a task when the account already has `max_queued`
    tasks waiting (queued, not yet running) in the same pool.

    Options: `[vendors.<name>] <pool>_max_queued` beats `max_queued` beats the provider's
    `default_max_queued` (None: no cap; no vendor documents a figure), and `queue_full_code` names the vendor error to answer (default: the
    provider's `queue_full_code`, else its first catalogue code with HTTP 429).
    """
    def check(task: Task, timing: Timing) -> None:
        settings = emulator.settings
        option = settings.vendor_option
        default = emulator.providers[task.vendor].default_max_queued
        cap = option(task.vendor, f"{task.pool}_max_queued", option(task.vendor, "max_queued", default))
        if cap is None or not settings.limits_enabled:
            return
        # Counted in the store's index of queue entries, up to the cap: the cost does not grow
        # with the tasks the account (or the store) holds.
        waiting = emulator.store.queued_count(task.vendor, task.account, task.pool,
                                              emulator.clock.now(), int(cap))
        if waiting >= int(cap):
            raise VendorError(queue_full_code(emulator.providers[task.vendor]))

    return check


def queue_full_code(provider: Provider) -> str:
    configured = provider.option("queue_full_code", provider.queue_full_code)
    if configured:
        return str(configured)
    entries = provider.catalogue.entries.values()
    return next((e.code for e in entries if e.status == 429), provider.catalogue.fallback)
