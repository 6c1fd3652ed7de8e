"""What `sitegen publish` says when AWS refuses or cannot be reached: each cause named, with the
fix for that cause, the same on the lock, on reading the remote state (--dry-run) and in
--json. Real processes against a moto server; the answers moto does not give (an unknown key,
access denied, a wrong region) come from a proxy that answers as S3 does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ops_support import DENIED, INVALID_KEY, WRONG_REGION, Site


@pytest.fixture
def on_s3(site: Site, bucket: str) -> Site:
    site.configure(f'target = "s3://{bucket}/site"')
    site.write()
    return site


def failed(site: Site, *args: str) -> tuple[str, dict[str, Any]]:
    """(stderr of a failed `publish --json`, the "error" of the JSON object on its stdout)."""
    done = site.run("publish", "--no-build", "--json", *args, ok=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] is False and f"Error: {doc['error']['message']}" in done.stderr
    return done.stderr, doc["error"]


def test_no_credentials_on_the_lock_and_on_the_dry_run_read(
    on_s3: Site, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    for args in ((), ("--dry-run",)):
        message, error = failed(on_s3, *args)
        assert "no AWS credentials were found" in message and "AWS_PROFILE" in message
        assert error["cause"] == "no_credentials"
        assert message.count(f"s3://{bucket}/site") == 1, message  # the target, named once
        assert "Nothing was changed" in message


def test_a_missing_bucket_is_named_with_its_fix(on_s3: Site) -> None:
    message, error = failed(on_s3, "--target", "s3://no-such-bucket-here/site")
    assert "the bucket no-such-bucket-here does not exist" in message
    assert "Check the bucket name in --target or [publish] target" in message
    assert error["cause"] == "no_such_bucket"


def test_an_unreachable_endpoint_says_so_and_names_aws_endpoint_url(
    on_s3: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard: nothing listens
    message, error = failed(on_s3)
    assert "could not reach http://127.0.0.1:9" in message
    assert "AWS_ENDPOINT_URL sends every AWS request to http://127.0.0.1:9" in message
    assert "bucket name" not in message
    assert error["cause"] == "endpoint_unreachable"


def test_an_unknown_access_key_is_not_called_a_permission_problem(
    on_s3: Site, answering: Any
) -> None:
    answering(403, INVALID_KEY)
    message, error = failed(on_s3)
    assert "AWS does not know this access key" in message and "AWS_ACCESS_KEY_ID" in message
    assert "publisher policy" not in message
    assert error["cause"] == "unknown_key"


def test_access_denied_names_the_action_and_the_policy(on_s3: Site, answering: Any) -> None:
    answering(403, DENIED, method="PUT")
    message, error = failed(on_s3)
    assert "access denied to s3:PutObject" in message
    assert "attach the publisher policy (sitegen infra cloudformation)" in message
    assert error["cause"] == "access_denied"


def test_a_wrong_region_names_the_right_one(on_s3: Site, answering: Any) -> None:
    answering(400, WRONG_REGION)
    message, error = failed(on_s3)
    assert "the bucket is in another region (eu-west-1)" in message
    assert "AWS_REGION=eu-west-1" in message
    assert error["cause"] == "wrong_region"


def test_a_missing_profile_is_an_error_not_a_crash(
    on_s3: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    message, error = failed(on_s3, "--dry-run")
    assert "could not set up the AWS client" in message and "no-such-profile" in message
    assert "aws configure list-profiles" in message
    assert error["cause"] == "no_credentials"
