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
    arrives, then let that request through (the signal lands while the client waits)."""

    def __init__(self, signum: int, where: str) -> None:
        self.signum, self.where, self.pid, self.sent = signum, where, 0, False
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> bool:
        with self._lock:
            if not self.sent and self.where in path:
                os.kill(self.pid, self.signum)
                self.sent = True
        return False


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
        rule.pid = proc.pid
        _, err_bytes = proc.communicate(timeout=60)
    err = err_bytes.decode()
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
