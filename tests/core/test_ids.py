"""Identifier formats: canonical version-4 UUIDs and 24-hex ObjectIds, never repeated."""
from __future__ import annotations

import os
import re
import uuid
import warnings

from mockserver.core.ids import object_id, uuid4


def test_uuid4_is_a_canonical_version_4_uuid() -> None:
    for _ in range(2000):
        text = uuid4()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_ids_do_not_repeat() -> None:
    assert len({uuid4() for _ in range(20000)}) == 20000
    assert len({object_id() for _ in range(20000)}) == 20000


def test_object_id_is_24_lowercase_hex() -> None:
    assert all(re.fullmatch(r"[0-9a-f]{24}", object_id()) for _ in range(2000))


def test_a_forked_child_gets_its_own_sequence() -> None:
    read, write = os.pipe()
    with warnings.catch_warnings():  # 3.12+ warns about fork() with threads; the child only writes
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # child: report its next id and leave at once
        os.write(write, uuid4().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert uuid.UUID(child).version == 4
    assert child != uuid4()
