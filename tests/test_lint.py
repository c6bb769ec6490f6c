"""The code has no unused or undefined names and sorted imports (ruff's F, E9 and I rules)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed (it is in the test extras)")
    found = subprocess.run(
        [ruff, "check", "--no-cache", "mockserver", "contract_tests", "tests", "bench",
         "scripts", "examples"], cwd=ROOT, capture_output=True, text=True)
    assert found.returncode == 0, found.stdout + found.stderr
