"""§2 Faults not covered in tests/publish/test_publish_faults.py: timeouts mid-upload, CloudFront
or Akamai failing or throttled after S3 succeeded (the next publish sends exactly the owed
invalidations), a lock left by a dead publisher, a corrupt or future-format remote manifest.
Each ends with a plain re-run converging to the bundle, object by object."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from fastpurge_server import FastPurgeServer
from faults import FAST_RETRY, TOO_MANY_INVALIDATIONS, FaultProxy
from reliability_support import (
    check_least_privilege,
    cli_env,
    invalidations,
    run_sitegen,
    sitegen_args,
)
from state import expected, snapshot_s3

from publish.apply import publish
from publish.cdn.akamai import SCHEME_ENV, AkamaiInvalidator, PurgeRetryPolicy
from publish.cdn.cloudfront import CloudFrontInvalidator
from publish.local import read_local
from publish.lock import acquire, holder_is_dead, lock_body, process_space
from publish.retry import RetryPolicy
from publish.targets.base import LOCK_PATH
from publish.targets.folder import FolderTarget
from publish.targets.s3 import S3Target
from sitegen.errors import PublishError
from sitegen_fixtures import TmpSite, aws_env, object_bytes

NO_RETRY = RetryPolicy(attempts=2, base_s=0.01, cap_s=0.01)


@pytest.fixture
def upstream(aws: str) -> tuple[str, int]:
    host, _, port = aws.removeprefix("http://").partition(":")
    return host, int(port)


def s3(bucket: str, **kwargs: object) -> S3Target:
    return S3Target(bucket, "site", retry=FAST_RETRY, **kwargs)  # type: ignore[arg-type]


def cloudfront(dist: str, endpoint: str | None = None) -> CloudFrontInvalidator:
    once = Config(retries={"mode": "standard", "max_attempts": 1})
    client = boto3.client("cloudfront", endpoint_url=endpoint, config=once) if endpoint else None
    return CloudFrontInvalidator(
        dist, retry=NO_RETRY, sleep=lambda s: None, client=client, max_wait_s=0.0
    )


def test_timeouts_mid_upload_are_retried(
    bucket: str, sites: tuple[TmpSite, TmpSite], upstream: tuple[str, int]
) -> None:
    """The first two alert-page uploads hang past the client's read timeout."""
    _, v2 = sites
    left = [2]
    lock = threading.Lock()

    def hang(method: str, path: str) -> bool:
        with lock:
            stall = method == "PUT" and "/alerts/" in path and left[0] > 0
            left[0] -= stall
        if stall:
            time.sleep(1.2)
        return False  # forwarded late: the client has given up and sent it again

    with FaultProxy(*upstream, hang) as proxy:
        client = boto3.client(
            "s3",
            endpoint_url=proxy.url,
            config=Config(
                read_timeout=0.5, connect_timeout=1, retries={"mode": "standard", "max_attempts": 1}
            ),
        )
        outcome = publish(read_local(v2.public), s3(bucket, client=client))
    assert left == [0] and outcome.requests > outcome.uploaded + 3  # the retried attempts
    assert snapshot_s3(bucket) == expected(v2.public)


