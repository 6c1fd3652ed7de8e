"""Read what is published, object by object, without going through the publisher's code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import boto3

from publish.manifest import MANIFEST_PATH
from publish.targets.folder import GUARD_PATH
from sitegen_fixtures import object_bytes

Snapshot = dict[str, tuple[str, str, str, str]]  # path → (sha256 of bytes, type, cache, meta sha)
# Kept manifests and file versions, for rollback (publish/history.py; tested in tests/ops/).
HISTORY = (
    ".sitegen/manifests/",
    ".sitegen/objects/",
    ".sitegen/rolled-back.json",
)  # rollback state


def expected(public: Path) -> Snapshot:
    """What the target must hold after publishing ``public``: every file and the manifest."""
    raw = (public / MANIFEST_PATH).read_bytes()
    files = json.loads(raw)["files"]
    out: Snapshot = {
        p: (e["sha256"], e["content_type"], e["cache_control"], e["sha256"])
        for p, e in files.items()
    }
    sha = hashlib.sha256(raw).hexdigest()
    out[MANIFEST_PATH] = (sha, "application/json; charset=utf-8", "no-store", sha)
    return out


def snapshot_s3(bucket: str, prefix: str = "site/") -> Snapshot:
    s3 = boto3.client("s3")
    out: Snapshot = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"][len(prefix) :].startswith(HISTORY):
                continue
            got = s3.get_object(Bucket=bucket, Key=obj["Key"])
            out[obj["Key"][len(prefix) :]] = (
                hashlib.sha256(object_bytes(got)).hexdigest(),
                got.get("ContentType", ""),
                got.get("CacheControl", ""),
                got.get("Metadata", {}).get("sha256", ""),
            )
    return out


def snapshot_folder(root: Path) -> Snapshot:
    out: Snapshot = {}
    for file in sorted(root.rglob("*")):
        rel = file.relative_to(root).as_posix()
        # the lock's guard stays once made (empty): the lock, when held, is listed
        if file.is_dir() or rel.startswith((".sitegen/meta/", *HISTORY)) or rel == GUARD_PATH:
            continue
        meta_file = root / ".sitegen/meta" / f"{rel}.json"
        meta = json.loads(meta_file.read_bytes()) if meta_file.exists() else {}
        out[rel] = (
            hashlib.sha256(file.read_bytes()).hexdigest(),
            meta.get("content_type", ""),
            meta.get("cache_control", ""),
            meta.get("sha256", ""),
        )
    return out
