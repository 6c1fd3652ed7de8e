"""``s3://BUCKET[/PREFIX]`` target (boto3; credentials from the standard chain; honours
``AWS_ENDPOINT_URL`` so tests and S3-compatible stores can point it elsewhere).

Every object gets Content-Type (with charset, from the manifest), Cache-Control and our sha256 in
``x-amz-meta-sha256`` (ETag is no MD5 for multipart or KMS uploads). The manifest is stored
gzip-encoded (``Content-Encoding: gzip``; its sha256 is of the decoded bytes): every publish
reads and writes it whole, and it grows with the site (see ``publish.aws.GZIP_LEVEL``). The lock
is a conditional write (``If-None-Match: *``); releasing or breaking it is a conditional delete
(``If-Match``), so we never remove a lock somebody else took in the meantime.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from publish.aws import (
    client_config,
    decoded_body,
    encode_gzip,
    error_code,
    explain,
    http_status,
    is_transient,
    make_client,
)
from publish.manifest import MANIFEST_PATH, STATE_PREFIX
from publish.parallel import Pool
from publish.retry import RetryPolicy, call_with_retries
from publish.targets.base import LOCK_PATH, Listed, ObjectMeta, StoredObject, TargetError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

T = TypeVar("T")
_DELETE_BATCH = 1000  # DeleteObjects limit
_EXPECT_FROM = 1024 * 1024  # bodies above this still ask "100-continue" before sending
_LOCK_TAKEN = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_GZIPPED = frozenset({MANIFEST_PATH})  # stored with Content-Encoding: gzip (see publish.aws)
# The IAM action behind each operation (by the first word of its name), for the advice
# when one is denied.
_ACTIONS = {
    "lock": "s3:PutObject",
    "upload": "s3:PutObject",
    "read": "s3:GetObject",
    "metadata": "s3:GetObject",
    "listing": "s3:ListBucket",
    "delete": "s3:DeleteObject",
}


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ("bucket", "some/prefix/"); prefix "" for the bucket root."""
    rest = url.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class S3Target:
    """Publish into an S3 bucket (optionally under a key prefix)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        retry: RetryPolicy | None = None,
        max_pool: int = 16,
        botocore_attempts: int = 3,
        client: S3Client | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.name = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.retry = retry or RetryPolicy()
        self.max_pool = max_pool
        self._client: S3Client = client or make_client(
            "s3", client_config(max_pool, botocore_attempts)
        )
        self._sent = 0
        self._sent_lock = threading.Lock()
        self._lock_etag: str | None = None
        self._client.meta.events.register("before-send.s3", self._count_request)
        self._client.meta.events.register("before-send.s3.PutObject", _no_expect_for_small_bodies)

    def _count_request(self, **_: Any) -> None:
        # Counts every HTTP attempt, botocore's own retries included. Must return None.
        with self._sent_lock:
            self._sent += 1

    @property
    def requests(self) -> int:
        return self._sent

    @property
    def client(self) -> S3Client:
        """The boto3 client (requests through it are counted too); for history and doctor."""
        return self._client

    def _key(self, path: str) -> str:
        return self.prefix + path

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return call_with_retries(fn, policy=self.retry, retryable=is_transient)
        except Exception as exc:
            if isinstance(exc, TargetError):
                raise
            why = explain(exc, action=_ACTIONS.get(what.split()[0], ""), bucket=self.bucket)
            raise TargetError(f"{self.name}: {what} failed: {why}") from exc

    def put(self, path: str, body: bytes, meta: ObjectMeta) -> None:
        metadata = {"sha256": meta.sha256, **meta.extra}  # of `body`, however it is stored
        encoding: dict[str, Any] = {}
        if path in _GZIPPED:
            body = encode_gzip(body)
            encoding["ContentEncoding"] = "gzip"
        self._call(
            f"upload of {path}",
            lambda: self._client.put_object(
                Bucket=self.bucket,
                Key=self._key(path),
                Body=body,
                ContentType=meta.content_type,
                CacheControl=meta.cache_control,
                Metadata=metadata,
                **encoding,
            ),
        )

    def delete(self, paths: Sequence[str]) -> None:
        for start in range(0, len(paths), _DELETE_BATCH):
            batch = [{"Key": self._key(p)} for p in paths[start : start + _DELETE_BATCH]]
            response = self._call(
                f"delete of {len(batch)} objects",
                lambda b=batch: self._client.delete_objects(  # type: ignore[misc]
                    Bucket=self.bucket, Delete={"Objects": b, "Quiet": True}
                ),
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise TargetError(
                    f"{self.name}: {len(errors)} deletes refused, first {first.get('Key')}: "
                    f"{first.get('Code')} {first.get('Message', '')}"
                )

    def read(self, path: str) -> StoredObject | None:
        return self.read_key(self._key(path), f"read of {path}")

    def read_key(self, key: str, what: str = "") -> StoredObject | None:
        """``read`` of any key of the bucket: publish/layout.py reads the manifest of the site
        at the host's root beside a site under a path. Only ever a read."""

        def get() -> StoredObject | None:
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) in ("NoSuchKey", "404") or http_status(exc) == 404:
                    return None
                raise
            meta = _meta(response)
            return StoredObject(
                body=decoded_body(response),
                meta=meta,
                etag=response["ETag"],
                modified=response.get("LastModified"),
            )

        return self._call(what or f"read of s3://{self.bucket}/{key}", get)

    def list(self) -> Iterator[Listed]:
        keys = self._call("listing", self._list_keys)
        pool = Pool(self._head, keys, self.max_pool)
        try:
            yield from pool.in_order()
        finally:  # stopped (Ctrl-C): the reads in flight are left to end with the process
            pool.stop(0)

    def _list_keys(self) -> Sequence[tuple[str, int]]:
        keys: list[tuple[str, int]] = []
        paginator = self._client.get_paginator("list_objects_v2")
        state = self._key(STATE_PREFIX)
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            keys.extend(
                (obj["Key"], obj["Size"])
                for obj in page.get("Contents", [])
                if not obj["Key"].startswith(state)
            )
        return keys

    def _head(self, key_size: tuple[str, int]) -> Listed:
        key, size = key_size
        response = self._call(
            f"metadata read of {key}",
            lambda: self._client.head_object(Bucket=self.bucket, Key=key),
        )
        return Listed(path=key[len(self.prefix) :], size=size, meta=_meta(response))

    def lock(self, body: bytes) -> StoredObject | None:
        def create() -> str | None:
            try:
                response = self._client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(LOCK_PATH),
                    Body=body,
                    IfNoneMatch="*",
                    ContentType="application/json; charset=utf-8",
                    CacheControl="no-store",
                )
            except ClientError as exc:
                if error_code(exc) in _LOCK_TAKEN or http_status(exc) in (409, 412):
                    return None
                raise
            return response["ETag"]

        for _ in range(3):  # 409: another conditional write raced ours; look again
            etag = self._call("lock", create)
            if etag is not None:
                self._lock_etag = etag
                return None
            held = self.read(LOCK_PATH)
            if held is not None and held.body == body:
                # our own write: it went through, but its answer was lost and the retry met
                # the lock it had made (each body carries a random nonce, so no one else's)
                self._lock_etag = held.etag
                return None
            if held is not None:
                return held
        raise TargetError(f"{self.name}: could not take or read the lock {LOCK_PATH}")

    def relock(self, body: bytes) -> bool:
        if self._lock_etag is None:
            return False  # not ours: nothing asked
        self._lock_etag = self._replace_lock(self._lock_etag, body)
        return self._is_ours(body)

    def take_over(self, seen: StoredObject, body: bytes) -> bool:
        self._lock_etag = self._replace_lock(seen.etag, body)
        return self._is_ours(body)

    def _is_ours(self, body: bytes) -> bool:
        """After a conditional write of the lock: refused, it may still be ours (our write
        went through, its answer was lost, the retry met a 412, as in lock): read it back.
        A renewal every 30 s (publish/lease.py) meets this far more often than one write."""
        if self._lock_etag is None and (now := self.read(LOCK_PATH)) is not None:
            self._lock_etag = now.etag if now.body == body else None
        return self._lock_etag is not None

    def _replace_lock(self, etag: str, body: bytes) -> str | None:
        """Write the lock only if it is still ``etag``: its new etag, or None when it was not."""

        def replace() -> str | None:
            try:
                response = self._client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(LOCK_PATH),
                    Body=body,
                    IfMatch=etag,
                    ContentType="application/json; charset=utf-8",
                    CacheControl="no-store",
                )
            except ClientError as exc:
                if _precondition_lost(exc):
                    return None
                raise
            return str(response["ETag"])

        return self._call("lock update", replace)

    def unlock(self) -> bool:
        if self._lock_etag is None:
            return False
        ok = self._delete_if_match(LOCK_PATH, self._lock_etag)
        self._lock_etag = None
        return ok

    def break_lock(self, seen: StoredObject) -> None:
        self._delete_if_match(LOCK_PATH, seen.etag)

    def _delete_if_match(self, path: str, etag: str) -> bool:
        def delete() -> bool:
            try:
                self._client.delete_object(Bucket=self.bucket, Key=self._key(path), IfMatch=etag)
            except ClientError as exc:
                if _precondition_lost(exc):
                    return False
                raise
            return True

        return self._call(f"delete of {path}", delete)


