"""A real `sitegen publish` subprocess interrupted (SIGINT = Ctrl-C, SIGTERM = a cancelled CI
job) at the two moments that matter: while uploading, before the manifest (nothing is owed:
the lock is released, the site is the old one), and during the CloudFront call, after the
manifest (the invalidations and deletes it implies are owed: they are left in a released lock).
Either way it exits 130 saying what was done, and a plain re-run (no --take-over-lock) converges."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from fastpurge_server import Credentials
from faults import FaultLog, FaultProxy, Stall, never
from reliability_support import PREFIX, cli_env, invalidations, run_sitegen, sitegen_args
from state import expected, snapshot_s3

from publish.apply import PublishOptions, publish
from publish.local import read_local
from publish.lock import lock_body, parse_owed
from publish.manifest import MANIFEST_PATH, manifest_id
from publish.remote import Pending
from publish.targets.base import LOCK_PATH
from publish.targets.s3 import S3Target
from sitegen_fixtures import TmpSite, aws_env, make_distribution

pytestmark = pytest.mark.slow


class Interrupter:
    """A proxy rule: send ``signum`` to the publisher when its first request matching ``where``
    arrives, then let that request through once the publisher has taken the signal (it is
    no longer pending: its handler ran, so the publisher stops before its next step)."""

    def __init__(self, signum: int, where: str) -> None:
        self.signum, self.where, self.sent = signum, where, False
        self.pending = ""  # what the publisher's signal state was, if it never took the signal
        self._pid = 0
        self._started = threading.Event()
        self._lock = threading.Lock()

    def start(self, pid: int) -> None:
        self._pid = pid
        self._started.set()

    def __call__(self, method: str, path: str) -> bool:
        with self._lock:
            if not self.sent and self.where in path:
                # the publisher's pid is known: os.kill(0) would stop this test's own group
                assert self._started.wait(60)
                os.kill(self._pid, self.signum)
                self.sent = True
                self.pending = _still_pending(self._pid, self.signum)
        return False


def _still_pending(pid: int, signum: int, wait: float = 30.0) -> str:
    """Nothing once ``signum`` reached a handler in ``pid`` (or ``pid`` ended); else the signal
    masks of its threads, from /proc, which show how it blocked or ignored the signal."""
    bit = 1 << (signum - 1)
    deadline = time.monotonic() + wait
    while True:
        try:
            threads = [_masks(t / "status") for t in Path(f"/proc/{pid}/task").iterdir()]
        except OSError:  # it ended, having taken the signal or not (the test sees which)
            return ""
        ignored = any(t["SigIgn"] & bit for t in threads)  # dropped when sent
        if not (ignored or any(t[k] & bit for t in threads for k in ("ShdPnd", "SigPnd"))):
            return ""
        if ignored or time.monotonic() > deadline:
            return "; ".join(" ".join(f"{k} {v:x}" for k, v in t.items()) for t in threads)
        time.sleep(0.005)


def _masks(status: Path) -> dict[str, int]:
    """A thread's signal masks (pending, blocked, ignored) from its /proc status."""
    pairs = (line.split(":", 1) for line in status.read_text().splitlines())
    return {k: int(v, 16) for k, v in pairs if k in ("SigPnd", "ShdPnd", "SigBlk", "SigIgn")}


