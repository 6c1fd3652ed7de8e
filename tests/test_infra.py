"""`sitegen infra cloudformation`: valid for cfn-lint and configured for bursts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sitegen.infra import CONTENT_SECURITY_POLICY, cloudformation_template
from sitegen_fixtures import TmpSite


def test_template_passes_cfn_lint(tmp_path: Path) -> None:
    cfn_lint = shutil.which("cfn-lint")
    if cfn_lint is None:
        pytest.fail("cfn-lint is not installed (it is in the test extra)")
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(cloudformation_template()))
    result = subprocess.run([cfn_lint, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bucket_is_private_versioned_encrypted() -> None:
    props = cloudformation_template()["Resources"]["SiteBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_distribution_is_https_http3_compressed_and_honours_origin() -> None:
    resources = cloudformation_template()["Resources"]
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["Compress"] is True and config["HttpVersion"] == "http2and3"
    policy = resources["HonourOriginCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert (policy["MinTTL"], policy["DefaultTTL"]) == (0, 0)
    assert config["CustomErrorResponses"][1]["ResponsePagePath"] == "/404.html"
    assert "OriginAccessControlId" in config["Origins"][0]


def test_publisher_policy_is_least_privilege() -> None:
    statements = cloudformation_template()["Resources"]["PublisherPolicy"]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    assert actions == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "s3:GetBucketVersioning",
        "s3:GetObjectVersion",
        "s3:ListBucketVersions",
        "cloudfront:CreateInvalidation",
        "cloudfront:GetInvalidation",
        "cloudfront:GetDistributionConfig",
    }
    assert not any("*" in a for a in actions)


def test_csp_is_satisfied_by_built_pages(built_site: TmpSite) -> None:
    """The CSP allows inline styles and data: images only; pages must need nothing else."""
    assert "script-src" not in CONTENT_SECURITY_POLICY  # falls back to default-src 'none'
    for page in built_site.public.rglob("*.html"):
        html = page.read_text()
        assert "<script" not in html, page
        assert 'rel="stylesheet"' not in html and "@import" not in html, page
        assert ' src="http' not in html and " style=" not in html, page