def _no_expect_for_small_bodies(request: Any, **_: Any) -> None:
    """Send a small upload in one round trip instead of two.

    botocore asks for ``Expect: 100-continue`` on every PutObject: the client sends the headers,
    waits for the server's "100 Continue", then sends the body. That only pays off for large
    bodies the server might refuse; our files are a few KB, so the wait is a wasted round trip
    per upload (per alert page, per CAP file). Large bodies keep it. The header is not signed, so
    dropping it here (after signing) is safe. Must return None: a value would replace the send.
    """
    length = request.headers.get("Content-Length")
    if length is not None and int(length) <= _EXPECT_FROM:
        request.headers.pop("Expect", None)


def _meta(response: Any) -> ObjectMeta:
    metadata = {str(k).lower(): str(v) for k, v in dict(response.get("Metadata", {})).items()}
    sha = metadata.pop("sha256", "")
    return ObjectMeta(
        content_type=str(response.get("ContentType", "")),
        cache_control=str(response.get("CacheControl", "")),
        sha256=sha,
        extra=metadata,
    )


def _precondition_lost(exc: ClientError) -> bool:
    """A conditional write or delete found the object gone or no longer the one we meant."""
    return error_code(exc) in ("PreconditionFailed", "NoSuchKey") or http_status(exc) in (404, 412)
