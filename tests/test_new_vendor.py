"""`scripts/new_vendor.py` writes a fifth vendor that passes every check a vendor must pass.

In a copy of the repository's sources, the script writes `examplevendor`; then one pytest run,
with the copy first on PYTHONPATH, runs the conformance test (every room), the architecture
test (layers, cycles, no vendor named outside its package, mypy), the generated test module and
the contract kit for that vendor. The report proves the new vendor's own tests ran and passed,
not just that nothing failed. Refusals (a taken name, an unusable one) write nothing.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path("scripts") / "new_vendor.py"
SOURCES = ("mockserver", "schemas", "fixtures", "tests", "contract_tests", "docs", "scripts",
           "README.md", "pyproject.toml")
SKIPPED = shutil.ignore_patterns("__pycache__", ".mypy_cache", ".pytest_cache", ".hypothesis",
                                 "contract-report", ".mockserver-data")
NAME, TITLE, HOST = "examplevendor", "Example Vendor", "api.example.invalid"
CHECKS = ("tests/test_conformance.py", "tests/test_architecture.py", f"tests/providers/{NAME}",
          "contract_tests")
ROW = (f"| {TITLE} | `POST /{NAME}/v1/tasks`, `GET /{NAME}/v1/tasks/{{id}}` | "
       f"[docs/{NAME}.md](docs/{NAME}.md) |")


def _copy_sources(target: Path) -> Path:
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=SKIPPED)
        else:
            shutil.copy2(source, target / name)
    return target


def _script(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(root / SCRIPT), *args], cwd=root,
                          capture_output=True, text=True, timeout=60)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A copy of the sources with the new vendor written into it, and the script's run."""
    root = _copy_sources(tmp_path_factory.mktemp("repo"))
    done = _script(root, NAME, "--title", TITLE, "--host", HOST)
    assert done.returncode == 0, done.stdout + done.stderr
    return root, done


def test_the_script_says_what_it_wrote_and_adds_the_readme_rows(
        repo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, done = repo
    written = [line.removeprefix("wrote ") for line in done.stdout.splitlines()
               if line.startswith("wrote ")]
    rooms = {f"mockserver/providers/{NAME}/__init__.py", f"mockserver/providers/{NAME}/provider.py",
             f"mockserver/providers/{NAME}/handlers.py", f"mockserver/providers/{NAME}/routes.py",
             f"mockserver/providers/{NAME}/models.py", f"schemas/{NAME}/operations.json",
             f"schemas/{NAME}/catalogue.json", f"fixtures/{NAME}/task-succeeded.example.json",
             f"tests/providers/{NAME}/test_api.py", f"contract_tests/adapters/{NAME}.py",
             f"docs/{NAME}.md"}
    assert rooms <= set(written), sorted(rooms - set(written))
    assert all((root / path).is_file() for path in written)
    assert not [p for p in written if "{{" in p or p.endswith(".tmpl")]
    leftovers = [p for p in written if "{{" in (root / p).read_text(encoding="utf-8")]
    assert not leftovers, leftovers
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert readme.count(ROW) == 1
    assert readme.index(f"### {TITLE}") < readme.index("### Across vendors")
    assert f"docs/{NAME}.md" in done.stdout  # where the to-do list is


def test_the_generated_code_is_lint_clean(
        repo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, done = repo
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert ruff is not None, "ruff is not installed (it is in the test extras)"
    written = [line.removeprefix("wrote ") for line in done.stdout.splitlines()
               if line.startswith("wrote ") and line.endswith(".py")]
    found = subprocess.run([ruff, "check", "--no-cache", *written], cwd=root,
                           capture_output=True, text=True)
    assert found.returncode == 0 and len(written) == 7, found.stdout + found.stderr


def test_the_new_vendor_passes_conformance_architecture_its_tests_and_the_kit(
        repo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, _ = repo
    report = root / "report.xml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CHECKS,
         "--vendor", NAME, f"--junitxml={report}"],
        cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    cases = ElementTree.parse(report).getroot().iter("testcase")
    ran = {f"{case.get('classname')}::{case.get('name')}": [child.tag for child in case]
           for case in cases}
    ours = {case: outcome for case, outcome in ran.items() if NAME in case}
    groups = {"tests.test_conformance", "tests.test_architecture", f"providers.{NAME}.test_api",
              "contract_tests.test_refusals", "contract_tests.test_lifecycle",
              "contract_tests.test_operations"}
    for group in groups:
        passed = [case for case, outcome in ours.items() if group in case and not outcome]
        assert passed, f"no {group} test for {NAME} ran and passed: {sorted(ours)}"
    mypy = [case for case, outcome in ran.items() if case.endswith("test_mypy_finds_nothing")]
    assert mypy and not ran[mypy[0]], "mypy did not check the copy"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (NAME, "is taken"),  # just written
        ("dashscope", "is taken"),
        ("base", "is taken"),  # mockserver/providers/base.py
        ("images", "is taken"),  # fixtures/images
        ("Bad-Name", "not a usable vendor name"),
        ("9lives", "not a usable vendor name"),
        ("class", "not a usable vendor name"),
        ("tasks", "already appears in shared code"),
    ],
)
def test_a_taken_or_unusable_name_is_refused_in_one_line_and_writes_nothing(
        repo: tuple[Path, subprocess.CompletedProcess[str]], name: str, why: str) -> None:
    root, _ = repo
    before = _tree(root / "mockserver"), (root / "README.md").read_bytes()
    done = _script(root, name)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and why in done.stderr, done.stderr
    assert (_tree(root / "mockserver"), (root / "README.md").read_bytes()) == before


@pytest.mark.parametrize("option", [["--host", "not a host"], ["--title", 'say "hi"']])
def test_unusable_options_are_refused(repo: tuple[Path, subprocess.CompletedProcess[str]],
                                      option: list[str]) -> None:
    root, _ = repo
    done = _script(root, "othervendor", *option)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (root / "mockserver" / "providers" / "othervendor").exists()


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("new_vendor", ROOT / SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_readme_without_the_tables_is_left_alone_and_the_lines_are_given() -> None:
    script = _load_script()
    text, by_hand = script.add_to_readme("# A readme\n\nNo tables here.\n", "| row |", "### S")
    assert text == "# A readme\n\nNo tables here.\n"
    assert sorted(by_hand.values()) == ["### S", "| row |"]
