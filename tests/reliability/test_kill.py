"""§2 A real `sitegen publish` subprocess SIGKILLed at 20 points of its request sequence (chosen
by a fixed seed, plus the two points where work is owed after the manifest: just before the
CloudFront call and just before the deletes). After each, re-running publish (--take-over-lock:
the dead holder's lock is taken over at once) converges to exactly the new bundle, object by
object; the CloudFront invalidations together cover every changed path, with at most one
repeat, and that repeat carries the same CallerReference (CloudFront answers it with the
first one)."""

from __future__ import annotations

import random
import signal
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from faults import FaultProxy
from reliability_support import (
    Killer,
    check_least_privilege,
    cli_env,
    invalidations,
    run_sitegen,
    sitegen_args,
)
from state import expected, snapshot_s3
from test_consistency import template, v1_and_v2

from publish.apply import publish
from publish.cdn.cloudfront import CloudFrontInvalidator
from publish.local import read_local
from publish.targets.base import LOCK_PATH
from publish.targets.s3 import S3Target
from sitegen_fixtures import TmpSite, aws_env, make_distribution

SEED = 20261125
KILL_POINTS = 20
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[TmpSite, TmpSite]:
    """v1, and v2 = a new Update in a new area, one alert removed, every page changed."""
    return v1_and_v2(tmp_path_factory, template)


def fresh_v1(v1: TmpSite) -> tuple[str, str]:
    """A new bucket holding v1, and a new distribution."""
    bucket = f"kill-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    publish(read_local(v1.public), S3Target(bucket, "site"))
    return bucket, make_distribution()


def test_sigkill_at_20_points_then_rerun_converges(
    aws: str, sites: tuple[TmpSite, TmpSite], tmp_path: Path
) -> None:
    v1, v2 = sites
    host, _, port = aws.removeprefix("http://").partition(":")
    upstream = (host, int(port))
    base = aws_env(aws, tmp_path)
    bucket, dist = fresh_v1(v1)
    with FaultProxy(*upstream, Killer()) as proxy:
        done = run_sitegen(
            sitegen_args(v2.root, bucket, "--cloudfront", dist), cli_env(proxy.url, base)
        )
    assert done.returncode == 0, done.stderr
    sequence = [(m, p) for m, p, _ in proxy.log.seen]
    check_least_privilege(proxy.log.seen)
    [(_, reference)] = invalidations(dist)
    cdn_at = 1 + next(i for i, (m, p) in enumerate(sequence) if p.endswith("/invalidation"))
    delete_at = 1 + next(i for i, (m, p) in enumerate(sequence) if p.endswith("?delete"))
    points = {cdn_at, delete_at}
    rng = random.Random(SEED)
    while len(points) < KILL_POINTS:
        points.add(rng.randint(1, len(sequence)))
    first, *rest = sorted(p for p in points if p >= 3) + sorted(p for p in points if p < 3)
    # The first kill after the lock was taken also checks what a plain re-run says.
    assert _kill_then_converge(first, v1, v2, upstream, base, set(reference), lock_message=True)
    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time: one per core
        list(
            pool.map(
                lambda at: _kill_then_converge(at, v1, v2, upstream, base, set(reference)), rest
            )
        )


def _kill_then_converge(
    at: int,
    v1: TmpSite,
    v2: TmpSite,
    upstream: tuple[str, int],
    base: dict[str, str],
    reference: set[str],
    *,
    lock_message: bool = False,
) -> bool:
    bucket, dist = fresh_v1(v1)
    args = sitegen_args(v2.root, bucket, "--cloudfront", dist)
    killer = Killer(at)
    with FaultProxy(*upstream, killer) as proxy:
        proc = subprocess.Popen(
            args,
            env=cli_env(proxy.url, base),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        killer.pid = proc.pid
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"kill at request {at}: {err}"
    requests = list(proxy.log.seen)
    checked = False
    if lock_message and LOCK_PATH in snapshot_s3(bucket):
        refused = run_sitegen(args, cli_env(upstream_url(upstream), base))
        assert refused.returncode == 1
        assert "Another publish holds the lock" in refused.stderr
        assert f"pid {proc.pid}" in refused.stderr and "no longer running" in refused.stderr
        checked = True
    with FaultProxy(*upstream, Killer()) as proxy:
        again = run_sitegen([*args, "--take-over-lock"], cli_env(proxy.url, base))
    assert again.returncode == 0, f"re-run after a kill at request {at}: {again.stderr}"
    check_least_privilege(requests + proxy.log.seen)
    assert snapshot_s3(bucket) == expected(v2.public), f"kill at request {at}: {again.stdout}"
    created = invalidations(dist)
    assert {p for _, paths in created for p in paths} >= reference, f"kill at request {at}"
    assert 1 <= len(created) <= 2 and len({ref for ref, _ in created}) == 1, created
    quiet = publish(read_local(v2.public), S3Target(bucket, "site"), [CloudFrontInvalidator(dist)])
    assert quiet.plan.is_noop and len(invalidations(dist)) == len(created)
    return checked


def upstream_url(upstream: tuple[str, int]) -> str:
    return f"http://{upstream[0]}:{upstream[1]}"
