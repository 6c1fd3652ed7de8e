"""Run a publish: lock → new files (assets, alert pages, the rest) → changed files → the home
page → the work owed after the manifest, recorded in our lock → manifest → invalidations →
deletes → unlock, which drops the record (docs/architecture.md, "Publish order"). Each step
starts only after the previous one succeeded; a failure stops the run with a message saying what
was done, what was not, and that running publish again completes it.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo

from botocore.exceptions import BotoCoreError, ClientError

from publish.cdn.base import InvalidationReceipt, Invalidator
from publish.lease import Lease, LeaseLost
from publish.local import Bundle
from publish.lock import (
    LEASE_S,
    Acquired,
    LockInterrupted,
    acquire,
    format_age,
    let_go,
    parse_owed,
    publishing_id,
)
from publish.manifest import MANIFEST_PATH, Entry, manifest_id
from publish.parallel import Abandoned, Pool, within
from publish.plan import (
    GROUP_TITLES,
    Limits,
    Plan,
    Upload,
    alerts_named,
    group_of,
    make_plan,
    put_back_unused_note,
)
from publish.remote import (
    OWED_META,
    OWED_META_MAX,
    REFERENCE_CHARS,
    ROLLED_BACK_META,
    ROLLED_BACK_PATH,
    Pending,
    RemoteState,
    read_remote,
    rollback_record,
)
from publish.report import REFUSED, NullProgress, Outcome, Progress
from publish.targets.base import LOCK_PATH, ObjectMeta, Target, TargetError
from sitegen.errors import (
    PublishError,
    PublishInterrupted,
    RefusedError,
    SitegenError,
    StaleLockError,
    plural,
)

STATE_CONTENT_TYPE = "application/json; charset=utf-8"
HOME_PAGE = "index.html"
# Past 50,000 URLs the sitemap is an index of sitemaps/N.xml: it goes up after every part it
# lists, new or changed, as the home page goes up after what it lists.
SITEMAP = "sitemap.xml"
STATE_CACHE_CONTROL = "no-store"  # the "meta" class: never cached at the edge
# Ctrl-C or SIGTERM ends a publish within STOP_WAIT_S of the stop, whatever the network does:
# the uploads in flight get UPLOAD_GRACE_S of it to end (on a working network they end in
# milliseconds, each one fewer to send again), the lock's last write (the record of what is
# owed: one small request, milliseconds on a working network) the rest. Until fix/folderlock
# the two waits came one after the other (0.5 s + 3 s) and the lease's on top: 3.6-4.0 s.
STOP_WAIT_S = 2.0
UPLOAD_GRACE_S = 0.5
_CDN_ERRORS: tuple[type[BaseException], ...] = (
    SitegenError,
    TargetError,
    OSError,
    BotoCoreError,
    ClientError,
)


def _cdn_errors() -> tuple[type[BaseException], ...]:
    """What a CDN call may raise that we report (and owe the work) rather than crash on.
    requests' errors count only once requests is imported (by the Akamai client): importing
    it here would cost every publish 0.05 s of start-up for a CDN it may not use."""
    requests = sys.modules.get("requests")
    return _CDN_ERRORS + ((requests.RequestException,) if requests is not None else ())


@dataclass(frozen=True, slots=True)
class PublishOptions:
    limits: Limits = Limits()
    dry_run: bool = False
    verify: bool = False
    lock_timeout_s: int = 900  # for a lock written before leases (no `renewed`)
    lock_lease_s: int = LEASE_S  # our lock, renewed while we run, is stale this long after
    workers: int = 16
    again: str = "sitegen publish"  # the command that finishes this job when run again
    rollback: bool = False  # a rollback: its manifest says so (remote.ROLLED_BACK_META)
    zone: tzinfo | None = None  # the site's timezone, for times in messages (None: the machine's)
    # take over a lock whose holder died or was stopped (--take-over-lock); unlike
    # limits.force, it lifts no safety refusal
    take_over_lock: bool = False


def publish(
    local: Bundle,
    target: Target,
    invalidators: Sequence[Invalidator] = (),
    options: PublishOptions = PublishOptions(),
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Publish ``local`` to ``target`` and invalidate every CDN; ``options.dry_run`` only plans."""
    started, before = time.monotonic(), target.requests
    if options.dry_run:
        remote = read_remote(target, verify=options.verify, known=local.files)
        remote = with_owed(remote, peek_owed(target, remote)[0])
        plan = make_plan(local, remote, options.limits, invalidators, zone=options.zone)
        return Outcome(plan, True, 0, 0, 0, target.requests - before, (), 0.0)
    # the lock names the manifest going up (a rollback's local.id is its own, new but when it
    # resumes a stopped run: rollback_reference): a publish breaking it inherits the work owed
    # after that manifest (_left_by_dead_holder)
    at = now or datetime.now(UTC)
    try:
        lock = _lock(target, at, options, manifest_id(local.manifest_bytes))
    except LockInterrupted as stop:
        raise PublishInterrupted(_interrupted_locking(target, stop.written, at, options)) from stop
    note = lock.note
    run: _Run | None = None
    inherited = lock.inherited
    lease = Lease(target, lock, options.again)
    lease.start()
    try:
        remote = read_remote(target, verify=options.verify, known=local.files)
        remote = with_owed(remote, _left_by_dead_holder(lock, remote))
        inherited = remote.pending
        plan = make_plan(local, remote, options.limits, invalidators, zone=options.zone)
        if plan.refusals:
            refused = f"{plan}\n{REFUSED}{' '.join(plan.refusals)}"
            raise RefusedError(refused, plan=plan.to_json())
        run = _Run(
            plan,
            local,
            target,
            tuple(invalidators),
            progress or NullProgress(),
            lease,
            options,
            _rollback_record(plan, remote, local) if options.rollback else None,
            reference=run_reference(plan.manifest_id, inherited, lock.since),
            online=_live_manifest(remote),
        )
        run.execute(options.workers)
    except PublishError as exc:
        raise exc.extended(_stop(lease, run, inherited, options)) from exc.__cause__
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (publish/cli.py turns it into this)
        lease.end()  # no renewal past the stop: its lock is stale a lease after it
        raise PublishInterrupted(_interrupted(target, lease, run, inherited, options)) from exc
    except BaseException:
        _stop(lease, run, inherited, options)
        raise
    finally:
        lease.end()
        (progress or NullProgress()).close()
    forced = tuple(f"--force let this through: {reason}" for reason in plan.forced)
    if plan.put_back:
        forced += (f"--put-back let through {alerts_named(plan.put_back)} as before the rollback",)
    if plan.put_back_unused:
        forced += (put_back_unused_note(plan.put_back_unused),)
    notes = tuple(n for n in (remote.warning, note, *forced, _finish(run)) if n)
    return Outcome(
        plan=plan,
        dry_run=False,
        uploaded=sum(run.uploaded),
        uploaded_bytes=run.bytes,
        deleted=run.deleted,
        requests=target.requests - before,
        receipts=tuple(run.receipts),
        seconds=time.monotonic() - started,
        notes=notes,
    )


