"""Regular expressions from the admin API (`path_regex` filters), in linear time.

Python's `re` backtracks: `/(a+)+` against forty journal paths of 26 characters froze the event
loop for minutes. Filters are compiled with RE2 (the `google-re2` bindings), whose matching
time grows linearly with the text whatever the pattern, so a filter can never block the loop.
RE2 has no backreferences or look-arounds; a pattern that needs them is refused with RE2's
reason. Patterns are at most `MAX_PATTERN_CHARS` long and compile within a bounded memory.
"""
from __future__ import annotations

from typing import Any, Protocol

MAX_PATTERN_CHARS = 1000
MAX_PROGRAM_BYTES = 1 << 20  # RE2's memory budget for one compiled filter


class Matcher(Protocol):
    def fullmatch(self, text: str) -> Any: ...


def linear_regex(pattern: str) -> Matcher:
    """`pattern` compiled by RE2; ValueError (naming the problem) if it cannot be."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"the pattern is {len(pattern)} characters; at most "
                         f"{MAX_PATTERN_CHARS} are allowed")
    import re2  # google-re2, a dependency; imported by the first filter

    options = re2.Options()
    options.log_errors = False  # the error goes to the caller, not to stderr
    options.max_mem = MAX_PROGRAM_BYTES
    try:
        compiled: Matcher = re2.compile(pattern, options=options)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(f"{text} (filters use RE2 syntax: no backreferences or "
                         "look-arounds)") from None
    return compiled
