"""`mockserver contract`: the kit's suite against a target, without a clone.

    mockserver contract --target URL [--vendor V] [--live-budget N] [--report DIR]

Runs the same pytest suite as `pytest contract_tests`, quietly: one line per vendor as it
finishes, then a summary (targets, findings, states observed, budget) and the drift report in
DIR. pytest's own output goes to DIR/pytest.txt. Exit status: 0 no drift, 1 drift found (or
nothing could be checked), 2 bad usage or a target that does not answer, 3 internal error.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .adapters import ADAPTERS
from .session import KIT_KEY, KIT_OPTIONS, Kit, UsageError, nothing_checked, parse_targets
from .targets import TargetError, probe

HERE = Path(__file__).resolve().parent
# Fast, decisive tests first; the kit's own unit tests (test_kit.py) are not part of a check.
SUITE = ("test_schemas.py", "test_refusals.py", "test_operations.py", "test_states.py",
         "test_callbacks.py", "test_streams.py", "test_lifecycle.py")
STATIC = "contract"  # the progress group of tests that read the contract files only
# Plugins of a development install that the kit does not use (start-up time).
UNUSED_PLUGINS = ("schemathesis", "respx", "anyio", "portrait_mockserver", "cacheprovider")


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="mockserver contract", description=__doc__.splitlines()[0])
    for flag, _, options in KIT_OPTIONS:
        found.add_argument(flag, **options)
    return found


def pytest_args(args: argparse.Namespace) -> list[str]:
    found = [str(HERE / name) for name in SUITE]
    found += ["-c", str(HERE / "kit.ini"), "--rootdir", str(HERE.parent), "-q", "-rN"]
    for plugin in UNUSED_PLUGINS:
        found += ["-p", f"no:{plugin}"]
    for value in args.target:
        found += ["--target", value]
    for value in args.vendor:
        found += ["--vendor", value]
    found += ["--live-budget", str(args.live_budget), "--drift-report", args.report]
    if args.profile:
        found += ["--contract-profile", args.profile]
    if args.callback_url:
        found += ["--callback-url", args.callback_url]
    return found


class Progress:
    """A pytest plugin: one line per vendor when its last test is done, then the summary."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.started = time.monotonic()
        self.pending: Counter[str] = Counter()
        self.groups: dict[str, str] = {}  # test id -> its vendor (or the static group)
        self.outcomes: dict[str, Counter[str]] = {}
        self.vendor_started: dict[str, float] = {}
        self.failures: list[str] = []
        self.kit: Kit | None = None

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        self.kit = config.stash.get(KIT_KEY, None)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Group the tests by vendor (the contract's static checks first), keeping their order
        within a group, so each vendor finishes once and its line says how it went."""
        order = [STATIC, *ADAPTERS]
        self.groups = {item.nodeid: _group(item) for item in items}
        items.sort(key=lambda item: order.index(self.groups[item.nodeid]))
        self.pending = Counter(self.groups.values())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        group = self.groups.get(report.nodeid, STATIC)
        self.vendor_started.setdefault(group, time.monotonic())
        outcomes = self.outcomes.setdefault(group, Counter())
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcomes[report.outcome] += 1
            if report.failed:
                self.failures.append(report.nodeid)
        if report.when == "teardown":
            if report.failed:
                outcomes["failed"] += 1
                self.failures.append(report.nodeid)
            self.pending[group] -= 1
            if self.pending[group] == 0:
                self.line(self.vendor_line(group))

    def vendor_line(self, group: str) -> str:
        outcomes = self.outcomes.get(group, Counter())
        seconds = time.monotonic() - self.vendor_started.get(group, time.monotonic())
        verdict = "FAIL" if outcomes["failed"] else "ok" if outcomes["passed"] else "SKIP"
        tests = sum(outcomes.values())
        skipped = f" ({outcomes['skipped']} skipped)" if outcomes["skipped"] else ""
        facts = f"{tests} tests{skipped}"
        kit = self.kit
        if kit is not None and group in kit.modes:
            drift = kit.drift
            cases = sum(1 for key in drift.exercised if key[0] == group)
            findings = sum(1 for f in drift.findings.values() if f.vendor == group)
            facts += f", {cases} cases checked, {findings} finding(s)"
            coverage = drift.states.get(group)
            if coverage is not None:
                seen = len(coverage.kinds) - len(coverage.missing())
                facts += f", states {seen}/{len(coverage.kinds)}"
        return f"{group:<10} {verdict:<4} {seconds:5.1f}s  {facts}"

    def summary(self, status: int, report_dir: Path, config: pytest.Config | None) -> list[str]:
        kit = self.kit
        lines = [""]
        if kit is not None:
            lines.append(kit.summary_line())
            for finding in list(kit.drift.findings.values())[:10]:
                lines.append(f"  - {finding.vendor}.{finding.operation} [{finding.check}] "
                             f"{finding.message[:160]}")
            if len(kit.drift.findings) > 10:
                lines.append(f"  ... and {len(kit.drift.findings) - 10} more in the report")
        why = nothing_checked(config) if config is not None else None
        if why:
            lines.append(f"FAILED: {why}")
        for nodeid in self.failures[:10]:
            lines.append(f"  failed: {nodeid}")
        verdict = {0: "passed", 1: "FAILED"}.get(status, f"ERROR (pytest exit {status})")
        lines.append(f"contract: {verdict} in {time.monotonic() - self.started:.1f} s; "
                     f"report: {report_dir}/drift.md, pytest output: {report_dir}/pytest.txt")
        return lines


def _group(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    vendor = callspec.params.get("vendor") if callspec is not None else None
    if vendor in ADAPTERS and "adapter" in getattr(item, "fixturenames", ()):
        return str(vendor)
    return STATIC


class _Config:
    """Keeps the pytest config for the summary (nothing_checked needs it)."""

    config: pytest.Config | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config


def check_usage(args: argparse.Namespace) -> str | None:
    """A one-line reason the arguments cannot be used, before pytest starts (a dead URL is
    found here, with the URL and how it failed)."""
    vendors = {v for value in args.vendor for v in value.split(",") if v}
    unknown = sorted(vendors - set(ADAPTERS))
    if unknown:
        return f"--vendor: unknown {', '.join(unknown)}; known: {', '.join(ADAPTERS)}"
    if args.live_budget < 0:
        return "--live-budget must be 0 or more"
    try:
        for spec in set(parse_targets(args.target).values()):
            probe(spec.url, spec.forced)
    except (UsageError, TargetError) as error:
        return str(error)
    return None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    problem = check_usage(args)
    if problem:
        print(f"mockserver contract: {problem}", file=sys.stderr)
        return 2
    report_dir = Path(args.report)
    report_dir.mkdir(parents=True, exist_ok=True)
    out = sys.stdout
    progress, keeper = Progress(out), _Config()
    captured = io.StringIO()
    print(f"contract kit: {', '.join(args.target) or 'the mock in-process'}"
          f"{'; vendors ' + ','.join(args.vendor) if args.vendor else ''}", file=out, flush=True)
    with contextlib.redirect_stdout(captured):
        status = int(pytest.main(pytest_args(args), plugins=[progress, keeper]))
    (report_dir / "pytest.txt").write_text(captured.getvalue(), encoding="utf-8")
    for line in progress.summary(status, report_dir, keeper.config):
        print(line, file=out)
    if status not in (0, 1):
        print(captured.getvalue()[-3000:], file=sys.stderr)
    return {0: 0, 1: 1, 4: 2}.get(status, 3)


if __name__ == "__main__":
    sys.exit(main())
