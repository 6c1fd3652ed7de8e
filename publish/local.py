"""Read the built bundle (``public/`` + ``.sitegen/manifest.json``) and check it is complete."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from publish.manifest import MANIFEST_PATH, Entry, Manifest, ManifestError, parse_manifest
from sitegen.errors import PublishError


class Bundle(Protocol):
    """What planning and publishing need of a bundle: its files, its manifest, their bytes.
    ``LocalState`` (public/) is one; a rollback's kept state (publish/rollback.py) another."""

    @property
    def files(self) -> Mapping[str, Entry]: ...

    @property
    def id(self) -> str:
        """What the plan and records of owed work go by: the manifest sha256 for a build (a
        rollback's is its own: rollback_reference). Not the CDN reference, each run's own."""
        ...

    @property
    def manifest_bytes(self) -> bytes: ...

    def read(self, path: str) -> bytes:
        """The bytes of one listed file, checked against its sha256."""
        ...


@dataclass(frozen=True, slots=True)
class LocalState:
    """The bundle to publish: its manifest (parsed and raw) and where its files are."""

    root: Path
    manifest: Manifest
    manifest_bytes: bytes

    @property
    def files(self) -> Mapping[str, Entry]:
        return self.manifest.files

    @property
    def id(self) -> str:
        return self.manifest.id

    def read(self, path: str) -> bytes:
        """The file's bytes, checked against the manifest's sha256 (the bundle must not change
        between planning and uploading)."""
        data = (self.root / path).read_bytes()
        if hashlib.sha256(data).hexdigest() != self.files[path].sha256:
            raise PublishError(
                f"{self.root / path}: changed since the manifest was written. "
                "Rebuild (or let publish build) and publish again."
            )
        return data


def read_local(bundle_dir: Path, *, just_built: bool = False) -> LocalState:
    """Read and validate ``bundle_dir``'s manifest; every listed file must exist with its size.
    ``just_built``: a build of this process has just returned, which wrote or checked every
    file of the bundle (sitegen.build stats them all): they are not stat'ed again (~60 ms at
    10,000 alerts). Each file that is uploaded is still checked against its sha256."""
    manifest_file = bundle_dir / MANIFEST_PATH
    try:
        raw = manifest_file.read_bytes()
    except FileNotFoundError:
        raise PublishError(
            f"{manifest_file}: no manifest, so {bundle_dir} is not a built site. "
            "Run `sitegen build` first (or publish without --no-build)."
        ) from None
    try:
        manifest = parse_manifest(raw)
    except ManifestError as exc:
        raise PublishError(f"{manifest_file}: {exc}. Rebuild the site.") from exc
    problems = [] if just_built else _missing_files(bundle_dir, manifest)
    if problems:
        more = f"\n(and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise PublishError(
            f"{bundle_dir}: the bundle does not match its manifest:\n"
            + "\n".join(problems[:10])
            + more
            + "\nRebuild the site before publishing."
        )
    return LocalState(root=bundle_dir, manifest=manifest, manifest_bytes=raw)


def _missing_files(root: Path, manifest: Manifest) -> list[str]:
    problems: list[str] = []
    base = f"{root}{os.sep}"  # string joins: a Path per file costs more than the stat itself
    for path, entry in manifest.files.items():
        try:
            size = os.stat(base + path).st_size
        except FileNotFoundError:
            problems.append(f"{path}: listed in the manifest but missing")
            continue
        if size != entry.size:
            problems.append(f"{path}: {size} bytes on disk, {entry.size} in the manifest")
    return problems
