"""What a target keeps of earlier publishes, so a rollback can restore one.

- Every published manifest is kept byte for byte. On S3 they are the object versions of the live
  manifest (versioning is what makes rollback possible there at all, and it costs a publish no
  request). The folder target keeps a copy at ``.sitegen/manifests/<id>.json`` (id = the
  manifest's sha256) with the instant it went live in its metadata (``published-at``). A
  rollback re-publishes one, so its time moves forward too.
- File bytes: S3 keeps old versions when bucket versioning is on (found by our sha256 metadata,
  ListObjectVersions + HeadObject/GetObject with VersionId). The folder target keeps every
  version it was given in ``.sitegen/objects/<sha256>`` (a hard link: no extra space).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from publish.aws import decoded_body, explain, is_transient
from publish.manifest import (
    KEPT_PREFIX,
    MANIFEST_PATH,
    STATE_PREFIX,
    Manifest,
    ManifestError,
    parse_manifest,
)
from publish.retry import call_with_retries
from publish.targets.base import Target, TargetError
from sitegen.errors import PublishError

if TYPE_CHECKING:
    from publish.targets.folder import FolderTarget
    from publish.targets.s3 import S3Target

T = TypeVar("T")
OBJECTS_PREFIX = f"{STATE_PREFIX}objects/"  # folder target only
PUBLISHED_AT = "published-at"  # metadata key on kept manifests


@dataclass(frozen=True, slots=True)
class Kept:
    """One published state that can be restored."""

    manifest: Manifest
    manifest_bytes: bytes
    published_at: datetime | None  # when it last went live (None: unknown)

    @property
    def id(self) -> str:
        return self.manifest.id


class History(Protocol):
    """Where a target keeps kept manifests and old file bytes."""

    def kept_manifests(self) -> list[tuple[bytes, datetime | None]]:
        """Bytes of every kept manifest and when it went live (None: unknown)."""
        ...

    def find(self, path: str, sha256: str) -> bytes | None:
        """Bytes that were once published at ``path`` with this sha256, checked, or None."""
        ...

    def why_missing(self) -> str:
        """Why bytes may be gone and what to do about it (one or two sentences)."""
        ...


def open_history(target: Target) -> History:
    from publish.targets.folder import FolderTarget
    from publish.targets.s3 import S3Target

    if isinstance(target, S3Target):
        return S3History(target)
    if isinstance(target, FolderTarget):
        return FolderHistory(target)
    raise PublishError(f"{target.name}: this target keeps no history to roll back to")


def read_kept(target: Target, history: History) -> tuple[list[Kept], int]:
    """Every kept manifest, most recently published first (unknown times last); one entry per
    state, at the last time it went live. And how many kept copies are damaged."""
    kept: dict[str, Kept] = {}
    damaged = 0
    for body, at in history.kept_manifests():
        try:
            manifest = parse_manifest(body)
        except ManifestError:
            damaged += 1  # cannot be restored: counted, so --list and --to can say so
            continue
        earlier = kept.get(manifest.id)
        if earlier is None or (at and (earlier.published_at is None or at > earlier.published_at)):
            kept[manifest.id] = Kept(manifest, body, at)
    # Stable sort: states written in the same second (S3 times are whole seconds) keep the
    # history's own order, which for S3 versions is newest first.
    states = sorted(
        kept.values(),
        key=lambda k: (k.published_at is not None, k.published_at or 0),
        reverse=True,
    )
    return states, damaged


def _instant(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _checked(data: bytes, sha256: str) -> bytes | None:
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


class FolderHistory:
    """``folder:`` history: ``.sitegen/manifests/`` and ``.sitegen/objects/<sha256>``."""

    def __init__(self, target: FolderTarget) -> None:
        self.target = target
        self.root = target.root

    def kept_manifests(self) -> list[tuple[bytes, datetime | None]]:
        folder = self.root / KEPT_PREFIX
        if not folder.is_dir():
            return []
        found = []
        for file in sorted(folder.iterdir()):
            stored = self.target.read(f"{KEPT_PREFIX}{file.name}")
            if file.suffix == ".json" and stored is not None:
                found.append((stored.body, _instant(stored.meta.extra.get(PUBLISHED_AT))))
        return found

    def find(self, path: str, sha256: str) -> bytes | None:
        for file in (self.root / OBJECTS_PREFIX / sha256, self.root / path):
            try:
                if (data := _checked(file.read_bytes(), sha256)) is not None:
                    return data
            except OSError:
                continue
        return None

    def why_missing(self) -> str:
        return (
            f"The folder keeps every version it receives in {OBJECTS_PREFIX}; these were "
            "published before sitegen kept versions, or that folder was cleaned."
        )


class S3History:
    """``s3://`` history: kept manifests by listing, file bytes from object versions."""

    def __init__(self, target: S3Target) -> None:
        self.target = target
        self.client: Any = target.client
        self._versioning: str | None = None

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return call_with_retries(fn, policy=self.target.retry, retryable=is_transient)
        except Exception as exc:
            why = explain(exc, bucket=self.target.bucket)
            raise TargetError(f"{self.target.name}: {what} failed: {why}") from exc

    def kept_manifests(self) -> list[tuple[bytes, datetime | None]]:
        """Every version of the live manifest, with the time it was written."""
        key = self.target.prefix + MANIFEST_PATH
        found = []
        for where, written in self._versions(key):
            body = self._call(f"read of {MANIFEST_PATH}", partial(self._get_body, where))
            found.append((body, written))
        return found

    def find(self, path: str, sha256: str) -> bytes | None:
        key = self.target.prefix + path
        for where, _ in self._versions(key):
            head = self._call(f"metadata read of {path}", partial(self.client.head_object, **where))
            if dict(head.get("Metadata", {})).get("sha256") != sha256:
                continue
            got = self._call(f"read of {path}", partial(self._get_body, where))
            if (data := _checked(got, sha256)) is not None:
                return data
        return None

    def _get_body(self, where: dict[str, str]) -> bytes:
        return decoded_body(self.client.get_object(**where))  # kept manifests are gzip-encoded

    def _versions(self, key: str) -> list[tuple[dict[str, str], datetime | None]]:
        """GetObject arguments and write time of each version of exactly ``key``, newest first
        (S3 lists them that way). The current object of an unversioned bucket has version
        "null": asked for without a version id (some S3-compatible stores refuse "null")."""

        def listing() -> list[tuple[dict[str, str], datetime | None]]:
            pages = self.client.get_paginator("list_object_versions").paginate(
                Bucket=self.target.bucket, Prefix=key
            )
            found = [v for page in pages for v in page.get("Versions", []) if v["Key"] == key]
            return [
                (_version_args(self.target.bucket, key, v), v.get("LastModified")) for v in found
            ]

        return self._call(f"version listing of {key}", listing)

    def versioning(self) -> str:
        """The bucket's versioning status: Enabled, Suspended or "" (never enabled)."""
        if self._versioning is None:
            answer = self._call(
                "GetBucketVersioning",
                lambda: self.client.get_bucket_versioning(Bucket=self.target.bucket),
            )
            self._versioning = str(answer.get("Status", ""))
        return self._versioning

    def why_missing(self) -> str:
        if self.versioning() != "Enabled":
            return (
                f"Versioning is {self.versioning().lower() or 'off'} on bucket "
                f"{self.target.bucket}, so S3 kept no old bytes. Enable it (sitegen infra "
                "cloudformation does; `aws s3api put-bucket-versioning --bucket "
                f"{self.target.bucket} --versioning-configuration Status=Enabled`): every "
                "later publish can then be rolled back."
            )
        return (
            "Bucket versioning is on, but these versions are gone (uploaded before versioning "
            "was enabled, or expired by a lifecycle rule on noncurrent versions)."
        )


def _version_args(bucket: str, key: str, version: dict[str, Any]) -> dict[str, str]:
    args = {"Bucket": bucket, "Key": key}
    if not (version["VersionId"] == "null" and version.get("IsLatest")):
        args["VersionId"] = str(version["VersionId"])
    return args
