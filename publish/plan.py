"""Diff the bundle against the remote state: a pure function from data to a printable Plan.

``str(plan)`` is the ``--dry-run`` text and ``plan.to_json()`` the ``--json`` form. Nothing here
touches the network, so every case is a fast table-driven test.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Literal

from publish.cdn.base import Invalidator
from publish.local import Bundle
from publish.manifest import STATE_PREFIX, Entry
from publish.remote import OWED_META_MAX, REFERENCE_CHARS, Pending, RemoteState
from sitegen.errors import plural

Reason = Literal["new", "changed", "headers"]
# Publish groups (docs/architecture.md): assets → alerts → everything else → manifest. The
# last went up as "indexes, feeds, sitemap" and then the sitemap and the home page each alone
# (`apply.upload_batches`): the sitemap said twice. Its title names neither.
GROUP_TITLES = ("immutable assets", "alert pages and CAP", "other pages and files")
# `--json`'s keys for them (`Plan.to_json`'s "uploads"): the titles as they were when the JSON
# contract was set, kept when a title changes, as a script reading them expects.
GROUP_KEYS = ("immutable assets", "alert pages and CAP", "indexes, feeds, sitemap")
ALERTS_PREFIX = "alerts/"
_DELETE_BATCH = 1000
_SHOWN = 20  # per list in the human text; --json has everything


@dataclass(frozen=True, slots=True)
class Limits:
    """Safety limits checked before any write; ``force`` lifts them. ``over_rollback``: a
    rollback may replace what an earlier rollback put online (a publish needs ``force``, or
    ``put_back`` naming the alerts)."""

    max_deletes: int = 50
    force: bool = False
    over_rollback: bool = False
    # alerts a publish after a rollback may put back as it removed them (--put-back): one
    # that was right, removed with the wrong one; unlike --force, nothing else is lifted
    put_back: frozenset[str] = frozenset()
    # where max_deletes came from, for the refusal: the flag, or site.toml when not given
    max_deletes_flag: bool = True


@dataclass(frozen=True, slots=True)
class Upload:
    path: str
    entry: Entry
    reason: Reason  # new object, bytes changed, or only headers changed


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one publish will do, in order, and why."""

    target: str
    manifest_id: str
    remote_source: str
    remote_note: str
    remote_requests: int
    groups: tuple[tuple[Upload, ...], ...]  # one tuple per GROUP_TITLES entry
    write_manifest: bool
    deletes: tuple[str, ...]
    invalidations: tuple[str, ...]  # site-absolute URL paths, sorted
    cdns: tuple[str, ...]
    unchanged: int
    refusals: tuple[str, ...]  # non-empty: apply refuses (limits not lifted by --force)
    # objects sitegen did not publish (no sha256 metadata; seen only by a listing): those the
    # bundle replaces, and those left alone (never deleted)
    replaces_foreign: tuple[str, ...] = ()
    foreign_kept: tuple[str, ...] = ()
    forced: tuple[str, ...] = ()  # what would have been refused, let through by --force
    other_sites: tuple[str, ...] = ()  # prefixes of other sitegen sites below the target
    owed_invalidations: tuple[str, ...] = ()  # of ``invalidations``: owed by a stopped publish
    # per CDN name, the paths of ``invalidations`` it accepted from a stopped publish (and
    # this one does not change again): not sent to it again (``paths_for``)
    accepted: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # per CDN (in ``cdns`` order), what it is sent for ``invalidations`` (Invalidator.to_send)
    sent: tuple[tuple[str, tuple[str, ...]], ...] = ()
    put_back: tuple[str, ...] = ()  # alerts put back as a rollback removed them (--put-back)
    # --put-back names that hold nothing back (a typo, or no rollback to undo): said, not silent
    put_back_unused: tuple[str, ...] = ()

    @property
    def uploads(self) -> tuple[Upload, ...]:
        return tuple(u for group in self.groups for u in group)

    @property
    def upload_bytes(self) -> int:
        return sum(u.entry.size for u in self.uploads)

    @property
    def is_noop(self) -> bool:
        return not (self.uploads or self.deletes or self.write_manifest or self.invalidations)

    @property
    def cdn_paths(self) -> tuple[str, ...]:
        """Invalidation paths, or none when no CDN is configured."""
        return self.invalidations if self.cdns else ()

    def paths_for(self, cdn: str) -> tuple[str, ...]:
        """The invalidation paths ``cdn`` is sent: all but those it already accepted."""
        done = set(self.accepted.get(cdn, ()))
        return tuple(p for p in self.invalidations if p not in done)

    def estimate(self) -> dict[str, int]:
        """Requests this plan costs the target, beyond reading the remote state."""
        uploads = len(self.uploads)
        # work owed after the manifest (invalidations, deletes) rides in the manifest's metadata;
        # only when too big for it, one lock update records it. Old manifests are S3 versions.
        # with a run's reference (apply.run_reference), of fixed length
        owed = Pending(
            self.manifest_id,
            self.cdn_paths,
            self.deletes,
            reference="0" * REFERENCE_CHARS,
            accepted=self.accepted,
        )
        big = bool(self.cdn_paths or self.deletes) and len(owed.to_meta()) > OWED_META_MAX
        state = int(self.write_manifest) + int(big)
        deletes = -(-len(self.deletes) // _DELETE_BATCH)
        return {
            "lock": 2,
            "uploads": uploads,
            "state": state,
            "delete_batches": deletes,
            "target_total": 2 + uploads + state + deletes,
            "cdn_calls_each": 1 if self.cdn_paths else 0,
        }

    def __str__(self) -> str:
        return "\n".join(_describe(self))

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "manifest_id": self.manifest_id,
            "remote": {
                "source": self.remote_source,
                "note": self.remote_note,
                "requests": self.remote_requests,
            },
            "uploads": {
                title: [{"path": u.path, "reason": u.reason, "size": u.entry.size} for u in group]
                for title, group in zip(GROUP_KEYS, self.groups, strict=True)
            },
            "upload_bytes": self.upload_bytes,
            "write_manifest": self.write_manifest,
            "deletes": list(self.deletes),
            "invalidation_paths": list(self.invalidations),
            "invalidations": {cdn: list(items) for cdn, items in self.sent},
            "unchanged": self.unchanged,
            "refusals": list(self.refusals),
            "forced": list(self.forced),
            "put_back": list(self.put_back),
            "put_back_unused": list(self.put_back_unused),
            "foreign": {
                "replaced": list(self.replaces_foreign),
                "kept": list(self.foreign_kept),
                "other_sites": list(self.other_sites),
            },
            "estimate": self.estimate(),
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, indent=1)


