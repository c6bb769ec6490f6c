"""A/B of one change: the floor, the code at a git revision and the working tree, served side
by side and loaded in turn, round after round, so that the machine's drift hits all three.

    python bench/ab.py --base HEAD~1 [--endpoint query|submit] [--seconds 4] [--rounds 3]
                       [-- serve flags, e.g. --store memory]

The base is checked out into a temporary git worktree and served from there (its directory
first on PYTHONPATH); the working tree is served from the installed package. Prints each
server's median req/s, the median ratio to the floor with its range, and the median p99.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402
import throughput  # noqa: E402
import wrk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision to compare with")
    parser.add_argument("--endpoint", choices=("query", "submit"), default="query")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("flags", nargs="*", help="`mockserver serve` flags for both sides")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mockbench-ab-") as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree),
                        opts.base], check=True)
        try:
            results = compare(tree, opts)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False)
    report(results, opts)
    return 0


def compare(base_tree: Path, opts: argparse.Namespace) -> dict[str, list[wrk.Result]]:
    flags = (*opts.flags, "--no-limits")
    started = [servers.spawn_floor(),
               servers.spawn_mock("base", *flags, env={"PYTHONPATH": str(base_tree)}),
               servers.spawn_mock("new", *flags)]
    try:
        targets = {s.name: throughput.endpoints(s)[opts.endpoint] for s in started}
        results: dict[str, list[wrk.Result]] = {s.name: [] for s in started}
        for _ in range(opts.rounds):
            for server in started:
                url, request = targets[server.name]
                results[server.name].append(wrk.run(url, request, opts.seconds))
        return results
    finally:
        for server in started:
            server.stop()


def report(results: dict[str, list[wrk.Result]], opts: argparse.Namespace) -> None:
    floor = [r.rps for r in results["floor"]]
    print(f"{opts.endpoint}, {' '.join(opts.flags) or 'default store'}: {opts.rounds} rounds "
          f"of {opts.seconds:g} s, base {opts.base}")
    for name, runs in results.items():
        ratios = [r.rps / f for r, f in zip(runs, floor)]
        print(f"  {name:6s} {statistics.median(r.rps for r in runs):8.0f} req/s  ratio "
              f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})  p99 "
              f"{statistics.median(r.p99_ms for r in runs):6.2f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
