"""Options and fixtures of the contract kit (`pytest contract_tests --help`, section "contract")."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from contract_tests.adapters import ADAPTERS
from contract_tests.adapters.base import Adapter
from contract_tests.receiver import Receiver
from contract_tests.session import Kit, Options, parse_targets

_KIT = pytest.StashKey[Kit]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract test kit")
    group.addoption("--target", action="append", default=[], metavar="[VENDOR=]URL",
                    help="run against a server: a running mock, or a vendor's base URL "
                         "(default: the mock in-process)")
    group.addoption("--vendor", action="append", default=[], metavar="NAME",
                    help="only these vendors (repeatable or comma-separated)")
    group.addoption("--live-budget", type=int, default=0, metavar="N",
                    help="billable tasks a live run may create, across the session (default 0)")
    group.addoption("--drift-report", default="contract-report", metavar="DIR",
                    help="where drift.md and drift.xml go (default contract-report/)")
    group.addoption("--contract-profile", choices=["dev", "ci", "live", "mutation"], default=None,
                    help="Hypothesis profile (default: live for live targets, ci under CI, else dev)")
    group.addoption("--callback-url", default=None, metavar="URL",
                    help="a public URL that forwards to the kit's callback receiver (live runs)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "billable: creates a task a live vendor charges for")
    if not _kit_requested(config):
        return
    vendors = tuple(v for value in config.getoption("--vendor") for v in value.split(",") if v)
    unknown = sorted(set(vendors) - set(ADAPTERS))
    if unknown:
        raise pytest.UsageError(f"--vendor: unknown {unknown}; known: {sorted(ADAPTERS)}")
    options = Options(
        targets=parse_targets(config.getoption("--target")),
        vendors=vendors,
        live_budget=config.getoption("--live-budget"),
        report_dir=Path(config.getoption("--drift-report")),
        profile=config.getoption("--contract-profile") or os.environ.get("CONTRACT_PROFILE"),
        callback_url=config.getoption("--callback-url"),
    )
    config.stash[_KIT] = Kit(options)


def _kit_requested(config: pytest.Config) -> bool:
    """Only build the kit (and the in-process mock) when contract tests are part of the run."""
    here = Path(__file__).resolve().parent
    args = [Path(a.split("::")[0]).resolve() for a in config.args] or [Path.cwd()]
    return any(here == a or here in a.parents or a in here.parents for a in args)


def pytest_unconfigure(config: pytest.Config) -> None:
    kit = config.stash.get(_KIT, None)
    if kit is not None:
        kit.close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    kit = session.config.stash.get(_KIT, None)
    if kit is not None and kit.modes:
        kit.write_report()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    kit = terminalreporter.config.stash.get(_KIT, None)
    if kit is None:
        return
    where = ", ".join(f"{v}: {kit.where(v)}" for v in kit.modes) or "no vendor"
    budget = kit.budget
    spent = "" if budget.unlimited else f"; live budget {budget.spent}/{budget.limit} tasks"
    terminalreporter.write_line(
        f"contract kit: {where}; {len(kit.drift.findings)} drift finding(s){spent}; "
        f"report in {kit.options.report_dir}/")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test taking `adapter` runs once per selected vendor."""
    if "adapter" in metafunc.fixturenames:
        kit = metafunc.config.stash.get(_KIT, None)
        vendors = list(kit.modes) if kit else []
        metafunc.parametrize("vendor", vendors or [pytest.param("none", marks=pytest.mark.skip(
            reason="no vendor with both a provider and an adapter is selected"))])


@pytest.fixture(scope="session")
def kit(request: pytest.FixtureRequest) -> Kit:
    return request.config.stash[_KIT]


@pytest.fixture
def adapter(kit: Kit, vendor: str, request: pytest.FixtureRequest) -> Iterator[Adapter]:
    found = kit.adapter(vendor)
    if request.node.get_closest_marker("billable") and not found.target.budget.allows():
        pytest.skip(f"billable: {vendor} is live and the live budget does not allow a task "
                    "(--live-budget N)")
    if found.credentials("A") is None:
        pytest.skip(f"no credentials for {vendor}: set {', '.join(found.credential_env)}")
    yield found


@pytest.fixture(scope="session")
def receiver(kit: Kit) -> Iterator[Receiver]:
    public = kit.options.callback_url
    port = int(os.environ.get("CONTRACT_CALLBACK_PORT", "8765")) if public else 0
    running = Receiver(port, public)
    yield running
    running.close()


@pytest.fixture
def hypothesis_profile(kit: Kit) -> settings:
    return kit.profile
