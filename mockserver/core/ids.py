"""Identifier formats the vendors use."""
from __future__ import annotations

import secrets
import uuid


def uuid4() -> str:
    return str(uuid.uuid4())


def object_id() -> str:
    """A 24-hex Mongo-style ObjectId (some vendors' record `_id`)."""
    return secrets.token_hex(12)
