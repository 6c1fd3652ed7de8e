"""One publish at a time per target: take the lock, name its holder, and take it over only when
asked to (--take-over-lock, never --force: that lifts the safety refusals) and stale: not renewed
for its lease (`publish/lease.py` renews it while a publish runs; a body of a sitegen older than
leases, without `renewed`, is stale once older than the timeout), or held by a process of this
host (and pid namespace) that is gone.

The lock also tells what a stopped publish still owes after its manifest went up
(invalidations, deletes), at no request in the normal case:
- the lock body names the manifest being published; the work owed after it travels in that
  manifest's metadata (or, when too big for metadata, in the lock body, one extra write).
  Releasing the lock means the work is done. A publish killed in between leaves a stale lock: if
  the live manifest is the one the dead holder was publishing, its owed work is inherited.
- a publish that fails cleanly after its manifest (a CDN down) leaves the lock *released*, with
  the owed work in its body; the next publish takes it over without --take-over-lock and does
  the work.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from publish.remote import Pending
from publish.targets.base import LOCK_PATH, StoredObject, Target
from sitegen.cache import process_gone
from sitegen.errors import LockHeldError, StaleLockError

_CLOCK_SKEW = timedelta(minutes=1)  # a holder's "since" this far ahead of our clock is believed
# A publish renews its lock every LEASE_S / RENEWALS_PER_LEASE seconds (`publish/lease.py`):
# silent for LEASE_S (three renewals missed in a row), it died, or lost the store for that long.
LEASE_S = 120
RENEWALS_PER_LEASE = 4
_WHO = re.compile(r"(?P<user>[^@]*)@(?P<host>\S+) pid (?P<pid>[0-9]{1,9})")


@dataclass(frozen=True, slots=True)
class Holder:
    who: str  # "user@host pid 123"
    since: datetime
    tool: str = "sitegen publish"  # the command holding it: publish, or rollback
    processes: str | None = None  # `process_space()` of the holder; None: written before 2026-12
    renewed: datetime | None = None  # its last renewal; None: written before leases (fix/lease)
    lease_s: int | None = None  # how long it may go unrenewed, as its holder was configured


def _holding(holder: Holder | None) -> str:
    """Who holds the lock, in the words of the message to the one waiting."""
    if _run_of(holder) == "rollback":
        return "A rollback (sitegen rollback)"
    return "Another publish"


@dataclass(frozen=True, slots=True)
class Acquired:
    """The lock is ours. ``inherited``: work a stopped publish left in its lock. ``since``,
    ``publishing`` and ``tool`` are what its body says, kept for every rewrite of it."""

    note: str
    inherited: Pending | None
    since: datetime
    broken_publishing: str | None = None  # manifest id a stale holder was publishing
    publishing: str | None = None
    tool: str = "sitegen publish"
    lease_s: int = LEASE_S

    def body(self, owed: Pending | None, *, released: bool) -> bytes:
        """Our lock's body recording ``owed`` (``released``: left for the next publish),
        renewed now."""
        return lock_body(
            self.since,
            owed,
            released=released,
            publishing=self.publishing,
            tool=self.tool,
            lease_s=self.lease_s,
        )


def lock_body(
    now: datetime,
    owed: Pending | None = None,
    *,
    released: bool = False,
    publishing: str | None = None,
    tool: str = "sitegen publish",
    lease_s: int | None = None,
) -> bytes:
    """A lock body held since ``now``; with ``lease_s``, renewed now (the clock's, in ms: a
    lease may be seconds long), a lease its holder keeps renewing (None: as written before)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = "unknown"
    who = f"{user}@{socket.gethostname()} pid {os.getpid()}"
    doc: dict[str, object] = {
        "holder": who,
        # random: a target that finds this exact body after a retry knows the lock is its own
        # (the first write went through, its answer was lost), even for two publishers with
        # one host name and pid (containers) in the same second
        "nonce": os.urandom(8).hex(),
        "processes": process_space(),
        "since": now.isoformat(timespec="seconds"),
        "tool": tool,
    }
    if publishing is not None:
        doc["publishing"] = publishing
    if lease_s is not None:
        doc["lease_s"] = lease_s
        doc["renewed"] = datetime.now(UTC).isoformat(timespec="milliseconds")
    if owed is not None:
        doc["owed"] = owed.to_doc()
    if released:
        doc["released"] = True
    return (json.dumps(doc, sort_keys=True) + "\n").encode()


def parse_owed(body: bytes) -> tuple[Pending | None, bool]:
    """(owed work, released) recorded in a lock body; (None, False) when there is none."""
    try:
        doc = json.loads(body)
        owed = Pending.from_doc(doc["owed"]) if "owed" in doc else None
        return owed, doc.get("released") is True
    except (ValueError, TypeError, AttributeError):
        return None, False


