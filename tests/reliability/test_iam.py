"""§5 The publisher needs no more than the least-privilege policy of `sitegen infra`
(sitegen/infra.py PUBLISHER_* lists). Every subprocess publish in tests/reliability goes through
a recording proxy and is checked with ``check_least_privilege``; this module checks the mapping
from HTTP requests to IAM actions, and that one full publish uses exactly the expected actions."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from faults import FaultProxy
from reliability_support import (
    aws_action,
    check_least_privilege,
    cli_env,
    outside_prefix,
    policy_actions,
    run_sitegen,
    sitegen_args,
)
from state import expected, snapshot_s3
from test_consistency import site_v1

from publish.apply import publish
from publish.local import read_local
from publish.targets.s3 import S3Target
from sitegen_fixtures import aws_env


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("PUT", "/b/site/alerts/x/index.html", "s3:PutObject"),
        ("GET", "/b/site/.sitegen/manifest.json", "s3:GetObject"),
        ("HEAD", "/b/site/index.html", "s3:GetObject"),
        ("DELETE", "/b/site/.sitegen/lock", "s3:DeleteObject"),
        ("POST", "/b?delete", "s3:DeleteObject"),
        ("GET", "/b?list-type=2&prefix=site/&encoding-type=url", "s3:ListBucket"),
        ("POST", "/2020-05-31/distribution/E1/invalidation", "cloudfront:CreateInvalidation"),
        ("GET", "/2020-05-31/distribution/E1/invalidation/I1", "cloudfront:GetInvalidation"),
        ("GET", "/2020-05-31/distribution/E1/config", "cloudfront:GetDistributionConfig"),
    ],
)
def test_requests_map_to_iam_actions(method: str, path: str, action: str) -> None:
    assert aws_action(method, path) == action
    assert action in policy_actions()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/b/site/index.html?acl"),  # s3:PutObjectAcl: not granted
        ("GET", "/b/site/index.html?versionId=3"),  # s3:GetObjectVersion: not granted
        ("PUT", "/b?policy"),
        ("PUT", "/2020-05-31/distribution/E1/config"),
    ],
)
def test_anything_else_fails_the_check(method: str, path: str) -> None:
    with pytest.raises(AssertionError, match="not in the publisher policy"):
        check_least_privilege([(method, path, 200)])


def test_requests_outside_the_prefix_fail_the_check() -> None:
    assert outside_prefix("/b/other/index.html") == "key other/index.html"
    assert outside_prefix("/b?list-type=2&prefix=") is not None
    with pytest.raises(AssertionError, match="outside the site's prefix"):
        check_least_privilege([("GET", "/b/elsewhere/secret.txt", 200)])


def test_a_full_publish_uses_exactly_the_expected_actions(
    aws: str, bucket: str, distribution: str, tmp_path: Path
) -> None:
    """No remote manifest (listing + HEADs), uploads, changes, deletes, CloudFront."""
    v1 = site_v1(tmp_path / "v1")
    v1.build()
    publish(read_local(v1.public), S3Target(bucket, "site"))
    boto3.client("s3").delete_object(Bucket=bucket, Key="site/.sitegen/manifest.json")
    v2 = site_v1(tmp_path / "v2")
    (v2.root / "content/alerts/heat.md").unlink()
    (v2.root / "templates/base.html").write_text(
        (v2.root / "templates/base.html").read_text("utf-8").replace("</body>", "<!--2--></body>"),
        "utf-8",
    )
    v2.build()
    host, _, port = aws.removeprefix("http://").partition(":")
    with FaultProxy(host, int(port), lambda m, p: False) as proxy:
        done = run_sitegen(
            sitegen_args(v2.root, bucket, "--cloudfront", distribution, "--wait"),
            cli_env(proxy.url, aws_env(aws, tmp_path)),
        )
    assert done.returncode == 0, done.stderr
    check_least_privilege(proxy.log.seen)
    used = {aws_action(m, p) for m, p, _ in proxy.log.seen}
    assert used == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "cloudfront:GetDistributionConfig",  # where it reads the site from (publish/layout.py)
        "cloudfront:CreateInvalidation",
    }
    assert snapshot_s3(bucket) == expected(v2.public)
