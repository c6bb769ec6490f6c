"""Every fenced code block in README.md and docs/*.md runs (or parses), so the docs stay true.

THE RULES (for everyone writing docs):

1. The fence's first word is the language: ```python, ```bash, ```json ... A fence with no
   language fails: write ```text for output, a directory tree or anything else to show only.
2. ```python blocks run as a script (`python -`). A block that defines `def test_...`
   functions runs under pytest instead (the portrait_mock plugin is loaded, as for users).
3. ```bash, ```sh and ```shell blocks run with `bash -euo pipefail`.
4. Blocks run against a fresh mock server (default settings, memory store), reset before each
   block, in an empty temporary directory. Write the server as `http://127.0.0.1:8000` (or
   `localhost:8000`): the test puts the real port there. `$MOCKSERVER_URL` is set too. Each
   block stands alone: nothing carries over from the block before.
5. ```json, ```toml and ```yaml blocks must parse.
6. Every other language (text, http, dockerfile, ...) is shown only.
7. Anything that cannot run in a test (`make serve`, `docker run`, a server that stays up, a
   file the reader must supply) is tagged after the language: ```bash no-test. Tagged blocks
   are reported as skipped; no-test works for every language.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mockserver.settings import Settings
from mockserver.testing import ServerThread

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"(?:127\.0\.0\.1|localhost):8000\b")
RUN = {"python": "python", "py": "python", "bash": "shell", "sh": "shell", "shell": "shell"}
PARSE = {"json": json.loads, "toml": tomllib.loads, "yaml": yaml.safe_load, "yml": yaml.safe_load}
SKIP_TAG = "no-test"
BLOCK_TIMEOUT = 120
_BACKGROUND = re.compile(r"(?<![&>])&\s*(?:#.*)?$", re.MULTILINE)  # `cmd &`, not `&&` or `2>&1`
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class Block:
    path: str
    line: int
    info: str
    code: str

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def tags(self) -> list[str]:
        return self.info.split()[1:]

    @property
    def name(self) -> str:
        return f"{self.path} line {self.line} ({self.info or 'no language'})"


def doc_files() -> list[Path]:
    return [p for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))] if p.exists()]


def blocks_in(text: str, path: str) -> Iterator[Block]:
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if opened is None or (opened["fence"][0] == "`" and "`" in opened["info"]):
            index += 1
            continue
        fence, indent = opened["fence"], len(opened["indent"])
        body: list[str] = []
        index += 1
        while index < len(lines) and not _closes(lines[index], fence):
            body.append(lines[index][indent:] if lines[index][:indent].isspace() else lines[index])
            index += 1
        yield Block(path, index - len(body), opened["info"].strip(), "\n".join(body) + "\n")
        index += 1


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and set(stripped) == {fence[0]}


def every_block() -> list[Block]:
    return [b for p in doc_files() for b in blocks_in(p.read_text(encoding="utf-8"),
                                                       p.relative_to(ROOT).as_posix())]


def verdict(block: Block) -> str:
    """'skip', 'run', 'parse', 'show' or a failure message naming the block."""
    if SKIP_TAG in block.tags:
        return "skip"
    if not block.language:
        return (f"{block.name}: a fence needs a language (```text to show only; "
                f"```bash no-test for commands that cannot run in a test)")
    if block.language in RUN:
        if RUN[block.language] == "shell" and _BACKGROUND.search(block.code):
            return (f"{block.name}: leaves a process running in the background (`&`), which "
                    f"cannot run in a test; tag it ```{block.language} {SKIP_TAG}")
        return "run"
    return "parse" if block.language in PARSE else "show"


# --- running -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_server() -> Iterator[ServerThread]:
    with ServerThread(Settings(validate_responses=True)) as server:
        yield server


def substituted(code: str, server: ServerThread) -> str:
    return PLACEHOLDER.sub(server.base_url.split("://", 1)[1], code)


def block_env(server: ServerThread) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "MOCKSERVER_URL": server.base_url,
            "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def command_for(block: Block, code: str, cwd: Path) -> list[str]:
    if RUN[block.language] == "shell":
        return ["bash", "-euo", "pipefail", "-c", code]
    if re.search(r"^(?:async\s+)?def test_", code, re.MULTILINE):
        (cwd / "test_doc_block.py").write_text(code, encoding="utf-8")
        return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
                "test_doc_block.py"]
    (cwd / "doc_block.py").write_text(code, encoding="utf-8")
    return [sys.executable, "doc_block.py"]


def run_block(block: Block, server: ServerThread, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = substituted(block.code, server)
    process = subprocess.Popen(command_for(block, code, cwd), cwd=cwd, env=block_env(server),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        return subprocess.CompletedProcess(process.args, -1, out, err + "\n(timed out)")
    finally:
        _end_leftovers(process.pid)  # a block must not leave a background process behind
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _end_leftovers(group: int) -> None:
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        pass


@pytest.mark.parametrize("block", every_block(), ids=lambda b: f"{b.path}:{b.line}")
def test_doc_block(block: Block, docs_server: ServerThread, tmp_path: Path) -> None:
    decision = verdict(block)
    if decision == "skip":
        pytest.skip(f"{block.name}: tagged {SKIP_TAG}")
    if decision == "show":
        return
    if decision == "parse":
        try:
            PARSE[block.language](block.code)
        except Exception as error:  # noqa: BLE001 - any parser's error is the finding
            pytest.fail(f"{block.name} does not parse as {block.language}: {error}\n"
                        f"(tag it `{block.language} {SKIP_TAG}` if it is not meant to)",
                        pytrace=False)
        return
    if decision != "run":
        pytest.fail(decision, pytrace=False)
    docs_server.emulator.reset()
    done = run_block(block, docs_server, tmp_path)
    if done.returncode != 0:
        pytest.fail(f"{block.name} failed (exit {done.returncode}). Rules: top of "
                    f"tests/ecosystem/test_readme_blocks.py\n--- block ---\n{block.code}"
                    f"--- stdout ---\n{done.stdout[-3000:]}\n--- stderr ---\n{done.stderr[-3000:]}",
                    pytrace=False)
    assert docs_server.emulator.schema_violations == [], docs_server.emulator.schema_violations


# --- the rules themselves ---------------------------------------------------------------------

SAMPLE = """# Title
```python
print("run me")
```

