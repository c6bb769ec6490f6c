"""The drift report: per vendor and operation, each mismatch between the target's answers and
the documented contract: what was expected, from which source, what came back, the (masked)
exchange and one line of curl to reproduce it. Markdown and JUnit XML; the validating proxy
writes the same format.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

MARKDOWN = "drift.md"
JUNIT = "drift.xml"


@dataclass(frozen=True)
class Finding:
    vendor: str
    operation: str
    check: str
    message: str  # one line: what is wrong
    exchange: str  # the masked request and answer
    expected: str = ""  # what the contract says
    source: str = ""  # where it says so: a schema file, a catalogue entry, a vendor document
    got: str = ""  # what came back instead
    curl: str = ""  # one line that repeats the request, secrets masked

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.vendor, self.operation, self.check, self.message)

    def details(self) -> list[str]:
        """The finding's facts, one per line, for assert messages and reports."""
        lines = [f"expected: {self.expected}" if self.expected else "",
                 f"source:   {self.source}" if self.source else "",
                 f"got:      {self.got}" if self.got else "",
                 f"repeat:   {self.curl}" if self.curl else ""]
        return [line for line in lines if line]


@dataclass
class StateCoverage:
    """Which of a vendor's documented states (by kind, in its own words) were observed."""

    kinds: Mapping[str, frozenset[str]]  # kind ("queued", ...) -> the vendor's words for it
    seen: set[str] = field(default_factory=set)

    def missing(self) -> list[str]:
        return [kind for kind, words in self.kinds.items() if not words & self.seen]

    def row(self, kind: str) -> str:
        words = self.kinds[kind]
        seen = sorted(words & self.seen)
        return f"{', '.join(seen)}" if seen else "**not observed**"


class DriftLog:
    """Collects findings across the session; Hypothesis replays the same failure, so dedupe."""

    def __init__(self, targets: dict[str, str] | None = None) -> None:
        self.targets = targets or {}
        self.findings: dict[tuple[str, str, str, str], Finding] = {}
        self.exercised: Counter[tuple[str, str, str]] = Counter()
        self.states: dict[str, StateCoverage] = {}
        self.notes: list[str] = []  # run facts worth a line (throttling waited out, ...)
        self.states_required = True  # False: passive traffic (the proxy) shows what it shows
        self._lock = threading.Lock()

    def passed(self, vendor: str, operation: str, check: str) -> None:
        with self._lock:
            self.exercised[(vendor, operation, check)] += 1

    def add(self, finding: Finding) -> None:
        with self._lock:
            self.exercised[(finding.vendor, finding.operation, finding.check)] += 1
            self.findings.setdefault(finding.key, finding)

    def track_states(self, vendor: str, kinds: Mapping[str, frozenset[str]]) -> None:
        self.states.setdefault(vendor, StateCoverage(kinds))

    def observed(self, vendor: str, state: str) -> None:
        coverage = self.states.get(vendor)
        if coverage is not None:
            with self._lock:
                coverage.seen.add(state)

    def vendors_exercised(self) -> set[str]:
        return {vendor for vendor, _, _ in self.exercised}

    def by_case(self) -> dict[tuple[str, str, str], list[Finding]]:
        cases: dict[tuple[str, str, str], list[Finding]] = {k: [] for k in sorted(self.exercised)}
        for finding in self.findings.values():
            cases.setdefault((finding.vendor, finding.operation, finding.check), []).append(finding)
        return cases

    def write(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        markdown, junit = directory / MARKDOWN, directory / JUNIT
        markdown.write_text(self.markdown(), encoding="utf-8")
        ET.ElementTree(self.junit()).write(junit, encoding="utf-8", xml_declaration=True)
        return [markdown, junit]

    def markdown(self) -> str:
        lines = ["# Contract drift report", "",
                 f"Generated {time.strftime('%Y-%m-%d %H:%M:%S %z')}.", ""]
        lines += [f"- `{vendor}`: {where}" for vendor, where in sorted(self.targets.items())]
        checks, failed = len(self.exercised), {f.key[:3] for f in self.findings.values()}
        lines += ["", f"{checks} (vendor, operation, check) cases exercised; "
                  f"{len(failed)} with drift; {len(self.findings)} distinct findings.", ""]
        lines += [f"- {note}" for note in self.notes]
        lines += self._states_section()
        vendors = self.vendors_exercised() | {f.vendor for f in self.findings.values()}
        for vendor in sorted(vendors):
            lines += self._vendor_section(vendor)
        return "\n".join(lines) + "\n"

    def _states_section(self) -> list[str]:
        if not self.states:
            return []
        title = "Documented states observed" if self.states_required else \
            "Documented states the traffic showed"
        lines = ["", f"## {title}", "",
                 "| vendor | " + " | ".join(_KINDS) + " |", "|---" * (len(_KINDS) + 1) + "|"]
        for vendor, coverage in sorted(self.states.items()):
            cells = [coverage.row(k) if k in coverage.kinds else "(none documented)"
                     for k in _KINDS]
            lines.append(f"| {vendor} | " + " | ".join(cells) + " |")
        missing = {v: c.missing() for v, c in sorted(self.states.items()) if c.missing()}
        if not self.states_required:
            return lines + ["", "Which states appear depends on the app's own calls.", ""]
        lines += ["", "Every documented state was observed and checked." if not missing else
                  "Not observed: " + "; ".join(f"{v}: {', '.join(m)}" for v, m in missing.items())
                  + ".", ""]
        return lines

    def _vendor_section(self, vendor: str) -> list[str]:
        found = sorted((f for f in self.findings.values() if f.vendor == vendor),
                       key=lambda f: (f.operation, f.check, f.message))
        lines = [f"## {vendor}", ""]
        if not found:
            return lines + ["No drift found.", ""]
        lines += ["| operation | check | mismatch |", "|---|---|---|"]
        lines += [f"| {f.operation} | {f.check} | {_cell(f.message)} |" for f in found]
        lines.append("")
        for f in found:
            lines += [f"### {f.operation} / {f.check}", "", f.message, ""]
            lines += [f"- {line}" for line in f.details()]
            lines += ["", "```text", f.exchange, "```", ""]
        return lines

    def junit(self) -> ET.Element:
        suites = ET.Element("testsuites", name="contract-drift")
        per_vendor: dict[str, ET.Element] = {}
        for (vendor, operation, check), findings in self.by_case().items():
            suite = per_vendor.get(vendor)
            if suite is None:
                suite = per_vendor[vendor] = ET.SubElement(suites, "testsuite", name=f"drift.{vendor}")
            case = ET.SubElement(suite, "testcase", classname=f"{vendor}.{operation}", name=check)
            for finding in findings:
                failure = ET.SubElement(case, "failure", message=finding.message[:500])
                failure.text = "\n".join([*finding.details(), "", finding.exchange])
        for suite in per_vendor.values():
            cases = list(suite)
            suite.set("tests", str(len(cases)))
            suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        return suites


# The kinds of task state the vendors document, in the order a task lives through them.
_KINDS = ("queued", "running", "succeeded", "failed", "canceled", "expired", "unknown")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]
