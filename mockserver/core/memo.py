"""A small thread-safe LRU of results that are pure functions of their key (image verdicts,
renderings): the same photo sent again costs a dictionary lookup, not another face detection.
Bounded by entries and, optionally, by the bytes the values hold."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    def __init__(self, entries: int, max_bytes: int | None = None,
                 size: Callable[[V], int] = lambda value: 0) -> None:
        self._entries, self._max_bytes, self._size = entries, max_bytes, size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        size = self._size(value)
        if self._max_bytes is not None and size > self._max_bytes:
            return
        with self._lock:
            old = self._values.pop(key, None)
            self._bytes -= 0 if old is None else self._size(old)
            self._values[key] = value
            self._bytes += size
            while len(self._values) > self._entries or (
                    self._max_bytes is not None and self._bytes > self._max_bytes):
                _, dropped = self._values.popitem(last=False)
                self._bytes -= self._size(dropped)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._bytes = 0
