"""`python3 dev.py bench`: every benchmark, one report, written to bench/results/<time>.json.

    python bench/run.py [--seconds 10] [--runs 2] [--scale 1,100000,1000000] [--only ...]
    python bench/run.py --quick        # 1 s runs, tiny scale: checks that everything works

Sections: throughput (wrk against the floor, interleaved), budget (bench_budget.py: the
app's cost per request in-process, with parts taken out, against what the goals leave), gc (collector settings against
the tail: gc_tuning.py), startup (start-up, RSS, first image request), scale (stored tasks,
limits on), pipeline (the image scripts bench_images.py and bench_idphoto.py), dashboard
(bench_dashboard.py: the task list and a task detail with 10,000 tasks in each store), contract
(the contract kit's run times: contract.py). Loopback only; every load run stops by itself.
`MOCKSERVER_BENCH_SECONDS` sets the default of `--seconds`.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contract  # noqa: E402
import gc_tuning  # noqa: E402
import scale  # noqa: E402
import startup  # noqa: E402
import throughput  # noqa: E402
from servers import HERE  # noqa: E402

SECTIONS = ("throughput", "budget", "gc", "startup", "scale", "workers", "store_scale",
            "pipeline", "dashboard", "access_log", "contract")


# Sections that are one script of bench/: (title, script, its arguments for --quick).
SCRIPT_SECTIONS = {
    "budget": ("where a request's time goes, and what the goal ratios leave the app",
               "bench_budget.py", ("--requests", "320", "--rounds", "1", "--seconds", "1")),
    "workers": ("workers and instances on a shared store (wrk)", "bench_workers.py",
                ("--seconds", "1", "--rounds", "1")),
    "store_scale": ("the engine's submit and query as each store grows", "bench_store_scale.py",
                    ("--sizes", "1,1000", "--redis-max", "1000")),
    "dashboard": ("dashboard pages with many tasks (in-process, each store)",
                  "bench_dashboard.py", ("--tasks", "500", "--rounds", "3")),
    "access_log": ("the access log's cost (wrk, on and off)", "bench_access_log.py",
                   ("--seconds", "1", "--rounds", "1", "--no-budget")),
}


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("MOCKSERVER_BENCH_SECONDS", 10)),
                        help="wrk duration per endpoint and server (default 10)")
    parser.add_argument("--runs", type=int, default=2, help="interleaved runs (default 2)")
    parser.add_argument("--variants", default="memory,sqlite,memory-gc-default,memory-pure-python",
                        help="mock variants next to the floor (comma separated)")
    parser.add_argument("--scale", help="stored-task levels (default 1,100000,1000000)")
    parser.add_argument("--scale-seconds", type=float, default=3.0, help="wrk run per level")
    parser.add_argument("--seed-budget", type=float, default=240.0,
                        help="longest allowed seeding, seconds; beyond it 300 k replaces 1 M")
    parser.add_argument("--startup-repeats", type=int, default=3)
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections to run")
    parser.add_argument("--quick", action="store_true", help="1 s runs, tiny scale (a smoke run)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.seconds, opts.runs, opts.scale_seconds = 1.0, 1, 1.0
        opts.scale = opts.scale or "1,1000"
        opts.startup_repeats, opts.variants = 1, "memory"
        opts.only = opts.only.replace("gc,", "")
    opts.scale = opts.scale or "1,100000,1000000"
    return opts


FAILED: list[str] = []  # the scripts that exited non-zero: the run goes on, then exits 1


def run_script(script: str, *args: str) -> str:
    """Run one of bench/'s in-process scripts and echo what it prints; a script that fails
    (a budget exceeded, a server that would not start) is named in one line with its exit
    status and the end of its error output, and the other sections still run."""
    done = subprocess.run([sys.executable, str(HERE / script), *args],
                          capture_output=True, text=True)
    print(done.stdout, end="", flush=True)
    if done.returncode != 0:
        FAILED.append(script)
        last = (done.stderr.strip().splitlines() or [""])[-1]
        print(f"{script} exited {done.returncode}" + (f": {last}" if last else ""), flush=True)
    return done.stdout


def pipeline(seconds: float) -> dict[str, str]:
    return {script: run_script(script, "--seconds", f"{seconds:g}")
            for script in ("bench_images.py", "bench_idphoto.py")}


def main(argv: list[str] | None = None) -> int:
    opts = options(argv)
    chosen = set(opts.only.split(","))
    today = datetime.datetime.now().astimezone()
    report: dict[str, Any] = {
        "date": today.isoformat(timespec="seconds"), "python": platform.python_version(),
        "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "command": " ".join(["python3 dev.py bench", *(argv if argv is not None else sys.argv[1:])]),
    }
    print(f"portrait-mockserver benchmark, {report['date']}, {report['cpus']} CPUs, "
          f"load average {report['load_average'][0]:.1f}", flush=True)
    if "throughput" in chosen:
        print(f"\nthroughput: wrk -t1 -c32, {opts.seconds:g} s per endpoint and server, "
              f"{opts.runs} interleaved runs, limits off", flush=True)
        report["throughput"] = throughput.run(opts.seconds, opts.runs,
                                              set(opts.variants.split(",")))
        throughput.print_summary(report["throughput"]["summary"])
    if "gc" in chosen:
        print(f"\ncollector settings: wrk {opts.seconds:g} s per endpoint, memory store, limits off",
              flush=True)
        report["gc"] = gc_tuning.run(opts.seconds, 1)
    if "startup" in chosen:
        report["startup"] = startup.run(opts.startup_repeats, 1.0 if opts.quick else 3.0)
        startup.print_result(report["startup"])
    if "scale" in chosen:
        print(f"\nscale series: limits on, wrk {opts.scale_seconds:g} s per figure", flush=True)
        levels = [int(x) for x in opts.scale.split(",")]
        report["scale"] = scale.run(levels, opts.scale_seconds, budget_s=opts.seed_budget)
        kb = report["scale"]["memory_per_task_kb"]
        if kb is not None:
            print(f"memory store: {kb:.2f} KB per stored task (RSS delta / tasks)")
    if "pipeline" in chosen:
        print("\nimage pipeline (in-process)", flush=True)
        report["pipeline"] = pipeline(1.0 if opts.quick else 3.0)
    for section, (title, script, quick_args) in SCRIPT_SECTIONS.items():
        if section in chosen:
            print(f"\n{title}", flush=True)
            report[section] = run_script(script, *(quick_args if opts.quick else ()))
    if "contract" in chosen:
        vendors = ("dashscope",) if opts.quick else contract.VENDORS
        report["contract"] = contract.run(1, vendors, whole=not opts.quick)
        contract.print_result(report["contract"])
    report["load_average_end"] = os.getloadavg()
    opts.out.mkdir(parents=True, exist_ok=True)
    path = opts.out / f"bench-{today.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"\n{today.date()}: results written to {path}")
    if FAILED:
        print(f"failed: {', '.join(FAILED)}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    raise SystemExit(main())