def make_plan(
    local: Bundle,
    remote: RemoteState,
    limits: Limits,
    cdns: Sequence[Invalidator] = (),
    *,
    zone: tzinfo | None = None,
) -> Plan:
    """Compare sha256 AND size AND Content-Type AND Cache-Control of every file; derive the
    rest. Objects sitegen did not publish (``remote.foreign``) are never deleted. Each CDN
    says what it would be sent (``to_send``: no request). ``zone``: the site's timezone, for
    the times in refusals (None: this machine's)."""
    foreign = set(remote.foreign)
    pending = remote.pending
    online = _unsure(remote.files, pending) if pending else remote.files
    uploads = [u for path, e in local.files.items() if (u := _upload(path, e, online, foreign))]
    gone = set(online) | set(pending.delete if pending else ())
    deletes = tuple(sorted(gone - set(local.files)))
    fresh = set(_put_changed(remote.files, pending)) if pending else set()
    fresh.update(p for u in uploads if u.reason != "new" for p in _invalidation(u.path, u.entry))
    for path in deletes:  # pending deletes' paths are already in pending.invalidate
        if (old := online.get(path)) is not None:
            fresh.update(_invalidation(path, old))
    paths = fresh | set(pending.invalidate if pending else ())
    groups: list[list[Upload]] = [[] for _ in GROUP_TITLES]
    for upload in uploads:
        groups[group_of(upload.path)].append(upload)
    replaced = tuple(sorted(foreign.intersection(local.files)))
    refused = _refusals(local.files, deletes, remote, limits, replaced)
    back = _puts_back(uploads, deletes, remote.undone) if remote.rolled_back else []
    if remote.rolled_back and limits.over_rollback:
        back = []
    blocked = _not_named(back, limits.put_back)
    if remote.rolled_back and blocked:
        at = _instant_text(remote.rolled_back, zone)
        refused += (_undoes_rollback(at, blocked, set(deletes), remote.undone is None),)
    invalidations = tuple(sorted(paths))
    accepted = _accepted(pending, fresh) if pending else {}
    return Plan(
        target=remote.target,
        manifest_id=local.id,
        remote_source=remote.source,
        remote_note=remote.note,
        remote_requests=remote.requests,
        groups=tuple(tuple(g) for g in groups),
        # files a stopped run sent are described by no manifest until one goes up, even when
        # none is sent again (all were put)
        write_manifest=bool(uploads or deletes or (pending and pending.unsure))
        or remote.source != "manifest",
        deletes=deletes,
        invalidations=invalidations,
        cdns=tuple(cdn.name for cdn in cdns),
        unchanged=len(local.files) - len(uploads),
        refusals=() if limits.force else refused,
        forced=refused if limits.force else (),
        replaces_foreign=replaced,
        foreign_kept=tuple(sorted(foreign.difference(local.files))),
        other_sites=remote.other_sites,
        owed_invalidations=tuple(sorted(pending.invalidate)) if pending else (),
        accepted=accepted,
        sent=tuple(
            (cdn.name, cdn.to_send(_without(invalidations, accepted.get(cdn.name, ()))))
            for cdn in cdns
        ),
        put_back=() if blocked else tuple(alert_ids(back)),
        put_back_unused=tuple(sorted(limits.put_back.difference(alert_ids(back)))),
    )


