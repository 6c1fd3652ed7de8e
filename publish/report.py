"""What a publish did (``Outcome``), said for people and for scripts, plus progress display."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

import click

from publish.cdn.base import InvalidationReceipt
from publish.plan import GROUP_TITLES, Plan, human_size
from sitegen.errors import RefusedError, plural


@dataclass(frozen=True, slots=True)
class Outcome:
    plan: Plan
    dry_run: bool
    uploaded: int
    uploaded_bytes: int
    deleted: int
    requests: int  # to the target, reading the remote state and the lock included
    receipts: tuple[InvalidationReceipt, ...]
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def unchanged(self) -> int:
        return self.plan.unchanged

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "dry_run": self.dry_run,
            "target": self.plan.target,
            "uploaded": self.uploaded,
            "uploaded_bytes": self.uploaded_bytes,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "requests": self.requests,
            "invalidations": [
                {
                    "cdn": r.cdn,
                    "id": r.id,
                    "paths": r.paths,
                    "requests": r.requests,
                    "detail": r.detail,
                }
                for r in self.receipts
            ],
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
            "plan": self.plan.to_json(),
        }

    def __str__(self) -> str:
        return self.said()

    def said(self, done: str = "Published to") -> str:
        """The report for people; ``done`` opens its summary line (a rollback's "Rolled back":
        "Published to" under "Rollback to …" read as a publish of content/)."""
        return "\n".join(_summary(self, done))


def _summary(outcome: Outcome, done: str = "Published to") -> Iterator[str]:
    plan = outcome.plan
    if outcome.dry_run:
        yield str(plan)
        yield from _owed_unsent(plan, "cannot be sent", "; they will stay owed")
        refused = " Without --dry-run it would be REFUSED (see above)." if plan.refusals else ""
        yield f"Dry run: nothing was changed.{refused}"
        return
    if plan.is_noop:
        yield (
            f"Nothing to publish: {plan.target} already matches the bundle "
            f"({plural(plan.unchanged, 'file')}; {plural(outcome.requests, 'request')}, "
            "0 uploads, 0 invalidations)."
        )
    else:
        yield (
            f"{done} {plan.target} in {outcome.seconds:.1f} s: {outcome.uploaded} uploaded "
            f"({human_size(outcome.uploaded_bytes)}), {outcome.deleted} deleted, "
            f"{outcome.unchanged} unchanged; {plural(outcome.requests, 'request')} to the target."
        )
    for receipt in outcome.receipts:
        yield (
            f"  {receipt.cdn}: invalidation {receipt.id} for {plural(receipt.paths, 'path')} "
            f"({plural(receipt.requests, 'request')}) {receipt.detail}".rstrip()
        )
    owed = set(plan.owed_invalidations)
    fresh = len(set(plan.invalidations) - owed)
    if fresh and not plan.cdns:
        changed = plural(fresh, "changed path")
        yield f"  no CDN configured: {changed} {'was' if fresh == 1 else 'were'} not invalidated"
    yield from _owed_unsent(plan, "could not be sent")
    for note in outcome.notes:
        yield f"  note: {note}"


def _owed_unsent(plan: Plan, what: str, then: str = "") -> Iterator[str]:
    """Said plainly: work a previous publish owed that this one, without a CDN, cannot do
    (publish.apply._finish keeps it owed)."""
    if plan.owed_invalidations and not plan.cdns:
        owed = plural(len(plan.owed_invalidations), "invalidation")
        where = "no CDN is configured for this publish"
        yield f"  {owed} owed by a previous publish {what}: {where}{then}"


def dry_run_refusal(outcome: Outcome) -> RefusedError | None:
    """A dry run whose plan the real publish would refuse fails as that publish would (exit 4),
    so a CI gate running --dry-run stops where the publish would."""
    plan = outcome.plan
    if not (outcome.dry_run and plan.refusals):
        return None
    refusals = " ".join(plan.refusals)
    message = f"Dry run (nothing was changed), but the real run would be refused: {refusals}"
    return RefusedError(message, plan=plan.to_json())


REFUSED = "Refused, nothing was changed: "  # after the plan, in a refused run's message


@contextmanager
def refusal_said(quiet: bool, as_json: bool = False) -> Iterator[None]:
    """Under -q, a refused run says the refusal, whose numbers explain it (deletes against
    --max-deletes, alert files published), not the whole plan before it. Under --json too:
    the document has the plan as data, and `error.message` was the plan's text with the
    refusal said twice, where a dry run's was the refusal alone."""
    try:
        yield
    except RefusedError as exc:
        if not (quiet or as_json) or REFUSED not in exc.message:
            raise
        shown = "" if as_json else " (Without -q, the plan is shown.)"
        brief = exc.message[exc.message.index(REFUSED) :] + shown
        raise RefusedError(brief, plan=exc.plan) from exc.__cause__


def publish_failure_keys(params: Mapping[str, Any]) -> dict[str, Any]:
    """publish's and rollback's keys in a --json failure document: the plan when the failure
    came after planning (PublishError.document), else null."""
    return {"dry_run": bool(params.get("dry_run")), "plan": None}


class Progress(Protocol):
    """Progress of the long steps (upload groups, deletes). Called from the main thread only."""

    def step(self, title: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    def step(self, title: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class LineProgress:
    """Quiet progress for CI logs: one line per step."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def step(self, title: str, total: int) -> None:
        click.echo(f"publish: {title}: {total}", file=self.stream)

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


# Step titles are "new …"/"changed …" + a group title (apply.upload_batches), "sitemap",
# "home page" and "deleting": the longest sets the label column, so every step's bar lines up.
LABEL_WIDTH = max(len(f"changed {title}") for title in GROUP_TITLES)


def bar_label(title: str) -> str:
    """``title`` padded (or cut, with "…") to exactly LABEL_WIDTH characters."""
    if len(title) > LABEL_WIDTH:
        return title[: LABEL_WIDTH - 1] + "…"
    return f"{title:<{LABEL_WIDTH}}"


class BarProgress:
    """A click progress bar per step, on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._bar: Any = None

    def step(self, title: str, total: int) -> None:
        self.close()
        self._bar = click.progressbar(length=total, label=bar_label(title), file=self.stream)
        self._bar.__enter__()

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def make_progress(quiet: bool = False, stream: TextIO | None = None) -> Progress:
    """A bar on a terminal, lines elsewhere (CI), nothing when quiet. Always on stderr."""
    out = stream or sys.stderr
    if quiet:
        return NullProgress()
    return BarProgress(out) if out.isatty() else LineProgress(out)
