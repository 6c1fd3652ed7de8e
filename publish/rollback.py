"""Restore a target to an earlier published state: the same plan and the same ordered publish,
with the kept manifest as the bundle and history (S3 versions, the folder's kept objects) as the
source of its bytes.

``make_plan(kept state, current remote)`` says what to upload, invalidate and delete; every byte
to upload is found (and its sha256 checked) before the lock is taken, so a rollback that cannot
be completed is refused before anything changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from publish.apply import PublishOptions, peek_owed, publish, with_owed
from publish.cdn.base import Invalidator
from publish.history import History, Kept, open_history, read_kept
from publish.manifest import Entry
from publish.plan import Plan, alert_ids, alert_of, local_time, make_plan
from publish.remote import Pending, RemoteState, read_remote
from publish.report import Outcome, Progress
from publish.targets.base import Target, TargetError
from sitegen.errors import PublishError

_SHOWN = 10


@dataclass(frozen=True, slots=True)
class RestoredState:
    """A kept manifest as a ``Bundle``: bytes come from the target's history, checked."""

    kept: Kept
    history: History
    reference: str  # its id: new for each rollback but one resuming (rollback_reference)
    _found: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def files(self) -> Mapping[str, Entry]:
        return self.kept.manifest.files

    @property
    def id(self) -> str:
        return self.reference

    @property
    def manifest_bytes(self) -> bytes:
        return self.kept.manifest_bytes

    def read(self, path: str) -> bytes:
        data = self.fetch(path)
        if data is None:
            raise PublishError(
                f"{path}: its bytes (sha256 {self.files[path].sha256[:12]}…) are no longer "
                f"stored. {self.history.why_missing()}"
            )
        return data

    def fetch(self, path: str) -> bytes | None:
        """The file's bytes from history (remembered once found), or None."""
        if path not in self._found:
            try:
                data = self.history.find(path, self.files[path].sha256)
            except TargetError as exc:
                raise PublishError(f"Could not read the kept versions: {exc}") from exc
            if data is None:
                return None
            self._found[path] = data
        return self._found[path]


def rollback_reference(kept_id: str, now: datetime, resumed: Pending | None = None) -> str:
    """The id a rollback's plan and its records of owed work go by (``RestoredState.id``).
    ``resumed``: the work a stopped run putting up the same kept state left; its id, so this
    run sends that run's CDN reference again (publish/apply.py ``run_reference``, as a publish
    resuming one of the same manifest does) and CloudFront answers an invalidation that had
    gone through with the one it made. Else new for each rollback: the kept manifest's id had
    served as a CDN reference already, and CloudFront answers a CallerReference it has seen
    with that old invalidation, making none. Until fix/rbowed a rollback finishing a stopped
    one's work was new too, and made its invalidation again."""
    if resumed is not None:
        return resumed.manifest_id
    return hashlib.sha256(f"rollback {kept_id} {now.isoformat()}".encode()).hexdigest()


def list_states(target: Target) -> tuple[list[Kept], RemoteState, int]:
    """Kept states, newest first, what is published now, and how many kept states are
    damaged (unreadable)."""
    try:
        kept, damaged = read_kept(target, open_history(target))
    except TargetError as exc:
        raise PublishError(f"Could not list the kept states on {target.name}: {exc}") from exc
    return kept, read_remote(target), damaged


def damaged_note(damaged: int) -> str:
    """One sentence about kept states that could not be read; "" when there are none."""
    if not damaged:
        return ""
    what = "kept state is" if damaged == 1 else "kept states are"
    return f"{damaged} {what} damaged and cannot be restored (not listed)."


def choose(
    kept: Sequence[Kept],
    current: str | None,
    to: str | None,
    why_none: Callable[[], str] = lambda: "",
    *,
    owed: bool = False,
) -> Kept:
    """``to`` (an id or a unique prefix of ≥ 6 characters), else the state live before now.
    ``owed``: a publish or rollback stopped with work left; then ``to`` may be the live state
    (that finishes it) and ``--previous`` is ambiguous, so refused."""
    if to is not None:
        return _by_id(kept, current, to.strip().lower(), owed)
    if owed and current is not None:
        raise PublishError(
            "The last publish or rollback stopped before it finished: what is live now "
            f"({current[:12]}) still has invalidations or deletes owed. Nothing was changed. "
            f"To finish it and keep what is live now: sitegen rollback --to {current[:12]}. "
            "To go to another state, name it: sitegen rollback --to ID (ids: --list)."
        )
    earlier = [k for k in kept if k.id != current]
    if not earlier:
        why = f"{_none_earlier(current, kept)} {why_none()}".rstrip()
        raise PublishError(f"No earlier published state is kept, {why}")
    return earlier[0]