- a list item:

  ```bash no-test
  make serve
  ```

```
plain
```
~~~json
{"a": 1}
~~~
````text
```python
nested
```
````
"""


def test_the_rules_on_a_sample() -> None:
    found = list(blocks_in(SAMPLE, "sample.md"))
    assert [(b.line, b.language, b.tags) for b in found] == [
        (2, "python", []), (8, "bash", ["no-test"]), (12, "", []), (15, "json", []),
        (18, "text", [])]
    assert found[1].code == "make serve\n"
    assert found[4].code == "```python\nnested\n```\n"
    assert [verdict(b) for b in found][:2] + [verdict(b) for b in found][3:] == \
        ["run", "skip", "parse", "show"]
    assert verdict(found[2]).startswith("sample.md line 12 (no language): a fence needs")
    background = Block("x.md", 1, "bash", "mockserver serve &\n")
    assert "background" in verdict(background)
    assert verdict(Block("x.md", 1, "sh", "a && b 2>&1 >/dev/null\n")) == "run"


def test_placeholder_takes_the_real_port() -> None:
    class Fake:
        base_url = "http://127.0.0.1:4321"

    code = "curl http://127.0.0.1:8000/x; endpoint='localhost:8000'; keep 127.0.0.1:80001"
    assert substituted(code, Fake()) == (  # type: ignore[arg-type]
        "curl http://127.0.0.1:4321/x; endpoint='127.0.0.1:4321'; keep 127.0.0.1:80001")
