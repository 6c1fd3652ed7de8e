"""One publish at a time per target: take the lock, name its holder, and break it only when asked
to (--force) and stale: older than the timeout, or held by a process of this host that is gone."""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from publish.targets.base import LOCK_PATH, Target
from sitegen.errors import PublishError

_WHO = re.compile(r"(?P<user>[^@]*)@(?P<host>\S+) pid (?P<pid>[0-9]{1,9})")


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
    dead = holder is not None and holder_is_dead(holder.who)
    stale = age is None or age > timedelta(seconds=timeout_s) or dead
    if not (force and stale):
        raise PublishError(_held_message(target, holder, age, timeout_s, stale, dead))
    target.break_lock(held)
    again = target.lock(body)
    if again is not None:
        raise PublishError(_held_message(target, parse_holder(again.body), None, timeout_s, False))
    who = holder.who if holder else "an unreadable holder"
    return f"broke a stale lock held by {who} for {format_age(age) if age else 'an unknown time'}"


def holder_is_dead(who: str) -> bool:
    """True when the holder ran on this host under a process id that no longer exists (a publish
    killed or crashed here). Unknown, remote or still running holders are never called dead."""
    match = _WHO.fullmatch(who)
    if match is None or match["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False  # alive under another user, or not a process id at all
    return False


def _held_message(
    target: Target, holder: Holder | None, age: timedelta | None, timeout_s: int, stale: bool,
    dead: bool = False,
) -> str:
    who = holder.who if holder else "an unknown holder (unreadable lock)"
    since = f" for {format_age(age)}" if age is not None else ""
    first = f"Another publish holds the lock on {target.name}: {who}{since}."
    if dead:
        return (
            f"{first} That process is no longer running on this machine, so it died while "
            "publishing. Re-run with --force to break the lock; the new publish finishes "
            "whatever it left undone."
        )
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
