#!/usr/bin/env python3
"""Task runner for a fresh machine that has only Python 3.11+ and pip.

    python3 dev.py serve [mockserver serve flags]   install (first time) and start the emulator
    python3 dev.py test  [pytest args]              install with test extras and run every test
    python3 dev.py bench [--quick|--seconds N ...]  run the benchmarks (loopback only, bounded;
                                                    installs wrk with apt when missing)

Each creates `.venv/` on first use and reinstalls only when pyproject.toml changes.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def run(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT)


def ensure_venv() -> None:
    if PYTHON.exists():
        return
    try:
        run(sys.executable, "-m", "venv", VENV)
    except subprocess.CalledProcessError:
        # Debian's python3 without python3-venv has no ensurepip: use the host pip instead.
        run(sys.executable, "-m", "venv", "--without-pip", VENV)
    if subprocess.run([PYTHON, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        run(sys.executable, "-m", "pip", "--python", PYTHON, "install", "-q", "pip")


def ensure_installed(extras: str) -> None:
    ensure_venv()
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{extras or 'run'}-{digest}"
    if stamp.exists():
        return
    target = f".[{extras}]" if extras else "."
    run(PYTHON, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", target)
    stamp.touch()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "bench"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "serve":
        ensure_installed("")
        os.execv(BIN / "mockserver", [str(BIN / "mockserver"), "serve", *rest])
    ensure_installed("test")
    ensure_wrk(required=command == "bench")  # the bench's smoke test needs it too
    if command == "test":
        return subprocess.run([PYTHON, "-m", "pytest", "tests", "contract_tests", *rest],
                              cwd=ROOT).returncode
    return subprocess.run([PYTHON, ROOT / "bench" / "run.py", *rest], cwd=ROOT).returncode


def ensure_wrk(required: bool) -> None:
    """The bench loads the servers with wrk, a Debian package: installed with apt as root."""
    if shutil.which("wrk"):
        return
    if os.name != "posix" or os.geteuid() != 0:
        message = "the benchmark needs wrk: run `sudo apt-get install -y wrk` first"
        if required:
            sys.exit(message)
        print(message, file=sys.stderr)
        return
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install).returncode != 0:
        run("apt-get", "update", "-q")
        run(*install)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