def run_reference(manifest: str, owed: Pending | None, since: datetime) -> str:
    """The CDN reference of one publish run (CloudFront's CallerReference is made of it and
    the paths). A run resuming the work a run owed for the same manifest sends that run's
    again, so CloudFront answers a repeated call with the invalidation it already made (""
    for a record older than references: its run sent the manifest id, Pending.cdn_reference).
    Any other run gets a new one: the manifest id alone comes back when a state is published
    again (an alert changed, then changed back; a rollback undone), and CloudFront answers a
    CallerReference it has seen with that old, completed invalidation, making none."""
    if owed is not None and owed.manifest_id == manifest:
        return owed.reference
    unique = f"publish {manifest} {since.isoformat()} {os.urandom(16).hex()}"
    return hashlib.sha256(unique.encode()).hexdigest()[:REFERENCE_CHARS]


def with_owed(remote: RemoteState, owed: Pending | None) -> RemoteState:
    """``remote`` with the work a stopped run owes, said in its note: what publish and
    rollback plan against, their dry runs too."""
    if owed is None:
        return remote
    note = f"{remote.note}; an earlier run stopped with work left to finish"
    return replace(remote, pending=owed.trusted(_live_manifest(remote)), note=note)


def _live_manifest(remote: RemoteState) -> str | None:
    """The id of the manifest online, as read; None when a listing was read instead."""
    return remote.manifest_id if remote.source == "manifest" else None


