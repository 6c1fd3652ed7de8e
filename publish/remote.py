"""What is published now: one GET of the remote manifest, or a listing when that cannot be trusted.

The remote manifest is the local manifest of the last complete publish, uploaded byte for byte.
Fallbacks, each said in the plan:
- no manifest (first publish, or someone emptied it) → listing (+ our sha256 metadata);
- corrupt manifest → listing (the objects are the truth; this publish rewrites the manifest);
- manifest of a newer format → error, unless ``--verify`` (then the listing decides);
- ``--verify`` → listing, whatever the manifest says.
A manifest carrying the ``pending`` flag means a previous publish stopped after its manifest
upload; ``.sitegen/pending.json`` then says which invalidations and deletes it still owes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from publish.manifest import (
    MANIFEST_PATH,
    STATE_PREFIX,
    Entry,
    FutureFormatError,
    ManifestError,
    parse_manifest,
)
from publish.targets.base import PENDING_PATH, Target, TargetError
from sitegen.errors import PublishError

PENDING_FLAG = "pending"
Source = Literal["manifest", "listing"]


@dataclass(frozen=True, slots=True)
class Pending:
    """Work a stopped publish still owes: CDN paths to invalidate, objects to delete."""

    manifest_id: str
    invalidate: tuple[str, ...]
    delete: tuple[str, ...]

    def to_json(self) -> bytes:
        doc = {"manifest_id": self.manifest_id, "invalidate": sorted(self.invalidate),
               "delete": sorted(self.delete)}
        return (json.dumps(doc, sort_keys=True, indent=1) + "\n").encode()


@dataclass(frozen=True, slots=True)
class RemoteState:
    """The published objects as far as we can tell, and how we found out."""

    target: str
    files: Mapping[str, Entry]
    source: Source
    note: str  # one line for the plan: where the state came from and why
    manifest_id: str | None  # sha256 of the remote manifest, when read
    pending: Pending | None
    requests: int  # requests spent reading this state


def read_remote(target: Target, *, verify: bool = False) -> RemoteState:
    """Read the remote state with as few requests as possible (see module docstring)."""
    before = target.requests
    try:
        if verify:
            return _from_listing(target, before, "--verify: listed every object and its sha256")
        return _from_manifest(target, before)
    except TargetError as exc:
        raise PublishError(
            f"Could not read what is published on {target.name}: {exc}\n"
            "Nothing was changed. Check credentials and network, then run publish again."
        ) from exc


def _from_manifest(target: Target, before: int) -> RemoteState:
    stored = target.read(MANIFEST_PATH)
    if stored is None:
        return _from_listing(target, before, "no remote manifest: listed every object instead")
    try:
        manifest = parse_manifest(stored.body)
    except FutureFormatError as exc:
        raise PublishError(
            f"{target.name}/{MANIFEST_PATH}: {exc}; it was published by a newer sitegen. "
            "Upgrade sitegen, or run publish --verify to rebuild the state from a listing "
            "(this downgrades the remote manifest)."
        ) from exc
    except ManifestError as exc:
        return _from_listing(
            target, before, f"remote manifest is corrupt ({exc}): listed every object instead"
        )
    pending = _read_pending(target) if stored.meta.extra.get(PENDING_FLAG) else None
    note = f"remote manifest {manifest.id[:12]} ({len(manifest.files)} files)"
    if pending is not None:
        note += "; a previous publish left work to finish"
    return RemoteState(
        target=target.name, files=manifest.files, source="manifest", note=note,
        manifest_id=manifest.id, pending=pending, requests=target.requests - before,
    )


def _from_listing(target: Target, before: int, why: str) -> RemoteState:
    files: dict[str, Entry] = {}
    has_pending = False
    for obj in target.list():
        if obj.path == PENDING_PATH:
            has_pending = True
        if obj.path.startswith(STATE_PREFIX):
            continue
        meta = obj.meta
        files[obj.path] = Entry(meta.sha256, obj.size, meta.content_type, meta.cache_control)
    pending = _read_pending(target) if has_pending else None
    return RemoteState(
        target=target.name, files=MappingProxyType(dict(sorted(files.items()))),
        source="listing", note=f"{why} ({len(files)} objects)", manifest_id=None,
        pending=pending, requests=target.requests - before,
    )


def _read_pending(target: Target) -> Pending | None:
    stored = target.read(PENDING_PATH)
    if stored is None:
        return None
    try:
        doc = json.loads(stored.body)
        return Pending(
            manifest_id=str(doc["manifest_id"]),
            invalidate=tuple(str(p) for p in doc["invalidate"]),
            delete=tuple(str(p) for p in doc["delete"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PublishError(
            f"{target.name}/{PENDING_PATH}: unreadable ({exc}). Delete it and run publish "
            "--verify; then invalidate the site on your CDN by hand to be safe."
        ) from exc
