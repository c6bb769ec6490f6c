"""One line of curl that repeats a request, with every secret masked."""
from __future__ import annotations

import shlex
from collections.abc import Mapping

from .masking import Masker

# Headers curl (or the transport) sets by itself; repeating them only adds noise.
_IMPLIED = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent",
                      "accept"})


def curl(method: str, url: str, headers: Mapping[str, str], body: bytes, masker: Masker) -> str:
    parts = ["curl", "-sS", "-X", method, _quote(masker.text(url))]
    for name, value in headers.items():
        if name.lower() not in _IMPLIED:
            parts += ["-H", _quote(f"{name}: {masker.header(name, value)}")]
    if body:
        parts += ["--data-binary", _quote(masker.text(body.decode("utf-8", "replace")))]
    return " ".join(parts)


def _quote(text: str) -> str:
    """Shell quoting that stays on one line: $'...' with escapes where the text has control
    characters (multipart bodies carry CRLF), plain single quotes otherwise."""
    if all(c.isprintable() for c in text):
        return shlex.quote(text)
    escaped = "".join(_escape(c) for c in text)
    return f"$'{escaped}'"


def _escape(c: str) -> str:
    named = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if c in named:
        return named[c]
    return c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else c
