"""Opening a store by its spec: the one module that knows every implementation (the protocol,
`core.store`, knows none, so the implementations can import it)."""
from __future__ import annotations

from .store import Store


def open_store(spec: str) -> Store:
    """`memory`, `sqlite:PATH` or `redis://HOST:PORT/DB`."""
    if spec == "memory":
        from .store_memory import MemoryStore

        return MemoryStore()
    if spec.startswith("sqlite:"):
        from pathlib import Path

        from .store_sqlite import SqliteStore

        return SqliteStore(Path(spec.removeprefix("sqlite:")))
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from .store_redis import RedisStore

        return RedisStore(spec)
    raise ValueError(
        f"unknown store {spec!r}: use 'memory', 'sqlite:PATH' or 'redis://HOST:PORT/DB'")


def is_shared(spec: str) -> bool:
    """Whether several processes can use this store at once."""
    return spec != "memory"
