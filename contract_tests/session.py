"""The kit's session: where each vendor is reached, the budget, the drift log, the adapters."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

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
from .targets import IN_PROCESS_BASE, InProcess, OverHttp, Target, answers_as_mock

ALL = "*"
_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
# dev: a quick local loop; ci: more examples, reproducible; live: few deliberate requests,
# no shrinking (every shrink step would be another request to a paid API).
settings.register_profile("contract-dev", max_examples=8, stateful_step_count=12, deadline=None,
                          database=None, suppress_health_check=_QUIET)
settings.register_profile("contract-ci", max_examples=10, stateful_step_count=12, deadline=None,
                          database=None, derandomize=True, suppress_health_check=_QUIET)
# mutation: one pytest run per mutant only has to notice the drift, not minimise it.
settings.register_profile("contract-mutation", max_examples=15, stateful_step_count=15,
                          deadline=None, database=None, derandomize=True,
                          phases=[Phase.explicit, Phase.generate], suppress_health_check=_QUIET)
settings.register_profile("contract-live", max_examples=2, stateful_step_count=6, deadline=None,
                          database=None, phases=[Phase.explicit, Phase.generate],
                          suppress_health_check=_QUIET)


@dataclass
class Options:
    targets: dict[str, str] = field(default_factory=dict)  # vendor (or "*") -> base URL
    vendors: tuple[str, ...] = ()  # empty: every vendor the kit and the mock both know
    live_budget: int = 0
    report_dir: Path = Path("contract-report")
    profile: str | None = None
    callback_url: str | None = None  # a public receiver for live callback checks


def parse_targets(values: list[str]) -> dict[str, str]:
    """`URL` (every vendor) or `vendor=URL`, repeatable."""
    found = {}
    for value in values:
        vendor, sep, url = value.partition("=")
        if sep and vendor in ADAPTERS:
            found[vendor] = url.rstrip("/")
        else:
            found[ALL] = value.rstrip("/")
    return found


class Kit:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.masker = Masker()
        self.modes = {v: self._mode(v) for v in self.landed()}
        self.live = any(mode == "live" for mode in self.modes.values())
        self.budget = Budget(options.live_budget if self.live else None)
        self.drift = DriftLog({v: self.where(v) for v in self.modes})
        self.schemas = SchemaRegistry.shared()  # the contract: schemas, operations, catalogues
        self._in_process: InProcess | None = None
        self._adapters: dict[str, Adapter] = {}

    # --- which vendors, where -----------------------------------------------------------------

    def landed(self) -> list[str]:
        """Vendors with both a provider in the mock and an adapter here, as selected."""
        present = list(vendor_names())
        chosen = self.options.vendors or tuple(ADAPTERS)
        return [v for v in present if v in chosen and adapter_class(v) is not None]

    def url_for(self, vendor: str) -> str | None:
        return self.options.targets.get(vendor, self.options.targets.get(ALL))

    def _mode(self, vendor: str) -> str:
        url = self.url_for(vendor)
        if url is None:
            return "inprocess"
        return "mock" if answers_as_mock(url) else "live"

    def where(self, vendor: str) -> str:
        mode = self.modes[vendor]
        return "the mock, in-process" if mode == "inprocess" else f"{mode} at {self.url_for(vendor)}"

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
        if mode == "inprocess":
            target = Target(vendor, IN_PROCESS_BASE, mode, self.in_process(), Budget(None), self.masker)
        else:
            live = mode == "live"
            target = Target(vendor, self.url_for(vendor) or "", mode, OverHttp(trust_env=live),
                            self.budget if live else Budget(None), self.masker,
                            min_interval=cls.min_interval if live else 0.0)
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
        credentials = {vendor: dict(pairs) for vendor, pairs in base.credentials.items()}
        for vendor in self.modes:
            pairs = getattr(adapter_class(vendor), "mock_secret_pairs", {})
            if pairs:
                credentials[vendor] = {**credentials.get(vendor, {}), **pairs}
        plugins = base.plugins
        if os.environ.get(mutations.ENV):
            plugins = (*plugins, mutations.PLUGIN)
        return replace(base, credentials=credentials, plugins=plugins)

    def close(self) -> None:
        for adapter in self._adapters.values():
            if adapter.target.mode != "inprocess":
                adapter.target.transport.close()
        if self._in_process is not None:
            self._in_process.close()

    def write_report(self) -> list[Path]:
        return self.drift.write(self.options.report_dir)