def _left_by_dead_holder(lock: Acquired, remote: RemoteState) -> Pending | None:
    """The work owed by the publish whose lock we took: in its lock, and, once it managed to
    publish its manifest, in that manifest's metadata, over what its lock says (a killed
    publisher's lock may still carry the record it took over at its start)."""
    published = lock.broken_publishing is not None and lock.broken_publishing == remote.manifest_id
    if not published or remote.manifest_owed is None:
        return lock.inherited
    return remote.manifest_owed.merged(lock.inherited)


def peek_owed(target: Target, remote: RemoteState) -> tuple[Pending | None, str | None]:
    """For --dry-run and rollback, without the lock: the work a stopped publish recorded in
    it; and when its holder, not released, was putting up the live manifest (a run stopped
    with the network down, or killed, after it), the work that manifest says it owed, which
    the run that takes the lock over inherits (_left_by_dead_holder). Until session 22 a
    rollback stopped so was not seen owing it: run again as advised, it was refused ("that
    state is the one published now"), its deletes and invalidations left. Second: the
    manifest id the lock says its holder was putting up (None: no lock), by which a rollback
    to that state knows it resumes that run (rollback.rollback_reference)."""
    held = target.read(LOCK_PATH)
    if held is None:
        return None, None
    work, released = parse_owed(held.body)
    publishing = publishing_id(held.body)
    live, after = remote.manifest_id, remote.manifest_owed
    if released or live is None or after is None or publishing != live:
        return work, publishing
    return after.merged(work), publishing


def _lock(target: Target, now: datetime, options: PublishOptions, publishing: str) -> Acquired:
    try:
        return acquire(
            target,
            now=now,
            timeout_s=options.lock_timeout_s,
            take_over=options.take_over_lock,
            publishing=publishing,
            rerun=options.again,
            # the command named in the lock, for whoever finds it held
            tool="sitegen rollback" if options.rollback else "sitegen publish",
            lease_s=options.lock_lease_s,
        )
    except TargetError as exc:
        raise PublishError(f"Could not take the publish lock: {exc}\nNothing was changed.") from exc
    except StaleLockError as exc:
        if options.limits.force and not options.take_over_lock:
            raise exc.extended(FORCE_IS_NOT_THE_LOCK) from exc.__cause__
        raise


# --force took over stale locks before 2026-12, so an operator following old advice (or a
# script) asks for it: say why it did not, never take the lock with the refusals lifted
FORCE_IS_NOT_THE_LOCK = (
    "\n--force does not take over a lock (it did before 2026-12): it lifts only the safety "
    "refusals (--max-deletes, the empty bundle...). Use --take-over-lock for the lock, and "
    "add --force only if the publish is then refused and you mean to go past that refusal."
)


def _interrupted_locking(
    target: Target, written: list[bytes], since: datetime, options: PublishOptions
) -> str:
    """Stopped while taking the lock: the lock write may have reached the target, its answer
    cut short; remove it if so (within STOP_WAIT_S), so it is not left held by no one."""
    first = (
        f"{_run_title(options)} {target.name} interrupted while taking the lock; "
        "nothing was changed."
    )
    try:
        released = within(STOP_WAIT_S, lambda: let_go(target, written))
    except (Abandoned, TargetError) as why:
        return f"{first}\n{_lock_left(target, str(why), since.timestamp(), options)}"
    return first + (" The lock it had taken was released." if released else "")


