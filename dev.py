#!/usr/bin/env python3
"""Task runner for a fresh machine that has only Python 3.11+ and pip.

    python3 dev.py serve [mockserver serve flags]   install (first time) and start the emulator
    python3 dev.py test  [pytest args]              install with test extras and run every test
    python3 dev.py bench [--quick|--seconds N ...]  run the benchmarks (loopback only, bounded)

Each creates `.venv/` on first use and reinstalls only when pyproject.toml changes. `test` and
`bench` also install the Debian packages in APT_PACKAGES that are missing (as root, with apt).
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
# Debian packages the tests and the bench need. The dashboard's browser tests drive Debian's
# Chromium through its ChromeDriver; the Redis store's tests start a real redis-server
# (tests/conftest.py); the bench and its smoke test load servers with wrk.
APT_PACKAGES = ["chromium", "chromium-driver", "redis-server", "wrk"]


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


def apt_installed(package: str) -> bool:
    if shutil.which("dpkg-query"):
        done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                              capture_output=True, text=True)
        return done.returncode == 0 and done.stdout.endswith("installed")
    return shutil.which(package) is not None


def ensure_apt_packages() -> None:
    """Install the missing APT_PACKAGES; fail loudly when that is impossible (tests that need
    them must not be skipped)."""
    missing = [p for p in APT_PACKAGES if not apt_installed(p)]
    if not missing:
        return
    if shutil.which("apt-get") is None or (hasattr(os, "geteuid") and os.geteuid() != 0):
        sys.exit(f"dev.py: missing Debian packages {' '.join(missing)}; install them as root: "
                 f"apt-get install -y {' '.join(missing)}")
    print(f"dev.py: installing {' '.join(missing)} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                   check=True, env=env)


def parallel(args: list[str]) -> list[str]:
    """Two pytest workers unless the caller chose (`-n`, `-p no:xdist`): most tests wait on a
    server, a subprocess or a clock rather than the CPU, so two halve the wall time even on
    the two-core CI machine. A test file stays on one worker, with its module fixtures."""
    if any(a.startswith("-n") or a == "--numprocesses" or "xdist" in a for a in args):
        return []
    return ["-n", "2", "--dist", "loadfile"]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "bench"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "serve":
        ensure_installed("")
        os.execv(BIN / "mockserver", [str(BIN / "mockserver"), "serve", *rest])
    ensure_installed("test")
    ensure_apt_packages()
    if command == "test":
        # Test paths given (`python3 dev.py test tests/core -q`): those only; else everything.
        chosen = any((ROOT / arg.split("::")[0]).exists() for arg in rest)
        paths = [] if chosen else ["tests", "contract_tests"]
        return subprocess.run([PYTHON, "-m", "pytest", *paths, *parallel(rest), *rest],
                              cwd=ROOT).returncode
    return subprocess.run([PYTHON, ROOT / "bench" / "run.py", *rest], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
