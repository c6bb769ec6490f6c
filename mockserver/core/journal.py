"""A bounded in-memory journal of every request and the answer given, newest first."""
from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

SECRET_HEADERS = {"authorization", "x-tc-token", "x-api-key", "cookie"}


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    """Keep the scheme and a short hint of each secret, never the secret itself."""
    masked = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS and value:
            scheme, _, rest = value.partition(" ")
            hint = rest[:4] if rest else value[:4]
            masked[name] = f"{scheme} {hint}***" if rest else f"{hint}***"
        else:
            masked[name] = value
    return masked


@dataclass
class Entry:
    id: int
    time: float
    vendor: str | None
    operation: str | None
    account: str | None
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    status: int
    response: Any
    task_id: str | None = None
    injected: bool = False
    duration_ms: float = 0.0
    note: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    def __init__(self, size: int = 5000) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, **fields: Any) -> Entry:
        fields["headers"] = mask_headers(fields.get("headers", {}))
        with self._lock:
            entry = Entry(id=next(self._ids), **fields)
            self._entries.append(entry)
        return entry

    def entries(self) -> list[Entry]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._entries))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
