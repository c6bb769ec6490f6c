"""The benchmark harness runs end to end in its tiny mode (1 s wrk runs, one stored task).

No figure is asserted (timings belong to the benchmark, not the tests): only that every
server started, answered every request with 2xx, and that the report was written.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_quick(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    """`bench/run.py --quick ARGS` in `tmp_path`: the finished run (it must succeed) and the
    report it wrote."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", *args, "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    [report] = [json.loads(p.read_text()) for p in tmp_path.glob("bench-*.json")]
    return done, report


@pytest.mark.server
def test_bench_quick_mode_runs(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is missing: `python3 dev.py test` installs it (apt-get install -y wrk)")
    done, report = run_quick(tmp_path, "--only", "throughput,scale", "--scale", "1")
    rows = report["throughput"]["rows"]
    assert {(r["endpoint"], r["server"]) for r in rows} == {
        (e, s) for e in ("query", "submit") for s in ("floor", "memory")}
    assert all(r["requests"] > 0 and r["non_2xx"] == 0 and r["socket_errors"] == 0 for r in rows)
    [memory, sqlite] = report["scale"]["rows"]
    assert (memory["store"], sqlite["store"]) == ("memory", "sqlite")
    for row in (memory, sqlite):
        for run in ("query", "submit_new_key", "submit_busy_account"):
            assert row[run]["requests"] > 0 and row[run]["non_2xx"] == 0, (row["store"], run)
    assert "results written to" in done.stdout


@pytest.mark.server
def test_bench_startup_section_checks_new_and_seen_photos(tmp_path: Path) -> None:
    """The start-up section's image figures: the first request, warm ones with photos never
    seen before (each made different by `PhotoServer`), and repeats the verdict cache knows."""
    done, report = run_quick(tmp_path, "--only", "startup", "--startup-repeats", "1")
    mock = report["startup"]["mock"]
    assert all(mock[k] > 0 for k in ("startup_ms", "first_image_ms", "warm_image_ms",
                                     "seen_image_ms", "rss_idle_mb"))
    assert "photos already checked" in done.stdout


@pytest.mark.server
def test_bench_budget_section_prints_every_variant(tmp_path: Path) -> None:
    """The budget section: the app's cost per request as shipped and with each part taken
    out, for both endpoints, next to what the goal ratios leave (figures not judged)."""
    if shutil.which("wrk") is None:
        pytest.fail("wrk is missing: `python3 dev.py test` installs it (apt-get install -y wrk)")
    done, report = run_quick(tmp_path, "--only", "budget")
    printed = report["budget"]
    for endpoint, goal in (("query", "0.8x"), ("submit", "0.5x")):
        assert f"  {endpoint}: HTTP layer " in printed and f"{goal} the floor leaves" in printed
    for variant in ("shipped", "no-access-log", "no-journal", "no-interceptors",
                    "bare-pipeline"):
        assert printed.count(f"    {variant} ") == 2, variant
    assert "predicts" in done.stdout
