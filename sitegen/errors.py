"""One error hierarchy for user-facing failures.

Every error a user can cause is a ``SitegenError``: click prints its message and exits
with its ``exit_code`` and no traceback. Anything else is our bug and gets a traceback
(shown in full with ``--debug``). Exit codes a script can act on: 1 any failure, 2 a usage
error (click), 3 our bug (``sitegen.cli.main``), 4 refused by a safety limit, 75 another
publish holds the lock (EX_TEMPFAIL: try again later), 130 interrupted (Ctrl-C, SIGTERM).
``kind`` names the class in --json.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in one file, located by line (1-based; 0 when the whole file is meant)."""

    path: str
    line: int
    message: str
    # "error" fails the check; "warning" only informs; "draft": a TODO the preview shows
    # (only `sitegen serve` makes those: everywhere else a TODO is an error)
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}: {prefix}{self.message}"


def problem_order(problem: Problem) -> tuple[str, int, str]:
    """The order problems are reported in: by file, line, then message."""
    return problem.path, problem.line, problem.message


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 problem", "2 problems", "1,024 files": the count with the noun in the right number."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


class SitegenError(click.ClickException):
    """Base class: a user-caused failure with a clear message (exit code 1). ``problems``
    and ``document`` (what the command could still say) go into its --json failure document
    (sitegen/json_report.py), with ``summary`` as its message: the message without the
    problems it lists one by one, which the document lists as data."""

    exit_code = 1
    kind = "error"
    problems: tuple[Problem, ...] = ()

    def __init__(self, message: str, *, document: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.document: Mapping[str, Any] = document or {}
        self.summary = message


class ConfigError(SitegenError):
    """site.toml is missing, unreadable or wrong; ``problems``: each mistake at its line
    (``summary``: how many, when the message lists them)."""

    kind = "config"

    def __init__(
        self,
        message: str,
        *,
        problems: Iterable[Problem] = (),
        document: Mapping[str, Any] | None = None,
        summary: str | None = None,
    ) -> None:
        super().__init__(message, document=document)
        self.problems = tuple(problems)
        self.summary = summary or message


class ContentError(SitegenError):
    """One or more alert files are invalid; carries every problem found."""

    kind = "content"

    def __init__(
        self,
        problems: Iterable[Problem],
        message: str | None = None,
        *,
        document: Mapping[str, Any] | None = None,
    ) -> None:
        self.problems = tuple(problems)
        super().__init__(message or _listed(self.problems), document=document)
        self.summary = message or _nothing_built(self.problems)

    @classmethod
    def summary_only(
        cls,
        problems: Sequence[Problem],
        document: Mapping[str, Any] | None = None,
        more: str = "",
    ) -> ContentError:
        """The closing line alone as the message (then ``more``), for when the problems were
        already printed one by one (--json lists them all, warnings too)."""
        count = sum(p.severity == "error" for p in problems)
        fix = "fix it" if count == 1 else "fix them"
        said = f"{plural(count, 'problem')} found; {fix} and run again.{more}"
        return cls(problems, said, document=document)


class Interrupted(SitegenError):
    """Ctrl-C or SIGTERM stopped a command (`sitegen.stopping`); exit code 130, as a shell
    gives an interrupted command."""

    exit_code = 130
    kind = "interrupted"


class BuildError(SitegenError):
    """Rendering or writing the bundle failed (template error, unwritable folder)."""

    kind = "build"


class BuildInterrupted(BuildError):
    """Ctrl-C or SIGTERM stopped a build; exit code 130, as for an interrupted publish."""

    exit_code = 130
    kind = "interrupted"


class WorkerLost(BuildError):
    """A forked build worker ended (killed) before its work was done (build._Watched)."""


class TemplateError(BuildError):
    """One or more mistakes in templates, each a Problem at its file and line: every syntax
    error and missing block found before rendering, or what rendering met (render.py)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(_listed(self.problems))
        self.summary = _nothing_built(self.problems)


def _listed(problems: tuple[Problem, ...]) -> str:
    """Every problem on its line, then how many errors stopped the build."""
    lines = "\n".join(str(p) for p in problems)
    return f"{lines}\n{_nothing_built(problems)}"


def _nothing_built(problems: tuple[Problem, ...]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    return f"{plural(errors, 'problem')} found; nothing was built."


class DoctorError(SitegenError):
    """A check of `sitegen doctor` failed: publishing would not work as set up."""

    kind = "doctor"


class PublishError(SitegenError):
    """Publishing failed; the message says what was done and how to finish. ``plan``: the
    plan's JSON form (``Plan.to_json()``) when the failure came after planning."""

    kind = "publish"

    def __init__(self, message: str, *, plan: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, document={"plan": plan} if plan is not None else None)
        self.plan = plan

    def extended(self, more: str) -> PublishError:
        """The same failure (class, plan) with ``more`` added to its message."""
        return type(self)(self.message + more, plan=self.plan)


class LockHeldError(PublishError):
    """Another publish holds the lock and may still be running: try again later."""

    exit_code = 75  # EX_TEMPFAIL (sysexits.h)
    kind = "lock_held"


class StaleLockError(PublishError):
    """The lock's holder probably died: only a person can tell, and take it over with
    --take-over-lock."""

    kind = "lock_stale"


class RefusedError(PublishError):
    """A safety limit (--max-deletes, the empty bundle) refused the plan; nothing was changed."""

    exit_code = 4
    kind = "refused"


class PublishInterrupted(PublishError):
    """Ctrl-C or SIGTERM (a CI job cancelled) stopped a publish; exit code 130 as a shell
    gives an interrupted command."""

    exit_code = 130
    kind = "interrupted"


# What to do when the system refused to read or write a file: a full disk, a permission, a
# read-only disk are the machine's state, not a bug in sitegen.
_SYSTEM_ADVICE = {
    errno.ENOSPC: "Free some disk space",
    errno.EDQUOT: "Free some disk space (your quota is full)",
    errno.EFBIG: "Raise the limit on file sizes (ulimit -f) or free some disk space",
    errno.EROFS: "Use a disk that can be written to",
}


def system_advice(exc: OSError, *, reading: bool, who: str = "runs sitegen") -> str:
    """What to do about ``exc``, met reading a file (``reading``) or writing one."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"Give the user who {who} the right to {'read it' if reading else 'write there'}"
    path = Path(exc.filename) if exc.filename else None
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) and path is not None:
        found = in_the_way(path)
        if found is not None:
            return f"{found} is a file where a folder is needed: move it away"
    if exc.errno == errno.ENOENT and not reading and path is not None:
        return f"Create the folder {path.parent} first"
    if exc.errno == errno.ENOENT:
        return "Check the file's name and folder"
    return _SYSTEM_ADVICE.get(exc.errno or 0, "Fix that")


def in_the_way(path: Path) -> Path | None:
    """The file among ``path`` and its parents that stands where a folder is needed."""
    return next((p for p in (path, *path.parents) if p.is_file()), None)


def cannot_read(exc: OSError, what: str = "file") -> str:
    """The words for a file or folder the system would not let sitegen read."""
    advice = system_advice(exc, reading=True)
    return f"cannot read the {what}: {exc.strerror or exc}; {advice[0].lower()}{advice[1:]}"


def write_failed(exc: OSError, path: Path | str) -> SitegenError:
    """A file the system would not let sitegen write, named, with what to do."""
    return SitegenError(
        f"{exc.filename or path}: cannot write it ({exc.strerror or exc}). "
        f"{system_advice(exc, reading=False)}, then run the command again."
    )