def _lock_left(
    target: Target,
    why: str,
    renewed: float,
    options: PublishOptions,
    *,
    stuck: bool = True,
    failed: str = "rewritten",
) -> str:
    """Advice when a stop could not release our lock: on this machine --take-over-lock takes it
    at once (its holder is seen gone, lock.holder_is_dead); elsewhere, only once it went
    unrenewed for its lease from ``renewed`` (time.time()), its last renewal. ``stuck``: the
    target did not answer in time (else it refused the write, saying ``why``; ``failed``:
    which one, "rewritten" or "released")."""
    lease = timedelta(seconds=options.lock_lease_s)
    stale = (datetime.fromtimestamp(renewed, UTC) + lease).astimezone(options.zone)
    what = "rollback" if options.rollback else "publish"
    opening = (
        f"{what.capitalize()} stopped waiting for {target.name} ({why}), so the lock "
        f"({LOCK_PATH}) may still be held by this stopped {what}. Once the network is back, run"
        if stuck
        else f"The lock ({LOCK_PATH}) could not be {failed} ({why}), so it stays held by "
        f"this {what}, which has ended. Run"
    )
    return (
        f"{opening} `{options.again} --take-over-lock` on this machine "
        f"({socket.gethostname()}): it sees "
        f"that this {what} no longer runs and takes its lock over at once (every safety limit "
        f"still applies). From another machine, --take-over-lock works from {stale:%H:%M:%S %Z} "
        f"on ({format_age(lease)} after its last renewal: its lease)."
    )


def _interrupted(
    target: Target,
    lease: Lease,
    run: _Run | None,
    inherited: Pending | None,
    options: PublishOptions,
) -> str:
    """Stop cleanly on an interrupt: say what was done, and never lose owed work, unless the
    target does not answer within STOP_WAIT_S of the stop: then say so, and end anyway (a
    store that does not answer would hold the stop through every timeout and retry:
    minutes)."""
    since = run.stopped_at if run is not None else None
    try:
        return within(
            STOP_WAIT_S,
            lambda: _record_interrupted(target, lease, run, inherited, options),
            since=since,
        )
    except Abandoned as why:
        left = _lock_left(target, str(why), lease.confirmed, options)
        return _unrecorded(target, run, left, options)


def _record_interrupted(
    target: Target,
    lease: Lease,
    run: _Run | None,
    inherited: Pending | None,
    options: PublishOptions,
) -> str:
    """Once the manifest is online, the invalidations and deletes it implies are owed: they
    are left in a released lock, as after a failed CDN call, which the next publish takes
    over and does. Before it, `_stop` records the files sent."""
    if run is None:
        return _before_any_upload(target, options) + _stop(lease, run, inherited, options)
    owed = run.remaining()
    if run.manifest_written and (owed.invalidate or owed.delete):
        return run._stopped("interrupted", run._leave_record(owed))
    state = _ONLINE if run.manifest_written else _BEFORE_MANIFEST
    return run._stopped("interrupted", state) + _stop(lease, run, inherited, options)


def _unrecorded(target: Target, run: _Run | None, left: str, options: PublishOptions) -> str:
    """An interrupted publish whose lock the target did not let it rewrite in time. A
    rollback is finished by running it again (it re-sends every file it changes while the
    manifest online is the one before it): `sitegen publish --verify`, advised for it until
    session 21, would have published content/, undoing the rollback."""
    if options.rollback:
        check = f"run `{options.again} --take-over-lock` again: it sends every file it changes"
    else:
        check = "`sitegen publish --verify --take-over-lock` checks every file online"
    note = f"{left} What this one sent is not recorded: {check}."
    if run is None:
        return f"{_before_any_upload(target, options)}\n{note}"
    owed = run.remaining()
    if not run.manifest_written:
        state = _BEFORE_MANIFEST
    elif owed.invalidate or owed.delete:
        state = _OWED_WITH_MANIFEST
    else:
        state = _ONLINE
    # its last line names the same command: without --take-over-lock (said until session 22)
    # the run is refused, the lock held by this one
    run.held_left = True
    return run._stopped("interrupted", f"{state}\n{note}")


def _before_any_upload(target: Target, options: PublishOptions) -> str:
    title = _run_title(options)
    return f"{title} {target.name} interrupted before any upload; nothing was changed."


def _run_title(options: PublishOptions) -> str:
    """How a stop message opens: "Publish to TARGET …", or "Rollback of TARGET …" (a
    rollback's said "Publish to" until session 22)."""
    return "Rollback of" if options.rollback else "Publish to"


