"""Mutation self-test: run the contract kit once per mutant of the mock and count the catches.

    python contract_tests/mutation_score.py                  # every mutant, 2 at a time
    python contract_tests/mutation_score.py --only 'dashscope.*' --jobs 1
    python contract_tests/mutation_score.py --served --only 'tencent.foreign-task-visible'
    python contract_tests/mutation_score.py --write-doc docs/contract.md

Each run is a separate pytest process (`MOCKSERVER_MUTATIONS=<name>`, only the mutant's vendor,
the `mutation` Hypothesis profile, stop at the first failure) bounded by `--timeout`, against
the in-process mock, or with `--served` against a `mockserver serve --store memory` process
started for it with the plugin (`MOCKSERVER_PLUGINS`), the way a user's CI would run it. A
baseline run without mutants must pass first: the faithful mock is the control. The report
also lists which check families caught each mutant, and the families no mutant reaches.
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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from contract_tests.checks import BEHAVIOUR_CHECKS, CHECKS  # noqa: E402
from contract_tests.mutations import ENV, MUTANTS, PLUGIN, Mutant  # noqa: E402
from mockserver.providers import vendor_names  # noqa: E402
from mockserver.testing import free_port  # noqa: E402

# Fast, decisive tests first: most mutants are caught before the state machine even starts.
ORDER = ["test_schemas.py", "test_refusals.py", "test_operations.py", "test_states.py",
         "test_callbacks.py", "test_streams.py", "test_lifecycle.py"]
START, END = "<!-- mutation-score:start -->", "<!-- mutation-score:end -->"
FAMILIES = (*CHECKS, *BEHAVIOUR_CHECKS)
# Families a mutant of the mock cannot reach first, and why (a live vendor still can).
UNREACHABLE = {"task_id": "every submit schema requires the task id, so an answer without one "
                          "fails conforms_to_schema first"}
SERVE_START = 30.0  # seconds a served mock may take to answer its health check


@dataclass(frozen=True)
class Outcome:
    name: str
    vendor: str
    verdict: str  # caught | survived | timeout | error | baseline-ok | baseline-failed
    seconds: float
    caught_by: str = ""
    families: tuple[str, ...] = ()  # the checks that reported it


@dataclass(frozen=True)
class Run:
    verdict: str
    seconds: float
    detail: str
    families: tuple[str, ...]


def run_kit(vendor: str, mutation: str | None, timeout: float, served: bool = False) -> Run:
    """One pytest run of the kit against the mock with `mutation` switched on."""
    env = {**os.environ, ENV: mutation or ""}
    with tempfile.TemporaryDirectory(prefix="mutant-") as report, \
            _mock(env, served) as target:
        command = [sys.executable, "-m", "pytest", *[str(HERE / f) for f in ORDER], "-q", "-x",
                   "-p", "no:cacheprovider", "--vendor", vendor, "--contract-profile",
                   "mutation", "--drift-report", report, *target]
        started = time.monotonic()
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return Run("timeout", time.monotonic() - started, "", ())
        seconds = time.monotonic() - started
        verdict = {0: "survived", 1: "caught"}.get(done.returncode, "error")
        detail = first_finding(Path(report)) or _last_line(done.stdout + done.stderr)
        return Run(verdict, seconds, detail, families(Path(report)))


@contextmanager
def _mock(env: dict[str, str], served: bool) -> Iterator[list[str]]:
    """No arguments (the in-process mock), or `--target URL` of a served mock with the
    mutants' plugin, stopped afterwards."""
    if not served:
        yield []
        return
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--store", "memory", "--port", str(port),
         "--log-level", "warning"], cwd=ROOT, env={**env, "MOCKSERVER_PLUGINS": PLUGIN},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVE_START
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/__admin/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield ["--target", url]
    finally:
        server.terminate()
        server.wait(timeout=10)


def families(report: Path) -> tuple[str, ...]:
    """The checks with a failure in a drift report, in report order."""
    path = report / "drift.xml"
    if not path.is_file():
        return ()
    found = [case.get("name", "") for case in ET.parse(path).getroot().iter("testcase")
             if case.find("failure") is not None]
    return tuple(dict.fromkeys(found))


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


def score(mutants: list[Mutant], jobs: int, timeout: float, served: bool = False) -> list[Outcome]:
    vendors = sorted({m.vendor for m in mutants})
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        baselines = list(pool.map(lambda v: _baseline(v, timeout, served), vendors))
        results = list(pool.map(lambda m: _mutant(m, timeout, served), mutants))
    return baselines + results