def _unsure(files: Mapping[str, Entry], pending: Pending) -> Mapping[str, Entry]:
    """The remote entries, with the paths a stopped publish sent before its manifest: as it
    put them when the target acknowledged it (``Pending.put``), else of unknown bytes (sha256
    ""): re-sent when the bundle has them, else deleted; invalidated either way, as a CDN may
    hold what that publish sent."""
    if not pending.unsure:
        return files
    known = dict(files)
    for path in pending.unsure:
        old = known.get(path)
        known[path] = pending.put.get(path) or Entry(
            "", -1, old.content_type if old else "", old.cache_control if old else ""
        )
    return known


def _put_changed(files: Mapping[str, Entry], pending: Pending) -> Iterable[str]:
    """The URL paths of what a stopped publish put over another form of the file, which a CDN
    may hold: invalidated though this publish need not send it again."""
    for path, entry in pending.put.items():
        old = files.get(path)
        if old is not None and _served(old) != _served(entry):
            yield from _invalidation(path, entry)


def _served(entry: Entry) -> tuple[str, int, str, str]:
    return (entry.sha256, entry.size, entry.content_type, entry.cache_control)


def _accepted(pending: Pending, fresh: set[str]) -> dict[str, tuple[str, ...]]:
    """What each CDN accepted of the owed paths, but for those this publish changes again."""
    return {cdn: _without(paths, fresh) for cdn, paths in pending.accepted.items()}


def _without(paths: Iterable[str], drop: Iterable[str]) -> tuple[str, ...]:
    gone = set(drop)
    return tuple(p for p in paths if p not in gone)


def _upload(
    path: str, entry: Entry, remote: Mapping[str, Entry], foreign: set[str]
) -> Upload | None:
    old = remote.get(path)
    if old is None:
        # replacing an object someone else put there: "changed", so CDNs drop their copy
        return Upload(path, entry, "changed" if path in foreign else "new")
    if old.sha256 != entry.sha256 or old.size != entry.size:  # size: bytes edited in place
        return Upload(path, entry, "changed")
    if (old.content_type, old.cache_control) != (entry.content_type, entry.cache_control):
        return Upload(path, entry, "headers")
    return None


def _refusals(
    local: Mapping[str, Entry],
    deletes: Sequence[str],
    remote: RemoteState,
    limits: Limits,
    replaced: Sequence[str],
) -> tuple[str, ...]:
    refusals = []
    published_alerts = sum(1 for path in remote.files if path.startswith(ALERTS_PREFIX))
    if not local:
        refusals.append(
            f"the bundle is empty: publishing it would delete all {len(remote.files)} published "
            "objects. Build the site first; pass --force only if you mean to empty the site."
        )
    elif published_alerts and not any(path.startswith(ALERTS_PREFIX) for path in local):
        # a missing or emptied content folder builds a valid-looking site of index pages
        refusals.append(
            f"the bundle has no alert pages, and {plural(published_alerts, 'alert file')} "
            "are published: "
            "publishing it would take every alert offline. Check that content/alerts/ holds "
            "the alerts; pass --force only if you mean to remove them all."
        )
    elif len(deletes) > limits.max_deletes:
        refusals.append(
            f"this would delete {len(deletes)} objects, more than {_limit_words(limits)}. "
            "Check that the build is complete; if the deletes are "
            f"intended, pass --max-deletes {len(deletes)} (or --force)."
        )
    if replaced and not remote.published_before:
        shown = ", ".join(replaced[:3]) + (", …" if len(replaced) > 3 else "")
        refusals.append(
            f"{remote.target} has no sitegen manifest and holds {len(replaced)} objects this "
            f"publish would overwrite that sitegen did not publish ({shown}). Check --target; "
            "pass --force only if this site should replace them."
        )
    return tuple(refusals)


