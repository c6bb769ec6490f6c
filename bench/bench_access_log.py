"""Benchmark: what the access log costs. `mockserver serve` answering the DashScope task query,
with the access log on (the default, written to a file) and off (`--quiet`), next to a bare
Starlette app answering the same bytes, all in the same run, loaded by wrk on loopback.

    python bench/bench_access_log.py [--seconds 5] [--connections 8] [--rounds 2]

Each round measures the three back to back. Besides wrk's requests per second (best round
shown), it reads each server's CPU time per request from /proc: on a shared machine the
throughput swings with the neighbours' load, while the CPU a request costs barely does, and a
single-process server's capacity is one over it. The cost of the access log is
1 - (CPU per request with --quiet) / (CPU per request with the log), medians over the rounds;
the script exits 1 when it exceeds 15% (not with `--no-budget`, which `run.py --quick` passes:
one 1 s round is too noisy to judge). Needs wrk (`apt-get install -y wrk`; installed here if
missing and we are root).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

KEY = "sk-bench-access-log"
BUDGET = 0.15  # the access log may cost at most this share of query throughput
SUBMIT_BODY = {"model": "facechain-generation", "parameters": {"style": "f_idcard_male", "n": 1},
               "resources": [{"resource_id": "r", "resource_type": "facelora"}]}
BARE_APP = '''
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = open(sys.argv[2], "rb").read()

async def query(request):
    return Response(BODY, media_type="application/json")

app = Starlette(routes=[Route("/api/v1/tasks/{task_id}", query)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is needed: apt-get install -y wrk")
    return found


def wait_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def request(url: str, body: dict[str, object] | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable",
               "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=10) as answer:
        return bytes(answer.read())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(binary: str, url: str, seconds: float, connections: int) -> tuple[float, int]:
    """(requests per second, requests) wrk measured (1 thread: the server needs the other
    core)."""
    done = subprocess.run([binary, "-t1", f"-c{connections}", f"-d{seconds:g}s",
                           "-H", f"Authorization: Bearer {KEY}", url],
                          capture_output=True, text=True, timeout=seconds + 60, check=True)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if errors:
        raise RuntimeError(f"{errors.group(1)} non-2xx answers:\n{done.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    count = re.search(r"(\d+) requests in", done.stdout)
    if found is None or count is None:
        raise RuntimeError(done.stdout + done.stderr)
    return float(found.group(1)), int(count.group(1))


def measure(binary: str, url: str, pid: int, seconds: float, connections: int
            ) -> tuple[float, float]:
    """(requests per second, the server's CPU microseconds per request)."""
    before = cpu_seconds(pid)
    rate, count = wrk(binary, url, seconds, connections)
    return rate, (cpu_seconds(pid) - before) / count * 1e6


class Mock:
    """`mockserver serve` on a free loopback port; its log goes to a real file."""

    def __init__(self, workdir: Path, quiet: bool) -> None:
        self.port = free_port()
        self.log = (workdir / f"mock-{'quiet' if quiet else 'logged'}.log").open("w")
        flags = ["--quiet"] if quiet else []
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(self.port), "--store",
             "memory", "--no-limits", *flags], cwd=workdir, env=env,
            stdout=subprocess.DEVNULL, stderr=self.log)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_up(f"{self.base}/__admin/health")
        submitted = json.loads(request(f"{self.base}/api/v1/services/aigc/album/gen_potrait",
                                       SUBMIT_BODY))
        self.query_url = f"{self.base}/api/v1/tasks/{submitted['output']['task_id']}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-budget", action="store_true",
                        help="report the cost without judging it (a 1 s smoke run is too noisy)")
    args = parser.parse_args()
    binary = ensure_wrk()
    best = {"access log on": 0.0, "access log off (--quiet)": 0.0, "bare Starlette": 0.0}
    cpu_us: dict[str, list[float]] = {name: [] for name in best}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        logged, quiet = Mock(workdir, quiet=False), Mock(workdir, quiet=True)
        body_file = workdir / "query.json"
        body_file.write_bytes(request(quiet.query_url))
        bare_port = free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port), str(body_file)])
        try:
            wait_up(f"http://127.0.0.1:{bare_port}/api/v1/tasks/x")
            targets = {"access log on": (logged.query_url, logged.process.pid),
                       "access log off (--quiet)": (quiet.query_url, quiet.process.pid),
                       "bare Starlette": (f"http://127.0.0.1:{bare_port}/api/v1/tasks/x",
                                          bare.pid)}
            for url, _ in targets.values():  # warm up every server first
                wrk(binary, url, 1, args.connections)
            for _ in range(args.rounds):
                for name, (url, pid) in targets.items():
                    rate, cpu = measure(binary, url, pid, args.seconds, args.connections)
                    best[name] = max(best[name], rate)
                    cpu_us[name].append(cpu)
            lines = sum(1 for line in (workdir / "mock-logged.log").open()
                        if " mockserver.access " in line)
        finally:
            logged.stop()
            quiet.stop()
            bare.terminate()
            bare.wait(timeout=20)
    base = best["bare Starlette"]
    cpu = {name: statistics.median(found) for name, found in cpu_us.items()}
    cost = 1 - cpu["access log off (--quiet)"] / cpu["access log on"]
    print(f"DashScope task query, wrk -t1 -c{args.connections} -d{args.seconds:g}s, "
          f"{args.rounds} rounds (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    for name, figure in best.items():
        print(f"  {name:<26} {figure:8.0f} req/s (best)   {figure / base:4.2f}x bare   "
              f"{cpu[name]:6.0f} us CPU/request (median)")
    print(f"  access log cost: {cost * 100:.1f}% of the server's query capacity (CPU per "
          f"request; budget {BUDGET * 100:.0f}%); by best throughput "
          f"{(1 - best['access log on'] / best['access log off (--quiet)']) * 100:.1f}%; "
          f"{lines} lines written")
    return 0 if cost <= BUDGET or args.no_budget else 1


if __name__ == "__main__":
    sys.exit(main())
