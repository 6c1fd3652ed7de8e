"""Failures: a target failing on the Nth call, S3 SlowDown and connection resets over real
HTTP, a CDN failing after the upload. After any of them, publishing again converges."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from bundles import site_files
from faults import FAST_RETRY, FaultProxy, fail_first
from state import expected, snapshot_s3
from test_publish_flow import RecordingCDN, run

from publish.local import read_local
from publish.retry import RetryPolicy
from publish.targets.base import LOCK_PATH, Listed, ObjectMeta, StoredObject, Target, TargetError
from publish.targets.folder import FolderTarget
from publish.targets.s3 import S3Target
from sitegen.errors import PublishError


class FailingTarget:
    """Wraps a real target; the ``fail_at``-th call (1-based) raises TargetError.

    ``unlock`` never fails here: a lock left behind is its own test (it needs --force)."""

    def __init__(self, inner: Target, fail_at: int) -> None:
        self.inner, self.fail_at, self.calls = inner, fail_at, 0
        self.name = inner.name

    @property
    def requests(self) -> int:
        return self.inner.requests

    def _tick(self, what: str) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise TargetError(f"{self.name}: {what} failed (injected fault #{self.fail_at})")

    def put(self, path: str, body: bytes, meta: ObjectMeta) -> None:
        self._tick(f"upload of {path}")
        self.inner.put(path, body, meta)

    def delete(self, paths: Sequence[str]) -> None:
        self._tick("delete")
        self.inner.delete(paths)

    def read(self, path: str) -> StoredObject | None:
        self._tick(f"read of {path}")
        return self.inner.read(path)

    def list(self) -> Iterator[Listed]:
        self._tick("listing")
        return self.inner.list()

    def lock(self, body: bytes) -> StoredObject | None:
        self._tick("lock")
        return self.inner.lock(body)

    def relock(self, body: bytes) -> bool:
        self._tick("lock update")
        return self.inner.relock(body)

    def unlock(self) -> bool:
        return self.inner.unlock()

    def break_lock(self, seen: StoredObject) -> None:
        self.inner.break_lock(seen)

    def take_over(self, seen: StoredObject, body: bytes) -> bool:
        self._tick("lock")
        return self.inner.take_over(seen, body)


class SlowFailingTarget(FailingTarget):
    """Each upload takes 50 ms, as over a network: one failing finds others still queued."""

    def put(self, path: str, body: bytes, meta: ObjectMeta) -> None:
        super().put(path, body, meta)
        time.sleep(0.05)


def v2_files() -> dict[str, bytes]:
    """From site_files(6): two alerts changed, two deleted, index and feed changed."""
    files = site_files(alerts=4, version="v2")
    files["alerts/a0/index.html"] = site_files(alerts=6)["alerts/a0/index.html"]
    return files


def changed_paths(cdn: RecordingCDN) -> set[str]:
    return {p for paths, _ in cdn.calls for p in paths}


def test_failure_on_every_call_then_rerun_converges(
    tmp_path: Path, bundle: Callable[..., Path]
) -> None:
    """Fail call 1, then call 2, … of a v1 → v2 publish; each time a plain re-run must leave
    exactly v2 online and must have invalidated at least what an unfailed publish does."""
    run(bundle(site_files(alerts=6)), FolderTarget(tmp_path / "ref"))
    public = bundle(v2_files())
    reference, counter = RecordingCDN(), FailingTarget(FolderTarget(tmp_path / "ref"), 0)
    run(public, counter, [reference])
    assert counter.calls >= 8 and reference.calls
    for n in range(1, counter.calls + 1):
        _fail_then_converge(tmp_path / f"n{n}", bundle, n, reference)


def _fail_then_converge(
    root: Path, bundle: Callable[..., Path], n: int, reference: RecordingCDN
) -> None:
    from state import snapshot_folder

    run(bundle(site_files(alerts=6)), FolderTarget(root))
    public = bundle(v2_files())
    cdn = RecordingCDN()
    with pytest.raises(PublishError) as info:
        run(public, FailingTarget(FolderTarget(root), n), [cdn])
    message = info.value.message
    assert f"injected fault #{n}" in message
    assert "Run `sitegen publish` again to finish" in message or "Nothing was changed" in message
    run(public, FolderTarget(root), [cdn])
    assert snapshot_folder(root) == expected(public), f"fault at call {n}"
    assert changed_paths(cdn) >= changed_paths(reference), f"fault at call {n}"
    again = RecordingCDN()
    assert run(public, FolderTarget(root), [again]).plan.is_noop and again.calls == []


@pytest.mark.parametrize("fail_at", [4, 9, 10])  # an alert page, the manifest, the delete
def test_s3_failure_on_nth_call_then_rerun_converges(
    bucket: str, bundle: Callable[..., Path], fail_at: int
) -> None:
    run(bundle(site_files(alerts=6)), S3Target(bucket, "site", retry=FAST_RETRY))
    public = bundle(v2_files())
    with pytest.raises(PublishError, match="stopped|Nothing was changed"):
        run(public, FailingTarget(S3Target(bucket, "site", retry=FAST_RETRY), fail_at))
    run(public, S3Target(bucket, "site", retry=FAST_RETRY))
    assert snapshot_s3(bucket) == expected(public)


def test_a_failed_upload_with_more_files_queued_than_workers_stops_the_publish(
    tmp_path: Path, bundle: Callable[..., Path]
) -> None:
    """The uploads not started when one failed were cancelled but never marked done, and the
    publish waited for them for ever (fix/lease: 60 alert files, 16 workers)."""
    public = bundle(site_files(alerts=30))
    said: list[str] = []

    def publish() -> None:
        try:  # 1 lock, 2 and 3 reads, 4 the asset, 5 the first alert file
            run(public, SlowFailingTarget(FolderTarget(tmp_path / "pub"), 5))
        except PublishError as stopped:
            said.append(stopped.message)

    running = threading.Thread(target=publish, daemon=True)
    running.start()
    running.join(30)
    assert not running.is_alive(), "the publish still waits for the uploads it cancelled"
    assert "injected fault #5" in said[0] and "alert pages and CAP to upload" in said[0]


def test_failure_message_says_what_was_done_and_not(
    tmp_path: Path, bundle: Callable[..., Path]
) -> None:
    root = tmp_path / "pub"
    run(bundle(site_files(alerts=6)), FolderTarget(root))
    public = bundle(v2_files())
    with pytest.raises(PublishError) as info:  # 1 lock, 2 manifest read, 3 asset…: fail in alerts
        run(public, FailingTarget(FolderTarget(root), 4))
    message = info.value.message
    assert "Done: lock taken" in message
    assert "Not done:" in message and "manifest" in message.split("Not done:")[1]
    assert "remote manifest still describes the previous publish" in message


def test_cdn_failure_is_recorded_and_retried_by_the_next_publish(
    tmp_path: Path, bundle: Callable[..., Path]
) -> None:
    root = tmp_path / "pub"
    run(bundle(site_files(alerts=6)), FolderTarget(root))
    public = bundle(v2_files())
    cdn = RecordingCDN(fail=1)
    with pytest.raises(PublishError, match=r"recorded in the lock \(.sitegen/lock\)"):
        run(public, FolderTarget(root), [cdn])
    assert '"released": true' in (root / LOCK_PATH).read_text()
    first_paths = cdn.calls[0][0]
    outcome = run(public, FolderTarget(root), [cdn])  # same bundle: only the owed work
    assert outcome.uploaded == 0 and outcome.deleted == 4
    assert cdn.calls[1] == (first_paths, cdn.calls[0][1])  # same paths, same reference
    assert not (root / LOCK_PATH).exists()
    again = RecordingCDN()
    assert run(public, FolderTarget(root), [again]).plan.is_noop and again.calls == []


def test_owed_work_recorded_by_an_older_sitegen_is_sent_with_the_manifest_id(
    tmp_path: Path, bundle: Callable[..., Path]
) -> None:
    """Records of owed work written before runs had references of their own have none: the run
    that wrote one sent the manifest id as its reference, so the run finishing it sends that
    again (CloudFront then answers with the invalidation already made), not a new one."""
    root = tmp_path / "pub"
    run(bundle(site_files(alerts=6)), FolderTarget(root))
    public = bundle(v2_files())
    cdn = RecordingCDN(fail=1)
    with pytest.raises(PublishError, match="recorded in the lock"):
        run(public, FolderTarget(root), [cdn])
    lock = json.loads((root / LOCK_PATH).read_text())
    assert len(lock["owed"].pop("reference")) == 24  # this run's, not the manifest id
    (root / LOCK_PATH).write_text(json.dumps(lock))  # as an older sitegen wrote it
    run(public, FolderTarget(root), [cdn])
    assert cdn.calls[1] == (cdn.calls[0][0], read_local(public).id)


@pytest.fixture
def upstream(aws: str) -> Iterator[tuple[str, int]]:
    host, _, port = aws.removeprefix("http://").partition(":")
    yield host, int(port)


@pytest.fixture(autouse=True)
def _direct_again(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)


def test_s3_slowdown_is_retried_with_backoff(
    bucket: str,
    bundle: Callable[..., Path],
    upstream: tuple[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public = bundle()
    with FaultProxy(*upstream, fail_first(3, "PUT", "/alerts/a1/index.html")) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        # botocore makes 2 attempts per call, our backoff 4 calls: 3 SlowDowns are absorbed.
        outcome = run(public, S3Target(bucket, "site", retry=FAST_RETRY, botocore_attempts=2))
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{upstream[0]}:{upstream[1]}")
    assert proxy.log.count(503) == 3
    # lock, manifest GET (404), listing (no HEAD of the lock it finds: .sitegen/ is not
    # compared), 10 uploads, manifest, unlock = 15 (old manifests are kept as S3 versions),
    # plus the 3 retried attempts: every HTTP attempt is counted.
    assert outcome.requests == 15 + 3
    assert snapshot_s3(bucket) == expected(public)


def test_connection_resets_are_retried(
    bucket: str,
    bundle: Callable[..., Path],
    upstream: tuple[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public = bundle()
    with FaultProxy(*upstream, fail_first(2, "PUT", "index.html"), reset=True) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        run(public, S3Target(bucket, "site", retry=FAST_RETRY, botocore_attempts=1))
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{upstream[0]}:{upstream[1]}")
    assert proxy.log.count(503) == 2
    assert snapshot_s3(bucket) == expected(public)


def test_persistent_slowdown_stops_with_a_clear_message(
    bucket: str,
    bundle: Callable[..., Path],
    upstream: tuple[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public = bundle()
    retry = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.02)
    with FaultProxy(*upstream, fail_first(1000, "PUT", "/alerts/")) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        with pytest.raises(PublishError) as info:
            run(public, S3Target(bucket, "site", retry=retry, botocore_attempts=1))
    message = info.value.message
    assert "SlowDown (HTTP 503)" in message and "Run `sitegen publish` again" in message
    assert "testing-secret-SENTINEL" not in message
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{upstream[0]}:{upstream[1]}")
    run(public, S3Target(bucket, "site", retry=FAST_RETRY))
    assert snapshot_s3(bucket) == expected(public)


class FailingDeleteAndRecord(FailingTarget):
    """The deletes fail, and so does the rewrite of the lock that would then record them."""

    def delete(self, paths: Sequence[str]) -> None:
        raise TargetError(f"{self.name}: delete failed (injected)")

    def relock(self, body: bytes) -> bool:
        if json.loads(body).get("released"):
            raise TargetError(f"{self.name}: lock update failed (injected)")
        return self.inner.relock(body)


def test_a_record_that_could_not_be_written_is_not_said_to_be_left_released(
    tmp_path: Path, bundle: Callable[..., Path]
) -> None:
    """The deletes fail after the manifest, then the lock rewrite recording them fails too:
    the stop said the work was "recorded in the lock, which was left released: the next
    publish takes it over without --take-over-lock", where the lock stayed held (the next
    publish is refused) and the work travels with the manifest. Now it says so, and how to
    take the lock over; and following that finishes the work."""
    root = tmp_path / "out"
    run(bundle(site_files(alerts=6)), FolderTarget(root))
    public = bundle(v2_files())
    with pytest.raises(PublishError) as info:
        run(public, FailingDeleteAndRecord(FolderTarget(root), 0), lock_lease_s=1)
    said = " ".join(info.value.message.split())
    assert "left released" not in said, said
    assert "were recorded with the manifest: the next publish that breaks this lock" in said
    assert "could not be rewritten (" in said and "lock update failed (injected)" in said
    # its last line too (it said `sitegen publish` alone, which the held lock refuses)
    assert said.endswith(
        "Run `sitegen publish --take-over-lock` again to finish: it does only what is still "
        "missing."
    ), said
    assert (
        "stays held by this publish, which has ended. Run `sitegen publish --take-over-lock`"
        in said
    )
    lock = json.loads((root / LOCK_PATH).read_bytes())
    assert not lock.get("released")  # held, as said
    time.sleep(1.1)  # its holder is this process, alive: stale once not renewed for its lease
    run(public, FolderTarget(root), take_over_lock=True)
    from state import snapshot_folder

    assert snapshot_folder(root) == expected(public)  # the deletes done by the takeover


class FailingUnlock(FailingTarget):
    def unlock(self) -> bool:
        raise TargetError(f"{self.name}: unlock failed (injected)")


def test_a_lock_that_could_not_be_released_says_how_and_when_to_take_it_over(
    tmp_path: Path, bundle: Callable[..., Path]
) -> None:
    """Was: "Could not release the lock (…); the next publish may need --take-over-lock",
    without when: on this machine at once, elsewhere once its lease has run out."""
    root = tmp_path / "out"
    public = bundle(site_files(alerts=2))
    outcome = run(public, FailingUnlock(FolderTarget(root), 0), lock_lease_s=1)
    said = " ".join(" ".join(outcome.notes).split())
    assert "could not be released (unlock failed (injected)), so it stays held by this" in said
    assert "Run `sitegen publish --take-over-lock` on this machine" in said
    assert "From another machine, --take-over-lock works from" in said
    time.sleep(1.1)  # as said: stale once its lease ran out unrenewed
    assert run(public, FolderTarget(root), take_over_lock=True).plan.is_noop
