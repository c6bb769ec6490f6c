"""Where the time goes: py-spy samples `mockserver serve` while wrk loads one endpoint.

    pip install py-spy    # into the venv by hand: a tool, not a dependency of the project
    python bench/profile.py [query|submit] [--store memory|sqlite] [--seconds 10]

Prints the share of samples spent inside (inclusive) and directly in (self) each function,
with the mock's own functions named by file, so the owner of each piece can act.
"""
from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402
import throughput  # noqa: E402
import wrk  # noqa: E402


def frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    return stack.split(";"), int(count)


def label(frame: str) -> str:
    """`function (path:line)` -> `function (short/path.py)`."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "mockserver/", "lib/python3"):
        if marker in path:
            path = path[path.index(marker):].replace("site-packages/", "")
            break
    return f"{name} ({path})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoint", choices=("query", "submit"), default="query", nargs="?")
    parser.add_argument("--store", choices=("memory", "sqlite"), default="memory")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=40)
    opts = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: `pip install py-spy` into the venv first")
    flags = ("--store", "memory") if opts.store == "memory" else ()
    server = servers.spawn_mock(opts.store, *flags, "--no-limits")
    out = Path(tempfile.mkdtemp()) / "profile.txt"
    try:
        url, request = throughput.endpoints(server)[opts.endpoint]
        load = threading.Thread(target=wrk.run, args=(url, request, opts.seconds + 2))
        load.start()
        subprocess.run([spy, "record", "--pid", str(server.proc.pid), "--format", "raw",
                        "--duration", str(int(opts.seconds)), "--rate", "250", "--nonblocking",
                        "--output", str(out)], check=True, capture_output=True)
        load.join()
    finally:
        server.stop()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        if not line.strip():  # py-spy ends the raw output with an empty line
            continue
        stack, count = frames(line)
        total += count
        names = [label(f) for f in stack if f.strip()]
        for name in set(names):
            inclusive[name] += count
        if names:
            own[names[-1]] += count
    print(f"{opts.endpoint}, {opts.store} store: {total} samples")
    print("inclusive (time inside the function, callees included):")
    for name, count in inclusive.most_common(opts.top):
        print(f"  {count / total * 100:5.1f}%  {name}")
    print("self (time in the function's own code):")
    for name, count in own.most_common(opts.top // 2):
        print(f"  {count / total * 100:5.1f}%  {name}")
    summary = {"endpoint": opts.endpoint, "store": opts.store, "samples": total,
               "inclusive": {k: v / total for k, v in inclusive.most_common(80)},
               "self": {k: v / total for k, v in own.most_common(40)}}
    dest = servers.HERE / "results"
    dest.mkdir(exist_ok=True)
    (dest / f"profile-{opts.endpoint}-{opts.store}.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
