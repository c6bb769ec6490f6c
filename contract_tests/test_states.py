"""Every documented state of the vendor, observed and checked at least once per run."""
from __future__ import annotations

import pytest

from contract_tests.adapters.base import Adapter
from contract_tests.tour import TOUR_TASKS, Tour, missing_kinds


@pytest.mark.billable
def test_every_documented_state_is_observed_and_checked(adapter: Adapter) -> None:
    if not adapter.target.budget.allows(TOUR_TASKS):
        pytest.skip(f"the state tour creates {TOUR_TASKS} tasks; the live budget allows fewer")
    owner = adapter.credentials("A")
    assert owner is not None
    tour = Tour(adapter, owner, adapter.credentials("B"))
    missing = missing_kinds(adapter, tour.run())
    if adapter.target.is_mock and missing and tour.last is not None:
        # (A live vendor's expiry takes days: the tour does not wait for it.)
        adapter.fail(adapter.poll_op, "state_coverage", f"the tour never observed {missing}",
                     tour.last, expected="; ".join(f"{k}: one of {sorted(adapter.state_kinds[k])}"
                                                   for k in missing),
                     got=f"observed {sorted(set(tour.seen.values()))}")
    adapter.passed(adapter.poll_op, "state_coverage")
