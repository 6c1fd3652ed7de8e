"""§5 Credentials never reach output: sentinel values in the AWS variables and in `.edgerc`, then
`sitegen --debug publish` (build, CloudFront and Akamai; success, CDN failure, --json, a broken
.edgerc line holding the secret). No sentinel may appear in stdout, stderr, the built bundle,
the site's local state, or any object in the bucket (manifest, kept manifests, pending record)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastpurge_server import Credentials, FastPurgeServer
from faults import FaultProxy
from reliability_support import SITEGEN, check_least_privilege, cli_env, run_sitegen
from test_consistency import site_v1, update

from publish.cdn.akamai import SCHEME_ENV
from sitegen_fixtures import aws_env, object_bytes

SENTINELS = {
    "AWS_ACCESS_KEY_ID": "AKIASENTINELKEYID0001",
    "AWS_SECRET_ACCESS_KEY": "sentinel-aws-secret-Zq8x/kP2+vN4",
    "AWS_SESSION_TOKEN": "sentinel-aws-session-token-Fw9QmT3",
}
EDGEGRID = Credentials(
    client_token="akab-sentinel-client-token-77",
    client_secret="sentinel-edgegrid-secret-M2k9+Q==",
    access_token="akab-sentinel-access-token-55",
)
SECRETS = (
    *SENTINELS.values(),
    EDGEGRID.client_token,
    EDGEGRID.client_secret,
    EDGEGRID.access_token,
)


@pytest.fixture
def fastpurge() -> Iterator[FastPurgeServer]:
    with FastPurgeServer(EDGEGRID) as server:
        yield server


def leaks(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [s for s in SECRETS if s.encode() in data]


def test_no_credential_reaches_output_bundle_or_bucket(
    aws: str, bucket: str, distribution: str, fastpurge: FastPurgeServer, tmp_path: Path
) -> None:
    site = site_v1(tmp_path / "site")
    edgerc = fastpurge.write_edgerc(tmp_path / ".edgerc")
    host, _, port = aws.removeprefix("http://").partition(":")
    with FaultProxy(host, int(port), lambda m, p: False) as proxy:
        env = cli_env(proxy.url, aws_env(aws, tmp_path), **SENTINELS, **{SCHEME_ENV: "http"})
        publish = [
            SITEGEN,
            "--debug",
            "publish",
            "--site",
            str(site.root / "site.toml"),
            "--target",
            f"s3://{bucket}/site",
            "--cloudfront",
            distribution,
            "--akamai",
            "default@staging",
            "--edgerc",
            str(edgerc),
            "--now",
            "2026-11-25T12:00:00+09:00",
            "--force",  # --now is not the machine's clock (and nothing here must be lifted)
        ]
        runs = [run_sitegen(publish, env)]  # builds, then publishes
        assert runs[-1].returncode == 0, runs[-1].stderr
        update(site)
        fastpurge.fail_next(1, 403)  # refused (not retried)
        runs.append(run_sitegen(publish, env))  # Akamai fails after S3: the pending record
        assert runs[-1].returncode == 1 and "recorded in the lock" in runs[-1].stderr
        runs.append(run_sitegen([*publish, "--json", "--dry-run"], env))
        assert runs[-1].returncode == 0
        good = edgerc.read_text(encoding="utf-8")
        edgerc.write_text(
            good.replace(" = ", " ", 1).replace("client_secret = ", "client_secret "), "utf-8"
        )
        runs.append(run_sitegen(publish, env))  # an unreadable .edgerc
        assert runs[-1].returncode == 1 and ".edgerc" in runs[-1].stderr
        edgerc.write_text(good, encoding="utf-8")
        runs.append(run_sitegen(publish, env))  # finishes the owed work
        assert runs[-1].returncode == 0, runs[-1].stderr
    check_least_privilege(proxy.log.seen)
    assert fastpurge.purges  # the credentials were really used
    for run in runs:
        assert leaks(run.stdout) == [] and leaks(run.stderr) == [], run.args
    for file in sorted(p for p in site.root.rglob("*") if p.is_file()):
        if file.name != ".edgerc":
            assert leaks(file.read_bytes()) == [], file
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert "site/.sitegen/manifest.json" in keys
    for key in keys:
        got = s3.get_object(Bucket=bucket, Key=key)
        assert leaks(object_bytes(got)) == [], key  # decoded: gzip would hide a leak
        assert leaks(repr(got["Metadata"])) == [], key