def parse_holder(body: bytes) -> Holder | None:
    try:
        doc = json.loads(body)
        since = datetime.fromisoformat(str(doc["since"]))
        if since.tzinfo is None:
            return None
        tool = doc.get("tool")
        processes = doc.get("processes")
        renewed = datetime.fromisoformat(str(doc["renewed"])) if "renewed" in doc else None
        lease_s = doc.get("lease_s")
        return Holder(
            str(doc["holder"]),
            since,
            tool if isinstance(tool, str) else "sitegen publish",
            processes if isinstance(processes, str) else None,
            renewed if renewed is not None and renewed.tzinfo is not None else None,
            lease_s if type(lease_s) is int and lease_s > 0 else None,
        )
    except (ValueError, KeyError, TypeError):
        return None


def format_age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def publishing_id(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("publishing")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class LockInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM while the lock was being taken: ``written``, the lock bodies this
    publish wrote or was writing, which `let_go` lets go of if one reached the target."""

    def __init__(self, written: list[bytes]) -> None:
        super().__init__()
        self.written = written


def acquire(
    target: Target,
    *,
    now: datetime,
    timeout_s: int,
    take_over: bool,
    publishing: str | None = None,
    rerun: str = "sitegen publish",
    tool: str = "sitegen publish",
    lease_s: int = LEASE_S,
) -> Acquired:
    """Take the lock (inheriting any work it records), as a lease of ``lease_s`` its holder
    renews (`publish/lease.py`). Raise PublishError when held; its message says to run
    ``rerun`` once the holder is done; LockInterrupted when stopped."""
    ours = Acquired("", None, now, publishing=publishing, tool=tool, lease_s=lease_s)
    written = [ours.body(None, released=False)]
    try:
        return _take(target, written, ours, timeout_s, take_over, rerun)
    except KeyboardInterrupt as stop:
        raise LockInterrupted(written) from stop


def let_go(target: Target, written: list[bytes]) -> bool:
    """Let go of our lock if the target holds one of the bodies we ``written`` (a write whose
    answer a stop cut short may have gone through): removed, or, when it carries the record
    of work we took over, left *released* with it, as it was. True when it did."""
    held = target.read(LOCK_PATH)
    if held is None or held.body not in written:
        return False
    if parse_owed(held.body)[0] is None:
        target.break_lock(held)
        return True
    doc = json.loads(held.body)
    doc["released"] = True
    return target.take_over(held, (json.dumps(doc, sort_keys=True) + "\n").encode())


def _take(
    target: Target,
    written: list[bytes],
    ours: Acquired,
    timeout_s: int,
    take_over: bool,
    rerun: str,
) -> Acquired:
    held = target.lock(written[0])
    if held is None:
        return ours
    now = ours.since
    owed, released = parse_owed(held.body)
    holder = parse_holder(held.body)
    life = _Life.of(holder, held, now, timeout_s, ours.lease_s)
    dead = holder is not None and holder_is_dead(holder.who, holder.processes)
    stale = life.stale or dead
    if not (released or (take_over and stale)):
        error = StaleLockError if stale else LockHeldError
        raise error(_held_message(target, holder, life, dead, rerun, publishing_id(held.body)))
    # one write replaces the lock seen with ours, carrying the work it records: a publish
    # killed right after still leaves that work recorded (a delete, then a create, would not)
    body = ours.body(owed, released=False) if owed else written[0]
    written.append(body)
    if not target.take_over(held, body):
        again = target.read(LOCK_PATH)
        if again is None:  # released meanwhile: take it as anyone would
            return _take(target, written, ours, timeout_s, take_over, rerun)
        holder = parse_holder(again.body)
        raise LockHeldError(
            _held_message(target, holder, None, rerun=rerun, publishing=publishing_id(again.body))
        )
    work = " and finishes the work it left" if owed else ""
    if released:
        took = f"a previous {_run_of(holder)} stopped with work left; this one takes it over"
        return replace(ours, note=took, inherited=owed)
    who = holder.who if holder else "an unreadable holder"
    since = format_age(life.age) if life.age else "an unknown time"
    note = f"broke a stale lock held by {who} for {since}{work}"
    return replace(ours, note=note, inherited=owed, broken_publishing=publishing_id(held.body))


@dataclass(frozen=True, slots=True)
class _Life:
    """What a lock tells of its holder's life: ``age``, how long it has been held;
    ``silent``, how long since it last said it runs (its last renewal; for a body written
    before leases, its ``since``) and ``limit``, how long it may stay silent (its lease, or
    the timeout). ``silent`` None: unknown, stale at once."""

    age: timedelta | None
    silent: timedelta | None
    limit: timedelta
    leased: bool

    @staticmethod
    def of(
        holder: Holder | None, held: StoredObject, now: datetime, timeout_s: int, lease_s: int
    ) -> _Life:
        age = _elapsed(holder.since if holder else None, held, now)
        if holder is None or holder.renewed is None:
            return _Life(age, age, timedelta(seconds=timeout_s), leased=False)
        silent = _elapsed(holder.renewed, held, now)
        return _Life(age, silent, timedelta(seconds=holder.lease_s or lease_s), leased=True)

    @property
    def stale(self) -> bool:
        return self.silent is None or self.silent > self.limit


def _elapsed(since: datetime | None, held: StoredObject, now: datetime) -> timedelta | None:
    """How long ago the holder wrote ``since`` (its ``since``, or its last renewal); when the
    body is unreadable, or that lies in the future (the holder's clock is ahead), by when the
    store wrote the lock. None (stale at once) only when neither is known."""
    if since is not None and since <= now + _CLOCK_SKEW:
        return max(now - since, timedelta(0))
    if held.modified is not None:
        return max(now - held.modified, timedelta(0))
    return None


def holder_is_dead(who: str, processes: str | None) -> bool:
    """True when the holder ran on this host under a process id that no longer exists (a publish
    killed or crashed here). Unknown, remote or still running holders are never called dead, nor
    one whose `processes` (`process_space()`) is not ours: containers may share a host name, and
    a pid names a process only in its own pid namespace, so a live publish in the container
    next door would otherwise be called dead here. A lock body written before 2026-12 does not
    say (None): its holder may be such a publish, and is not called dead either (`_unknowable`)."""
    match = _WHO.fullmatch(who)
    if match is None or match["host"] != socket.gethostname() or processes != process_space():
        return False
    return process_gone(int(match["pid"]))


def _unknowable(holder: Holder | None) -> bool:
    """The holder ran on this host, but its lock, written by a sitegen older than 2026-12,
    does not say in which pid namespace (container): whether it still runs cannot be told."""
    if holder is None or holder.processes is not None:
        return False
    match = _WHO.fullmatch(holder.who)
    return match is not None and match["host"] == socket.gethostname()


def process_space() -> str:
    """Which processes a pid names here: this boot of the kernel and this pid namespace ("" where
    /proc does not say, as on macOS: then the host name alone decides, as it did before)."""
    parts = []
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            parts.append(f.read().strip())
        parts.append(os.readlink("/proc/self/ns/pid"))  # "pid:[4026531836]"
    except OSError:
        return ""
    return " ".join(parts)


def _held_message(
    target: Target,
    holder: Holder | None,
    life: _Life | None,
    dead: bool = False,
    rerun: str = "sitegen publish",
    publishing: str | None = None,
) -> str:
    who = holder.who if holder else "an unknown holder (unreadable lock)"
    since = f" for {format_age(life.age)}" if life is not None and life.age is not None else ""
    first = f"{_holding(holder)} holds the lock on {target.name}: {who}{since}."
    run = _run_of(holder)
    take = (
        f"Run `{rerun} --take-over-lock` to take its lock over; that run finishes whatever it "
        "left undone (the safety limits still apply)."
    )
    if run == "rollback" and not rerun.startswith("sitegen rollback"):
        # a publish would put content/ back online: say how to finish the rollback instead
        to = publishing[:12] if publishing else "ID"
        listed = "" if publishing else " (the ID it was restoring: `sitegen rollback --list`)"
        take += (
            f" That run then publishes content/, replacing what the rollback was restoring; "
            f"to finish the rollback instead, run `sitegen rollback --to {to} "
            f"--take-over-lock`{listed}."
        )
    if dead:
        doing = "rolling back" if run == "rollback" else "publishing"
        return (
            f"{first} That process is no longer running on this machine, so it died while "
            f"{doing}. {take}"
        )
    if life is not None and life.stale:
        if life.leased and life.silent is not None:
            return (
                f"{first} It was last renewed {format_age(life.silent)} ago, longer than its "
                f"{format_age(life.limit)} lease (a running publish renews it every "
                f"{format_age(life.limit / RENEWALS_PER_LEASE)}), so that {run} died or lost "
                f"its connection. {take}"
            )
        return (
            f"{first} The lock is older than the {format_age(life.limit)} timeout, so that "
            f"{run} probably died. {take}"
        )
    if _unknowable(holder):
        first += (
            " That lock was written by an older sitegen, which did not record the container it "
            "ran in, so whether that process still runs cannot be told from here."
        )
    return (
        f"{first}{_renewed(life)} Wait for it to finish and run `{rerun}` again. If that "
        f"{run} died or was stopped, {_stale_when(life)}; then --take-over-lock takes it "
        f"over ({target.name}/{LOCK_PATH})."
    )


def _run_of(holder: Holder | None) -> str:
    """What the holder's run is, in a message: "rollback" or "publish"."""
    return "rollback" if holder is not None and holder.tool == "sitegen rollback" else "publish"


def _renewed(life: _Life | None) -> str:
    if life is None or not life.leased or life.silent is None:
        return ""
    return f" It was last renewed {format_age(life.silent)} ago (a running publish renews it)."


def _stale_when(life: _Life | None) -> str:
    """When a live-looking lock becomes stale, in the words of the message."""
    if life is None:
        return "its lock becomes stale once no longer renewed"
    left = f", in {format_age(life.limit - life.silent)}" if life.silent is not None else ""
    if life.leased:
        return f"its lock becomes stale {format_age(life.limit)} after its last renewal{left}"
    return f"its lock becomes stale after {format_age(life.limit)}{left}"