@pytest.mark.parametrize(
    ("signum", "where", "owed"),
    [
        (signal.SIGINT, "/site/alerts/", False),  # an alert upload: before the manifest
        (signal.SIGTERM, "/invalidation", True),  # the CloudFront call: after the manifest
    ],
    ids=["sigint-while-uploading", "sigterm-during-the-cdn-call"],
)
def test_an_interrupted_publish_says_what_it_did_and_a_plain_rerun_finishes(
    aws: str, sites: tuple[TmpSite, TmpSite], tmp_path: Path, signum: int, where: str, owed: bool
) -> None:
    v1, v2 = sites
    bucket = f"int-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    publish(read_local(v1.public), S3Target(bucket, "site"))
    dist = make_distribution()
    base = aws_env(aws, tmp_path)
    host, _, port = aws.removeprefix("http://").partition(":")
    args = sitegen_args(v2.root, bucket, "--cloudfront", dist)
    rule = Interrupter(signum, where)
    with FaultProxy(host, int(port), rule) as proxy:
        env = cli_env(proxy.url, base)
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        rule.start(proc.pid)
        _, err_bytes = proc.communicate(timeout=60)
    err = err_bytes.decode()
    assert not rule.pending, f"the publisher never took the signal: {rule.pending}"
    assert rule.sent and proc.returncode == 130, err
    assert "interrupted" in err and "Done:" in err and "Traceback" not in err, err
    assert "recorded in the lock" in err, err
    # left behind, released, holding the owed work; before the manifest, the files already
    # sent, which the live manifest does not describe (the next publish re-sends them)
    body = boto3.client("s3").get_object(Bucket=bucket, Key=f"site/{LOCK_PATH}")["Body"]
    work, released = parse_owed(body.read())
    assert released and work is not None
    if owed:
        assert work.invalidate and work.delete and not work.unsure
    else:
        assert work.unsure and not (work.invalidate or work.delete) and "previous publish" in err
    again = run_sitegen(args, cli_env(aws, base))  # no --take-over-lock
    assert again.returncode == 0, again.stderr
    assert snapshot_s3(bucket) == expected(v2.public)
    # the interrupted call may have reached CloudFront: its repeat carries the same reference
    # (CloudFront answers it with the first invalidation); both cover the removed alert
    created = invalidations(dist)
    assert 1 <= len(created) <= (2 if owed else 1) and len({r for r, _ in created}) == 1, created
    assert {"/alerts/heat/", "/alerts/heat/*", "/alerts/*"} & set(created[-1][1]), created


# what an official waits after Ctrl-C, whatever the network does: the stop's waits are
# publish.apply.STOP_WAIT_S (2 s) in all; until fix/folderlock they were 3.5 s and the lease's
# (3.6-4.0 s measured, against 5 s here: a margin 2 busy cores could eat). 2.1 s measured
# now; 3.5 leaves CI's busy cores 1.4 s and still fails the stop before (3.59 s at best)
STOP_S = 3.5


def _files_put(log: FaultLog, bucket: str) -> set[str]:
    """The site's files the store accepted through a proxy (its own .sitegen/ files aside)."""
    start = f"/{bucket}/{PREFIX}/"
    paths = (unquote(urlsplit(p).path) for m, p, status in log.seen if m == "PUT" and status == 200)
    return {p[len(start) :] for p in paths if p.startswith(start) and ".sitegen/" not in p}


def _is_upload(method: str, path: str) -> bool:
    return method == "PUT" and ".sitegen/" not in unquote(path)


def _v1_online(v1: TmpSite, name: str) -> str:
    """A new bucket with v1 published in it."""
    bucket = f"{name}-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    publish(read_local(v1.public), S3Target(bucket, PREFIX))
    return bucket


def _ctrl_c(proc: subprocess.Popen[bytes], again_after: float = 0) -> tuple[float, str]:
    """SIGINT to ``proc`` (and again ``again_after`` seconds later, if given): the seconds
    until it ended, and what it said on stderr."""
    signalled = time.monotonic()
    proc.send_signal(signal.SIGINT)
    if again_after:
        time.sleep(again_after)
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)  # before fix/stop: minutes on a stuck network
    return time.monotonic() - signalled, err.decode()


def _lock_record(bucket: str) -> tuple[Pending | None, bool]:
    body = boto3.client("s3").get_object(Bucket=bucket, Key=f"{PREFIX}/{LOCK_PATH}")["Body"]
    return parse_owed(body.read())


