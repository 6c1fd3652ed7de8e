"""Which alert an Update or Cancel follows up, found even when unrelated files are broken.

`sitegen new --update/--cancel ID` must work during an emergency while a colleague's draft is
half written: only the alerts linked to ID by references (its chain) have to be valid. An
unknown ID is reported first (with a did-you-mean); a broken file of the chain is named with
its problems; a chain already cancelled, or with a message still to be sent, cannot be
followed up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sitegen.config import SiteConfig
from sitegen.content import did_you_mean_id
from sitegen.errors import Problem, SitegenError
from sitegen.model import Alert, AlertGroup, MsgType, Site, Status
from sitegen.salvage import Salvaged, load_valid

# A message due within this is followed, not refused: the follow-up is sent a second after it
# (`scaffold.follow_up_sent`), as follow-ups written in one second are.
SOON = timedelta(minutes=1)


class UnknownAlertError(SitegenError):
    """No alert file has the id asked for (a usage mistake: exit code 2)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Chain:
    """The alert asked for and every published message linked to it, oldest first."""

    asked: AlertGroup
    messages: tuple[AlertGroup, ...]
    unrelated_errors: tuple[Problem, ...]  # problems in files outside the chain
    site: Site  # the valid part of the site it was found in

    @property
    def latest(self) -> AlertGroup:
        return self.messages[-1]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self.messages)


def find_chain(config: SiteConfig, alert_id: str, now: datetime) -> Chain:
    """The chain an Update or Cancel of `alert_id` follows; raises when it cannot be."""
    salvaged = load_valid(config, now)
    site = salvaged.site
    broken = _broken_links(config, salvaged)
    known = set(site.by_id) | {key for key, _ in broken.values()}
    if alert_id not in known:
        raise UnknownAlertError(
            f"there is no alert with id {alert_id!r}{did_you_mean_id(alert_id, known)}"
        )
    component = _component(alert_id, site.groups, broken, config.root)
    blocking = sorted(rel for rel, (key, _) in broken.items() if key in component)
    if blocking:
        raise SitegenError(_blocked(alert_id, blocking, salvaged))
    asked = site.by_id[alert_id]
    messages = tuple(
        sorted(
            (g for g in site.groups if g.id in component and _published(g, asked)),
            key=lambda g: (g.primary.sent, g.id),
        )
    )
    # a Cancel scheduled for later has not ended the alert yet: refused below as scheduled
    sent = [g for g in messages if g.primary.sent <= now + SOON]
    cancel = next((g for g in sent if g.primary.msg_type is MsgType.CANCEL), None)
    if cancel is not None:
        raise SitegenError(
            f"alert {alert_id!r} was cancelled by {cancel.primary.source} (id {cancel.id!r}, "
            f"sent {cancel.primary.sent.isoformat()}); a cancelled alert cannot be updated or "
            "cancelled again. Write a new alert with `sitegen new` instead."
        )
    scheduled = [g for g in messages if g.primary.sent > now + SOON]
    if scheduled:
        raise SitegenError(_scheduled(alert_id, scheduled))
    unrelated = tuple(p for p in salvaged.errors if p.path not in blocking)
    return Chain(asked, messages, unrelated, site)


def _scheduled(alert_id: str, scheduled: list[AlertGroup]) -> str:
    """Why a follow-up written now cannot follow a message scheduled for later, and what to do."""
    files = "; ".join(
        f"{' and '.join(v.source for v in g.versions)} (to be sent {g.primary.sent.isoformat()})"
        for g in scheduled
    )
    last = scheduled[-1].primary.sent.isoformat()
    return (
        f"alert {alert_id!r} has a message scheduled for later: {files}. A message written now "
        "would be sent before it, and may only follow messages already sent (`sitegen check` "
        "refuses it). If the alert is to change or end now, delete those files (or give them "
        "a 'sent' time already past), then run this again; if the scheduled message is to be "
        f"sent as planned, run this again after {last}"
    )


def carried_languages(chain: Chain, default_language: str) -> tuple[Alert, ...]:
    """For each language earlier messages of the chain have and its latest has not, the latest
    version in it, made to agree with the latest message: its severity, areas, times... with
    that version's own title, body and area names (`source`: the file it comes from). An
    official expects an Update or Cancel to reach everyone the alert reached: a follow-up
    written from the latest message's languages alone silently dropped the others."""
    latest = chain.latest
    have = {v.language for v in latest.versions}
    found: dict[str, Alert] = {}
    for group in reversed(chain.messages[:-1]):
        for version in group.versions:
            if version.language not in have:
                found.setdefault(version.language, version)
    # a file without a language suffix is the default language's, and only one may exist
    suffixed = any(not v.translation_of_default for v in latest.versions)
    return tuple(
        _in_language(latest.primary, found[language], suffixed or language != default_language)
        for language in sorted(found)
    )


def _in_language(latest: Alert, earlier: Alert, suffixed: bool) -> Alert:
    names = {area.slug: area.name for area in earlier.areas}
    return replace(
        latest,
        language=earlier.language,
        source=earlier.source,
        title=earlier.title,
        headline=earlier.headline,
        event=earlier.event,
        body=earlier.body,
        areas=tuple(replace(a, name=names.get(a.slug, a.name)) for a in latest.areas),
        translation_of_default=suffixed,
    )


def _published(group: AlertGroup, asked: AlertGroup) -> bool:
    # Drafts are never published, so a follow-up neither follows nor references one (unless
    # it is the very alert asked for).
    return group is asked or group.primary.status is not Status.DRAFT


def _broken_links(config: SiteConfig, salvaged: Salvaged) -> dict[str, tuple[str, set[str]]]:
    """For each file left out: (the id it gives, the ids it seems to reference)."""
    from sitegen.source import read_document

    found: dict[str, tuple[str, set[str]]] = {}
    for rel, key in salvaged.left_out.items():
        if key.startswith("page:"):
            continue
        doc, _ = read_document(config.root / rel, rel)
        refs = doc.fields.get("references") if doc is not None else None
        if isinstance(refs, list | str):
            found[rel] = (
                key,
                {str(r).strip() for r in ([refs] if isinstance(refs, str) else refs)},
            )
        else:  # unreadable front matter: any id named in the file may be a reference
            found[rel] = (key, {"*text*"})
    return found


def _component(
    alert_id: str,
    groups: tuple[AlertGroup, ...],
    broken: dict[str, tuple[str, set[str]]],
    root: Path,
) -> set[str]:
    """Every id linked to `alert_id` by references, either way, broken files included."""
    edges = [(g.id, ref) for g in groups for ref in g.primary.references]
    texts: dict[str, Path] = {}
    for rel, (key, refs) in broken.items():
        edges.extend((key, ref) for ref in refs if ref != "*text*")
        if "*text*" in refs:
            texts[key] = root / rel
    component, todo = {alert_id}, [alert_id]
    while todo:
        current = todo.pop()
        linked = {b for a, b in edges if a == current} | {a for a, b in edges if b == current}
        linked |= {key for key, path in texts.items() if _names(path, current)}
        for other in linked - component:
            component.add(other)
            todo.append(other)
    return component


def _names(path: Path, alert_id: str) -> bool:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return False
    return re.search(rf"(?<![\w-]){re.escape(alert_id)}(?![\w-])", text) is not None


def _blocked(alert_id: str, blocking: list[str], salvaged: Salvaged) -> str:
    problems = "".join(f"\n  {p}" for p in salvaged.errors if p.path in blocking)
    return (
        f"alert {alert_id!r} cannot be followed up until these problems in its update chain "
        f"are fixed (problems in other files do not matter here):{problems}"
    )