def _stop(
    lease: Lease, run: _Run | None, inherited: Pending | None, options: PublishOptions
) -> str:
    """End a run that failed: our lock is released, unless work stays owed. After the
    manifest, the run left its record (_Run._leave_record). Before it, the work a previous
    publish left (``inherited``) and the files this one sent, which the live manifest does not
    describe (``unsure``), are recorded in the lock, left released for the next publish."""
    if run is not None and (run.record_left or run.manifest_written):
        return "" if run.record_left else _release(lease, options)
    owed = inherited
    if run is not None and run.sent:
        sent = run.owed(unsure=tuple(sorted(run.sent)), put=dict(sorted(run.put.items())))
        owed = sent.merged(inherited)
    if owed is None or not (owed.invalidate or owed.delete or owed.unsure):
        return _release(lease, options)
    try:
        if not lease.rewrite(owed, released=True):
            return "\nThe lock had been broken by another publish; it was left alone."
    except TargetError as exc:
        return f"\nCould not record what is owed in the lock ({exc}); run publish --verify next."
    return f"\n{_KEPT_BEFORE_MANIFEST}"


def _finish(run: _Run) -> str:
    """Release the lock after a publish that did all it could. Invalidations a stopped publish
    owed, which this one had no CDN to send, stay owed instead: the lock is rewritten
    *released* with them (one conditional write in place of the delete), and the next publish
    with a CDN takes it over and sends them."""
    owed = run.remaining()
    if not owed.invalidate:
        return _release(run.lease, run.options).strip()
    paths = plural(len(owed.invalidate), "path")
    try:
        kept = run.lease.rewrite(owed, released=True)
    except TargetError as exc:
        return f"the {paths} could not be kept owed ({exc}): invalidate them by hand" + (
            _release(run.lease, run.options)
        )
    if not kept:
        return (
            f"the {paths} could not be kept owed: another publish broke the lock meanwhile; "
            "invalidate them by hand (sitegen publish --dry-run --json lists them)"
        )
    return (
        f"the {paths} stay owed, recorded in {LOCK_PATH}: the next publish with a CDN "
        "configured (--cloudfront, --akamai or [publish]) sends them"
    )


def _release(lease: Lease, options: PublishOptions) -> str:
    """Release the lock; never raise (the caller may be reporting a failure already). When
    the store refuses, say how and when the lock can be taken over (it said "the next publish
    may need --take-over-lock" until session 22)."""
    try:
        if lease.release():
            return ""
        return "\nThe lock had been broken by another publish; it was left alone."
    except TargetError as exc:
        why = str(exc).removeprefix(f"{lease.target.name}: ")
        return "\n" + _lock_left(
            lease.target, why, lease.confirmed, options, stuck=False, failed="released"
        )


def _rollback_record(plan: Plan, remote: RemoteState, local: Bundle) -> bytes:
    """What a rollback replaces, for the next publish (`remote.ROLLED_BACK_PATH`): the bytes
    online before it of each path it changes ("" for one it restores that was absent), the
    same when it finishes a run of itself that was stopped (until session 22 the record then
    lost what that run had done, and the next publish could undo those paths unrefused)."""
    # the manifest's own id (a rollback's plan.manifest_id is its own: rollback_reference)
    to = manifest_id(local.manifest_bytes)
    if remote.manifest_id == to and remote.undone is not None:
        return rollback_record(to, remote.undone)  # stopped after its manifest: kept as is
    changed = [u.path for u in plan.uploads if u.reason != "headers"] + list(plan.deletes)
    changed += _put_ahead(remote, local)
    undone = {p: e.sha256 if (e := remote.files.get(p)) is not None else "" for p in changed}
    return rollback_record(to, undone)


def _put_ahead(remote: RemoteState, local: Bundle) -> list[str]:
    """Paths a stopped run put ahead of the live manifest with the bytes ``local`` has, which
    the plan counts online (Pending.put) where that manifest says otherwise."""
    put = remote.pending.put if remote.pending is not None else {}
    return [
        path
        for path, entry in put.items()
        if (mine := local.files.get(path)) is not None
        and mine.sha256 == entry.sha256
        and ((live := remote.files.get(path)) is None or live.sha256 != entry.sha256)
    ]