@pytest.mark.parametrize("stuck", ["uploads", "everything", "everything-ctrl-c-twice"])
def test_ctrl_c_on_a_stuck_network_ends_within_seconds(
    aws: str, sites: tuple[TmpSite, TmpSite], tmp_path: Path, stuck: str
) -> None:
    """Uploads hang unanswered (the store takes 3 first); Ctrl-C ends publish within seconds,
    not after every upload's timeouts and retries (minutes). With the lock still reachable, its
    record names the 3 acknowledged: the next publish sends only the others. With the whole
    network stuck the record cannot be written: it says so, and the next publish, which needs
    --take-over-lock for the lock its dead holder left, converges. Following that advice lifts
    no safety limit (before 2026-12 the advice was --force, which also let any number of
    deletes through), and --force alone no longer takes the lock. Ctrl-C again ends that
    wait."""
    v1, v2 = sites
    bucket = _v1_online(v1, "stuck")
    dry = publish(
        read_local(v2.public), S3Target(bucket, PREFIX), options=PublishOptions(dry_run=True)
    )
    planned = {u.path for u in dry.plan.uploads}
    base = aws_env(aws, tmp_path)
    host, _, port = aws.removeprefix("http://").partition(":")
    args = sitegen_args(v2.root, bucket)
    stall = Stall(_is_upload, after=3, spreads=stuck.startswith("everything"))
    with FaultProxy(host, int(port), stall, reset=True) as proxy:
        proc = subprocess.Popen(args, env=cli_env(proxy.url, base), stderr=subprocess.PIPE)
        try:
            assert stall.held.wait(30), "no upload reached the stuck network"
            while len(_files_put(proxy.log, bucket)) < 3:
                time.sleep(0.01)
            time.sleep(0.2)  # the 3 answers reach the publisher
            took, err = _ctrl_c(proc, again_after=1.0 if stuck.endswith("twice") else 0)
        finally:
            stall.release()
            proc.kill()
        accepted = _files_put(proxy.log, bucket)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert took < STOP_S, f"{took:.1f} s from Ctrl-C to the end\n{err}"
    assert len(accepted) == 3 and accepted < planned
    work, released = _lock_record(bucket)
    if stuck == "uploads":
        assert released and work is not None and set(work.put) == accepted, err
        assert "recorded in the lock" in err, err
    else:  # the lock as taken: nothing recorded, held by a process now gone
        assert not released and work is None, err
        why = "stopped again with Ctrl-C" if stuck.endswith("twice") else "no answer within 2 s"
        assert f"({why})" in err and "`sitegen publish --verify --take-over-lock`" in err, err
        assert took < (2.5 if stuck.endswith("twice") else STOP_S), f"{took:.1f} s\n{err}"
        # the advice: --take-over-lock on this machine takes the lock over at once; elsewhere
        # it says when it will (before: "run again; add --force if it says", refused 15 min)
        advice = f"`sitegen publish --take-over-lock` on this machine ({socket.gethostname()})"
        assert advice in err, err
        assert "(2 min 0 s after its last renewal: its lease)" in err, err
        held = run_sitegen(args, cli_env(aws, base))
        assert held.returncode == 1 and "--take-over-lock" in held.stderr, held.stderr
        forced = run_sitegen([*args, "--force"], cli_env(aws, base))  # the advice before
        assert forced.returncode == 1, forced.stderr
        assert "--force does not take over a lock" in forced.stderr, forced.stderr
        if _can_be_another_host():  # another machine: another host name (a UTS namespace)
            elsewhere = [*_on_another_host(), *args, "--take-over-lock"]
            refused = run_sitegen(elsewhere, cli_env(aws, base))
            assert refused.returncode == 75, refused.stderr
            # its lease after its last renewal (before fix/lease: 15 min after it started)
            assert "becomes stale 2 min 0 s after its last renewal, in 1 min" in refused.stderr
        args = [*args, "--take-over-lock"]
        # the advice followed, under a deletes limit v2 is over: the lock is taken, the
        # deletes still refused (--force had let them through), nothing changed
        limited = run_sitegen([*args, "--max-deletes", "0"], cli_env(aws, base))
        assert limited.returncode == 4, limited.stderr
        assert "more than --max-deletes 0" in limited.stderr, limited.stderr
        assert LOCK_PATH not in snapshot_s3(bucket)  # taken, then let go of
    with FaultProxy(host, int(port), never) as watch:
        again = run_sitegen(args, cli_env(watch.url, base))
    assert again.returncode == 0, again.stderr
    resent = _files_put(watch.log, bucket)
    assert resent == (planned - accepted if stuck == "uploads" else planned), resent
    assert snapshot_s3(bucket) == expected(v2.public)