def alert_of(path: str) -> str | None:
    """The alert id a bundle path belongs to (`alerts/<id>/...`), else None."""
    if path.startswith(ALERTS_PREFIX) and path.count("/") > 1:
        return path.split("/")[1]
    return None


def alert_ids(paths: Iterable[str]) -> list[str]:
    """The sorted ids of the alerts some of `paths` belong to."""
    return sorted({a for p in paths if (a := alert_of(p)) is not None})


def _puts_back(
    uploads: Sequence[Upload], deletes: Sequence[str], undone: Mapping[str, str] | None
) -> list[str]:
    """The paths by which a publish after a rollback would put back what the rollback
    replaced: the same bytes again, or a path it restored deleted again. Unknown what it
    replaced (`undone` None: its record is missing): every path the publish changes."""
    if undone is None:
        return [u.path for u in uploads] + list(deletes)
    # a headers-only upload keeps the bytes online now, which the record never holds
    back = [u.path for u in uploads if undone.get(u.path) == u.entry.sha256]
    return back + [path for path in deletes if undone.get(path) == ""]


def _not_named(back: Sequence[str], named: frozenset[str]) -> list[str]:
    """What of ``back`` --put-back does not let through: the files of the alerts it does not
    name. Pages of no alert (home page, feeds) follow the alerts; alone, they are all kept."""
    alerts = [path for path in back if alert_of(path) is not None]
    if not alerts:
        return list(back)
    return [path for path in alerts if alert_of(path) not in named]


def _undoes_rollback(at: str, back: Sequence[str], deleted: set[str], unknown: bool) -> str:
    rolled = f"the site online was rolled back (sitegen rollback at {at}), and this publish"
    if unknown:  # no record of what the rollback replaced: any change may bring it back
        return (
            f"{rolled} would change it again: if content/ still holds what was rolled back, it "
            "would come back. Fix the alerts in content/alerts/ first (the rollback's output "
            "named them); when `sitegen publish --dry-run` shows only your fix, publish with "
            f"--force.{_put_back_how(alert_ids(back))}"
        )
    put = alert_ids(path for path in back if path not in deleted)
    gone = alert_ids(path for path in back if path in deleted)
    does = []
    if put:
        them = "them" if len(put) > 1 else "it"
        does.append(f"put back {alerts_named(put)} exactly as the rollback removed {them}")
    if gone:
        does.append(f"take {alerts_named(gone)} offline again, which the rollback restored")
    if not does:
        shown = ", ".join(back[:3]) + (", …" if len(back) > 3 else "")
        does.append(
            f"put back {plural(len(back), 'file')} ({shown}) exactly as the rollback removed "
            + ("them" if len(back) > 1 else "it")
        )
    return (
        f"{rolled} would {' and '.join(does)}: content/ still holds what was rolled back. Fix "
        "or remove the wrong alerts in content/alerts/ and publish again (a fixed alert is "
        f"published as usual).{_put_back_how(sorted({*put, *gone}))} --force would put back "
        "everything and lift every other limit too."
    )


def alerts_named(ids: Sequence[str]) -> str:
    """ "alert a3", "alerts a2, a3": the ids with the noun in the right number."""
    return f"alert{'s' if len(ids) > 1 else ''} {', '.join(ids)}"


def _put_back_how(alerts: Sequence[str]) -> str:
    """How to let through just the alerts that were right, with the exact command."""
    if not alerts:
        return ""
    example = f"sitegen publish --put-back {alerts[-1]}"
    others = f" (one --put-back per alert: {', '.join(alerts)})" if len(alerts) > 1 else ""
    return (
        " To let through just an alert whose change was right (the rollback undid it with "
        f"the wrong one), name it: `{example}`{others}; the others stay refused."
    )


