"""Checks are plain functions `(context, exchange) -> Problem or None`, kept in a registry.

Every answer the kit receives goes through all of them (the validating proxy runs the same
ones on an app's live traffic); each check decides whether it applies. The documented facts
come from the operation's `OperationSpec`, the vendor's schemas and its error catalogue, never
from the test that sent the request. A problem says what was expected, where that is written
down, and what came back.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jsonschema.exceptions import ValidationError, best_match

from .drift import Finding
from .targets import Exchange

if TYPE_CHECKING:
    from mockserver.core.operations import OperationSpec

    from .adapters.base import Adapter


@dataclass(frozen=True)
class Expect:
    """What a test expects beyond the contract: an exact status, one of some error codes,
    or particular schemas among those documented for the status; `source` says where the
    expectation is written (default: the adapter's documents)."""

    status: int | None = None
    codes: frozenset[str] | None = None  # "Family*" accepts any code starting "Family"
    schemas: tuple[str, ...] | None = None
    source: str = ""


@dataclass(frozen=True)
class Problem:
    message: str  # one line: what is wrong
    expected: str
    source: str
    got: str


@dataclass(frozen=True)
class Context:
    adapter: Adapter
    spec: OperationSpec
    expect: Expect = Expect()

    def documented_schemas(self, status: int) -> tuple[str, ...]:
        if self.expect.schemas is not None:
            return self.expect.schemas
        return tuple(self.spec.responses.get(status, ()))

    def streamed(self, ex: Exchange) -> bool:
        """True when `ex` is the operation's documented line-by-line answer (by content type)."""
        streamed = self.spec.streamed
        return streamed is not None and ex.status == streamed.status and \
            ex.content_type.split(";")[0].strip().lower() == streamed.media_type

    @property
    def operations_file(self) -> str:
        return f"schemas/{self.adapter.vendor}/operations.json ({self.spec.operation})"

    @property
    def expectation_source(self) -> str:
        return self.expect.source or self.adapter.source


Check = Callable[[Context, Exchange], "Problem | None"]
CHECKS: dict[str, Check] = {}
# The behavioural checks the tests make beyond these (their findings carry these names).
BEHAVIOUR_CHECKS = ("task_id", "lifecycle", "account_isolation", "batch", "own_task_visible",
                    "cancel_takes_effect", "cancel_refused_wrongly", "unknown_task",
                    "unknown_path", "task_ends", "state_coverage", "throttling_ends",
                    "callback_delivered", "callback_schema", "callback_body")


def check(function: Check) -> Check:
    CHECKS[function.__name__] = function
    return function


def schema_file(name: str) -> str:
    return f"schemas/{name}.schema.json"


@check
def status_documented(ctx: Context, ex: Exchange) -> Problem | None:
    if ex.status in ctx.spec.responses:
        return None
    documented = ", ".join(str(s) for s in sorted(ctx.spec.responses))
    return Problem(f"HTTP {ex.status} is not documented for {ctx.spec.operation} "
                   f"(documented: {documented})", f"HTTP {documented}", ctx.operations_file,
                   f"HTTP {ex.status}")


@check
def json_content_type(ctx: Context, ex: Exchange) -> Problem | None:
    if not ctx.documented_schemas(ex.status) or ctx.adapter.content_type_ok(ex.content_type) \
            or ctx.streamed(ex):
        return None
    return Problem(f"content-type {ex.content_type!r} is not the documented "
                   f"{ctx.adapter.content_type!r}", f"Content-Type: {ctx.adapter.content_type}",
                   ctx.adapter.content_type_source, f"Content-Type: {ex.content_type or '(none)'}")


@check
def conforms_to_schema(ctx: Context, ex: Exchange) -> Problem | None:
    if ctx.streamed(ex):
        return _stream_mismatch(ctx, ex)
    names = ctx.documented_schemas(ex.status)
    if not names:
        return None
    if ex.json is None:
        files = " | ".join(schema_file(n) for n in names)
        return Problem(f"the body is not JSON (expected {' | '.join(names)})",
                       f"a JSON body matching {' | '.join(names)}", files,
                       _snippet(ex.content.decode("utf-8", "replace")))
    return _mismatch(ctx, names, ex.json, "body")


def _stream_mismatch(ctx: Context, ex: Exchange) -> Problem | None:
    """Every line is one of the stream's line schemas; the last is one of its final ones (or
    of the schemas the test expects)."""
    streamed = ctx.spec.streamed
    assert streamed is not None
    lines = ex.lines
    if not lines:
        return Problem("the stream has no lines, or a line that is not JSON",
                       f"NDJSON lines matching {' | '.join(streamed.lines)}",
                       ctx.operations_file, _snippet(ex.content.decode("utf-8", "replace")))
    for number, document in enumerate(lines[:-1], 1):
        if (problem := _mismatch(ctx, streamed.lines, document, f"line {number}")) is not None:
            return problem
    final = ctx.expect.schemas if ctx.expect.schemas is not None else streamed.final
    return _mismatch(ctx, final, lines[-1], f"the last line ({len(lines)})")


def _mismatch(ctx: Context, names: tuple[str, ...], document: object,
              what: str) -> Problem | None:
    schemas = ctx.adapter.schemas
    problems = {n: list(schemas.errors(n, document)) for n in names}
    if any(not errors for errors in problems.values()):
        return None
    # The most specific complaint: the candidate whose best error sits deepest in the body.
    best = {n: best_match(problems[n]) for n in names}
    closest = max(names, key=lambda n: (_depth(best[n]), -len(problems[n])))
    error = best[closest]
    assert error is not None
    rule = f"{error.validator}: {_snippet(repr(error.validator_value))}"
    return Problem(f"{what} does not match {closest}: {error.json_path}: {error.message}",
                   f"{error.json_path} satisfies {rule} (schema {closest})",
                   schema_file(closest), f"{error.json_path} = {_snippet(repr(error.instance))}")


@check
def expected_status(ctx: Context, ex: Exchange) -> Problem | None:
    wanted = ctx.expect.status
    if wanted is None or ex.status == wanted:
        return None
    return Problem(f"expected HTTP {wanted}, got {ex.status}", f"HTTP {wanted}",
                   ctx.expectation_source, f"HTTP {ex.status}")


@check
def expected_error_code(ctx: Context, ex: Exchange) -> Problem | None:
    wanted = ctx.expect.codes
    if wanted is None:
        return None
    code = ctx.adapter.error_code(ex)
    if code is not None and any(code == w or (w.endswith("*") and code.startswith(w[:-1]))
                                for w in wanted):
        return None
    codes = " or ".join(sorted(wanted))
    return Problem(f"expected error code {codes}, got {code!r}", f"error code {codes}",
                   ctx.expectation_source, f"error code {code!r} (HTTP {ex.status})")


@check
def error_code_documented(ctx: Context, ex: Exchange) -> Problem | None:
    code = ctx.adapter.error_code(ex)
    if code is None or code in ctx.adapter.catalogue:
        return None
    return Problem(f"error code {code!r} is not in the {ctx.adapter.vendor} catalogue",
                   "an error code of the catalogue", f"schemas/{ctx.adapter.vendor}/catalogue.json",
                   f"error code {code!r}")


@check
def error_status_matches_catalogue(ctx: Context, ex: Exchange) -> Problem | None:
    code = ctx.adapter.error_code(ex)
    if code is None or code not in ctx.adapter.catalogue:
        return None
    entry = ctx.adapter.catalogue.entries[ctx.adapter.catalogue.canonical(code)]
    if ex.status == entry.status:
        return None
    return Problem(f"error {code} came with HTTP {ex.status}; the catalogue documents "
                   f"{entry.status}", f"HTTP {entry.status} for {code}",
                   f"schemas/{ctx.adapter.vendor}/catalogue.json entry {code} ({entry.source})",
                   f"HTTP {ex.status}")


def _depth(error: ValidationError | None) -> int:
    return len(error.absolute_path) if error is not None else -1


def _snippet(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def run_checks(ctx: Context, ex: Exchange) -> list[Finding]:
    """Run every check; record passes and findings in the session's drift log."""
    adapter = ctx.adapter
    findings = []
    for name, function in CHECKS.items():
        problem = function(ctx, ex)
        if problem is None:
            adapter.log.passed(adapter.vendor, ctx.spec.operation, name)
            continue
        finding = adapter.finding(ctx.spec.operation, name, problem, ex)
        adapter.log.add(finding)
        findings.append(finding)
    return findings


def explain(findings: list[Finding]) -> str:
    """An assert message: what drifted, the facts of the first finding, then the exchange that
    showed it (already masked)."""
    head = "\n".join(f"- [{f.check}] {f.message}" for f in findings)
    first = findings[0]
    facts = "\n".join(first.details())
    return (f"{first.vendor}.{first.operation} drifted from its contract:\n{head}\n\n{facts}\n\n"
            f"{first.exchange}")
