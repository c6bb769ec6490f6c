"""The guides stay true: every error code they name is in a catalogue, every `mockserver` and
`python3 dev.py` command line uses a command and flags that exist, every repository path they
name exists, no path of a development machine appears, and the wheel the install
instructions build really builds (with the data the package needs)."""
from __future__ import annotations

import argparse
import functools
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.cli import parser as contract_parser
from contract_tests.proxy import parser as proxy_parser
from mockserver.cli import _parser
from mockserver.providers import provider_classes

ROOT = Path(__file__).resolve().parents[1]
GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DEV_COMMANDS = ("serve", "test", "bench")  # dev.py's own list (its docstring names them)
SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def guide_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# --- error codes ------------------------------------------------------------------------------


def known_codes() -> set[str]:
    codes: set[str] = set()
    for cls in provider_classes():
        catalogue = json.loads((ROOT / "schemas" / cls.spec.name / "catalogue.json").read_text())
        codes |= set(catalogue["errors"]) | set(cls.spec.task_failure_codes)
        codes |= {alias for entry in catalogue["errors"].values()  # other spellings, accepted
                  for alias in entry.get("aliases", ())}
    return codes


def families(codes: set[str]) -> set[str]:
    """`AuthFailure`, `FailedOperation`, `Throttling`, ...: the first part of dotted codes."""
    return {re.split(r"[.:]", c)[0] for c in codes if re.search(r"[.:]", c)}


DOTTED = re.compile(r"^[A-Z][A-Za-z0-9]*(?:[.:](?:[A-Z][A-Za-z0-9]*|\*))+$")
# "429 `too_many_requests`", but not "(not 400 `no_token`)": a code the guide says is not used.
AFTER_STATUS = re.compile(r"(?<!not )\b[1-5]\d\d\s+`([A-Za-z_][\w.:]*)`")
CODE_FIELD = re.compile(r'"code"\s*:\s*"([^"]+)"')


def claimed_codes(text: str, codes: set[str]) -> Iterator[str]:
    """Tokens a guide presents as error codes: dotted codes of a known family (`FailedOperation.X`,
    `ResourceUnavailable.*`), a code right after an HTTP status (429 `too_many_requests`), the
    `code` of a JSON body or fault rule, and the first column of a table headed "Code"."""
    family = families(codes)
    for token in SPAN.findall(text):
        if DOTTED.match(token) and re.split(r"[.:]", token)[0] in family:
            yield token
    yield from AFTER_STATUS.findall(text)
    yield from CODE_FIELD.findall(text)
    in_code_table = False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells and cells[0].lower() in ("code", "jobstatuscode"):
            in_code_table = cells[0].lower() == "code"
            continue
        if not line.lstrip().startswith("|"):
            in_code_table = False
        elif in_code_table and not set(cells[0]) <= set("-: "):
            yield from SPAN.findall(cells[0])


def is_known(token: str, codes: set[str]) -> bool:
    if token.endswith(".*"):
        return any(c.startswith(token[:-1]) for c in codes)
    return token in codes


@pytest.mark.parametrize("guide", GUIDES, ids=rel)
def test_every_error_code_a_guide_names_is_in_a_catalogue(guide: Path) -> None:
    codes = known_codes()
    unknown = sorted({t for t in claimed_codes(guide_text(guide), codes) if not is_known(t, codes)})
    assert unknown == [], f"{rel(guide)} names codes no catalogue has: {unknown}"


def test_the_code_finder_on_a_sample() -> None:
    codes = {"AuthFailure.SignatureExpire", "InvalidApiKey", "too_many_requests",
             "ResourceUnavailable.InArrears"}
    sample = ("401 `InvalidApiKey`, 429 `too_many_requests`, `AuthFailure.SignatureExpired`, "
              "`ResourceUnavailable.*`, `FaceInfos.0.ImageUrls`, {\"code\": \"Nope\"}\n"
              "| Code | When |\n|---|---|\n| `MissingThing` | never |\n")
    found = set(claimed_codes(sample, codes))
    assert found == {"InvalidApiKey", "too_many_requests", "AuthFailure.SignatureExpired",
                     "ResourceUnavailable.*", "Nope", "MissingThing"}
    assert {t for t in found if not is_known(t, codes)} == {
        "AuthFailure.SignatureExpired", "Nope", "MissingThing"}


# --- commands and flags -------------------------------------------------------------------------


def code_lines(text: str) -> Iterator[str]:
    """Lines of fenced blocks (continuations joined) and inline code spans."""
    inside = False
    pending = ""
    for line in text.splitlines():
        if line.strip().startswith("```"):
            inside = not inside
            continue
        if inside:
            pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") \
                else line
            if not line.rstrip().endswith("\\"):
                yield pending
                pending = ""
    yield from SPAN.findall(re.sub(r"```.*?```", "", text, flags=re.S))