def local_time(at: datetime, zone: tzinfo | None) -> str:
    """An instant as officials read it in every command's output: in ``zone`` (the site's
    timezone; None: this machine's), to the second, with the zone's abbreviation."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def _instant_text(iso: str, zone: tzinfo | None) -> str:
    """`local_time` of an ISO instant read from the target; as written when it is not one."""
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return local_time(at, zone) if at.tzinfo is not None else iso


def group_of(path: str) -> int:
    """Publish group index of a bundle path (see GROUP_TITLES)."""
    if path.startswith("assets/"):
        return 0
    if path.startswith(ALERTS_PREFIX):
        return 1
    return 2


def url_paths(path: str) -> tuple[str, ...]:
    """The URL paths under which a bundle file is served: both forms for an index page."""
    if path == "index.html":
        return ("/", "/index.html")
    if path.endswith("/index.html"):
        return ("/" + path.removesuffix("index.html"), "/" + path)
    return ("/" + path,)


def _invalidation(path: str, entry: Entry) -> tuple[str, ...]:
    # Fingerprinted assets never change under one name; our state files are never cached.
    if "immutable" in entry.cache_control or path.startswith(STATE_PREFIX):
        return ()
    return url_paths(path)


def _limit_words(limits: Limits) -> str:
    """The deletes limit as the person set it: the flag, else site.toml (or its default)."""
    if limits.max_deletes_flag:
        return f"--max-deletes {limits.max_deletes}"
    return f"the limit of {limits.max_deletes} (max_deletes in site.toml's [publish]; 50 if unset)"


def _describe(plan: Plan) -> Iterable[str]:
    yield f"Publish plan for {plan.target}, in the order it runs:"
    reads = plan.remote_requests
    yield f"  remote state: {plan.remote_note} [{reads} request{'' if reads == 1 else 's'}]"
    uploads = plan.uploads
    colon = ":" if uploads else ""
    yield f"  upload {plural(len(uploads), 'file')}, {human_size(plan.upload_bytes)}{colon}"
    for title, group in zip(GROUP_TITLES, plan.groups, strict=True):
        if group:
            yield f"    {title} ({len(group)}):"
            yield from _shown(
                [f"{u.reason:<8} {u.path}  {human_size(u.entry.size)}" for u in group]
            )
    yield f"  manifest: {'upload' if plan.write_manifest else 'unchanged'}"
    changed = plural(len(plan.invalidations), "path")
    if not plan.cdns:
        yield f"  invalidate: no CDN configured ({changed} changed)"
    elif not plan.invalidations:
        yield f"  invalidate {changed} on {', '.join(plan.cdns)}"
    for cdn, items in plan.sent if plan.invalidations else ():
        owed = len(plan.paths_for(cdn))
        if not owed:  # a publish that stopped sent them, and this CDN took them
            took = f"it accepted the {changed} from a previous publish"
            yield f"  invalidate nothing on {cdn}: {took}"
            continue
        before = len(plan.invalidations) - owed
        took = f" ({before} more it accepted before)" if before else ""
        # what the CDN is sent, not the site's paths: under the base path, wildcards, URLs
        yield f"  invalidate {plural(owed, 'path')} on {cdn}{took}, sent as {len(items)}:"
        yield from _shown(list(items))
    # deletes come last: a page goes only once nothing online links to it and no CDN serves it
    yield f"  delete {plural(len(plan.deletes), 'object')}" + (":" if plan.deletes else "")
    yield from _shown(list(plan.deletes))
    yield f"  unchanged: {plural(plan.unchanged, 'file')}"
    if plan.foreign_kept:
        whose = "sitegen did not publish (no sha256 metadata; never deleted)"
        if plan.other_sites:
            whose = (
                "sitegen did not publish, or another sitegen site's below this target (its "
                f"own manifest: {', '.join(plan.other_sites)}); never deleted"
            )
        yield f"  left alone: {plural(len(plan.foreign_kept), 'object')} {whose}:"
        yield from _shown(list(plan.foreign_kept))
    est = plan.estimate()
    yield (
        f"  requests: {est['target_total']} more to the target (2 lock, "
        f"{plural(est['uploads'], 'upload')}, {est['state']} state, "
        f"{est['delete_batches']} delete batch{'' if est['delete_batches'] == 1 else 'es'}); "
        f"{est['cdn_calls_each']} invalidation call{'' if est['cdn_calls_each'] == 1 else 's'} "
        "per CDN"
    )
    for refusal in plan.refusals:
        yield f"  REFUSED: {refusal}"
    for forced in plan.forced:
        yield f"  FORCED (--force): {forced}"
    if plan.put_back:
        yield f"  put back as before the rollback (--put-back): {', '.join(plan.put_back)}"
    if plan.put_back_unused:
        yield f"  NOTE: {put_back_unused_note(plan.put_back_unused)}"


def put_back_unused_note(names: Sequence[str]) -> str:
    """What --put-back NAME means when the rollback holds back nothing of that alert."""
    named = ", ".join(names)
    return (
        f"--put-back {named}: no file of {'these alerts' if len(names) > 1 else 'this alert'} "
        "is held back by a rollback, so it changes nothing here (check the alert id: "
        "`sitegen rollback --list` names the alerts a rollback changed)"
    )


def _shown(lines: list[str]) -> Iterable[str]:
    for line in lines[:_SHOWN]:
        yield f"      {line}"
    if len(lines) > _SHOWN:
        yield f"      … and {len(lines) - _SHOWN} more (--json lists all)"


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"
