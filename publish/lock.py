"""One publish at a time per target: take the lock, name its holder, break it only when stale."""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from publish.targets.base import LOCK_PATH, Target
from sitegen.errors import PublishError


@dataclass(frozen=True, slots=True)
class Holder:
    who: str  # "user@host pid 123"
    since: datetime


def lock_body(now: datetime) -> bytes:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = "unknown"
    who = f"{user}@{socket.gethostname()} pid {os.getpid()}"
    doc = {"holder": who, "since": now.isoformat(timespec="seconds"), "tool": "sitegen publish"}
    return (json.dumps(doc, sort_keys=True) + "\n").encode()


def parse_holder(body: bytes) -> Holder | None:
    try:
        doc = json.loads(body)
        since = datetime.fromisoformat(str(doc["since"]))
        if since.tzinfo is None:
            return None
        return Holder(who=str(doc["holder"]), since=since)
    except (ValueError, KeyError, TypeError):
        return None


def format_age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def acquire(target: Target, *, now: datetime, timeout_s: int, force: bool) -> str:
    """Take the lock; return a note for the report ("" normally). Raise PublishError when held."""
    body = lock_body(now)
    held = target.lock(body)
    if held is None:
        return ""
    holder = parse_holder(held.body)
    age = now - holder.since if holder else None
    stale = age is None or age > timedelta(seconds=timeout_s)
    if not (force and stale):
        raise PublishError(_held_message(target, holder, age, timeout_s, stale))
    target.break_lock(held)
    again = target.lock(body)
    if again is not None:
        raise PublishError(_held_message(target, parse_holder(again.body), None, timeout_s, False))
    who = holder.who if holder else "an unreadable holder"
    return f"broke a stale lock held by {who} for {format_age(age) if age else 'an unknown time'}"


def _held_message(
    target: Target, holder: Holder | None, age: timedelta | None, timeout_s: int, stale: bool
) -> str:
    who = holder.who if holder else "an unknown holder (unreadable lock)"
    since = f" for {format_age(age)}" if age is not None else ""
    first = f"Another publish holds the lock on {target.name}: {who}{since}."
    if stale:
        return (
            f"{first} The lock is older than the {format_age(timedelta(seconds=timeout_s))} "
            "timeout, so that publish probably died. Re-run with --force to break the lock; "
            "the new publish finishes whatever it left undone."
        )
    return (
        f"{first} Wait for it to finish and publish again. If that publish died, its lock "
        f"becomes stale after {format_age(timedelta(seconds=timeout_s))}; then --force breaks it "
        f"({target.name}/{LOCK_PATH})."
    )