@dataclass
class _Run:
    """The execution state of one publish: what has been done so far, for the failure message."""

    plan: Plan
    local: Bundle
    target: Target
    invalidators: tuple[Invalidator, ...]
    progress: Progress
    lease: Lease  # our lock: its every write, and the check before each write of the site
    options: PublishOptions
    rolled_back: bytes | None = None  # a rollback's record of what it replaced (remote.py)
    reference: str = ""  # for the CDNs, and in every record of owed work (run_reference)
    uploaded: list[int] = field(default_factory=lambda: [0] * len(GROUP_TITLES))
    bytes: int = 0
    manifest_written: bool = False
    record_left: bool = False  # the lock stays behind as a released record of owed work
    held_left: bool = False  # the lock stays held by this stopped run: --take-over-lock finishes
    receipts: list[InvalidationReceipt] = field(default_factory=list)
    deleted: int = 0
    sent: set[str] = field(default_factory=set)  # paths of every upload begun
    put: dict[str, Entry] = field(default_factory=dict)  # of those, the target acknowledged
    online: str | None = None  # the manifest id read (None: a listing), for Pending.put
    # when a stop (Ctrl-C, SIGTERM) came during the uploads (time.monotonic()): its wait for
    # the record, after their grace, ends STOP_WAIT_S from then (None: from when it is caught)
    stopped_at: float | None = None

    def execute(self, workers: int) -> None:
        owed = self.owed(self.plan.cdn_paths, self.plan.deletes, accepted=self.plan.accepted)
        owes = bool(owed.invalidate or owed.delete)
        try:
            for title, batch in upload_batches(self.plan):
                self._upload_batch(title, batch, workers)
            # Recorded ahead, so a publish killed after the manifest still owes this: in the
            # manifest's own metadata when it fits (no extra request), else in our lock.
            in_meta = owes and len(owed.to_meta()) <= OWED_META_MAX
            if owes and not in_meta:
                self._record(owed, released=False)
            if self.plan.write_manifest:
                self._put_manifest(owed if in_meta else None)
        except (TargetError, PublishError, OSError) as exc:  # OSError: reading public/
            raise PublishError(self._stopped(exc, _BEFORE_MANIFEST)) from exc
        failures = self._invalidate()
        if failures:  # owed: each failed CDN's paths, and the deletes
            state = self._leave_record(self.remaining())
            raise PublishError(self._stopped("; ".join(failures), state))
        try:
            if self.plan.deletes:
                self.lease.check()  # files another publish just put up are not ours to delete
                self.progress.step("deleting", len(self.plan.deletes))
                self.target.delete(self.plan.deletes)
                self.deleted = len(self.plan.deletes)
                self.progress.advance(self.deleted)
        except LeaseLost as exc:  # the lock is another's: its record too
            self.record_left = True
            raise PublishError(self._stopped(exc, _OWED_WITH_MANIFEST)) from exc
        except TargetError as exc:
            state = self._leave_record(self.owed(delete=self.plan.deletes))
            raise PublishError(self._stopped(str(exc), state)) from exc

    def remaining(self) -> Pending:
        """The work after the manifest not done yet: invalidations, owed to each CDN that gave
        no receipt for its paths (with no CDN configured, those a stopped publish owed, which
        stay owed until a publish with a CDN sends them), and deletes."""
        plan = self.plan
        delete = () if self.deleted else plan.deletes
        if not plan.cdns:
            return self.owed(plan.owed_invalidations, delete, accepted=plan.accepted)
        receipted = {r.cdn for r in self.receipts}
        settled = [
            i.name for i in self.invalidators if i.name in receipted or not plan.paths_for(i.name)
        ]
        if len(settled) == len(self.invalidators):
            return self.owed((), delete)
        accepted = {**plan.accepted, **{name: plan.invalidations for name in settled}}
        return self.owed(plan.cdn_paths, delete, accepted=accepted)

    def owed(
        self,
        invalidate: tuple[str, ...] = (),
        delete: tuple[str, ...] = (),
        unsure: tuple[str, ...] = (),
        *,
        put: Mapping[str, Entry] | None = None,
        accepted: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Pending:
        """A record of work this run owes, with its reference (a run resuming it reuses it)."""
        return Pending(
            self.plan.manifest_id,
            invalidate,
            delete,
            unsure,
            self.reference,
            put or {},
            self.online,
            accepted or {},
        )

    def _upload_batch(self, title: str, batch: tuple[Upload, ...], workers: int) -> None:
        self.progress.step(title, len(batch))
        self.sent.update(upload.path for upload in batch)
        pool = Pool(self._put_file, batch, workers)
        counted: set[Future[int]] = set()
        try:
            for future in pool.completed():
                self.bytes += future.result()
                counted.add(future)
                self._acknowledged(pool.futures[future])
                self.progress.advance()
        except BaseException as exc:
            # A failure waits for the uploads in flight (each ends by its timeouts), a stop
            # (Ctrl-C, SIGTERM) no more than UPLOAD_GRACE_S: one it leaves is not acknowledged,
            # so the next publish sends it again (S3 never shows a partial object; a folder
            # write is a temp file, renamed when whole).
            stop = isinstance(exc, KeyboardInterrupt)
            if stop:
                self.stopped_at = time.monotonic()
            pool.stop(UPLOAD_GRACE_S if stop else None)
            for future, upload in pool.futures.items():
                if future not in counted and _succeeded(future):
                    self._acknowledged(upload)
            raise

    def _acknowledged(self, upload: Upload) -> None:
        """The target answered that ``upload`` is online: a stopped run need not send it again."""
        self.uploaded[group_of(upload.path)] += 1
        self.put[upload.path] = upload.entry

    def _put_file(self, upload: Upload) -> int:
        self.lease.check()
        data = self.local.read(upload.path)
        entry = upload.entry
        self.target.put(
            upload.path, data, ObjectMeta(entry.content_type, entry.cache_control, entry.sha256)
        )
        return len(data)

    def _put_manifest(self, owed: Pending | None) -> None:
        self.lease.check()
        body = self.local.manifest_bytes
        extra = {OWED_META: owed.to_meta()} if owed is not None else {}
        if self.rolled_back is not None:  # its record first: the manifest's mark needs it
            sha = hashlib.sha256(self.rolled_back).hexdigest()
            meta = ObjectMeta(STATE_CONTENT_TYPE, STATE_CACHE_CONTROL, sha)
            self.target.put(ROLLED_BACK_PATH, self.rolled_back, meta)
            extra[ROLLED_BACK_META] = datetime.now(UTC).isoformat(timespec="seconds")
        meta = ObjectMeta(STATE_CONTENT_TYPE, STATE_CACHE_CONTROL, manifest_id(body), extra)
        self.target.put(MANIFEST_PATH, body, meta)
        self.manifest_written = True

    def _invalidate(self) -> list[str]:
        failures: list[str] = []
        if not self.plan.cdn_paths:
            return failures
        reference = self.owed().cdn_reference
        for invalidator in self.invalidators:
            paths = self.plan.paths_for(invalidator.name)
            if not paths:  # it accepted them all from the publish that stopped
                continue
            try:
                self.receipts.append(invalidator.invalidate(paths, reference=reference))
            except _cdn_errors() as exc:
                message = exc.message if isinstance(exc, SitegenError) else str(exc)
                failures.append(f"{invalidator.name}: {message}")
        return failures

    def _record(self, owed: Pending, *, released: bool) -> None:
        """Write the owed work into our lock (one conditional write)."""
        if not self.lease.rewrite(owed, released=released):
            raise PublishError(
                f"The lock on {self.target.name} was taken over by another publish "
                "(--take-over-lock) while this one ran; it stopped before its manifest. Run "
                f"`{self.options.again}` again."
            )

    def _leave_record(self, owed: Pending) -> str:
        """A CDN call or the deletes failed after the manifest: leave the lock behind as a
        *released* record of what is owed, which the next publish takes over and finishes.
        Returns what the stop message says of it: that record, or, when the lock could not
        be rewritten, the one the manifest carries and how to take the lock over."""
        self.record_left = True
        try:
            self._record(owed, released=True)
        except TargetError as exc:
            self.held_left = True
            # The earlier record stands (with the manifest, or in the lock, which stays held:
            # said "left released" until session 22); the next publish that takes the lock
            # over repeats at most the invalidations.
            left = _lock_left(
                self.target, str(exc), self.lease.confirmed, self.options, stuck=False
            )
            return f"{_OWED_WITH_MANIFEST}\n{left}"
        except PublishError:  # the lock is another publish's now, and the record with it
            return _OWED_WITH_MANIFEST
        return _RECORDED

    def _stopped(self, error: object, state: str) -> str:
        """What was done and not, ``state``, and the command that finishes the run."""
        done, todo = self._done_and_todo()
        cause = str(error).removeprefix(f"{self.target.name}: ")  # named once, here
        return (
            f"{_run_title(self.options)} {self.target.name} stopped: {cause}\n"
            f"Done: {'; '.join(done)}.\nNot done: {'; '.join(todo) or 'nothing'}.\n{state}\n"
            f"Run `{self._again()}` again to finish: it does only what is still "
            "missing."
        )

    def _again(self) -> str:
        """The command that finishes this run: with --take-over-lock when the lock stays
        held by it (said without until session 22, and then refused)."""
        more = " --take-over-lock" if self.held_left else ""
        return f"{self.options.again}{more}"

    def _done_and_todo(self) -> tuple[list[str], list[str]]:
        done, todo = ["lock taken"], []
        for title, group, n in zip(GROUP_TITLES, self.plan.groups, self.uploaded, strict=True):
            if n:
                done.append(f"{n} of {len(group)} {title} uploaded")
            if n < len(group):
                todo.append(f"{len(group) - n} {title} to upload")
        if self.plan.write_manifest:
            (done if self.manifest_written else todo).append("manifest")
        invalidated = {r.cdn for r in self.receipts}
        for name in (i.name for i in self.invalidators if self.plan.cdn_paths):
            if paths := self.plan.paths_for(name):
                where = done if name in invalidated else todo
                where.append(f"invalidation of {plural(len(paths), 'path')} on {name}")
        if self.plan.deletes:
            (done if self.deleted else todo).append(plural(len(self.plan.deletes), "delete"))
        return done, todo


_BEFORE_MANIFEST = (
    "The site is consistent: files went up in dependency order, nothing was deleted, and the "
    "remote manifest still describes the previous publish."
)
_KEPT_BEFORE_MANIFEST = (
    "The files already sent, and any work a previous publish left, are recorded in the lock "
    f"({LOCK_PATH}), which was left released: the next publish, whatever it publishes, takes "
    "it over without --take-over-lock and sends those files again (or deletes them) as its "
    "bundle has them."
)
_ONLINE = "All new files and the manifest are online; no invalidation or delete was owed."
_OWED_WITH_MANIFEST = (
    "All new files and the manifest are online. The invalidations and deletes still owed "
    "were recorded with the manifest: the next publish that breaks this lock does them."
)
_RECORDED = (
    "All new files and the manifest are online. The invalidations and deletes still owed are "
    f"recorded in the lock ({LOCK_PATH}), which was left released: the next publish takes it "
    "over without --take-over-lock and does them."
)


def upload_batches(plan: Plan) -> list[tuple[str, tuple[Upload, ...]]]:
    """The uploads in the order that keeps every published page's links working: new files
    first (nothing online links to them yet), then changed ones (which may now link to the new
    ones), each in group order (assets, alerts, the rest); then the sitemap (an index of its
    parts on a large site) and the home page last of all, so on a first publish the site
    appears complete. Files within a batch go up in parallel."""
    batches: list[tuple[str, tuple[Upload, ...]]] = []
    last = (SITEMAP, HOME_PAGE)
    for label, reasons in (("new", ("new",)), ("changed", ("changed", "headers"))):
        for title, group in zip(GROUP_TITLES, plan.groups, strict=True):
            batch = tuple(u for u in group if u.reason in reasons and u.path not in last)
            if batch:
                batches.append((f"{label} {title}", batch))
    for path, title in zip(last, ("sitemap", "home page"), strict=True):
        alone = tuple(u for u in plan.uploads if u.path == path)
        batches += [(title, alone)] if alone else []
    return batches


def _succeeded(future: Future[int]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
