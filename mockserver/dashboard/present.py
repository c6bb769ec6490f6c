"""How the dashboard writes things down: masked accounts, emulated times, shortened JSON."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

LONG_TEXT = 240  # strings longer than this (inline base64 images...) are shortened for display


def account_id(account: str | None) -> str:
    """A short stable token for an account, usable in URLs without showing the key."""
    if not account:
        return ""
    return hashlib.sha256(account.encode()).hexdigest()[:8]


def mask_account(account: str | None) -> str:
    """The first four characters and a fingerprint: enough to tell accounts apart, never the
    key itself (the journal masks Authorization headers the same way)."""
    if not account:
        return "-"
    return f"{account[:4]}***·{account_id(account)[:4]}"


def when(ts: float | None) -> str:
    """An emulated time as UTC, to the millisecond."""
    if ts is None:
        return "-"
    moment = datetime.fromtimestamp(ts, timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def span(seconds: float) -> str:
    """A duration in the largest two units that matter: `1 h 5 min`, `28 s`, `0.4 s`."""
    seconds = abs(seconds)
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    parts, left = [], int(round(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if left >= size:
            parts.append(f"{left // size} {unit}")
            left %= size
    return " ".join(parts[:2])


def relative(ts: float | None, now: float) -> str:
    if ts is None:
        return ""
    if abs(ts - now) < 0.05:
        return "now"
    return f"in {span(ts - now)}" if ts > now else f"{span(now - ts)} ago"


def shorten(doc: Any) -> Any:
    """The same document with every over-long string cut (base64 images would fill pages)."""
    if isinstance(doc, str):
        if len(doc) <= LONG_TEXT:
            return doc
        return f"{doc[:80]}… ({len(doc)} characters)"
    if isinstance(doc, dict):
        return {k: shorten(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [shorten(v) for v in doc]
    return doc


def pretty(doc: Any) -> str:
    """JSON for a <pre>: indented, non-ASCII kept, long strings shortened."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        return str(shorten(doc))
    return json.dumps(shorten(doc), indent=2, ensure_ascii=False, sort_keys=False)


def percent(fraction: float) -> str:
    return f"{round(fraction * 100)} %"


def without(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in keys}


FILTERS = {"mask": mask_account, "when": when, "span": span, "pretty": pretty,
           "percent": percent, "account_id": account_id, "without": without, "relative": relative}
