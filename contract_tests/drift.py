"""The drift report: per vendor and operation, each mismatch between the target's answers and
the documented contract, with the (masked) request that showed it. Markdown and JUnit XML."""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

MARKDOWN = "drift.md"
JUNIT = "drift.xml"


@dataclass(frozen=True)
class Finding:
    vendor: str
    operation: str
    check: str
    message: str
    exchange: str  # the masked request and answer

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.vendor, self.operation, self.check, self.message)


class DriftLog:
    """Collects findings across the session; Hypothesis replays the same failure, so dedupe."""

    def __init__(self, targets: dict[str, str] | None = None) -> None:
        self.targets = targets or {}
        self.findings: dict[tuple[str, str, str, str], Finding] = {}
        self.exercised: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()

    def passed(self, vendor: str, operation: str, check: str) -> None:
        with self._lock:
            self.exercised[(vendor, operation, check)] += 1

    def add(self, finding: Finding) -> None:
        with self._lock:
            self.exercised[(finding.vendor, finding.operation, finding.check)] += 1
            self.findings.setdefault(finding.key, finding)

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
        for vendor in sorted({k[0] for k in self.exercised} | {f.vendor for f in self.findings.values()}):
            lines += self._vendor_section(vendor)
        return "\n".join(lines) + "\n"

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
            lines += [f"### {f.operation} / {f.check}", "", f.message, "", "```", f.exchange,
                      "```", ""]
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
                failure.text = finding.exchange
        for suite in per_vendor.values():
            cases = list(suite)
            suite.set("tests", str(len(cases)))
            suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        return suites


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]
