"""Checks are plain functions `(context, exchange) -> problem or None`, kept in a registry.

Every answer the kit receives goes through all of them; each check decides whether it applies.
The documented facts come from the operation's `OperationSpec`, the vendor's schemas and its
error catalogue, never from the test that sent the request.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jsonschema.exceptions import best_match

from .drift import Finding
from .targets import Exchange

if TYPE_CHECKING:
    from mockserver.core.operations import OperationSpec

    from .adapters.base import Adapter


@dataclass(frozen=True)
class Expect:
    """What a test expects beyond the contract: an exact status, one of some error codes,
    or particular schemas among those documented for the status."""

    status: int | None = None
    codes: frozenset[str] | None = None  # "Family*" accepts any code starting "Family"
    schemas: tuple[str, ...] | None = None


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


Check = Callable[[Context, Exchange], "str | None"]
CHECKS: dict[str, Check] = {}


def check(function: Check) -> Check:
    CHECKS[function.__name__] = function
    return function


@check
def status_documented(ctx: Context, ex: Exchange) -> str | None:
    if ex.status in ctx.spec.responses:
        return None
    documented = ", ".join(str(s) for s in sorted(ctx.spec.responses))
    return f"HTTP {ex.status} is not documented for {ctx.spec.operation} (documented: {documented})"


@check
def json_content_type(ctx: Context, ex: Exchange) -> str | None:
    if not ctx.documented_schemas(ex.status) or ctx.adapter.content_type_ok(ex.content_type) \
            or ctx.streamed(ex):
        return None
    return f"content-type {ex.content_type!r} is not the documented {ctx.adapter.content_type!r}"


def _mismatch(ctx: Context, names: tuple[str, ...], document: object, what: str) -> str | None:
    schemas = ctx.adapter.schemas
    problems = {n: list(schemas.errors(n, document)) for n in names}
    if any(not errors for errors in problems.values()):
        return None
    # The most specific complaint: the candidate whose best error sits deepest in the body.
    best = {n: best_match(problems[n]) for n in names}
    closest = max(names, key=lambda n: (len(best[n].absolute_path), -len(problems[n])))  # type: ignore[union-attr]
    error = best[closest]
    assert error is not None
    return f"{what} does not match {closest}: {error.json_path}: {error.message}"


@check
def conforms_to_schema(ctx: Context, ex: Exchange) -> str | None:
    if ctx.streamed(ex):
        return _stream_mismatch(ctx, ex)
    names = ctx.documented_schemas(ex.status)
    if not names:
        return None
    if ex.json is None:
        return f"the body is not JSON (expected {' | '.join(names)})"
    return _mismatch(ctx, names, ex.json, "body")


def _stream_mismatch(ctx: Context, ex: Exchange) -> str | None:
    """Every line is one of the stream's line schemas; the last is one of its final ones (or
    of the schemas the test expects)."""
    streamed = ctx.spec.streamed
    assert streamed is not None
    lines = ex.lines
    if not lines:
        return "the stream has no lines, or a line that is not JSON"
    for number, document in enumerate(lines[:-1], 1):
        if (problem := _mismatch(ctx, streamed.lines, document, f"line {number}")) is not None:
            return problem
    final = ctx.expect.schemas if ctx.expect.schemas is not None else streamed.final
    return _mismatch(ctx, final, lines[-1], f"the last line ({len(lines)})")


@check
def expected_status(ctx: Context, ex: Exchange) -> str | None:
    wanted = ctx.expect.status
    if wanted is None or ex.status == wanted:
        return None
    return f"expected HTTP {wanted}, got {ex.status}"


@check
def expected_error_code(ctx: Context, ex: Exchange) -> str | None:
    wanted = ctx.expect.codes
    if wanted is None:
        return None
    code = ctx.adapter.error_code(ex)
    if code is not None and any(code == w or (w.endswith("*") and code.startswith(w[:-1]))
                                for w in wanted):
        return None
    return f"expected error code {' or '.join(sorted(wanted))}, got {code!r}"


@check
def error_code_documented(ctx: Context, ex: Exchange) -> str | None:
    code = ctx.adapter.error_code(ex)
    if code is None or code in ctx.adapter.catalogue:
        return None
    return f"error code {code!r} is not in the {ctx.adapter.vendor} catalogue"


@check
def error_status_matches_catalogue(ctx: Context, ex: Exchange) -> str | None:
    code = ctx.adapter.error_code(ex)
    if code is None or code not in ctx.adapter.catalogue:
        return None
    documented = ctx.adapter.catalogue.entries[code].status
    if ex.status == documented:
        return None
    return f"error {code} came with HTTP {ex.status}; the catalogue documents {documented}"


def run_checks(ctx: Context, ex: Exchange) -> list[Finding]:
    """Run every check; record passes and findings in the session's drift log."""
    adapter = ctx.adapter
    findings = []
    for name, function in CHECKS.items():
        problem = function(ctx, ex)
        if problem is None:
            adapter.kit.drift.passed(adapter.vendor, ctx.spec.operation, name)
            continue
        finding = Finding(adapter.vendor, ctx.spec.operation, name, adapter.kit.masker.text(problem),
                          ex.describe(adapter.kit.masker))
        adapter.kit.drift.add(finding)
        findings.append(finding)
    return findings


def explain(findings: list[Finding]) -> str:
    """An assert message: what drifted, then the exchange that showed it (already masked)."""
    head = "\n".join(f"- [{f.check}] {f.message}" for f in findings)
    return f"{findings[0].vendor}.{findings[0].operation} drifted from its contract:\n{head}\n\n{findings[0].exchange}"
