"""gpt.ge form rules and task views, without HTTP."""
from __future__ import annotations

import pytest

from mockserver.core.errors import VendorError
from mockserver.core.tasks import Task
from mockserver.providers.gptge.models import (
    MAX_IMAGE_BYTES,
    default_size,
    failure_of,
    parse_form,
    pending_state,
)

URL = "https://example.com/p.jpg"


def test_defaults_follow_the_seed() -> None:
    job = parse_form({"image_url": URL}, None)
    assert (job.width, job.height, job.fmt, job.bg_color, job.sync, job.return_type) == \
        (None, None, "png", "FFFFFF", False, 1)


def test_size_bounds_are_inclusive() -> None:
    assert parse_form({"image_url": URL, "size": "100x2000"}, None).width == 100
    for bad in ("99x100", "100x2001", "2001x100"):
        with pytest.raises(VendorError) as caught:
            parse_form({"image_url": URL, "size": bad}, None)
        assert caught.value.code == "invalid_size"


def test_upload_size_rules() -> None:
    assert parse_form({}, MAX_IMAGE_BYTES).image_url is None
    with pytest.raises(VendorError) as caught:
        parse_form({}, MAX_IMAGE_BYTES + 1)
    assert caught.value.code == "file_too_large"
    with pytest.raises(VendorError) as caught:
        parse_form({}, 0)  # an empty file part is no image at all
    assert caught.value.code == "image_missing"


@pytest.mark.parametrize(("source", "expected"), [
    ((800, 800), (800, 800)), ((4000, 3000), (2000, 1500)), ((50, 80), (100, 160)),
    ((4096, 10), (2000, 100)), ((120, 3000), (100, 2000)),
])
def test_default_size_fits_the_source_into_the_bounds(source: tuple[int, int],
                                                      expected: tuple[int, int]) -> None:
    assert default_size(*source) == expected


def _task(**changes: object) -> Task:
    base = dict(id="t", vendor="gptge", account="a", pool="idphoto", created_at=100.0,
                queue_seconds=10.0, run_seconds=20.0, ttl_seconds=3600.0, start_at=110.0,
                end_at=130.0, data={"return_type": 1})
    base.update(changes)
    return Task(**base)  # type: ignore[arg-type]


def test_pending_states_split_the_queue_and_the_run() -> None:
    task = _task()
    assert [pending_state(task, t) for t in (100, 104.9, 105, 109.9, 110, 129)] == [2, 2, 3, 3, 4, 4]
    held_back = _task(start_at=150.0, end_at=170.0)  # waited for a slot
    assert pending_state(held_back, 120) == 0
    stalled = _task(start_at=None, end_at=None)
    assert pending_state(stalled, 1000) == 0


def test_failure_codes_keep_documented_states_only() -> None:
    assert failure_of(_task(outcome="failed", error_code="-3", error_message="gone")) == (-3, "gone")
    assert failure_of(_task(outcome="failed", error_code="-4")) == (-1, "Failed")
    assert failure_of(_task(outcome="failed", error_code="InternalError")) == (-1, "Failed")