def _can_be_another_host() -> bool:
    """Whether this machine lets the tests run a command under another host name (root, and
    a container that allows new UTS namespaces: CI's may not)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--uts", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def _on_another_host() -> list[str]:
    """The command prefix running a command as on another machine: another host name."""
    return ["unshare", "--uts", "sh", "-c", 'hostname elsewhere && exec "$@"', "sh"]


class Silent:
    """A TCP server that accepts connections and never answers (a CDN API on a stuck network);
    ``reached`` is set once a request's first bytes arrive."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        address, port = self._server.getsockname()[:2]
        self.host = f"{address}:{port}"
        self.reached = threading.Event()
        self._held: list[socket.socket] = []

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:  # closed
                return
            self._held.append(conn)
            if conn.recv(1):
                self.reached.set()

    def __enter__(self) -> Silent:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for conn in [*self._held, self._server]:
            conn.close()


@pytest.mark.parametrize("cdn", ["cloudfront", "akamai"])
def test_ctrl_c_during_a_cdn_call_that_never_answers_ends_within_seconds(
    aws: str, sites: tuple[TmpSite, TmpSite], tmp_path: Path, cdn: str
) -> None:
    """The invalidation request goes out and no answer comes: Ctrl-C ends publish at once
    (not after the CDN client's timeouts and retries), the work owed recorded in the released
    lock for the next publish (which the test above shows sending it)."""
    v1, v2 = sites
    bucket = _v1_online(v1, "cdn")
    base = aws_env(aws, tmp_path)
    host, _, port = aws.removeprefix("http://").partition(":")
    stall = Stall(lambda method, path: method == "POST" and "/invalidation" in path)
    with FaultProxy(host, int(port), stall) as proxy, Silent() as silent:
        if cdn == "cloudfront":
            args, reached = (
                sitegen_args(v2.root, bucket, "--cloudfront", make_distribution()),
                stall.held,
            )
        else:
            edgerc = tmp_path / "edgerc"
            keys = Credentials()
            edgerc.write_text(
                f"[alerts]\nhost = {silent.host}\nclient_token = {keys.client_token}\n"
                f"client_secret = {keys.client_secret}\naccess_token = {keys.access_token}\n"
            )
            akamai = ("--akamai", "alerts@production", "--edgerc", str(edgerc))
            args, reached = sitegen_args(v2.root, bucket, *akamai), silent.reached
        env = cli_env(proxy.url, base, SITEGEN_AKAMAI_SCHEME="http")
        proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE)
        try:
            assert reached.wait(30), "the CDN call never went out"
            took, err = _ctrl_c(proc)
        finally:
            stall.release()
            proc.kill()
    assert proc.returncode == 130 and "recorded in the lock" in err, err
    assert took < STOP_S, f"{took:.1f} s from Ctrl-C to the end\n{err}"
    work, released = _lock_record(bucket)
    assert released and work is not None and work.invalidate and work.delete, err


