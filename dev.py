#!/usr/bin/env python3
"""Task runner for a fresh machine that has only Python 3.11+ and pip.

    python3 dev.py serve [mockserver serve flags]   install (first time) and start the emulator
    python3 dev.py test  [pytest args]              install with test extras and run every test
    python3 dev.py bench [--quick|--seconds N ...]  run the benchmarks (loopback only, bounded)

Each creates `.venv/` on first use and reinstalls only when pyproject.toml changes. `test` and
`bench` also install the Debian packages in APT_PACKAGES (as root, with apt-get) when their
files are missing.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
# Debian packages the tests and the bench need: package name -> a file it installs (present =
# skip apt). The dashboard's browser tests drive Debian's Chromium through its ChromeDriver; the
# bench (and its smoke test) load servers with wrk.
APT_PACKAGES = {
    "chromium": "/usr/bin/chromium",
    "chromium-driver": "/usr/bin/chromedriver",
    "wrk": "/usr/bin/wrk",
}


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


def ensure_apt_packages() -> None:
    missing = [name for name, path in APT_PACKAGES.items() if not Path(path).exists()]
    if not missing:
        return
    if os.name != "posix" or os.geteuid() != 0:
        print(f"dev.py: missing Debian packages {' '.join(missing)}: install them with "
              f"`sudo apt-get install {' '.join(missing)}` (what needs them will fail)")
        return
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, cwd=ROOT, env=env).returncode != 0:
        # A fresh machine has no package lists yet.
        subprocess.run(["apt-get", "update", "-q"], cwd=ROOT, env=env, check=True)
        subprocess.run(install, cwd=ROOT, env=env, check=True)


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
        return subprocess.run([PYTHON, "-m", "pytest", "tests", "contract_tests", *rest],
                              cwd=ROOT).returncode
    return subprocess.run([PYTHON, ROOT / "bench" / "run.py", *rest], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
