"""How long the contract kit takes, as a user runs it (`mockserver contract`, default profile):

- all four vendors against the in-process mock (limit 20 s on the 2-core machine);
- each vendor alone, in-process (limit 12 s);
- all four against a running mock (`mockserver serve --store memory`, limit 40 s), twice on
  the same server: a fresh server, then one that earlier traffic left tasks and caches on;
- the floor: the same command collecting the suite without running it (interpreter, pytest,
  Hypothesis, the mock's imports), which every run pays.

Each figure is the wall time of a fresh process, with its CPU time (user + system, children
included); the median of `repeats` runs. A run that does not pass is an error, not a figure.
"""
from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import servers

VENDORS = ("acedata", "dashscope", "gptge", "tencent")
LIMITS = {"in-process, all vendors": 20.0, "running mock, all vendors, fresh server": 40.0,
          "running mock, all vendors, same server again": 40.0}
ONE_VENDOR_LIMIT = 12.0


def timed(args: list[str], must_pass: bool = True) -> dict[str, float]:
    """Wall and CPU seconds of `mockserver <args>` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kitbench-") as report:
        done = subprocess.run([*servers.mockserver_command(), *args, "--report", report],
                              capture_output=True, text=True, cwd=servers.ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if must_pass and done.returncode != 0:
        raise RuntimeError(f"mockserver {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu}


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def collect_only() -> dict[str, float]:
    """The floor: `python -m pytest --co` over the kit's suite (what every run starts with)."""
    from contract_tests.cli import HERE, SUITE, UNUSED_PLUGINS

    args = [str(HERE / n) for n in SUITE] + ["-c", str(HERE / "kit.ini"), "-q", "--co"]
    args += [x for p in UNUSED_PLUGINS for x in ("-p", f"no:{p}")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", *args], capture_output=True, check=True,
                   cwd=servers.ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": time.perf_counter() - started,
            "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def run(repeats: int = 1, vendors: tuple[str, ...] = VENDORS, whole: bool = True
        ) -> dict[str, Any]:
    """`whole=False` (the bench's quick mode): the floor and the single vendors only."""
    sys.path.insert(0, str(servers.ROOT))
    rows: dict[str, dict[str, float]] = {}
    rows["floor: collect only"] = median([collect_only() for _ in range(repeats)])
    if whole:
        rows["in-process, all vendors"] = median([timed(["contract"]) for _ in range(repeats)])
    for vendor in vendors:
        rows[f"in-process, {vendor} only"] = median(
            [timed(["contract", "--vendor", vendor]) for _ in range(repeats)])
    if not whole:
        return {"repeats": repeats, "rows": rows,
                "limits": {f"in-process, {v} only": ONE_VENDOR_LIMIT for v in vendors}}
    fresh, again = [], []
    for _ in range(repeats):
        server = servers.spawn_mock("kit-target", "--store", "memory")
        try:
            fresh.append(timed(["contract", "--target", server.base]))
            again.append(timed(["contract", "--target", server.base]))
        finally:
            server.stop()
    rows["running mock, all vendors, fresh server"] = median(fresh)
    rows["running mock, all vendors, same server again"] = median(again)
    return {"repeats": repeats, "rows": rows,
            "limits": {**LIMITS, **{f"in-process, {v} only": ONE_VENDOR_LIMIT for v in vendors}}}


def print_result(result: dict[str, Any]) -> None:
    print(f"\ncontract kit: `mockserver contract`, dev profile, fresh process each "
          f"(median of {result['repeats']}); wall s / CPU s / limit")
    for name, row in result["rows"].items():
        limit = result["limits"].get(name)
        verdict = "" if limit is None else (f"  limit {limit:g} s" +
                                            ("" if row["wall_s"] <= limit else "  OVER"))
        print(f"  {name:<46} {row['wall_s']:6.1f} s  {row['cpu_s']:6.1f} s{verdict}")


if __name__ == "__main__":
    print_result(run(1))
