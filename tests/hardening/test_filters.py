"""Issue 15, item 11: a journal filter's regular expression runs in linear time (RE2), so no
pattern can block the event loop; what RE2 cannot compile is refused with its reason."""
from __future__ import annotations

import pytest

from mockserver.core.journal import EntryQuery

from .conftest import App

pytestmark = pytest.mark.anyio


async def test_a_catastrophic_pattern_answers_at_once(app: App) -> None:
    """With Python's `re` this test does not end (hours for these four patterns)."""
    for n in range(40):  # 40 entries of 26 characters: over 126 s with Python's re
        await app.client.get(f"/{'a' * 25}{n % 10}")
    for path_regex in ("/(a+)+", "/(a|aa)+$", "(.*)*x", "/(a*)*b"):
        answer = await app.client.get("/__admin/requests", params={"path_regex": path_regex})
        assert answer.status_code == 200 and answer.json()["count"] == 0
    found = await app.client.get("/__admin/requests", params={"path_regex": "/a{25}[0-4]"})
    assert found.json()["count"] == 20


@pytest.mark.parametrize(("pattern", "reason"), [
    (r"(a)\1", "backreferences"), ("(?=a)", "look-arounds"), ("(", "missing )"),
    ("a" * 1001, "at most 1000")])
def test_what_re2_cannot_run_is_refused_with_a_reason(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match="path_regex does not compile") as refused:
        EntryQuery.parse({"path_regex": pattern})
    assert reason in str(refused.value)
