"""A real `sitegen publish` subprocess interrupted (SIGINT = Ctrl-C, SIGTERM = a cancelled CI
job) at the two moments that matter: while uploading, before the manifest (nothing is owed:
the lock is released, the site is the old one), and during the CloudFront call, after the
manifest (the invalidations and deletes it implies are owed: they are left in a released lock).
Either way it exits 130 saying what was done, and a plain re-run (no --force) converges."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
from faults import FaultProxy
from reliability_support import cli_env, invalidations, run_sitegen, sitegen_args
from state import expected, snapshot_s3
from test_consistency import site_v1, update

from publish.apply import publish
from publish.local import read_local
from publish.lock import parse_owed
from publish.targets.base import LOCK_PATH
from publish.targets.s3 import S3Target
from sitegen_fixtures import TmpSite, aws_env, make_distribution

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[TmpSite, TmpSite]:
    """v1, and v2 = a new Update in a new area and one alert removed (so v2 owes deletes)."""
    v1 = site_v1(tmp_path_factory.mktemp("v1") / "site")
    v1.build()
    v2 = site_v1(tmp_path_factory.mktemp("v2") / "site")
    update(v2)
    (v2.root / "content/alerts/heat.md").unlink()
    v2.build()
    return v1, v2


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
    again = run_sitegen(args, cli_env(aws, base))  # no --force
    assert again.returncode == 0, again.stderr
    assert snapshot_s3(bucket) == expected(v2.public)
    # the interrupted call may have reached CloudFront: its repeat carries the same reference
    # (CloudFront answers it with the first invalidation); both cover the removed alert
    created = invalidations(dist)
    assert 1 <= len(created) <= (2 if owed else 1) and len({r for r, _ in created}) == 1, created
    assert {"/alerts/heat/", "/alerts/heat/*", "/alerts/*"} & set(created[-1][1]), created
