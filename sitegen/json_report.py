"""What `--json` prints, the same for every command: one document on stdout whatever happens,
and on failure always the same shape (docs/operations.md, "JSON output"):

    {"ok": false, "error": {"kind", "exit_code", "message", "cause"}, "problems": [...],
     "errors": N, "warnings": M, ...}

plus what the command could still say (check's counts, status's lists, doctor's checks,
publish's plan). The message is also printed on stderr, as without --json; there it lists
the problems, which the document lists as data instead (``SitegenError.summary``), with
their counts when there are some."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click

from sitegen.errors import Problem, SitegenError

# A command's keys in a failure document, from its options (a usage error: those parsed)
FailureKeys = Callable[[Mapping[str, Any]], Mapping[str, Any]]


def dumps(document: Mapping[str, Any] | Sequence[Any]) -> str:
    """Stable JSON: sorted keys, one space of indent, non-ASCII as is."""
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False)


def problem_json(problem: Problem) -> dict[str, object]:
    return {
        "path": problem.path,
        "line": problem.line,
        "severity": problem.severity,
        "message": problem.message,
    }


def problems_json(problems: Iterable[Problem]) -> list[dict[str, object]]:
    return [problem_json(p) for p in problems]


def failure_json(exc: Exception, keys: Mapping[str, Any] = {}) -> dict[str, Any]:  # noqa: B006
    """The failure document for ``exc``: ``keys`` (the command's own, with their values when
    nothing else is known), what the error carries (``SitegenError.document``), the error."""
    if isinstance(exc, SitegenError):  # its problems are listed below, not in the message
        message, code = exc.summary, exc.exit_code
    elif isinstance(exc, click.ClickException):
        message, code = exc.format_message(), exc.exit_code
    else:  # our bug: main() says so on stderr and exits 3
        message, code = f"internal error: {type(exc).__name__}: {exc}", 3
    error = {"kind": error_kind(exc), "exit_code": code, "message": message, "cause": _cause(exc)}
    carried = exc.document if isinstance(exc, SitegenError) else {}
    problems = exc.problems if isinstance(exc, SitegenError) else ()
    listed = {"problems": problems_json(problems)} | (problem_counts(problems) if problems else {})
    return {**keys, **listed, **carried, "ok": False, "error": error}


def problem_counts(problems: Sequence[Problem]) -> dict[str, int]:
    """``errors`` and ``warnings``: how many of ``problems`` are of each kind."""
    errors = sum(p.severity == "error" for p in problems)
    return {"errors": errors, "warnings": len(problems) - errors}


def error_kind(exc: Exception) -> str:
    """``kind`` in the failure document: the SitegenError's, else "usage" (exit code 2) for
    click's usage errors, "internal" for our bugs."""
    if isinstance(exc, SitegenError):
        return exc.kind
    if isinstance(exc, click.UsageError):
        return "usage"
    return "error" if isinstance(exc, click.ClickException) else "internal"


def _cause(error: BaseException) -> str | None:
    """What the AWS failure behind ``error`` was (``publish.aws.diagnose``), if there is one."""
    if "botocore" not in sys.modules:  # no AWS client was made, so no AWS failure
        return None
    from publish.aws import diagnose

    seen: BaseException | None = error
    for _ in range(8):  # a publish error ← a target error ← botocore's
        if seen is None:
            break
        if (found := diagnose(seen)) is not None:
            return found.kind
        seen = seen.__cause__
    return None


class JsonCommand(click.Command):
    """A command with ``--json`` (or ``--format json``): when it fails, usage errors included,
    stdout still holds one document (`failure_json`) before click reports the error on stderr
    and exits with its code. ``failure_keys``: the command's own keys in that document."""

    def __init__(self, *args: Any, failure_keys: FailureKeys | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.failure_keys = failure_keys or (lambda params: {})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click consumes the list
        try:
            return super().parse_args(ctx, args)
        except click.ClickException as exc:
            if _asks_for_json(given):
                self._print_failure(exc, {**ctx.params, **self._flags_given(given)})
            raise

    def invoke(self, ctx: click.Context) -> Any:
        from sitegen.stopping import stopped

        try:
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt:  # Ctrl-C, SIGTERM: said here to be in the document too
                raise stopped(ctx, ctx.info_name or "") from None
        except (click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - printed, then raised as it was
            if ctx.params.get("as_json") or ctx.params.get("output_format") == "json":
                self._print_failure(exc, ctx.params)
            raise

    def _print_failure(self, exc: Exception, params: Mapping[str, Any]) -> None:
        click.echo(dumps(failure_json(exc, self.failure_keys(params))))

    def _flags_given(self, args: list[str]) -> dict[str, bool]:
        """Flags on the command line, parsed or not yet (a usage error stops the parsing)."""
        before = args[: args.index("--")] if "--" in args else args
        return {
            p.name: True
            for p in self.params
            if isinstance(p, click.Option) and p.is_flag and p.name and set(p.opts) & set(before)
        }


def _asks_for_json(args: list[str]) -> bool:
    before = args[: args.index("--")] if "--" in args else args
    pairs = zip(before, [*before[1:], ""], strict=False)  # each with the next (or "")
    return any(a in ("--json", "--format=json") or (a, b) == ("--format", "json") for a, b in pairs)
