"""Run a publish: lock → new files (assets, alert pages, the rest) → changed files → the home
page → the record of work owed after the manifest → manifest → invalidations → deletes → clear
the record → unlock (docs/architecture.md, "Publish order"). Each step starts only after the
previous one succeeded; a failure stops the run with a message saying what was done, what was not,
and that running publish again completes it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NoReturn

from botocore.exceptions import BotoCoreError, ClientError
from requests import RequestException

from publish.cdn.base import InvalidationReceipt, Invalidator
from publish.history import PUBLISHED_AT, kept_path
from publish.local import Bundle
from publish.lock import acquire
from publish.manifest import MANIFEST_PATH, manifest_id
from publish.plan import GROUP_TITLES, Limits, Plan, Upload, group_of, make_plan
from publish.remote import PENDING_FLAG, Pending, read_remote
from publish.report import NullProgress, Outcome, Progress
from publish.targets.base import PENDING_PATH, ObjectMeta, Target, TargetError
from sitegen.errors import PublishError, SitegenError

STATE_CONTENT_TYPE = "application/json; charset=utf-8"
HOME_PAGE = "index.html"
STATE_CACHE_CONTROL = "no-store"  # the "meta" class: never cached at the edge
_CDN_ERRORS = (SitegenError, TargetError, OSError, BotoCoreError, ClientError, RequestException)


@dataclass(frozen=True, slots=True)
class PublishOptions:
    limits: Limits = Limits()
    dry_run: bool = False
    verify: bool = False
    lock_timeout_s: int = 900
    workers: int = 16


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
    cdns = tuple(i.name for i in invalidators)
    if options.dry_run:
        plan = make_plan(local, read_remote(target, verify=options.verify), options.limits, cdns)
        return Outcome(plan, True, 0, 0, 0, target.requests - before, (), 0.0)
    note = _lock(target, now or datetime.now(UTC), options)
    try:
        plan = make_plan(local, read_remote(target, verify=options.verify), options.limits, cdns)
        if plan.refusals:
            raise PublishError(f"{plan}\nRefused, nothing was changed: {' '.join(plan.refusals)}")
        run = _Run(plan, local, target, tuple(invalidators), progress or NullProgress())
        run.execute(options.workers)
    except PublishError as exc:
        raise PublishError(exc.message + _release(target)) from exc.__cause__
    except BaseException:
        _release(target)
        raise
    finally:
        (progress or NullProgress()).close()
    notes = tuple(n for n in (note, _release(target).strip()) if n)
    return Outcome(
        plan=plan, dry_run=False, uploaded=sum(run.uploaded), uploaded_bytes=run.bytes,
        deleted=run.deleted, requests=target.requests - before, receipts=tuple(run.receipts),
        seconds=time.monotonic() - started, notes=notes,
    )


def _lock(target: Target, now: datetime, options: PublishOptions) -> str:
    try:
        return acquire(
            target, now=now, timeout_s=options.lock_timeout_s, force=options.limits.force
        )
    except TargetError as exc:
        raise PublishError(f"Could not take the publish lock: {exc}\nNothing was changed.") from exc


def _release(target: Target) -> str:
    """Release the lock; never raise (the caller may be reporting a failure already)."""
    try:
        if target.unlock():
            return ""
        return "\nThe lock had been broken by another publish; it was left alone."
    except TargetError as exc:
        return f"\nCould not release the lock ({exc}); the next publish may need --force."


@dataclass
class _Run:
    """The execution state of one publish: what has been done so far, for the failure message."""

    plan: Plan
    local: Bundle
    target: Target
    invalidators: tuple[Invalidator, ...]
    progress: Progress
    uploaded: list[int] = field(default_factory=lambda: [0] * len(GROUP_TITLES))
    bytes: int = 0
    manifest_written: bool = False
    manifest_kept: bool = False
    receipts: list[InvalidationReceipt] = field(default_factory=list)
    deleted: int = 0

    def execute(self, workers: int) -> None:
        owed = Pending(self.plan.manifest_id, self.plan.cdn_paths, self.plan.deletes)
        owes = bool(owed.invalidate or owed.delete)
        try:
            for title, batch in upload_batches(self.plan):
                self._upload_batch(title, batch, workers)
            if owes:  # written ahead: a publish killed after the manifest still owes this
                self._put_pending(owed)
            if self.plan.write_manifest:
                self._put_manifest(pending=owes)
        except (TargetError, PublishError, OSError) as exc:  # OSError: reading public/
            raise PublishError(self._stopped(exc, _BEFORE_MANIFEST)) from exc
        failures = self._invalidate()
        if failures:
            raise PublishError(self._stopped("; ".join(failures), _RECORDED))
        try:
            if self.plan.deletes:
                self.progress.step("deleting", len(self.plan.deletes))
                self.target.delete(self.plan.deletes)
                self.deleted = len(self.plan.deletes)
                self.progress.advance(self.deleted)
        except TargetError as exc:
            self._stop_owing_deletes(str(exc))
        if owes or self.plan.clear_pending:
            self._clear_pending()

    def _upload_batch(self, title: str, batch: tuple[Upload, ...], workers: int) -> None:
        self.progress.step(title, len(batch))
        with ThreadPoolExecutor(max_workers=min(workers, len(batch))) as pool:
            futures = {pool.submit(self._put_file, upload): upload for upload in batch}
            counted: set[Future[int]] = set()
            try:
                for future in as_completed(futures):
                    self.bytes += future.result()
                    counted.add(future)
                    self.uploaded[group_of(futures[future].path)] += 1
                    self.progress.advance()
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                for future, upload in futures.items():
                    if future not in counted and _succeeded(future):
                        self.uploaded[group_of(upload.path)] += 1
                raise

    def _put_file(self, upload: Upload) -> int:
        data = self.local.read(upload.path)
        entry = upload.entry
        self.target.put(upload.path, data, ObjectMeta(entry.content_type, entry.cache_control,
                                                      entry.sha256))
        return len(data)

    def _put_manifest(self, *, pending: bool) -> None:
        body = self.local.manifest_bytes
        if not self.manifest_kept:  # kept first: every live manifest can be rolled back to
            self._keep_manifest()
        extra = {PENDING_FLAG: "1"} if pending else {}
        meta = ObjectMeta(STATE_CONTENT_TYPE, STATE_CACHE_CONTROL, manifest_id(body), extra)
        self.target.put(MANIFEST_PATH, body, meta)
        self.manifest_written = True

    def _keep_manifest(self) -> None:
        body = self.local.manifest_bytes
        at = {PUBLISHED_AT: datetime.now(UTC).isoformat(timespec="microseconds")}
        meta = ObjectMeta(STATE_CONTENT_TYPE, STATE_CACHE_CONTROL, manifest_id(body), at)
        self.target.put(kept_path(manifest_id(body)), body, meta)
        self.manifest_kept = True

    def _invalidate(self) -> list[str]:
        paths = self.plan.cdn_paths
        failures: list[str] = []
        if not paths:
            return failures
        for invalidator in self.invalidators:
            try:
                self.receipts.append(invalidator.invalidate(paths, reference=self.plan.manifest_id))
            except _CDN_ERRORS as exc:
                message = exc.message if isinstance(exc, SitegenError) else str(exc)
                failures.append(f"{invalidator.name}: {message}")
        return failures

    def _put_pending(self, owed: Pending) -> None:
        self.target.put(PENDING_PATH, owed.to_json(),
                        ObjectMeta(STATE_CONTENT_TYPE, STATE_CACHE_CONTROL, ""))

    def _stop_owing_deletes(self, error: str) -> NoReturn:
        """The CDNs are done, the deletes are not: narrow the record to the deletes (if that
        fails too, the earlier record stands and the next publish repeats the invalidations)."""
        with contextlib.suppress(TargetError):
            self._put_pending(Pending(self.plan.manifest_id, (), self.plan.deletes))
        raise PublishError(self._stopped(error, _RECORDED))

    def _clear_pending(self) -> None:
        """The owed work is done: drop the record. The manifest keeps its ``pending`` flag; a
        flag without a record means nothing is owed (clearing it would re-upload the manifest)."""
        try:
            self.target.delete([PENDING_PATH])
        except TargetError as exc:
            raise PublishError(
                f"Publish to {self.target.name} finished its work but could not clear "
                f"{PENDING_PATH} ({exc}). The site is complete. Run `sitegen publish` again to "
                "finish: it clears the record (and may repeat a few invalidations)."
            ) from exc

    def _stopped(self, error: object, state: str) -> str:
        done, todo = self._done_and_todo()
        return (
            f"Publish to {self.target.name} stopped: {error}\n"
            f"Done: {'; '.join(done)}.\nNot done: {'; '.join(todo) or 'nothing'}.\n{state}\n"
            "Run `sitegen publish` again to finish: it does only what is still missing."
        )

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
            where = done if name in invalidated else todo
            where.append(f"invalidation of {len(self.plan.cdn_paths)} paths on {name}")
        if self.plan.deletes:
            (done if self.deleted else todo).append(f"{len(self.plan.deletes)} deletes")
        return done, todo


_BEFORE_MANIFEST = (
    "The site is consistent: files went up in dependency order, nothing was deleted, and the "
    "remote manifest still describes the previous publish."
)
_RECORDED = (
    "All new files and the manifest are online. The invalidations and deletes still owed are "
    f"recorded in {PENDING_PATH} (written before the manifest), so the next publish does them."
)


def upload_batches(plan: Plan) -> list[tuple[str, tuple[Upload, ...]]]:
    """The uploads in the order that keeps every published page's links working: new files
    first (nothing online links to them yet), then changed ones (which may now link to the new
    ones), each in group order (assets, alerts, the rest); the home page last of all, so on a
    first publish the site appears complete. Files within a batch go up in parallel."""
    batches: list[tuple[str, tuple[Upload, ...]]] = []
    for label, reasons in (("new", ("new",)), ("changed", ("changed", "headers"))):
        for title, group in zip(GROUP_TITLES, plan.groups, strict=True):
            batch = tuple(u for u in group if u.reason in reasons and u.path != HOME_PAGE)
            if batch:
                batches.append((f"{label} {title}", batch))
    home = tuple(u for u in plan.uploads if u.path == HOME_PAGE)
    return batches + ([("home page", home)] if home else [])


def _succeeded(future: Future[int]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