COMMAND = re.compile(r"(?:^|[\s(;&|$])(?:\S*/)?(?P<tool>mockserver|dev\.py)\s+(?P<rest>[^#`|;&)>]*)")


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def options_of(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


@functools.cache  # built once, not for every line of every guide
def all_commands() -> dict[str, argparse.ArgumentParser]:
    """mockserver's commands, the contract kit's two with their own parsers."""
    return {**subparsers(_parser()), "contract": contract_parser(), "proxy": proxy_parser()}


def command_problems(line: str) -> Iterator[str]:
    commands = all_commands()
    for found in COMMAND.finditer(line):
        tool, words = found["tool"], found["rest"].split()
        if not words or words[0].startswith(("-", "<", "[")) and tool == "dev.py":
            continue
        name, args = words[0], words[1:]
        if name.endswith(":"):
            continue  # a message the program printed ("mockserver proxy: 2 exchanges ...")
        if tool == "dev.py":
            if name not in DEV_COMMANDS:
                yield f"python3 dev.py {name}: dev.py has no such command ({', '.join(DEV_COMMANDS)})"
                continue
            if name != "serve":
                continue  # test and bench pass their arguments to pytest and the scripts
        elif name.startswith("-"):
            args, name = words, ""
        if name and name not in commands:
            yield f"mockserver {name}: no such command ({', '.join(commands)})"
            continue
        known = options_of(commands[name]) if name else options_of(_parser())
        for word in args:
            flag = word.split("=", 1)[0]
            if flag.startswith("--") and flag not in known:
                yield f"{tool} {name} {flag}: no such flag"


@pytest.mark.parametrize("guide", GUIDES, ids=rel)
def test_every_command_line_uses_commands_and_flags_that_exist(guide: Path) -> None:
    text = guide_text(guide)
    problems = sorted({p for line in code_lines(text) for p in command_problems(line)})
    assert problems == [], f"{rel(guide)}: {problems}"
    if not (ROOT / "Makefile").exists():
        makes = [line for line in code_lines(text) if re.search(r"(?:^|[\s`(])make \w", line)]
        assert makes == [], f"{rel(guide)} uses make, but there is no Makefile: {makes}"


def test_the_command_checker_on_a_sample() -> None:
    lines = ["mockserver serve --port 9000 --time-scael 5 > log", "python3 dev.py deploy",
             "python3 dev.py serve --store memory", "mockserver openapi --out x",
             "mockserver seve", "python -m mockserver serve --help", "python3 dev.py test -k x"]
    assert [p for line in lines for p in command_problems(line)] == [
        "mockserver serve --time-scael: no such flag",
        "python3 dev.py deploy: dev.py has no such command (serve, test, bench)",
        "mockserver seve: no such command (serve, openapi, config, contract, proxy)"]


# --- paths ------------------------------------------------------------------------------------


def top_level() -> set[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    names = {line.split("/")[0] for line in listed.stdout.splitlines()}
    return names | {p.name for p in ROOT.iterdir()} - {".git", ".venv"}


def exists(pattern: str) -> bool:
    """A repository path; `<vendor>`, `{name}` and `*` stand for any one name."""
    glob = re.sub(r"<[^>]+>|\{[^}]+\}", "*", pattern.rstrip("/"))
    return any(ROOT.glob(glob)) if "*" in glob else (ROOT / glob).exists()


@pytest.mark.parametrize("guide", GUIDES, ids=rel)
def test_every_repository_path_a_guide_names_exists(guide: Path) -> None:
    text = guide_text(guide)
    roots = top_level()
    missing = []
    for span in SPAN.findall(text):
        for token in span.split():
            token = token.strip("'\",;()")
            if "<" in token:  # a placeholder path, such as a new vendor's `docs/<name>.md`
                continue
            first = token.split("/")[0]
            if "/" in token and first in roots and not exists(token.split("#")[0].split(":")[0]):
                missing.append(token)
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:|^#", target):
            continue
        path = (guide.parent / target.split("#")[0]).resolve()
        if not path.exists():
            missing.append(target)
    assert missing == [], f"{rel(guide)} names paths that are not in the repository: {missing}"


@pytest.mark.parametrize("guide", GUIDES, ids=rel)
def test_no_guide_names_a_development_machine_path(guide: Path) -> None:
    found = re.findall(r"(?<![\w.])/(?:work|home|root|Users|tmp/pytest)[/\w.-]*", guide_text(guide))
    assert found == [], f"{rel(guide)}: {found}"


# --- install ------------------------------------------------------------------------------------


def test_the_wheel_builds_with_its_data_and_entry_points(tmp_path: Path) -> None:
    """What README's install section tells a user to build, with the data the code reads."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [wheel] = tmp_path.glob("portrait_mockserver-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("mockserver/cli.py", "mockserver/_data/schemas/dashscope/operations.json",
                   "mockserver/_data/fixtures/images/face.jpg"):
        assert needed in names, needed
    for cls in provider_classes():
        assert f"mockserver/_data/schemas/{cls.spec.name}/catalogue.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "mockserver = mockserver.cli:main" in text and "portrait_mockserver" in text
    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                                str(target), str(wheel)], capture_output=True, text=True,
                               timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    run = subprocess.run([sys.executable, "-c",
                          "import mockserver.core.schemas as s; print(s.schemas_root())"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path,
                         env={"PYTHONPATH": str(target), "PATH": ""})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(target / "mockserver" / "_data" / "schemas")