@pytest.mark.parametrize("fault", ["throttled", "busy", "down"])
def test_cloudfront_failing_after_s3_then_next_publish_sends_the_owed_paths(
    bucket: str,
    distribution: str,
    sites: tuple[TmpSite, TmpSite],
    upstream: tuple[str, int],
    fault: str,
) -> None:
    v1, v2 = sites
    publish(read_local(v1.public), s3(bucket))
    status, body = {
        "throttled": (400, _THROTTLED),
        "busy": (400, TOO_MANY_INVALIDATIONS),
        "down": (503, b""),
    }[fault]
    rule = lambda method, path: "/invalidation" in path  # noqa: E731
    with (
        FaultProxy(*upstream, rule, status=status, body=body) as proxy,
        pytest.raises(PublishError, match=r"recorded in the lock \(.sitegen/lock\)") as failed,
    ):
        publish(read_local(v2.public), s3(bucket), [cloudfront(distribution, proxy.url)])
    assert proxy.log.count(status) >= (1 if fault == "busy" else 2)  # retried, then gave up
    assert "Run `sitegen publish` again" in failed.value.message
    assert invalidations(distribution) == []
    owed = json.loads(
        boto3.client("s3").get_object(Bucket=bucket, Key=f"site/{LOCK_PATH}")["Body"].read()
    )["owed"]
    again = publish(read_local(v2.public), s3(bucket), [cloudfront(distribution)])
    assert owed["delete"] and owed["invalidate"]
    assert again.uploaded == 0 and again.deleted == len(owed["delete"])  # only what was owed
    [(_, paths)] = invalidations(distribution)
    assert set(paths) and set(owed["invalidate"]) == set(again.plan.invalidations)
    assert snapshot_s3(bucket) == expected(v2.public)
    quiet = publish(read_local(v2.public), s3(bucket), [cloudfront(distribution)])
    assert quiet.plan.is_noop and len(invalidations(distribution)) == 1


_THROTTLED = (
    b'<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>'
    b"<Message>Rate exceeded</Message></Error></ErrorResponse>"
)


@pytest.fixture
def fastpurge(monkeypatch: pytest.MonkeyPatch) -> Iterator[FastPurgeServer]:
    monkeypatch.setenv(SCHEME_ENV, "http")
    with FastPurgeServer() as server:
        yield server


@pytest.mark.parametrize("status", [429, 503])
def test_akamai_failing_after_s3_and_cloudfront_then_next_publish_finishes(
    bucket: str,
    distribution: str,
    sites: tuple[TmpSite, TmpSite],
    fastpurge: FastPurgeServer,
    tmp_path: Path,
    status: int,
) -> None:
    v1, v2 = sites
    edgerc = fastpurge.write_edgerc(tmp_path / ".edgerc")
    retry = PurgeRetryPolicy(attempts=3, base_s=0.01, cap_s=0.01, rate_limit_s=0.01)

    def akamai() -> AkamaiInvalidator:
        return AkamaiInvalidator.from_edgerc(
            edgerc, "default", "staging", "https://alerts.test/", retry=retry
        )

    publish(read_local(v1.public), s3(bucket))
    fastpurge.fail_next(3, status, retry_after="0")
    with pytest.raises(PublishError, match=r"recorded in the lock \(.sitegen/lock\)"):
        publish(read_local(v2.public), s3(bucket), [cloudfront(distribution), akamai()])
    assert fastpurge.purges == [] and len(invalidations(distribution)) == 1
    again = publish(read_local(v2.public), s3(bucket), [cloudfront(distribution), akamai()])
    assert again.uploaded == 0
    [purge] = fastpurge.purges
    assert {u.removeprefix("https://alerts.test") for u in purge.objects} == set(
        again.plan.invalidations
    )
    # CloudFront, which accepted them, is not asked again (the record is per CDN; it was per
    # publish, and only real CloudFront's CallerReference made that repeat harmless)
    assert len(invalidations(distribution)) == 1
    assert snapshot_s3(bucket) == expected(v2.public)
    quiet = publish(read_local(v2.public), s3(bucket), [cloudfront(distribution), akamai()])
    assert quiet.plan.is_noop and len(fastpurge.purges) == 1


