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
from contract_tests.session import (
    KIT_KEY,
    KIT_OPTIONS,
    RUN_KEY,
    Kit,
    Options,
    RunRecord,
    UsageError,
    nothing_checked,
    parse_targets,
)
from contract_tests.targets import TargetError

_KIT, _RUN = KIT_KEY, RUN_KEY


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract test kit")
    for _, flag, options in KIT_OPTIONS:
        group.addoption(flag, **options)

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "billable: creates a task a live vendor charges for")
    if not _kit_requested(config):
        return
    vendors = tuple(v for value in config.getoption("--vendor") for v in value.split(",") if v)
    unknown = sorted(set(vendors) - set(ADAPTERS))
    if unknown:
        raise pytest.UsageError(f"--vendor: unknown {unknown}; known: {sorted(ADAPTERS)}")
    try:
        options = Options(
            targets=parse_targets(config.getoption("--target")),
            vendors=vendors,
            live_budget=config.getoption("--live-budget"),
            report_dir=_report_dir(config),
            profile=config.getoption("--contract-profile") or os.environ.get("CONTRACT_PROFILE"),
            callback_url=config.getoption("--callback-url"),
        )
        config.stash[_KIT] = Kit(options)
    except (UsageError, TargetError) as error:  # a dead URL fails loudly, never silently
        raise pytest.UsageError(str(error)) from None
    config.stash[_RUN] = record = RunRecord()
    _RECORDS.append(record)


def _report_dir(config: pytest.Config) -> Path:
    """The drift report's folder; each pytest-xdist worker writes its own below it."""
    folder = Path(config.getoption("--drift-report"))
    worker = getattr(config, "workerinput", None)
    return folder / worker["workerid"] if worker is not None else folder


def _xdist_controller(config: pytest.Config) -> bool:
    """True in the process that hands tests to pytest-xdist workers and runs none itself."""
    return config.pluginmanager.has_plugin("dsession")


def _kit_requested(config: pytest.Config) -> bool:
    """Only build the kit (and the in-process mock) when contract tests are part of the run."""
    here = Path(__file__).resolve().parent
    args = [Path(a.split("::")[0]).resolve() for a in config.args] or [Path.cwd()]
    return any(here == a or here in a.parents or a in here.parents for a in args)


def pytest_unconfigure(config: pytest.Config) -> None:
    kit = config.stash.get(_KIT, None)
    if kit is not None:
        kit.close()
    record = config.stash.get(_RUN, None)
    if record in _RECORDS:
        _RECORDS.remove(record)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    record = config.stash.get(_RUN, None)
    if record is not None:
        record.contract_tests = sum(1 for i in items if "adapter" in getattr(i, "fixturenames", ()))


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and isinstance(report.longrepr, tuple) and _RECORDS:
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        _RECORDS[-1].skip_reasons.setdefault(reason, None)


_RECORDS: list[RunRecord] = []  # the running session's (a report hook gets no config)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    kit = session.config.stash.get(_KIT, None)
    if kit is not None and kit.modes and not _xdist_controller(session.config):
        kit.write_report()
    if nothing_checked(session.config) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    kit = terminalreporter.config.stash.get(_KIT, None)
    if kit is None:
        return
    if _xdist_controller(terminalreporter.config):
        terminalreporter.write_line("contract kit: the tests ran in pytest-xdist workers; each "
                                    "wrote its drift report to "
                                    f"{terminalreporter.config.getoption('--drift-report')}/<worker>/")
        return
    terminalreporter.write_line(kit.summary_line())
    why = nothing_checked(terminalreporter.config)
    if why:
        terminalreporter.write_line(f"contract kit: FAILED: {why}", red=True)


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