def _none_earlier(current: str | None, kept: Sequence[Kept]) -> str:
    """Why --previous has nothing, when the one state kept is live: right after a target's
    first publish that is expected, and the history's account of lost versions (told to the
    first operator who tried) is then wrong."""
    said = "so there is nothing to roll back to. Nothing was changed."
    if current is None or all(k.id != current for k in kept):
        return f"{said} (States are kept from the first publish made by this sitegen on.)"
    return (
        f"{said} The only state kept is the one live now ({current[:12]}): after a target's "
        "first publish there is no earlier one yet; after later publishes the earlier ones "
        "were lost:"
    )


def _by_id(kept: Sequence[Kept], current: str | None, to: str, owed: bool) -> Kept:
    if len(to) < 6:
        raise PublishError(f"--to {to!r}: give at least 6 characters of a manifest id (--list)")
    found = [k for k in kept if k.id.startswith(to)]
    if len(found) != 1:
        what = "matches no kept state" if not found else "matches several kept states"
        raise PublishError(f"--to {to}: {what}; `sitegen rollback --list` shows them")
    if found[0].id == current and not owed:
        raise PublishError(f"--to {to}: that state is the one published now; nothing to do")
    return found[0]


def rollback(
    target: Target,
    to: str | None,
    invalidators: Sequence[Invalidator] = (),
    options: PublishOptions | None = None,
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> tuple[Kept, Outcome]:
    """Restore ``target`` to kept state ``to`` (None: the previous one); see module docstring."""
    now = now or datetime.now(UTC)
    options = options or PublishOptions()
    kept, remote, damaged = list_states(target)
    if not kept and not remote.files:
        raise PublishError(
            f"Nothing has been published to {target.name} yet, so there is nothing to roll "
            "back to. Nothing was changed."
        )
    history = open_history(target)
    # owed after the live manifest; files a stopped run sent ahead of its own (unsure) leave
    # the live state, and so --previous, as they were
    left, putting_up = peek_owed(target, remote)
    owed = left is not None and bool(left.invalidate or left.delete)
    try:
        chosen = choose(kept, remote.manifest_id, to, history.why_missing, owed=owed)
    except PublishError as exc:
        note = damaged_note(damaged)
        raise exc.extended(f"\n{note}" if note else "") from None
    # A stop or a held lock says to run this again: by id, as --previous would then mean
    # the state rolled back from.
    options = replace(
        options,
        limits=replace(options.limits, over_rollback=True),
        again=f"sitegen rollback --to {chosen.id[:12]}",
        rollback=True,
    )
    resumed = left if putting_up == chosen.id else None
    state = RestoredState(chosen, history, rollback_reference(chosen.id, now, resumed))
    # planned as publish plans, with the work owed (its --dry-run showed none until fix/rbowed)
    remote = with_owed(remote, left)
    plan = make_plan(state, remote, options.limits, invalidators, zone=options.zone)
    missing = [u.path for u in plan.uploads if state.fetch(u.path) is None]
    if missing:
        raise PublishError(_cannot_restore(chosen, missing, state.history))
    if options.dry_run:
        return chosen, Outcome(plan, True, 0, 0, 0, target.requests, (), 0.0)
    # publish() takes the lock, reads the remote again and plans again: a publish that ran
    # meanwhile is accounted for (any extra bytes it needs are fetched the same way).
    return chosen, publish(state, target, invalidators, options, progress=progress, now=now)


def alerts_changed(plan: Plan) -> tuple[str, ...]:
    """Ids of the alerts whose pages a rollback changes, restores or removes."""
    return tuple(alert_ids([u.path for u in plan.uploads] + list(plan.deletes)))


def next_publish_warning(alerts: Sequence[str], content: Path) -> str:
    """What the next publish does after a rollback, and which alert files to fix first: a
    rollback changes only what is online, never content/."""
    folder = content / "alerts"
    lines = []
    for alert in alerts:
        files = sorted(folder.glob(f"{alert}.md")) + sorted(folder.glob(f"{alert}.*.md"))
        where = ", ".join(f"{content.name}/alerts/{f.name}" for f in files)
        lines.append(
            f"  {alert}: {where}"
            if where
            else f"  {alert}: no file in {content.name}/alerts/ (the next publish removes it)"
        )
    fix = (
        "First fix or remove the alerts it changed:\n" + "\n".join(lines)
        if lines
        else f"First fix or revert {content.name}/."
    )
    return (
        f"Warning: a rollback changes only what is online, not your files in {content.name}/: "
        "the next `sitegen publish` (by hand, CI or a scheduler) would publish them again "
        "and undo this rollback, so a publish that puts back what it removed is refused "
        f"(exit 4, nothing changed).\n{fix}\nThen run `sitegen check` and `sitegen publish "
        "--dry-run` (it should show only your fix) before `sitegen publish`."
    )


def _cannot_restore(kept: Kept, missing: Sequence[str], history: History) -> str:
    shown = "\n".join(f"  {path}" for path in missing[:_SHOWN])
    more = f"\n  … and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
    return (
        f"Cannot roll back to {kept.id[:12]}: {len(missing)} of its files are no longer "
        f"stored anywhere:\n{shown}{more}\n{history.why_missing()}\nNothing was changed. "
        "Rebuild that state from the repository instead (git checkout of the content, then "
        "sitegen publish), or choose another state (--list)."
    )


def alert_changes(newer: Kept, older: Kept | None) -> dict[str, list[str]]:
    """The alerts a state added, changed and removed compared with ``older`` (None: the oldest
    kept state; all its alerts count as new)."""
    now, before = _alert_files(newer), _alert_files(older) if older else {}
    return {
        "new": sorted(a for a in now if a not in before),
        "changed": sorted(a for a in now if a in before and now[a] != before[a]),
        "removed": sorted(a for a in before if a not in now),
    }


def _alert_files(kept: Kept) -> dict[str, dict[str, str]]:
    """Alert id → {path: sha256} of its files."""
    alerts: dict[str, dict[str, str]] = {}
    for path, entry in kept.manifest.files.items():
        if (alert := alert_of(path)) is not None:
            alerts.setdefault(alert, {})[path] = entry.sha256
    return alerts


def states_json(kept: Sequence[Kept], current: str | None) -> list[dict[str, Any]]:
    return [
        {
            "id": k.id,
            "published_at": k.published_at.isoformat() if k.published_at else None,
            "files": len(k.manifest.files),
            "current": k.id == current,
            "alerts": alert_changes(k, _older(kept, i)),
        }
        for i, k in enumerate(kept)
    ]


def _older(kept: Sequence[Kept], i: int) -> Kept | None:
    return kept[i + 1] if i + 1 < len(kept) else None


def describe_state(kept: Kept, zone: tzinfo | None) -> str:
    """Id, when it went live in ``zone`` (None: this machine's), file count."""
    when = local_time(kept.published_at, zone) if kept.published_at else "unknown"
    return f"{kept.id[:12]}  {when:<23}  {len(kept.manifest.files):>6} files"


def _changes_text(newer: Kept, older: Kept | None) -> str:
    changes = alert_changes(newer, older)
    if older is None:
        return f"alerts: {_ids(changes['new']) or 'none'} (the oldest state kept)"
    said = [f"{what} {_ids(ids)}" for what, ids in changes.items() if ids]
    return f"alerts: {'; '.join(said) or 'no alert changed'}"


def _ids(ids: Sequence[str]) -> str:
    """Up to _SHOWN alert ids: a publish of 200 alerts made one unreadable line of --list."""
    more = f", … and {len(ids) - _SHOWN} more (--json lists all)" if len(ids) > _SHOWN else ""
    return ", ".join(ids[:_SHOWN]) + more


def states_text(
    kept: Sequence[Kept], current: str | None, target: str, zone: tzinfo | None, damaged: int = 0
) -> str:
    """The --list text: each state, and the alerts it changed since the one listed below it."""
    if not kept:
        return f"No published states are kept on {target} yet (each publish keeps one)."
    head = f"Published states kept on {target}, newest first"
    lines = [f"{head}, with the alerts changed since the one below:"]
    for i, k in enumerate(kept):
        lines.append(f"  {describe_state(k, zone)}{'  ← live now' if k.id == current else ''}")
        lines.append(f"      {_changes_text(k, _older(kept, i))}")
    if damaged:
        lines.append(damaged_note(damaged))
    lines.append("Restore one with: sitegen rollback --to ID   (or --previous)")
    return "\n".join(lines)
