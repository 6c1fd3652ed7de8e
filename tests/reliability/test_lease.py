"""The publish lock is a lease its holder renews while it runs (fix/lease). Before, a lock was
stale only once older than lock_timeout_s (15 minutes): a publish that died on one machine
blocked every other machine for up to 15 minutes, and one that ran longer than that was
called stale while alive, so another machine's --take-over-lock took its lock and two
publishes wrote at once. Real `sitegen publish` subprocesses, on moto (S3, through a proxy that
slows the uploads) and on the folder target; the lease is made short in site.toml."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import boto3
import pytest
from bundles import SITE_TOML, site_files, write_bundle
from faults import FaultProxy, Stall
from reliability_support import PREFIX, SITEGEN, cli_env, run_sitegen, sitegen_args
from state import expected, snapshot_s3

from publish.lease import Lease
from publish.lock import acquire, lock_body
from publish.manifest import MANIFEST_PATH
from publish.targets.base import LOCK_PATH
from publish.targets.folder import FolderTarget
from sitegen_fixtures import aws_env

pytestmark = pytest.mark.slow

OTHER_MACHINE = "official@other-machine pid 4242"
LEASE_S = 2  # renewed every 0.5 s


def _site(root: Path, *, lease_s: int = LEASE_S, timeout_s: int = 900) -> Path:
    root.mkdir()
    settings = f"lock_lease_s = {lease_s}\nlock_timeout_s = {timeout_s}\n"
    (root / "site.toml").write_text(SITE_TOML + settings)
    write_bundle(root / "public", site_files(20))
    return root


def _other_machine_s_lock(*, held: timedelta, silent: timedelta, lease_s: int) -> bytes:
    """The lock of a publish on another machine, taken ``held`` ago, last renewed ``silent``
    ago, with the lease its own site.toml gives it."""
    now = datetime.now(UTC)
    doc = json.loads(lock_body(now - held))
    doc["holder"] = OTHER_MACHINE
    doc["lease_s"] = lease_s
    doc["renewed"] = (now - silent).isoformat(timespec="milliseconds")
    return (json.dumps(doc, sort_keys=True) + "\n").encode()


class Place:
    """Where the site is published (moto or a folder), and `sitegen publish` to it."""

    def __init__(self, kind: str, site: Path, request: pytest.FixtureRequest) -> None:
        self.kind, self.site = kind, site
        if kind == "s3":
            aws = request.getfixturevalue("aws")
            self.bucket = request.getfixturevalue("bucket")
            self.env = cli_env(aws, aws_env(aws, site.parent))
        else:
            self.env = dict(os.environ)

    def publish(self, *more: str) -> subprocess.CompletedProcess[str]:
        if self.kind == "s3":
            return run_sitegen(sitegen_args(self.site, self.bucket, *more), self.env)
        args = ["publish", "--site", str(self.site / "site.toml"), "--no-build", "-q", *more]
        return run_sitegen([SITEGEN, *args], self.env)

    def hold_lock(self, body: bytes) -> None:
        if self.kind == "s3":
            key = f"{PREFIX}/{LOCK_PATH}"
            boto3.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body)
        else:
            assert FolderTarget(self.site / "out").lock(body) is None


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_a_lock_not_renewed_for_its_lease_is_taken_over_from_another_machine(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Was: held 10 s, so "wait": another machine could take it over only 15 minutes on."""
    place = Place(kind, _site(tmp_path / "site"), request)
    silent = _other_machine_s_lock(
        held=timedelta(seconds=10), silent=timedelta(seconds=5), lease_s=2
    )
    place.hold_lock(silent)
    held = place.publish()
    assert held.returncode == 1, held.stderr  # was 75, "wait", for 15 minutes
    assert "holds the lock on" in held.stderr and OTHER_MACHINE in held.stderr
    assert re.search(r"It was last renewed [56] s ago, longer than its 2 s lease", held.stderr)
    assert "Run `sitegen publish --take-over-lock` to take its lock over" in held.stderr
    taken = place.publish("--take-over-lock")
    assert taken.returncode == 0, taken.stderr
    assert f"broke a stale lock held by {OTHER_MACHINE}" in taken.stdout + taken.stderr


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_a_renewed_lock_says_when_it_was_renewed_and_when_it_becomes_stale(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Held for an hour, renewed 30 s ago under its own 2-minute lease: alive, whatever its
    age (was: past the timeout, taken over while it ran), whatever our lease (2 s)."""
    place = Place(kind, _site(tmp_path / "site"), request)
    alive = _other_machine_s_lock(
        held=timedelta(hours=1), silent=timedelta(seconds=30), lease_s=120
    )
    place.hold_lock(alive)
    refused = place.publish("--take-over-lock")
    assert refused.returncode == 75, refused.stderr  # was 0: taken from a live publish
    said = " ".join(refused.stderr.split())
    assert "holds the lock on" in said and f"{OTHER_MACHINE} for 1 h 0 min." in said, said
    assert re.search(r"It was last renewed 3[01] s ago", said), said
    assert re.search(r"becomes stale 2 min 0 s after its last renewal, in 1 min 2?[0-9] s", said)


def _is_upload(method: str, path: str) -> bool:
    return method == "PUT" and ".sitegen/" not in unquote(path)


def _writes(log: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    return [(m, unquote(p).split(f"/{PREFIX}/", 1)[-1], s) for m, p, s in log if m != "GET"]


def _refused_then_read(log: list[tuple[str, str, int]]) -> bool:
    """A renewal was refused, and the publish then read its lock twice: to see whether it was
    its own write after all (S3Target._is_ours), then, knowing it lost it, to name who took
    it (Lease._taken)."""
    seen = [(m, unquote(p).endswith(LOCK_PATH), s) for m, p, s in log]
    refused = ("PUT", True, 412)
    return refused in seen and seen[seen.index(refused) :].count(("GET", True, 200)) >= 2


def _slow_publish(aws: str, site: Path, bucket: str, proxy: FaultProxy) -> subprocess.Popen[str]:
    env = cli_env(proxy.url, aws_env(aws, site.parent))
    return subprocess.Popen(
        sitegen_args(site, bucket),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_live_publish_slower_than_its_lease_and_timeout_keeps_its_lock(
    aws: str, bucket: str, tmp_path: Path
) -> None:
    """Its uploads held for longer than the lease and the timeout (1 s, as a big first publish
    on a slow link outlives 15 minutes): another publish's --take-over-lock is refused."""
    a = _site(tmp_path / "a", timeout_s=1)
    b = _site(tmp_path / "b", timeout_s=1)
    write_bundle(b / "public", site_files(3, version="b"))
    host, _, port = aws.removeprefix("http://").partition(":")
    slow = Stall(_is_upload, forward=True)
    with FaultProxy(host, int(port), slow) as proxy:
        running = _slow_publish(aws, a, bucket, proxy)
        try:
            assert slow.held.wait(30), running.communicate()
            time.sleep(LEASE_S + 1)  # older than its lease and its timeout, renewed meanwhile
            env = cli_env(aws, aws_env(aws, tmp_path))
            other = run_sitegen(sitegen_args(b, bucket, "--take-over-lock"), env)
        finally:
            slow.release()
        out, err = running.communicate(timeout=60)
    assert other.returncode == 75, other.stderr  # was 0: the lock taken, two publishes at once
    assert f"pid {running.pid}" in other.stderr and "It was last renewed" in other.stderr
    assert running.returncode == 0, err
    assert snapshot_s3(bucket) == expected(a / "public")
    renewals = [w for w in _writes(proxy.log.seen) if w == ("PUT", LOCK_PATH, 200)]
    assert len(renewals) >= 2 * LEASE_S  # every 0.5 s while it ran


def test_a_publish_whose_lock_was_taken_over_stops_before_writing_anything_more(
    aws: str, bucket: str, tmp_path: Path
) -> None:
    """Another machine took the lock over while this publish's first upload hung (as after a
    network cut longer than the lease): its next renewal is refused, and it stops."""
    site = _site(tmp_path / "site")
    host, _, port = aws.removeprefix("http://").partition(":")
    slow = Stall(_is_upload, forward=True)
    s3 = boto3.client("s3")
    with FaultProxy(host, int(port), slow) as proxy:
        running = _slow_publish(aws, site, bucket, proxy)
        try:
            assert slow.held.wait(30), running.communicate()
            taker = _other_machine_s_lock(held=timedelta(0), silent=timedelta(0), lease_s=120)
            s3.put_object(Bucket=bucket, Key=f"{PREFIX}/{LOCK_PATH}", Body=taker)
            deadline = time.monotonic() + 20
            while not _refused_then_read(proxy.log.seen):
                assert time.monotonic() < deadline, _writes(proxy.log.seen)
                time.sleep(0.05)
            in_flight = slow.count
        finally:
            slow.release()
        out, err = running.communicate(timeout=60)
    assert running.returncode == 1, err
    said = " ".join(err.split())
    assert f"was taken over by sitegen publish ({OTHER_MACHINE}) while this publish ran" in said
    assert "stopped before writing anything more" in said, said
    writes = _writes(proxy.log.seen)
    uploads = [w for w in writes if w[1] != LOCK_PATH]
    assert len(uploads) == in_flight, writes  # only those begun before it knew
    assert not any(w[1] == MANIFEST_PATH or w[0] == "DELETE" for w in writes), writes
    lock = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/{LOCK_PATH}")["Body"].read()
    assert lock == taker  # left to its holder


def test_a_renewal_whose_answer_was_lost_keeps_the_lock(
    aws: str, bucket: str, tmp_path: Path
) -> None:
    """The first renewal reaches S3, its answer is lost, botocore's retry meets 412 (the lock
    is no longer the one it named): the lock is still ours, read back, and the run goes on
    (was: "taken over", the publish stopped by its own renewal)."""
    site = _site(tmp_path / "site")
    host, _, port = aws.removeprefix("http://").partition(":")
    lock_writes = iter(range(1_000))
    slow = Stall(_is_upload, forward=True)

    def first_renewal(method: str, path: str) -> bool:
        return method == "PUT" and unquote(path).endswith(LOCK_PATH) and next(lock_writes) == 1

    with FaultProxy(host, int(port), slow, lose_answer=first_renewal) as proxy:
        running = _slow_publish(aws, site, bucket, proxy)
        try:
            assert slow.held.wait(30), running.communicate()
            time.sleep(LEASE_S)  # renewals at 0.5 s, 1 s, …: the first one's answer lost
        finally:
            slow.release()
        out, err = running.communicate(timeout=60)
    assert running.returncode == 0, err
    writes = _writes(proxy.log.seen)
    assert writes[1:3] == [("PUT", LOCK_PATH, 0), ("PUT", LOCK_PATH, 412)], writes
    assert snapshot_s3(bucket) == expected(site / "public")


def test_a_dead_rollback_s_lock_says_how_to_finish_the_rollback_too(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A publish finding the stale lock of a rollback that died: the advice named only
    `sitegen publish --take-over-lock` ("so that publish probably died"), which puts content/
    back online over what the rollback was restoring; it now says so, and how to finish the
    rollback instead (its `--to`, from the lock)."""
    place = Place("folder", _site(tmp_path / "site"), request)
    doc = json.loads(
        _other_machine_s_lock(held=timedelta(seconds=10), silent=timedelta(seconds=5), lease_s=2)
    )
    doc["tool"], doc["publishing"] = "sitegen rollback", "3f9c2a71b0de" + "0" * 52
    place.hold_lock((json.dumps(doc, sort_keys=True) + "\n").encode())
    held = place.publish()
    said = " ".join(held.stderr.split())
    assert held.returncode == 1, said
    assert "A rollback (sitegen rollback) holds the lock on" in said
    assert "so that rollback died or lost its connection" in said
    assert "Run `sitegen publish --take-over-lock` to take its lock over" in said
    assert "That run then publishes content/, replacing what the rollback was restoring" in said
    assert "run `sitegen rollback --to 3f9c2a71b0de --take-over-lock`" in said


class StuckRenewals(FolderTarget):
    """A store that stops answering once the lock is taken: a renewal never returns."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.renewing, self.network_back = threading.Event(), threading.Event()

    def relock(self, body: bytes) -> bool:
        self.renewing.set()
        self.network_back.wait()
        return super().relock(body)


def test_ending_the_lease_does_not_wait_for_a_renewal_stuck_on_the_network(
    tmp_path: Path,
) -> None:
    """A stop ends the lease twice (when caught, and as the run ends): each waited up to
    0.2 s for a renewal in flight, which on a stuck network never comes back: 0.4 s of a
    stop for nothing (the lock's next write waits for that renewal anyway)."""
    target = StuckRenewals(tmp_path / "out")
    lock = acquire(target, now=datetime.now(UTC), timeout_s=900, take_over=False, lease_s=1)
    lease = Lease(target, lock, "sitegen publish")
    lease.start()  # renewed every 0.25 s
    try:
        assert target.renewing.wait(5), "no renewal began"
        began = time.monotonic()
        lease.end()
        lease.end()
        took = time.monotonic() - began
    finally:
        target.network_back.set()
    assert took < 0.05, f"{took:.2f} s"  # was 0.40 s
