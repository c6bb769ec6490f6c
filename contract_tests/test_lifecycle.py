"""Task lifecycles: documented states and transitions, cancel semantics, account isolation."""
from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from contract_tests.adapters.base import Adapter
from contract_tests.lifecycle import machine_for


@pytest.mark.billable
def test_task_lifecycles_follow_the_documented_states(adapter: Adapter,
                                                      hypothesis_profile: settings) -> None:
    run_state_machine_as_test(machine_for(adapter), settings=hypothesis_profile)
