"""On S3 the manifest travels gzip-encoded: every publish reads it and writes it whole, and it
grows with the site. Decoded, it is the local manifest byte for byte (moto server over HTTP)."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from bundles import site_files
from faults import FAST_RETRY
from state import expected, snapshot_s3
from test_publish_flow import run

from publish import aws
from publish.manifest import MANIFEST_PATH
from publish.report import Outcome
from publish.targets.s3 import S3Target

KEY = f"site/{MANIFEST_PATH}"
Bundle = Callable[..., Path]


def publish_to(public: Path, bucket: str) -> Outcome:
    """One publish run (a fresh target object, as a new `sitegen publish` would make)."""
    return run(public, S3Target(bucket, "site", retry=FAST_RETRY))


def test_manifest_is_stored_gzip_encoded_and_decodes_to_the_local_manifest(
    bundle: Bundle, bucket: str
) -> None:
    public = bundle(site_files(alerts=300))
    publish_to(public, bucket)
    local = (public / MANIFEST_PATH).read_bytes()
    got = boto3.client("s3").get_object(Bucket=bucket, Key=KEY)
    stored = got["Body"].read()
    assert got["ContentEncoding"] == "gzip"
    assert gzip.decompress(stored) == local
    assert len(stored) * 4 < len(local), (len(stored), len(local))
    assert got["Metadata"]["sha256"] == hashlib.sha256(local).hexdigest()  # of the decoded bytes
    assert (got["ContentType"], got["CacheControl"]) == (
        "application/json; charset=utf-8",
        "no-store",
    )
    again = publish_to(public, bucket)  # the next publish reads it back: nothing to do, 3 requests
    assert again.plan.is_noop and again.plan.remote_source == "manifest"
    assert again.requests == 3


def test_a_manifest_stored_plain_by_an_older_sitegen_is_still_read(
    bundle: Bundle, bucket: str
) -> None:
    public = bundle()
    publish_to(public, bucket)
    local = (public / MANIFEST_PATH).read_bytes()
    sha = hashlib.sha256(local).hexdigest()
    boto3.client("s3").put_object(
        Bucket=bucket, Key=KEY, Body=local, Metadata={"sha256": sha}, CacheControl="no-store"
    )
    again = publish_to(public, bucket)
    assert again.plan.is_noop and again.plan.remote_source == "manifest"
    assert f"remote manifest {sha[:12]}" in again.plan.remote_note and again.requests == 3


@pytest.mark.parametrize(
    "body",
    [b"\x1f\x8b\x08\x00 truncated", b'{"format": 1, "files": {}}'],
    ids=["not gzip", "plain bytes labelled gzip"],
)
def test_a_gzip_manifest_that_does_not_decode_is_corrupt_and_replaced(
    bundle: Bundle, bucket: str, body: bytes
) -> None:
    v1 = bundle(site_files(version="v1"))
    publish_to(v1, bucket)
    boto3.client("s3").put_object(Bucket=bucket, Key=KEY, Body=body, ContentEncoding="gzip")
    v2 = bundle(site_files(version="v2"))
    outcome = publish_to(v2, bucket)
    if body.startswith(b"{"):  # a store that decoded it already: the bytes are the manifest
        assert outcome.plan.remote_source == "manifest"
    else:
        assert outcome.plan.remote_source == "listing"
        assert "remote manifest is corrupt" in outcome.plan.remote_note
    assert snapshot_s3(bucket) == expected(v2)


def test_decoding_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"x" * 10_000
    packed = aws.encode_gzip(data)
    assert aws.encode_gzip(data) == packed  # no time in the header: same bytes, same body
    answer = {"Body": io.BytesIO(packed), "ContentEncoding": "gzip"}
    assert aws.decoded_body(answer) == data
    monkeypatch.setattr(aws, "MAX_DECODED", 1_000)
    answer = {"Body": io.BytesIO(packed), "ContentEncoding": "gzip"}
    assert aws.decoded_body(answer) == packed  # would decode to more: kept as stored
    assert aws.decoded_body({"Body": io.BytesIO(data)}) == data  # no encoding: as stored


@pytest.mark.parametrize("label", ["gzip", "GZIP", "gzip,aws-chunked", "aws-chunked, gzip"])
def test_gzip_is_decoded_whatever_else_the_store_says(label: str) -> None:
    """S3 drops the aws-chunked encoding botocore adds over HTTPS; some S3-compatible stores
    keep it in the object's Content-Encoding."""
    data = b'{"format": 1}'
    answer = {"Body": io.BytesIO(aws.encode_gzip(data)), "ContentEncoding": label}
    assert aws.decoded_body(answer) == data


@pytest.mark.parametrize("label", ["br", "gzip,br", "identity", "aws-chunked"])
def test_other_encodings_are_left_as_stored(label: str) -> None:
    body = aws.encode_gzip(b"{}")
    assert aws.decoded_body({"Body": io.BytesIO(body), "ContentEncoding": label}) == body
