"""Mutation self-test: run the contract kit once per mutant of the mock and count the catches.

    python contract_tests/mutation_score.py                  # every mutant, 2 at a time
    python contract_tests/mutation_score.py --only 'dashscope.*' --jobs 1
    python contract_tests/mutation_score.py --write-doc docs/contract.md

Each run is a separate pytest process (in-process mock, `MOCKSERVER_MUTATIONS=<name>`, only
the mutant's vendor, the `mutation` Hypothesis profile, stop at the first failure) bounded by
`--timeout`. A baseline run without mutants must pass first: the faithful mock is the control.
Exit status 0 only if the baseline passes and every mutant is caught.
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from contract_tests.mutations import ENV, MUTANTS, Mutant  # noqa: E402
from mockserver.providers import vendor_names  # noqa: E402

# Fast, decisive tests first: most mutants are caught before the state machine even starts.
ORDER = ["test_schemas.py", "test_refusals.py", "test_operations.py", "test_callbacks.py",
         "test_streams.py", "test_lifecycle.py"]
START, END = "<!-- mutation-score:start -->", "<!-- mutation-score:end -->"


@dataclass(frozen=True)
class Outcome:
    name: str
    vendor: str
    verdict: str  # caught | survived | timeout | error | baseline-ok | baseline-failed
    seconds: float
    caught_by: str = ""


def run_kit(vendor: str, mutation: str | None, timeout: float) -> tuple[str, float, str]:
    """(verdict, seconds, first finding) of one pytest run against the in-process mock."""
    env = {**os.environ, ENV: mutation or ""}
    with tempfile.TemporaryDirectory(prefix="mutant-") as report:
        command = [sys.executable, "-m", "pytest", *[str(HERE / f) for f in ORDER], "-q", "-x",
                   "-p", "no:cacheprovider", "--vendor", vendor, "--contract-profile",
                   "mutation", "--drift-report", report]
        started = time.monotonic()
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout", time.monotonic() - started, ""
        seconds = time.monotonic() - started
        verdict = {0: "survived", 1: "caught"}.get(done.returncode, "error")
        detail = first_finding(Path(report)) or _last_line(done.stdout + done.stderr)
        return verdict, seconds, detail


def first_finding(report: Path) -> str:
    path = report / "drift.xml"
    if not path.is_file():
        return ""
    for case in ET.parse(path).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            return f"{case.get('classname')} [{case.get('name')}] {failure.get('message', '')}"
    return ""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def score(mutants: list[Mutant], jobs: int, timeout: float) -> list[Outcome]:
    vendors = sorted({m.vendor for m in mutants})
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        baselines = list(pool.map(lambda v: _baseline(v, timeout), vendors))
        results = list(pool.map(lambda m: _mutant(m, timeout), mutants))
    return baselines + results


def _baseline(vendor: str, timeout: float) -> Outcome:
    verdict, seconds, detail = run_kit(vendor, None, timeout)
    ok = "baseline-ok" if verdict == "survived" else "baseline-failed"
    outcome = Outcome(f"(faithful mock) {vendor}", vendor, ok, seconds, "" if ok == "baseline-ok" else detail)
    _progress(outcome)
    return outcome


def _mutant(mutant: Mutant, timeout: float) -> Outcome:
    verdict, seconds, detail = run_kit(mutant.vendor, mutant.name, timeout)
    outcome = Outcome(mutant.name, mutant.vendor, verdict, seconds, detail)
    _progress(outcome)
    return outcome


def _progress(outcome: Outcome) -> None:
    print(f"{outcome.verdict:>15}  {outcome.seconds:6.1f}s  {outcome.name}  {outcome.caught_by[:90]}",
          flush=True)


def markdown(outcomes: list[Outcome], mutants: list[Mutant], skipped: list[Mutant]) -> str:
    tried = [o for o in outcomes if not o.verdict.startswith("baseline")]
    caught = [o for o in tried if o.verdict == "caught"]
    baseline = [o for o in outcomes if o.verdict.startswith("baseline")]
    drift = {m.name: m.drift for m in mutants}
    lines = [START, "",
             f"Mutation score: **{len(caught)}/{len(tried)}** mutants caught "
             f"(measured {time.strftime('%Y-%m-%d')}; total {sum(o.seconds for o in outcomes):.0f} s "
             "of pytest runs).", "",
             "Faithful mock (control): " + ", ".join(f"{o.vendor} {o.verdict.removeprefix('baseline-')}"
                                                     for o in baseline) + ".", ""]
    survivors = [o for o in tried if o.verdict != "caught"]
    lines += ["Survivors: " + (", ".join(f"`{o.name}` ({o.verdict})" for o in survivors)
                               if survivors else "none") + ".", ""]
    if skipped:
        lines += ["Not run (vendor not in the mock): " + ", ".join(f"`{m.name}`" for m in skipped), ""]
    lines += ["| mutant | drift it stands for | verdict | first finding |", "|---|---|---|---|"]
    for o in tried:
        finding = re.sub(r"\s+", " ", o.caught_by).replace("|", "\\|")[:140]
        lines.append(f"| `{o.name}` | {drift.get(o.name, '')} | {o.verdict} ({o.seconds:.0f} s) | {finding} |")
    return "\n".join(lines + ["", END])


def write_doc(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="GLOB",
                        help="mutant names to run (fnmatch pattern, repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="pytest runs at a time (default 2)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds per pytest run before it counts as a timeout")
    parser.add_argument("--write-doc", type=Path, default=None, metavar="FILE",
                        help="replace the mutation-score section of FILE (e.g. docs/contract.md)")
    args = parser.parse_args(argv)
    present = set(vendor_names())
    chosen = [m for m in MUTANTS.values()
              if not args.only or any(fnmatch.fnmatch(m.name, p) for p in args.only)]
    runnable = [m for m in chosen if m.vendor in present]
    skipped = [m for m in chosen if m.vendor not in present]
    outcomes = score(runnable, args.jobs, args.timeout)
    section = markdown(outcomes, runnable, skipped)
    print("\n" + section)
    if args.write_doc:
        write_doc(args.write_doc, section)
    ok = all(o.verdict in ("caught", "baseline-ok") for o in outcomes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