def _is_lock_write(method: str, path: str) -> bool:
    return method == "PUT" and LOCK_PATH in unquote(path)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_stop_while_taking_the_lock_releases_the_lock_it_took(
    aws: str, sites: tuple[TmpSite, TmpSite], tmp_path: Path, signum: int
) -> None:
    """The lock write reaches the store, its answer does not come back, and the publisher is
    stopped then: the lock it took is removed on the way out, the stop line says so, and the
    next publish just works (before: "nothing was published", and a lock held by a process
    gone, for which the next publish asked for --take-over-lock)."""
    v1, v2 = sites
    bucket = _v1_online(v1, "locking")
    base = aws_env(aws, tmp_path)
    host, _, port = aws.removeprefix("http://").partition(":")
    args = sitegen_args(v2.root, bucket)
    answer = Stall(_is_lock_write)

    def held_answer(method: str, path: str, body: bytes) -> bytes:
        answer(method, path)  # the store has written the lock: its answer waits
        return body

    with FaultProxy(host, int(port), never, rewrite=held_answer) as proxy:
        proc = subprocess.Popen(args, env=cli_env(proxy.url, base), stderr=subprocess.PIPE)
        try:
            assert answer.held.wait(30), "the lock write never reached the store"
            signalled = time.monotonic()
            proc.send_signal(signum)
            _, err_bytes = proc.communicate(timeout=60)
            took = time.monotonic() - signalled
        finally:
            answer.release()
            proc.kill()
    err = err_bytes.decode()
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "interrupted while taking the lock" in err, err
    assert "The lock it had taken was released" in err, err
    assert took < STOP_S, f"{took:.1f} s\n{err}"
    lock = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}/{LOCK_PATH}")
    assert lock["KeyCount"] == 0, err
    again = run_sitegen(args, cli_env(aws, base))  # no --take-over-lock, no wait
    assert again.returncode == 0, again.stderr
    assert snapshot_s3(bucket) == expected(v2.public)


def _stopped_run_record(bucket: str) -> Pending:
    """Leave in the bucket's lock what a stopped publish leaves: a released record of the
    invalidations it owes for the live manifest; those are returned."""
    s3 = boto3.client("s3")
    live = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/{MANIFEST_PATH}")["Body"].read()
    owed = Pending(manifest_id(live), ("/alerts/owed/",), ())
    record = lock_body(datetime.now(UTC), owed, released=True)
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}/{LOCK_PATH}", Body=record)
    return owed


@dataclass(frozen=True)
class _Resume:
    """v1 online with a stopped run's record in its lock, and the publish of ``site`` that
    resumes it with CloudFront: ``upstream`` is moto's (host, port) for a FaultProxy."""

    bucket: str
    owed: Pending
    dist: str
    base: dict[str, str]
    args: list[str]
    upstream: tuple[str, int]

    @classmethod
    def make(cls, v1: TmpSite, name: str, site: TmpSite, aws: str, tmp_path: Path) -> _Resume:
        bucket = _v1_online(v1, name)
        dist = make_distribution()
        host, _, port = aws.removeprefix("http://").partition(":")
        args = sitegen_args(site.root, bucket, "--cloudfront", dist)
        base = aws_env(aws, tmp_path)
        return cls(bucket, _stopped_run_record(bucket), dist, base, args, (host, int(port)))


class KillAt:
    """A proxy rule: SIGKILL the publisher at its first request ``matches`` picks, which
    never reaches the store."""

    def __init__(self, matches: Callable[[str, str], bool]) -> None:
        self.matches = matches
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> bool:
        with self._lock:
            if self.killed.is_set() or self.proc is None or not self.matches(method, path):
                return False
            self.proc.kill()
            self.proc.wait()
            self.killed.set()
            return True


def _after_the_lock() -> Callable[[str, str], bool]:
    """Picks the first request after the publisher dealt with the lock (the manifest's read)."""
    locked = [False]

    def matches(method: str, path: str) -> bool:
        if LOCK_PATH in unquote(path):
            locked[0] = True
            return False
        return locked[0]

    return matches


def _killed(killer: KillAt, args: list[str], env: dict[str, str]) -> None:
    """Run ``args`` until ``killer`` kills it."""
    killer.proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE)
    try:
        assert killer.killed.wait(60), killer.proc.communicate(timeout=60)[1].decode()
    finally:
        killer.proc.kill()
        killer.proc.communicate()


