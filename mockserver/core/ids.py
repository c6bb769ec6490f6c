"""Identifier formats the vendors use.

Every request gets an id and every task one, so they are on the hot path: `uuid.uuid4()` reads
the OS random source and builds a UUID object each time (about 3x the cost of what follows).
These are identifiers in an emulator, never credentials (another account's task id reveals
nothing: `Provider.own_task()` hides it), so a process-local generator seeded from the OS
source is enough; it is reseeded in a forked child so two processes never share a sequence.
"""
from __future__ import annotations

import os
import random

_random = random.Random(os.urandom(32))
_bits = _random.getrandbits

# RFC 9562 version 4: version nibble 4, variant bits 10.
_V4_CLEAR = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_V4_SET = (0x4 << 76) | (0x2 << 62)


def _reseed() -> None:
    _random.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


def uuid4() -> str:
    """A random (version 4) UUID in its canonical 36-character form."""
    h = "%032x" % (_bits(128) & _V4_CLEAR | _V4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def object_id() -> str:
    """A 24-hex Mongo-style ObjectId (some vendors' record `_id`)."""
    return "%024x" % _bits(96)