def _baseline(vendor: str, timeout: float, served: bool) -> Outcome:
    run = run_kit(vendor, None, timeout, served)
    ok = "baseline-ok" if run.verdict == "survived" else "baseline-failed"
    outcome = Outcome(f"(faithful mock) {vendor}", vendor, ok, run.seconds,
                      "" if ok == "baseline-ok" else run.detail)
    _progress(outcome)
    return outcome


def _mutant(mutant: Mutant, timeout: float, served: bool) -> Outcome:
    run = run_kit(mutant.vendor, mutant.name, timeout, served)
    outcome = Outcome(mutant.name, mutant.vendor, run.verdict, run.seconds, run.detail,
                      run.families)
    _progress(outcome)
    return outcome


def _progress(outcome: Outcome) -> None:
    print(f"{outcome.verdict:>15}  {outcome.seconds:6.1f}s  {outcome.name}  {outcome.caught_by[:90]}",
          flush=True)


def family_lines(tried: list[Outcome]) -> list[str]:
    """Which check families caught at least one mutant, and which none did."""
    by_family: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for outcome in tried:
        for family in outcome.families:
            by_family.setdefault(family, []).append(outcome.name)
    reached = [f for f, names in by_family.items() if names]
    missing = [f for f, names in by_family.items() if not names and f not in UNREACHABLE]
    lines = [f"Check families that caught a mutant: {len(reached)} of {len(by_family)} "
             f"({', '.join(f'`{f}` {len(by_family[f])}' for f in reached)}).", ""]
    lines += [("No check family is left without a mutant." if not missing else
               "Families no mutant reached: " + ", ".join(f"`{f}`" for f in missing) + "."), ""]
    lines += [f"Not reachable by a mutant of the mock: `{f}` ({why})." for f, why in
              UNREACHABLE.items() if not by_family.get(f)]
    lines.append("")
    return lines


def markdown(outcomes: list[Outcome], mutants: list[Mutant], skipped: list[Mutant],
             served: bool = False) -> str:
    tried = [o for o in outcomes if not o.verdict.startswith("baseline")]
    caught = [o for o in tried if o.verdict == "caught"]
    baseline = [o for o in outcomes if o.verdict.startswith("baseline")]
    drift = {m.name: m.drift for m in mutants}
    where = "a served mock (`mockserver serve --store memory`)" if served else "the in-process mock"
    lines = [START, "",
             f"Mutation score: **{len(caught)}/{len(tried)}** mutants caught against {where} "
             f"(measured {time.strftime('%Y-%m-%d')}; total {sum(o.seconds for o in outcomes):.0f} s "
             "of pytest runs).", "",
             "Faithful mock (control): " + ", ".join(f"{o.vendor} {o.verdict.removeprefix('baseline-')}"
                                                     for o in baseline) + ".", ""]
    survivors = [o for o in tried if o.verdict != "caught"]
    lines += ["Survivors: " + (", ".join(f"`{o.name}` ({o.verdict})" for o in survivors)
                               if survivors else "none") + ".", ""]
    if skipped:
        lines += ["Not run (vendor not in the mock): " + ", ".join(f"`{m.name}`" for m in skipped), ""]
    lines += family_lines(tried)
    lines += ["| mutant | drift it stands for | verdict | caught by | first finding |",
              "|---|---|---|---|---|"]
    for o in tried:
        finding = re.sub(r"\s+", " ", o.caught_by).replace("|", "\\|")[:140]
        caught_by = ", ".join(o.families)
        lines.append(f"| `{o.name}` | {drift.get(o.name, '')} | {o.verdict} ({o.seconds:.0f} s) "
                     f"| {caught_by} | {finding} |")
    return "\n".join(lines + ["", END])


def markers(served: bool) -> tuple[str, str]:
    return (START.replace("score", "score-served"), END.replace("score", "score-served")) \
        if served else (START, END)


def write_doc(path: Path, section: str, served: bool = False) -> None:
    start, end = markers(served)
    section = section.replace(START, start).replace(END, end)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
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
    parser.add_argument("--served", action="store_true",
                        help="run against a served mock (mockserver serve) per mutant")
    parser.add_argument("--write-doc", type=Path, default=None, metavar="FILE",
                        help="replace the mutation-score section of FILE (e.g. docs/contract.md)")
    args = parser.parse_args(argv)
    present = set(vendor_names())
    chosen = [m for m in MUTANTS.values()
              if not args.only or any(fnmatch.fnmatch(m.name, p) for p in args.only)]
    runnable = [m for m in chosen if m.vendor in present]
    skipped = [m for m in chosen if m.vendor not in present]
    outcomes = score(runnable, args.jobs, args.timeout, args.served)
    section = markdown(outcomes, runnable, skipped, args.served)
    print("\n" + section)
    if args.write_doc:
        write_doc(args.write_doc, section, args.served)
    ok = all(o.verdict in ("caught", "baseline-ok") for o in outcomes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
