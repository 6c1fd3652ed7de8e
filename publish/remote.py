"""What is published now: one GET of the remote manifest, or a listing when that cannot be trusted.

The remote manifest is the local manifest of the last complete publish, uploaded byte for byte.
Fallbacks, each said in the plan:
- no manifest (first publish, or someone emptied it) → listing (+ our sha256 metadata);
- corrupt manifest → listing (the objects are the truth; this publish rewrites the manifest);
- manifest of a newer format → error, unless ``--verify`` (then the listing decides);
- ``--verify`` → listing, whatever the manifest says.
Work a previous publish still owes (invalidations, deletes) is not read here: it lives in the
lock object (publish/lock.py), which the next publish reads anyway when it finds it taken.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from publish.manifest import (
    MANIFEST_PATH,
    STATE_PREFIX,
    Entry,
    FutureFormatError,
    ManifestError,
    manifest_id,
    parse_manifest,
)
from publish.targets.base import Target, TargetError
from sitegen.errors import PublishError

Source = Literal["manifest", "listing"]
OWED_META = "owed"  # manifest metadata key: the work owed after it (see publish/lock.py)
OWED_META_MAX = 1800  # bytes; S3's user metadata is limited to 2 KB in all
REFERENCE_CHARS = 24  # hex digits of a publish run's CDN reference (apply.run_reference)
ROLLED_BACK_META = "rolled-back"  # manifest metadata key: put by `sitegen rollback`, at (ISO)
# what the rollback replaced, put just before its manifest: {"to": manifest id, "undone":
# {path: sha256 online before the rollback, "" when it was absent}}; read only after a rollback
ROLLED_BACK_PATH = ".sitegen/rolled-back.json"


@dataclass(frozen=True, slots=True)
class Pending:
    """Work a stopped publish still owes: CDN paths to invalidate, objects to delete, and
    ``unsure``: paths it sent before stopping ahead of its manifest, whose bytes online the
    live manifest no longer describes (the next publish re-sends or deletes each).
    ``reference``: the CDN reference of the run that owes it (apply.run_reference), which a
    run resuming it for the same manifest sends again; "" in records of sitegen before
    2026-12-07, whose runs sent the manifest id (``cdn_reference``).
    ``put``: of ``unsure``, the uploads the target acknowledged, with the entry each put
    (the next publish counts them online, re-sending only the others); valid only while the
    live manifest is ``online`` (the manifest id the run read, None: a listing). ``unsure``
    keeps them too, so a sitegen that does not read ``put`` re-sends them, as it did.
    ``accepted``: per CDN name, the paths of ``invalidate`` it already accepted; a CDN not
    named (every CDN, in a record of sitegen before 2026-12-08) is owed them all."""

    manifest_id: str
    invalidate: tuple[str, ...]
    delete: tuple[str, ...]
    unsure: tuple[str, ...] = ()
    reference: str = ""
    put: Mapping[str, Entry] = field(default_factory=dict)
    online: str | None = None
    accepted: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def cdn_reference(self) -> str:
        """What the run that owes this sends its CDNs as its reference."""
        return self.reference or self.manifest_id

    def owed_to(self, cdn: str) -> tuple[str, ...]:
        """The paths ``cdn`` has still to be sent."""
        done = set(self.accepted.get(cdn, ()))
        return tuple(p for p in self.invalidate if p not in done)

    def to_doc(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "manifest_id": self.manifest_id,
            "invalidate": sorted(self.invalidate),
            "delete": sorted(self.delete),
        }
        if self.reference:
            doc["reference"] = self.reference
        if self.unsure:  # only in a lock: never after a manifest, which confirms them
            doc["unsure"] = sorted(self.unsure)
        if self.put:
            doc["put"] = {
                p: [e.sha256, e.size, e.content_type, e.cache_control]
                for p, e in sorted(self.put.items())
            }
            doc["online"] = self.online
        accepted = {cdn: sorted(paths) for cdn, paths in sorted(self.accepted.items()) if paths}
        if accepted:
            doc["accepted"] = accepted
        return doc

    @classmethod
    def from_doc(cls, doc: object) -> Pending:
        """Parse ``to_doc``'s shape; ValueError when it is not that."""
        if not isinstance(doc, dict):
            raise ValueError("owed work is not an object")
        try:
            online = doc.get("online")
            return cls(
                str(doc["manifest_id"]),
                tuple(str(p) for p in doc["invalidate"]),
                tuple(str(p) for p in doc["delete"]),
                tuple(str(p) for p in doc.get("unsure", ())),
                str(doc.get("reference", "")),
                {str(p): _put_entry(e) for p, e in doc.get("put", {}).items()},
                online if isinstance(online, str) else None,
                {str(c): tuple(str(p) for p in ps) for c, ps in doc.get("accepted", {}).items()},
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"owed work is malformed ({exc})") from exc

    def to_meta(self) -> str:
        """Compact ASCII JSON for object metadata (S3 allows 2 KB of user metadata)."""
        return json.dumps(self.to_doc(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_meta(cls, text: str | None) -> Pending | None:
        if not text:
            return None
        try:
            return cls.from_doc(json.loads(text))
        except ValueError:
            return None  # unreadable: the next publish re-plans from the manifest anyway

    def trusted(self, live: str | None) -> Pending:
        """This record for a publish that found manifest ``live`` online: its ``put`` kept only
        when that is the manifest the stopped run found (nothing else wrote since; a listing,
        None, never vouches for it), else dropped, so those paths are re-sent."""
        if not self.put or (live is not None and live == self.online):
            return self
        return replace(self, put={}, online=None)

    def merged(self, other: Pending | None) -> Pending:
        """This run's record over ``other``, the one it took over: a path this run began to
        send is as this run left it (put, or unsure), whatever ``other`` said of it; a CDN
        owes what either record says it owes."""
        if other is None:
            return self
        invalidate = tuple(sorted({*self.invalidate, *other.invalidate}))
        cdns = {*self.accepted, *other.accepted}
        owed = {c: {*self.owed_to(c), *other.owed_to(c)} for c in cdns}
        began = set(self.unsure)
        return Pending(
            self.manifest_id,
            invalidate,
            tuple(sorted({*self.delete, *other.delete})),
            tuple(sorted({*self.unsure, *other.unsure})),
            self.reference,
            {**{p: e for p, e in other.put.items() if p not in began}, **self.put},
            self.online,
            {c: tuple(p for p in invalidate if p not in owed[c]) for c in sorted(cdns)},
        )


def _put_entry(row: object) -> Entry:
    """An entry of ``Pending.put``: [sha256, size, content type, cache control]."""
    if not isinstance(row, list) or len(row) != 4 or not isinstance(row[1], int):
        raise TypeError(f"an upload recorded as {row!r}")
    return Entry(str(row[0]), row[1], str(row[2]), str(row[3]))


@dataclass(frozen=True, slots=True)
class RemoteState:
    """The published objects as far as we can tell, and how we found out."""

    target: str
    files: Mapping[str, Entry]
    source: Source
    note: str  # one line for the plan: where the state came from and why
    manifest_id: str | None  # sha256 of the remote manifest, when read
    requests: int  # requests spent reading this state
    pending: Pending | None = None  # owed by a stopped publish (from the lock, see lock.py)
    # work the publish that wrote this manifest owed after it (its metadata); only owed still
    # when that publish died before finishing, which the lock tells (see lock.py)
    manifest_owed: Pending | None = None
    # when the live manifest was put by `sitegen rollback` (ISO instant), else None: the next
    # publish from content/ would undo it, so it is refused until --force (plan._refusals)
    rolled_back: str | None = None
    # what that rollback replaced (ROLLED_BACK_PATH), by path: the sha256 online before it,
    # "" for a path it restored that was absent; None when unknown (then any change refuses)
    undone: Mapping[str, str] | None = None
    # objects a listing found without our sha256 metadata: not published by sitegen (another
    # site, backups, hand uploads). Never deleted; replaced only when the bundle has the path.
    foreign: tuple[str, ...] = ()
    # False only when there is no remote manifest at all: nothing says sitegen published here,
    # so replacing a foreign object needs --force (plan.py)
    published_before: bool = True
    # prefixes ("emergency/") below the target holding another sitegen site (its own
    # manifest): a listing counts their objects among the foreign, never deleted
    other_sites: tuple[str, ...] = ()
    # what is wrong with the published state, said in every publish's output (not only in
    # the plan, which a publish does not print): a damaged manifest, replaced by a listing
    warning: str = ""


def read_remote(
    target: Target, *, verify: bool = False, known: Mapping[str, Entry] | None = None
) -> RemoteState:
    """Read the remote state with as few requests as possible (see module docstring).
    ``known``: the local bundle's entries, which most remote rows equal (parse_manifest)."""
    before = target.requests
    try:
        if verify:
            return _from_listing(
                target, before, "--verify: listed every object and its sha256", first=False
            )
        return _from_manifest(target, before, known)
    except TargetError as exc:
        raise PublishError(  # the target error names the target: not twice
            f"Could not read what is published: {exc}\n"
            "Nothing was changed; fix that, then run publish again."
        ) from exc


def _from_manifest(target: Target, before: int, known: Mapping[str, Entry] | None) -> RemoteState:
    stored = target.read(MANIFEST_PATH)
    if stored is None:
        return _from_listing(
            target, before, "no remote manifest: listed every object instead", first=True
        )
    try:
        manifest = parse_manifest(stored.body, known)
    except FutureFormatError as exc:
        raise PublishError(
            f"{target.name}/{MANIFEST_PATH}: {exc}; it was published by a newer sitegen. "
            "Upgrade sitegen, or run publish --verify to rebuild the state from a listing "
            "(this downgrades the remote manifest)."
        ) from exc
    except ManifestError as exc:
        listed = _from_listing(
            target,
            before,
            f"remote manifest is corrupt ({exc}): listed every object instead",
            first=False,
        )
        # a damaged body keeps its metadata: a rollback's mark still refuses what undoes it
        # (its record names the intact manifest, so every change is refused until --force)
        rolled_back = stored.meta.extra.get(ROLLED_BACK_META)
        return replace(
            listed,
            rolled_back=rolled_back,
            undone=_undone(target, manifest_id(stored.body)) if rolled_back else None,
            warning=(
                f"the manifest of what is published ({target.name}/{MANIFEST_PATH}) was "
                f"damaged ({exc}): this publish listed every object instead, took what the "
                "listing found as what is published (the deletes within --max-deletes), and "
                "wrote a good manifest"
            ),
        )
    note = f"remote manifest {manifest.id[:12]} ({len(manifest.files)} files)"
    return RemoteState(
        target=target.name,
        files=manifest.files,
        source="manifest",
        note=note,
        manifest_id=manifest.id,
        requests=target.requests - before,
        manifest_owed=Pending.from_meta(stored.meta.extra.get(OWED_META)),
        rolled_back=(rolled_back := stored.meta.extra.get(ROLLED_BACK_META)),
        undone=_undone(target, manifest.id) if rolled_back else None,
    )


def _undone(target: Target, manifest_id: str) -> Mapping[str, str] | None:
    """What the rollback that put manifest `manifest_id` online replaced (ROLLED_BACK_PATH),
    or None when its record is missing, damaged or another rollback's."""
    stored = target.read(ROLLED_BACK_PATH)
    try:
        record = json.loads(stored.body) if stored is not None else None
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("to") != manifest_id:
        return None
    undone = record.get("undone")
    if not isinstance(undone, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in undone.items()
    ):
        return None
    return undone


def rollback_record(manifest_id: str, undone: Mapping[str, str]) -> bytes:
    """ROLLED_BACK_PATH's body for a rollback to `manifest_id` that replaced `undone`."""
    return json.dumps({"to": manifest_id, "undone": dict(undone)}, sort_keys=True).encode()


def _from_listing(target: Target, before: int, why: str, *, first: bool) -> RemoteState:
    """The objects as listed. One without our sha256 metadata was not published by sitegen
    (a first publish into a folder or prefix that holds something else): it is ``foreign``,
    never planned for deletion, so a wrong --target cannot wipe what is there."""
    files: dict[str, Entry] = {}
    foreign: list[str] = []
    listed = list(target.list())
    # Another site published below this one (moving a site between the host's root and a
    # base path leaves both): its objects carry our sha256 too, but are its own.
    nested = tuple(
        sorted(
            {
                obj.path.removesuffix(MANIFEST_PATH)
                for obj in listed
                if obj.path.endswith("/" + MANIFEST_PATH)
            }
        )
    )
    for obj in listed:
        if obj.path.startswith(STATE_PREFIX):
            continue
        meta = obj.meta
        if not meta.sha256 or obj.path.startswith(nested):
            foreign.append(obj.path)
            continue
        files[obj.path] = Entry(meta.sha256, obj.size, meta.content_type, meta.cache_control)
    others = f", {len(foreign)} not published by sitegen" if foreign else ""
    if nested:
        others += f" or by the sitegen site{'s' if len(nested) > 1 else ''} under " + ", ".join(
            nested
        )
    return RemoteState(
        target=target.name,
        files=MappingProxyType(dict(sorted(files.items()))),
        source="listing",
        note=f"{why} ({len(files) + len(foreign)} objects{others})",
        manifest_id=None,
        requests=target.requests - before,
        foreign=tuple(sorted(foreign)),
        published_before=not first,
        other_sites=nested,
    )
