"""Invalidations a stopped publish still owed that this publish could not send, because no CDN
is configured for it: they stay owed, in a *released* lock (publish/lock.py) that the next
publish takes over and, with a CDN configured, sends. Its deletes were done; only those
invalidations are kept. One conditional write, only in that case.

This runs after ``publish.apply.publish`` has released its lock (the CLI calls it), so a
publish that starts in between is not blocked; if one has taken the lock meanwhile, the
paths cannot be recorded, and the note says so.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from publish.lock import lock_body
from publish.plan import Plan
from publish.remote import Pending
from publish.report import Outcome
from publish.targets.base import LOCK_PATH, Target, TargetError
from sitegen.errors import plural


def unsent(plan: Plan) -> tuple[str, ...]:
    """The owed invalidations a plan without a CDN cannot send."""
    return () if plan.cdns else plan.owed_invalidations


def keep_owed(target: Target, outcome: Outcome, now: datetime | None = None) -> Outcome:
    """Record what ``unsent`` returns as still owed; the outcome gets a note saying where."""
    plan = outcome.plan
    owed = () if outcome.dry_run else unsent(plan)
    if not owed:
        return outcome
    before = target.requests
    record = Pending(plan.manifest_id, owed, ())
    body = lock_body(now or datetime.now(UTC), record, released=True, publishing=plan.manifest_id)
    paths = plural(len(owed), "path")
    try:
        held = target.lock(body)
    except TargetError as exc:
        note = f"the {paths} could not be kept owed ({exc}): invalidate them by hand"
    else:
        if held is None:
            note = (
                f"the {paths} stay owed, recorded in {LOCK_PATH}: the next publish with a CDN "
                "configured (--cloudfront, --akamai or [publish]) sends them"
            )
        else:
            note = (
                f"the {paths} could not be kept owed: another publish took the lock meanwhile; "
                "invalidate them by hand (sitegen publish --dry-run --json lists them)"
            )
    requests = outcome.requests + target.requests - before
    return replace(outcome, requests=requests, notes=(*outcome.notes, note))