def test_sigkill_right_after_taking_over_a_stopped_run_keeps_its_record(
    aws: str, sites: tuple[TmpSite, TmpSite], tmp_path: Path
) -> None:
    """A stopped publish left its owed invalidations in a released lock; the next one takes it
    over and is killed at once. The record is still in the lock (before: deleted, then the
    new lock written without it), and the publish after that sends those invalidations."""
    v1, _ = sites
    case = _Resume.make(v1, "takeover", v1, aws, tmp_path)
    bucket, owed, dist, base, args = case.bucket, case.owed, case.dist, case.base, case.args
    killer = KillAt(_after_the_lock())
    with FaultProxy(*case.upstream, killer) as proxy:
        _killed(killer, args, cli_env(proxy.url, base))
    work, released = _lock_record(bucket)
    assert work is not None and work.invalidate == owed.invalidate and not released, work
    assert invalidations(dist) == []
    again = run_sitegen([*args, "--take-over-lock"], cli_env(aws, base))  # holder seen gone
    assert again.returncode == 0, again.stderr
    assert [paths for _, paths in invalidations(dist)] == [owed.invalidate], again.stderr
    assert snapshot_s3(bucket) == expected(v1.public)


def test_a_stop_while_taking_over_a_record_leaves_it_released(
    aws: str, sites: tuple[TmpSite, TmpSite], tmp_path: Path
) -> None:
    """The stop comes while the write taking over a stopped run's released record is in
    flight (it reached S3): the lock is left released with that record, as it was, and the
    next publish takes it over without --take-over-lock and sends the owed invalidations."""
    v1, _ = sites
    case = _Resume.make(v1, "resuming", v1, aws, tmp_path)
    bucket, owed, dist, base, args = case.bucket, case.owed, case.dist, case.base, case.args
    # the first lock write (If-None-Match) meets the record; the second takes it over
    writes = itertools.count()
    answer = Stall(lambda method, path: _is_lock_write(method, path) and next(writes) == 1)

    def held_answer(method: str, path: str, body: bytes) -> bytes:
        answer(method, path)
        return body

    with FaultProxy(*case.upstream, never, rewrite=held_answer) as proxy:
        proc = subprocess.Popen(args, env=cli_env(proxy.url, base), stderr=subprocess.PIPE)
        try:
            assert answer.held.wait(30), "the takeover never reached the store"
            _, err = _ctrl_c(proc)
        finally:
            answer.release()
            proc.kill()
    assert proc.returncode == 130 and "The lock it had taken was released" in err, err
    work, released = _lock_record(bucket)
    assert released and work is not None and work.invalidate == owed.invalidate, err
    again = run_sitegen(args, cli_env(aws, base))  # no --take-over-lock
    assert again.returncode == 0, again.stderr
    assert [paths for _, paths in invalidations(dist)] == [owed.invalidate], again.stderr


def test_sigkill_after_the_manifest_of_a_run_that_took_over_a_record_loses_neither(
    aws: str, sites: tuple[TmpSite, TmpSite], tmp_path: Path
) -> None:
    """A publish of v2 takes over a stopped run's record, puts its manifest up (its own owed
    work in the manifest's metadata) and is killed at its CloudFront call. The publish that
    breaks its lock sends both: the record its lock still carries and v2's own paths."""
    v1, v2 = sites
    case = _Resume.make(v1, "aftermanifest", v2, aws, tmp_path)
    bucket, owed, dist, base, args = case.bucket, case.owed, case.dist, case.base, case.args
    killer = KillAt(lambda method, path: "/invalidation" in path)
    with FaultProxy(*case.upstream, killer) as proxy:
        _killed(killer, args, cli_env(proxy.url, base))
    assert invalidations(dist) == []
    again = run_sitegen([*args, "--take-over-lock"], cli_env(aws, base))  # holder seen gone
    assert again.returncode == 0, again.stderr
    sent = {path for _, paths in invalidations(dist) for path in paths}
    assert set(owed.invalidate) <= sent, sent
    assert {"/alerts/heat/", "/alerts/heat/*", "/alerts/*"} & sent, sent
    assert snapshot_s3(bucket) == expected(v2.public)
