"""The ``Target`` seam: a bucket-like store of objects with headers and our sha256.

S3 and the local folder implement it. Paths are bundle-relative ("alerts/x/index.html");
the target maps them to keys (S3 prefix) or files. Targets retry transient failures themselves
and raise ``TargetError`` once they give up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

LOCK_PATH = ".sitegen/lock"


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """Headers and metadata stored with an object. ``extra`` holds our other flags
    (e.g. ``pending``); keys are lower-case ASCII."""

    content_type: str
    cache_control: str
    sha256: str
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object read back in full; ``etag`` is opaque (used only for conditional writes)."""

    body: bytes
    meta: ObjectMeta
    etag: str
    modified: datetime | None = None  # when the store last wrote it (the lock's age fallback)


@dataclass(frozen=True, slots=True)
class Listed:
    """One object seen in a listing, with its metadata (sha256 "" when it has none)."""

    path: str
    size: int
    meta: ObjectMeta


class TargetError(Exception):
    """A target operation failed after retries; the message names the operation and the path."""


class Target(Protocol):
    """Where the bundle is published."""

    name: str  # for messages: "s3://bucket/prefix" or "folder:/abs/path" (never credentials)

    @property
    def requests(self) -> int:
        """Network requests (S3: HTTP attempts, retries included) or file operations so far."""
        ...

    def put(self, path: str, body: bytes, meta: ObjectMeta) -> None:
        """Store the object atomically: readers see the old or the new one, never a mix."""
        ...

    def delete(self, paths: Sequence[str]) -> None:
        """Delete these objects (batched); missing ones are not an error."""
        ...

    def read(self, path: str) -> StoredObject | None:
        """One GET: body and metadata, or None when there is no such object."""
        ...

    def list(self) -> Iterator[Listed]:
        """Every object under the target with its metadata (costly: used only as a fallback),
        except the publisher's own state under ``.sitegen/`` (lock, manifest, what rollback
        keeps), which is never compared with a bundle: not one metadata read for it."""
        ...

    def lock(self, body: bytes) -> StoredObject | None:
        """Create ``LOCK_PATH`` only if absent. None when we got it, else the current lock
        (its body names the holder)."""
        ...

    def relock(self, body: bytes) -> bool:
        """Replace the body of the lock we hold (the record of owed work); False when it is no
        longer ours."""
        ...

    def unlock(self) -> bool:
        """Remove our lock; False when it is no longer ours (someone broke it)."""
        ...

    def break_lock(self, seen: StoredObject) -> None:
        """Remove the lock we saw (and only that one, if the store can tell)."""
        ...

    def take_over(self, seen: StoredObject, body: bytes) -> bool:
        """Replace the lock we saw (and only that one) with ours, ``body``, in one write: the
        record of owed work it held is never absent from the store. False when it changed."""
        ...
