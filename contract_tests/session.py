"""The kit's session: where each vendor is reached, the budget, the drift log, the adapters."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from mockserver.core.errors import Catalogue
from mockserver.core.operations import load_operations
from mockserver.core.schemas import SchemaRegistry, schemas_root
from mockserver.providers import vendor_names
from mockserver.settings import Settings, load_settings

from . import mutations
from .adapters import ADAPTERS, adapter_class
from .adapters.base import Adapter
from .budget import Budget
from .drift import DriftLog
from .masking import Masker
from .targets import (
    IN_PROCESS_BASE,
    ClockView,
    InProcess,
    OverHttp,
    Target,
    TargetError,
    probe,
)

ALL = "*"
_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
# dev: a quick local loop, new examples every run; ci: more examples, reproducible; live: few
# deliberate requests, no shrinking (every shrink step would be another request to a paid
# API). Every accepted example costs the mock a real image check or rendering, and the state
# tour, not the number of examples, is what guarantees every state is seen.
settings.register_profile("contract-dev", max_examples=6, stateful_step_count=12, deadline=None,
                          database=None, suppress_health_check=_QUIET)
settings.register_profile("contract-ci", max_examples=8, stateful_step_count=12, deadline=None,
                          database=None, derandomize=True, suppress_health_check=_QUIET)
# mutation: one pytest run per mutant only has to notice the drift, not minimise it.
settings.register_profile("contract-mutation", max_examples=15, stateful_step_count=15,
                          deadline=None, database=None, derandomize=True,
                          phases=[Phase.explicit, Phase.generate], suppress_health_check=_QUIET)
settings.register_profile("contract-live", max_examples=2, stateful_step_count=6, deadline=None,
                          database=None, phases=[Phase.explicit, Phase.generate],
                          suppress_health_check=_QUIET)


class RunRecord:
    """What the session did, to tell a run that checked nothing from one that passed."""

    def __init__(self) -> None:
        self.contract_tests = 0  # collected tests that talk to a target (take `adapter`)
        self.skip_reasons: dict[str, None] = {}  # in order, without repeats


# Where a pytest session keeps the kit (here, not in conftest.py: pytest may import a conftest
# under another module name, and the command line reads these too).
# The kit's options, shared by `mockserver contract` (first name) and pytest (second name):
# (command-line flag, pytest flag, argparse keywords).
KIT_OPTIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("--target", "--target", dict(
        action="append", default=[], metavar="[VENDOR=][mock=|live=]URL",
        help="a running mock or a vendor's base URL (repeatable; default: the mock "
             "in-process); mock=/live= say which instead of probing")),
    ("--vendor", "--vendor", dict(
        action="append", default=[], metavar="NAME",
        help=f"only these vendors (repeatable or comma-separated; {', '.join(ADAPTERS)})")),
    ("--live-budget", "--live-budget", dict(
        type=int, default=0, metavar="N",
        help="billable tasks a live run may create, across the run (default 0)")),
    ("--report", "--drift-report", dict(
        default="contract-report", metavar="DIR",
        help="where the drift report goes (default contract-report/)")),
    ("--profile", "--contract-profile", dict(
        choices=["dev", "ci", "live", "mutation"], default=None,
        help="Hypothesis profile (default: live for live targets, ci under CI, else dev)")),
    ("--callback-url", "--callback-url", dict(
        default=None, metavar="URL",
        help="a public URL that forwards to the kit's callback receiver (live runs)")),
)
KIT_KEY = pytest.StashKey["Kit"]()
RUN_KEY = pytest.StashKey[RunRecord]()


def nothing_checked(config: pytest.Config) -> str | None:
    """Why a run that should have checked a target checked nothing (None: it did check, or
    no test of the run talks to a target)."""
    kit, record = config.stash.get(KIT_KEY, None), config.stash.get(RUN_KEY, None)
    if kit is None or record is None or not record.contract_tests or kit.drift.exercised \
            or config.option.collectonly:
        return None
    reasons = [*kit.notes, *record.skip_reasons] or ["no contract test ran (deselected?)"]
    return "no check ran against any target: " + "; ".join(reasons)


@dataclass(frozen=True)
class TargetSpec:
    url: str
    forced: str | None = None  # "mock" | "live": given with mock= / live=


@dataclass
class Options:
    targets: dict[str, TargetSpec] = field(default_factory=dict)  # vendor (or "*") -> where
    vendors: tuple[str, ...] = ()  # empty: every vendor the kit and the mock both know
    live_budget: int = 0
    report_dir: Path = Path("contract-report")
    profile: str | None = None
    callback_url: str | None = None  # a public receiver for live callback checks


class UsageError(ValueError):
    """A command-line value the kit cannot use; the message names it."""


KINDS = ("mock", "live")


def parse_targets(values: list[str]) -> dict[str, TargetSpec]:
    """`[VENDOR=][mock=|live=]URL`, repeatable: a bare URL applies to every vendor; `mock=` or
    `live=` says what the URL is instead of probing for it."""
    found: dict[str, TargetSpec] = {}
    for value in values:
        vendor, forced, rest = ALL, None, value
        while True:
            head, sep, tail = rest.partition("=")
            if sep and head in ADAPTERS and vendor == ALL:
                vendor, rest = head, tail
            elif sep and head in KINDS and forced is None:
                forced, rest = head, tail
            else:
                break
        if not rest.startswith(("http://", "https://")):
            raise UsageError(f"--target {value!r}: expected [VENDOR=][mock=|live=]http(s)://"
                             f"HOST[:PORT] (vendors: {', '.join(ADAPTERS)})")
        found[vendor] = TargetSpec(rest.rstrip("/"), forced)
    return found


class Kit:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.masker = Masker()
        self.notes: list[str] = []  # why vendors were left out, for "nothing was checked"
        self.probed = {spec: probe(spec.url, spec.forced) for spec in set(options.targets.values())}
        self.modes = {v: mode for v in self.landed() if (mode := self._mode(v)) is not None}
        self.live = any(mode == "live" for mode in self.modes.values())
        self.budget = Budget(options.live_budget if self.live else None)
        self.drift = DriftLog({v: self.where(v) for v in self.modes})
        self.drift.notes = self.notes
        self.schemas = SchemaRegistry.shared()  # the contract: schemas, operations, catalogues
        self._in_process: InProcess | None = None
        self._adapters: dict[str, Adapter] = {}
        self._clocks: dict[str, ClockView] = {}  # base URL -> the clock of the mock there

    # --- which vendors, where -----------------------------------------------------------------

    def landed(self) -> list[str]:
        """Vendors with both a provider in the mock and an adapter here, as selected."""
        present = list(vendor_names())
        chosen = self.options.vendors or tuple(ADAPTERS)
        return [v for v in present if v in chosen and adapter_class(v) is not None]

    def target_for(self, vendor: str) -> TargetSpec | None:
        return self.options.targets.get(vendor, self.options.targets.get(ALL))

    def url_for(self, vendor: str) -> str | None:
        spec = self.target_for(vendor)
        return None if spec is None else spec.url

    def _mode(self, vendor: str) -> str | None:
        spec = self.target_for(vendor)
        if spec is None:
            return "inprocess"
        found = self.probed[spec]
        if found.kind == "mock" and vendor not in found.vendors:
            named = vendor in self.options.vendors or vendor in self.options.targets
            message = (f"the mock at {spec.url} does not emulate {vendor} (it emulates "
                       f"{', '.join(found.vendors) or 'nothing'})")
            if named:
                raise TargetError(message)
            self.notes.append(f"{vendor} left out: {message}")
            return None
        return found.kind

    def where(self, vendor: str) -> str:
        mode = self.modes[vendor]
        if mode == "inprocess":
            return "the mock, in-process"
        spec = self.target_for(vendor)
        assert spec is not None
        return f"{mode} at {spec.url} ({self.probed[spec].how})"

    @property
    def profile(self) -> settings:
        name = self.options.profile or ("live" if self.live else "ci" if os.environ.get("CI") else "dev")
        return settings.get_profile(f"contract-{name}")

    # --- adapters -----------------------------------------------------------------------------

    def adapter(self, vendor: str) -> Adapter:
        if vendor not in self._adapters:
            self._adapters[vendor] = self._build(vendor)
        return self._adapters[vendor]

    def _build(self, vendor: str) -> Adapter:
        cls = adapter_class(vendor)
        assert cls is not None
        mode = self.modes[vendor]
        url = IN_PROCESS_BASE if mode == "inprocess" else self.url_for(vendor) or ""
        clock = self._clocks.setdefault(url, ClockView())
        if mode == "inprocess":
            target = Target(vendor, url, mode, self.in_process(), Budget(None), self.masker,
                            clock=clock)
        else:
            live = mode == "live"
            target = Target(vendor, url, mode, OverHttp(trust_env=live),
                            self.budget if live else Budget(None), self.masker,
                            min_interval=cls.min_interval if live else 0.0, clock=clock)
        catalogue = Catalogue.load(schemas_root() / vendor / "catalogue.json")
        return cls(self, target, list(load_operations(vendor)), catalogue, self.schemas)

    def in_process(self) -> InProcess:
        if self._in_process is None:
            self._in_process = InProcess(self.mock_settings(), self.schemas)
        return self._in_process

    def mock_settings(self) -> Settings:
        """The in-process mock: env `MOCKSERVER_*` apply; `MOCKSERVER_MUTATIONS` (the mutation
        script) installs the kit's deliberate deviations as a plugin."""
        base = load_settings({"host": "127.0.0.1", "port": 8000})
        plugins = base.plugins
        if os.environ.get(mutations.ENV) and mutations.PLUGIN not in plugins:
            plugins = (*plugins, mutations.PLUGIN)
        return replace(base, plugins=plugins)

    def close(self) -> None:
        for adapter in self._adapters.values():
            if adapter.target.mode != "inprocess":
                adapter.target.transport.close()
        if self._in_process is not None:
            self._in_process.close()

    def summary_line(self) -> str:
        places: dict[str, list[str]] = {}
        for vendor in self.modes:
            places.setdefault(self.where(vendor), []).append(vendor)
        where = "; ".join(f"{', '.join(v)}: {p}" for p, v in places.items()) or "no vendor"
        budget = self.budget
        spent = "" if budget.unlimited else f"; live budget {budget.spent}/{budget.limit} tasks"
        return (f"contract kit: {where}; {len(self.drift.exercised)} cases checked, "
                f"{len(self.drift.findings)} drift finding(s){self._states_note()}{spent}; "
                f"report in {self.options.report_dir}/")

    def _states_note(self) -> str:
        """Mocks must show every documented state; live vendors show what they show."""
        mocked = {v: c for v, c in self.drift.states.items() if self.modes.get(v) != "live"}
        live = {v: c for v, c in self.drift.states.items() if self.modes.get(v) == "live"}
        notes = []
        missing = {v: c.missing() for v, c in mocked.items() if c.missing()}
        if mocked:
            notes.append("every documented state observed" if not missing else
                         "states not observed: " + "; ".join(
                             f"{v} {', '.join(m)}" for v, m in sorted(missing.items())))
        if live:
            notes.append("live states seen: " + ", ".join(
                f"{v} {len(c.kinds) - len(c.missing())}/{len(c.kinds)}"
                for v, c in sorted(live.items())))
        return "".join(f"; {note}" for note in notes)

    def write_report(self) -> list[Path]:
        waited = [f"{v}: {a.target.throttles_waited} documented refusal(s) under load waited "
                  f"out ({'the mock clock moved on' if a.target.is_mock else 'backed off'})"
                  for v, a in self._adapters.items() if a.target.throttles_waited]
        self.drift.notes = [*self.notes, *waited]
        return self.drift.write(self.options.report_dir)
