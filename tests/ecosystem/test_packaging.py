"""The `testing` extra: what in-process mode needs, nothing of the project's own tools, and an
environment made exactly as the README says runs the README's in-process snippet.

The fresh-environment test builds the wheel (`pip wheel . --no-deps`), makes a venv without
system site-packages, installs `<wheel>[testing]` from the package index pip is configured
with, and runs the snippet there. Measured on this 2-core machine: about 4 s for the wheel and
25 s for the install; each step is bounded by its own timeout. To run it by hand:

    python -m pytest tests/ecosystem/test_packaging.py
"""
from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRA = PROJECT["optional-dependencies"]["testing"]
# Distribution -> the module in-process mode imports from it.
MODULES = {"respx": "respx", "requests": "requests", "responses": "responses",
           "aiohttp": "aiohttp", "aioresponses": "aioresponses"}
DEV_TOOLS = {"pytest", "hypothesis", "ruff", "mypy", "import-linter", "schemathesis",
             "types-jsonschema", "scikit-image", "pyyaml"}
STEP_TIMEOUT = 300


def name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert found, requirement
    return found.group(0).lower()


def test_the_extra_brings_every_interception_library_and_no_dev_tool() -> None:
    names = {name(r) for r in EXTRA}
    assert names == set(MODULES)
    assert not names & DEV_TOOLS
    for module in MODULES.values():
        importlib.import_module(module)
    test_extra = {name(r) for r in PROJECT["optional-dependencies"]["test"]}
    assert names <= test_extra  # the suite runs in-process mode too


def readme_inprocess_snippet() -> str:
    """The README's python block that uses InProcessMock (its *Use it from your tests*)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    [snippet] = [b for b in blocks if "InProcessMock" in b]
    assert "pip install 'portrait-mockserver[testing]'" in text  # what the README tells users
    return snippet


def run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=STEP_TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_the_readme_snippet_runs_in_a_fresh_environment_with_the_extra(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", dist], cwd=ROOT)
    [wheel] = dist.glob("portrait_mockserver-*.whl")
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    made = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True)  # isolated
    if made.returncode != 0:  # a Python without ensurepip: as dev.py does, borrow this pip
        run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
        run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "pip"],
            cwd=tmp_path)
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         f"{wheel}[testing]"], cwd=tmp_path)
    script = tmp_path / "snippet.py"
    script.write_text(readme_inprocess_snippet())
    done = run([python, script], cwd=tmp_path)  # outside the checkout: the wheel is imported
    assert "in-process: SUCCEEDED" in done.stdout
    installed = run([python, "-m", "pip", "list", "--format=freeze"], cwd=tmp_path).stdout
    assert not {name(line) for line in installed.splitlines()} & DEV_TOOLS - {"pyyaml"}
