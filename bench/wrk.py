"""Drive wrk (a compiled HTTP load generator) and read its figures back as numbers.

Each run writes a small Lua script: the request (method, headers, body, or a key that changes
on every request) and a `done` hook that prints the summary as one JSON line, so nothing is
scraped from wrk's human-readable output. Loopback only; every run stops after `seconds`.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

MARK = "BENCH-JSON "

# wrk calls done() once, after every thread stopped; latency values are in microseconds.
_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d,'
    .. ' "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\\n',
    "MARK", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
""".replace("MARK", MARK)


@dataclass(frozen=True)
class Request:
    """What every connection sends, over and over."""

    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    # With `rotate_key`, each request carries `Authorization: Bearer <rotate_key><n>`, so every
    # request is a new account (fresh-key submits with limits on).
    rotate_key: str | None = None

    def lua(self) -> str:
        lines = [f"wrk.method = {_lua_str(self.method)}"]
        if self.body is not None:
            lines.append(f"wrk.body = {_lua_str(self.body)}")
        for name, value in self.headers:
            lines.append(f"wrk.headers[{_lua_str(name)}] = {_lua_str(value)}")
        if self.rotate_key is not None:
            lines += ["local n = 0",
                      "request = function()",
                      "  n = n + 1",
                      f"  wrk.headers['Authorization'] = 'Bearer ' .. {_lua_str(self.rotate_key)} .. n",
                      "  return wrk.format()",
                      "end"]
        return "\n".join(lines) + "\n" + _DONE


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: run `python3 dev.py bench` (it installs it) "
                         "or `apt-get install -y wrk`")
    return found


def run(url: str, request: Request, seconds: float, connections: int = 32,
        threads: int = 1) -> Result:
    if not url.startswith(("http://127.", "http://localhost")):
        raise ValueError(f"load is only sent to loopback, not {url}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(request.lua())
    try:
        duration = max(1, round(seconds))
        done = subprocess.run(
            [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
             "--timeout", "5s", "-s", script.name, url],
            capture_output=True, text=True, timeout=duration + 30, check=False)
    finally:
        Path(script.name).unlink()
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(MARK)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    raw = json.loads(line[len(MARK):])
    secs = raw["duration_us"] / 1e6
    return Result(raw["requests"], secs, raw["requests"] / secs, raw["p50_us"] / 1000,
                  raw["p90_us"] / 1000, raw["p99_us"] / 1000, raw["max_us"] / 1000,
                  raw["non_2xx"], raw["socket_errors"])


def _lua_str(text: str) -> str:
    # JSON string escapes are valid Lua string escapes for the characters we send.
    return json.dumps(text)
