"""A/B of one change: the floor, the code at a git revision and the working tree, served side
by side and loaded in turn, round after round, so that the machine's drift hits all three.

    python bench/ab.py --base HEAD~1 [--endpoint query|submit] [--seconds 4] [--rounds 3]
                       [-- serve flags, e.g. --store memory]

The base is checked out into a temporary git worktree and served from there (its directory
first on PYTHONPATH); the working tree is served from the installed package. Prints each
run, then each server's median req/s, ratio to the floor with its range, p50 and p99.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402
import throughput  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision to compare with")
    parser.add_argument("--endpoint", choices=("query", "submit"), default="query")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("flags", nargs="*", help="`mockserver serve` flags for both sides")
    opts = parser.parse_args()
    flags = (*opts.flags, "--no-limits")
    print(f"{opts.endpoint}, {' '.join(opts.flags) or 'default store'}: {opts.rounds} rounds "
          f"of {opts.seconds:g} s, base {opts.base}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mockbench-ab-") as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree),
                        opts.base], check=True)
        try:
            sides = [
                throughput.Variant("floor", servers.spawn_floor, "bare Starlette"),
                throughput.Variant("base", lambda: servers.spawn_mock(
                    "base", *flags, env={"PYTHONPATH": str(tree)}), f"the code at {opts.base}"),
                throughput.Variant("new", lambda: servers.spawn_mock("new", *flags),
                                   "the working tree")]
            outcome = throughput.run(opts.seconds, opts.rounds, servers_to_load=sides,
                                     loaded=(opts.endpoint,))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False)
    throughput.print_summary(outcome["summary"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