def gone_pid() -> int:
    """The process id of a process that has just ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(
    tmp_path: Path, sites: tuple[TmpSite, TmpSite]
) -> None:
    _, v2 = sites
    now = datetime.now(UTC)
    doc = json.loads(lock_body(now))
    doc["holder"] = doc["holder"].rsplit(" pid ", 1)[0] + f" pid {gone_pid()}"
    assert holder_is_dead(doc["holder"], doc["processes"])
    target = FolderTarget(tmp_path / "pub")
    assert target.lock(json.dumps(doc).encode()) is None
    with pytest.raises(PublishError, match="no longer running on this machine"):
        acquire(FolderTarget(tmp_path / "pub"), now=now, timeout_s=900, take_over=False)
    note = acquire(FolderTarget(tmp_path / "pub"), now=now, timeout_s=900, take_over=True).note
    assert "broke a stale lock" in note


def test_lock_of_a_gone_pid_in_another_container_is_not_called_dead(
    tmp_path: Path, sites: tuple[TmpSite, TmpSite]
) -> None:
    """Two containers may share a host name; a pid gone here may be a live publish there."""
    now = datetime.now(UTC)
    doc = json.loads(lock_body(now))
    assert doc["processes"] == process_space() != ""
    doc["holder"] = doc["holder"].rsplit(" pid ", 1)[0] + f" pid {gone_pid()}"
    doc["processes"] = doc["processes"].rsplit(" ", 1)[0] + " pid:[1]"  # another pid namespace
    assert not holder_is_dead(doc["holder"], doc["processes"])
    target = FolderTarget(tmp_path / "pub")
    assert target.lock(json.dumps(doc).encode()) is None
    with pytest.raises(PublishError, match="Wait for it to finish") as held:
        acquire(FolderTarget(tmp_path / "pub"), now=now, timeout_s=900, take_over=True)
    assert "no longer running" not in str(held.value)


@pytest.mark.parametrize(
    "who",
    [
        "me@some-other-host pid 1",  # another machine: we cannot tell
        "nonsense",
    ],
)
def test_lock_holders_that_may_be_alive_are_never_called_dead(who: str) -> None:
    assert not holder_is_dead(who, process_space())


def test_lock_of_a_running_process_is_not_dead() -> None:
    body = json.loads(lock_body(datetime.now(UTC)))
    assert not holder_is_dead(body["holder"], body["processes"])  # this very process


@pytest.mark.parametrize("garbage", [b"\x00\xff not json", b'{"format": 1, "files": {"../x": {}}}'])
def test_corrupt_remote_manifest_is_replaced_by_a_listing(
    aws: str,
    bucket: str,
    sites: tuple[TmpSite, TmpSite],
    tmp_path: Path,
    garbage: bytes,
    upstream: tuple[str, int],
) -> None:
    v1, v2 = sites
    publish(read_local(v1.public), s3(bucket))
    boto3.client("s3").put_object(Bucket=bucket, Key="site/.sitegen/manifest.json", Body=garbage)
    env = aws_env(aws, tmp_path)
    with FaultProxy(*upstream, lambda m, p: False) as proxy:
        done = run_sitegen(sitegen_args(v2.root, bucket, "--json"), cli_env(proxy.url, env))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "remote manifest is corrupt" in report["plan"]["remote"]["note"]
    check_least_privilege(proxy.log.seen)
    assert snapshot_s3(bucket) == expected(v2.public)
    assert read_local(v2.public).manifest_bytes == object_bytes(
        boto3.client("s3").get_object(Bucket=bucket, Key="site/.sitegen/manifest.json")
    )


def test_future_format_manifest_stops_until_verify(
    aws: str, bucket: str, sites: tuple[TmpSite, TmpSite], tmp_path: Path
) -> None:
    v1, v2 = sites
    publish(read_local(v1.public), s3(bucket))
    future = json.dumps({"format": 99, "files": {}, "generator": "sitegen 9"}).encode()
    boto3.client("s3").put_object(Bucket=bucket, Key="site/.sitegen/manifest.json", Body=future)
    before = snapshot_s3(bucket)
    env = cli_env(aws, aws_env(aws, tmp_path))
    refused = run_sitegen(sitegen_args(v2.root, bucket), env)
    assert refused.returncode == 1
    assert "format 99 is newer than this sitegen" in refused.stderr
    assert "--verify" in refused.stderr and "Traceback" not in refused.stderr
    assert snapshot_s3(bucket) == before  # nothing changed, and the lock was released
    done = run_sitegen(sitegen_args(v2.root, bucket, "--verify"), env)
    assert done.returncode == 0, done.stderr
    assert snapshot_s3(bucket) == expected(v2.public)
