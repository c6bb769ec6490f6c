#!/usr/bin/env python3
"""Write the skeleton of a new emulated vendor: every room the conformance test checks.

    python3 scripts/new_vendor.py NAME [--title "Human title"] [--host api.example.invalid]

The skeleton is a working bearer-key asynchronous task API (submit, query, result files) with
its provider package, schemas folder, fixtures, test module, contract-kit adapter and docs
page, copied from the templates in `scripts/vendor_template/files/` (`{{placeholder}}` in
paths and contents, `.tmpl` dropped). README.md gets the vendor's row and a fidelity-table
stub where its tables are found; otherwise the script prints the lines to add by hand.

A name that is taken or unusable is refused with one line and exit status 2, before anything
is written. Standard library only, so it runs from a bare checkout.
"""
from __future__ import annotations

import argparse
import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "vendor_template"
SUFFIX = ".tmpl"
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
NAME = re.compile(r"[a-z][a-z0-9_]{1,30}[a-z0-9]")
HOST = re.compile(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]")
TITLE_FORBIDDEN = set('"\\|`{}')
# Where each room of a vendor lives; a name is taken if any of them (or a module of the same
# name next to them, such as providers/base.py) already exists.
ROOMS = ("mockserver/providers", "schemas", "fixtures", "tests/providers", "contract_tests/adapters",
         "docs")
VENDOR_TABLE_HEADER = "| Vendor | Operations | Guide |"
FIDELITY_HEADING = "## Fidelity and limits"
FIDELITY_ANCHOR = "### Across vendors"  # vendor sections go before the cross-vendor one


class Refused(Exception):
    """The name or an option cannot be used; the message says why, in one line."""


@dataclass(frozen=True)
class Names:
    vendor: str
    title: str
    host: str

    @property
    def placeholders(self) -> dict[str, str]:
        return {"vendor": self.vendor, "title": self.title, "host": self.host,
                "Class": "".join(part.capitalize() for part in self.vendor.split("_")),
                "ENV": self.vendor.upper()}


def fill(text: str, values: dict[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match[1] not in values:
            raise RuntimeError(f"template {where}: unknown placeholder {match[0]}")
        return values[match[1]]

    return PLACEHOLDER.sub(replace, text)


def check_names(names: Names, root: Path) -> None:
    vendor = names.vendor
    if not NAME.fullmatch(vendor) or keyword.iskeyword(vendor) or "__" in vendor:
        raise Refused(f"{vendor!r} is not a usable vendor name: 3-32 characters of a-z, 0-9 and "
                      "_, starting with a letter (it becomes a Python package and a URL path)")
    for room in ROOMS:
        for taken in (root / room / vendor, root / room / f"{vendor}.py", root / room / f"{vendor}.md"):
            if taken.exists():
                raise Refused(f"{vendor!r} is taken: {taken.relative_to(root)} exists")
    if f"docs/{vendor}.md" in _read(root / "README.md"):
        raise Refused(f"{vendor!r} is taken: README.md already links docs/{vendor}.md")
    if not HOST.fullmatch(names.host):
        raise Refused(f"--host {names.host!r} is not a host name (for example api.example.invalid)")
    if not names.title.strip() or len(names.title) > 80 or not names.title.isprintable() \
            or TITLE_FORBIDDEN & set(names.title):
        raise Refused(f"--title {names.title!r}: 1-80 printable characters without "
                      f"{' '.join(sorted(TITLE_FORBIDDEN))}")
    for word in (vendor, names.host):
        found = _mentioned(root / "mockserver", word)
        if found:
            raise Refused(f"{word!r} already appears in shared code ({found}); the architecture "
                          "test allows a vendor's name and hosts only in its own package: "
                          "choose a more specific one")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _mentioned(package: Path, word: str) -> str | None:
    """The first `file:line` of `package` that contains `word`, as the architecture test looks
    (case-insensitive, anywhere in a line), or None."""
    pattern = re.compile(re.escape(word), re.I)
    for path in sorted(package.rglob("*.py")):
        for number, line in enumerate(_read(path).splitlines(), 1):
            if pattern.search(line):
                return f"{path.relative_to(package.parent)}:{number}"
    return None


def render(names: Names) -> dict[Path, str]:
    """Repository-relative path -> content, for every template file."""
    values = names.placeholders
    files = {}
    base = TEMPLATES / "files"
    for template in sorted(p for p in base.rglob(f"*{SUFFIX}") if p.is_file()):
        relative = template.relative_to(base).as_posix().removesuffix(SUFFIX)
        files[Path(fill(relative, values, relative))] = fill(template.read_text(encoding="utf-8"),
                                                             values, relative)
    return files


def readme_pieces(names: Names) -> tuple[str, str]:
    """(the vendor table row, the fidelity section) for README.md."""
    values = names.placeholders
    row = fill(_read(TEMPLATES / "readme" / f"vendor-row.md{SUFFIX}"), values, "vendor-row")
    section = fill(_read(TEMPLATES / "readme" / f"fidelity.md{SUFFIX}"), values, "fidelity")
    return row.strip("\n"), section.strip("\n")


def add_to_readme(text: str, row: str, section: str) -> tuple[str, dict[str, str]]:
    """README text with the row after the vendor table's last row and the section before the
    cross-vendor fidelity section; and the pieces that found no safe place (where -> text),
    to be added by hand."""
    lines = text.split("\n")
    by_hand = {}
    try:
        end = lines.index(VENDOR_TABLE_HEADER) + 1
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        lines.insert(end, row)
    except ValueError:
        by_hand[f"a row of the vendor table ({VENDOR_TABLE_HEADER})"] = row
    if FIDELITY_HEADING in lines and FIDELITY_ANCHOR in lines[lines.index(FIDELITY_HEADING):]:
        at = lines.index(FIDELITY_ANCHOR, lines.index(FIDELITY_HEADING))
        lines[at:at] = [*section.split("\n"), ""]
    else:
        by_hand[f"a section under {FIDELITY_HEADING!r}"] = section
    return "\n".join(lines), by_hand


def write(names: Names, root: Path) -> int:
    check_names(names, root)
    files = render(names)
    clashes = [str(path) for path in files if (root / path).exists()]
    if clashes:
        raise Refused(f"{names.vendor!r} is taken: {clashes[0]} exists")
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content, encoding="utf-8")
        print(f"wrote {path}")
    row, section = readme_pieces(names)
    readme = root / "README.md"
    text, by_hand = add_to_readme(_read(readme), row, section)
    if text != _read(readme):
        readme.write_text(text, encoding="utf-8")
        if row not in by_hand.values():
            print(f"updated README.md: vendor table row\n  {row}")
        if section not in by_hand.values():
            print(f"updated README.md: placeholder fidelity section '### {names.title}'")
    print(f"\nLeft to do: replace the placeholders, as listed under 'To do' in "
          f"docs/{names.vendor}.md.")
    for where, piece in by_hand.items():
        print(f"\nAdd to README.md by hand, {where}:\n{piece}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the vendor's name: a Python package and URL path segment")
    parser.add_argument("--title", help="human-readable name (default: the name, capitalised)")
    parser.add_argument("--host", help="published API host (default: api.NAME.invalid, _ as -)")
    args = parser.parse_args(argv)
    names = Names(args.name, args.title or args.name.replace("_", " ").title(),
                  args.host or f"api.{args.name.replace('_', '-')}.invalid")
    try:
        return write(names, ROOT)
    except Refused as refused:
        print(f"new_vendor: {refused}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
