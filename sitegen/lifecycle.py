"""Where each alert stands at build time: active, upcoming, expired, cancelled or superseded.

Pure functions of (site, now). An Update or Cancel supersedes the alerts it references once
its own `sent` has passed; a chain of updates is one story, shown as a history on each page.
A message whose `sent` is still to come has not been issued: `issued` leaves it out of what
is published (`sitegen status` still lists it, as upcoming, and names its `sent`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sitegen.errors import plural
from sitegen.model import AlertGroup, MsgType, Phase, Site, Status

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # "last updated" of a site with nothing published yet


@dataclass(frozen=True, slots=True)
class Standing:
    """One alert's state at build time and its place in its update chain."""

    group: AlertGroup
    phase: Phase
    latest: AlertGroup  # newest alert of the chain already sent (itself when not superseded)
    history: tuple[AlertGroup, ...]  # the whole chain, oldest first
    changed: datetime  # the last instant ≤ now at which what is shown of it changed


def published_groups(site: Site) -> tuple[AlertGroup, ...]:
    """Every alert that is built: Drafts are checked but never published."""
    return tuple(g for g in site.groups if g.primary.status is not Status.DRAFT)


def issued(site: Site) -> Site:
    """The site as it may be published at `site.now`: without the alerts not sent yet.

    A message is issued at its `sent`; before that no page, CAP file, feed, listing or
    sitemap may show it, or even its id (docs/architecture.md, "Rendering"). `effective` is
    another matter: a message sent but not yet in force is published, as upcoming. The
    build counts every alert's `sent` among the instants at which the site changes, so an
    incremental build redoes the site when one passes."""
    now = site.now
    groups = tuple(g for g in site.groups if g.primary.sent <= now)
    if len(groups) == len(site.groups):
        return site
    return Site(groups, now, site.pages, {g.id: g for g in groups})


def standings(site: Site) -> dict[str, Standing]:
    """Standing of every published alert, by id."""
    groups = published_groups(site)
    by_id = {g.id: g for g in groups}
    referrers: dict[str, list[AlertGroup]] = {}
    for group in groups:
        if group.primary.sent <= site.now:
            for ref in group.primary.references:
                referrers.setdefault(ref, []).append(group)
    result = {}
    # Each message of a chain of N shares its chain, its latest message and the chain's last
    # `sent`: found once, not once a message (issue 7: a 1,000-message chain was N² work).
    chains: dict[str, tuple[AlertGroup, ...]] = {}
    latests: dict[str, AlertGroup] = {}
    last_sent: dict[int, datetime | None] = {}
    for group in groups:
        chain = chains.get(group.id)
        if chain is None:
            chain = _chain(group, by_id, referrers)
            if all(g.primary.sent <= site.now for g in chain):
                # then every message of it reaches exactly the same messages (see _chain)
                chains.update(dict.fromkeys((g.id for g in chain), chain))
        latest = _latest(group, referrers, latests)
        phase = _phase(group, latest, site.now)
        if id(chain) not in last_sent:
            last_sent[id(chain)] = max(
                (g.primary.sent for g in chain if g.primary.sent <= site.now), default=None
            )
        changed = _changed(group, phase, latest, last_sent[id(chain)], site.now)
        result[group.id] = Standing(group, phase, latest, chain, changed)
    return result


def _changed(
    group: AlertGroup,
    phase: Phase,
    latest: AlertGroup,
    chain_sent: datetime | None,
    now: datetime,
) -> datetime:
    """When the alert's page and feed entry last changed: its `sent`, its taking effect (the
    phase leaves "upcoming"), its expiry when that made it expired, and the `sent` of each
    message of its chain (the page lists them; `chain_sent`: the last of them ≤ now) and the
    taking effect of the latest one (the banner says "updated" or "cancelled"). A feed
    entry's <updated> and the page's "Last updated" are this, not `sent` (RFC 4287 4.2.15);
    every one of these instants is also one `site_updated` takes, so a feed's own <updated>
    is never older than an entry's."""
    alert = group.primary
    instants = [alert.starts, latest.primary.starts]
    if chain_sent is not None:
        instants.append(chain_sent)
    if phase is Phase.EXPIRED:
        instants.append(alert.expires)
    return max((t for t in instants if t <= now), default=alert.sent)


def _phase(group: AlertGroup, latest: AlertGroup, now: datetime) -> Phase:
    if latest is not group:
        return Phase.SUPERSEDED
    alert = group.primary
    if now < alert.starts:  # a Cancel not yet sent cancels nothing yet
        return Phase.UPCOMING
    if alert.msg_type is MsgType.CANCEL:
        return Phase.CANCELLED
    if now >= alert.expires:
        return Phase.EXPIRED
    return Phase.ACTIVE


def _latest(
    group: AlertGroup, referrers: dict[str, list[AlertGroup]], found: dict[str, AlertGroup]
) -> AlertGroup:
    """The newest message reached from `group` by following its newest referrer. `found`:
    the answers of earlier calls, kept for every message of a walk that met no cycle (each
    of them walks the rest of the same path)."""
    current, seen = group, {group.id: group}
    while referrers.get(current.id):
        if current.id in found:
            current = found[current.id]
            break
        newer = max(referrers[current.id], key=lambda g: (g.primary.sent, g.id))
        if newer.id in seen:  # a reference cycle; content.py reports it, stay finite here
            return current
        seen[newer.id] = newer
        current = newer
    found.update(dict.fromkeys(seen, current))
    return current


def _chain(
    group: AlertGroup, by_id: dict[str, AlertGroup], referrers: dict[str, list[AlertGroup]]
) -> tuple[AlertGroup, ...]:
    seen: dict[str, AlertGroup] = {}
    todo = [group]
    while todo:
        current = todo.pop()
        if current.id in seen:
            continue
        seen[current.id] = current
        todo.extend(by_id[r] for r in current.primary.references if r in by_id)
        todo.extend(referrers.get(current.id, ()))
    return tuple(sorted(seen.values(), key=lambda g: (g.primary.sent, g.id)))


def reference_components(site: Site) -> dict[str, tuple[str, ...]]:
    """For each alert linked to others by references (either way, drafts included), every
    alert so linked to it, sorted. An alert's standing, and all its pages show, depend on
    nothing outside its component; alerts linked to none are left out."""
    parent = {g.id: g.id for g in site.groups}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for group in site.groups:
        for ref in group.primary.references:
            if ref in parent:
                parent[root(ref)] = root(group.id)
    members: dict[str, list[str]] = {}
    for group_id in parent:
        members.setdefault(root(group_id), []).append(group_id)
    found: dict[str, tuple[str, ...]] = {}
    for ids in members.values():
        if len(ids) > 1:
            component = tuple(sorted(ids))
            found.update(dict.fromkeys(component, component))
    return found


@dataclass(frozen=True, slots=True)
class AlertCount:
    """How many alerts a site has, as docs/content.md and citizens count them: an alert's
    translations, updates and cancels are one alert (one history on its pages), each Update
    or Cancel a further message of it, each language of a message a file."""

    alerts: int
    messages: int
    files: int

    def __str__(self) -> str:
        return (
            f"{plural(self.alerts, 'alert')} ({plural(self.messages, 'message')}, "
            f"{plural(self.files, 'file')})"
        )

    def as_json(self) -> dict[str, int]:
        """The keys `check --json` and `status --json` give it by."""
        return {"alerts": self.alerts, "messages": self.messages, "alert_files": self.files}


def count_alerts(site: Site) -> AlertCount:
    """The alerts (messages linked by references, drafts too), messages and files of `site`."""
    return _count(site.groups, reference_components(site))


@dataclass(frozen=True, slots=True)
class ListCount:
    """One list of `sitegen status` (a phase, or the drafts): the alerts counted in it, with
    their messages and files in it (`own`), and the messages and files in it of alerts
    counted in another list (`others`; its `alerts`: how many such alerts), named in
    `elsewhere`. An alert is in one phase, its latest message's, and counted there only:
    the lists' alerts, messages and files add up to what `count_alerts` (and check) say."""

    own: AlertCount
    others: AlertCount
    elsewhere: tuple[str, ...]

    def __str__(self) -> str:
        if not self.others.messages:
            return str(self.own)
        where = " and ".join(self.elsewhere)
        others = (
            f"{plural(self.others.messages, 'message')} ({plural(self.others.files, 'file')}) "
            f"of {'an alert' if self.others.alerts == 1 else f'{self.others.alerts} alerts'} "
            f"counted under {where}"
        )
        return f"{self.own}, and {others}" if self.own.messages else others

    def as_json(self) -> dict[str, int]:
        """`status --json`'s counts: alerts counted here; every message and file listed here."""
        return {
            "alerts": self.own.alerts,
            "messages": self.own.messages + self.others.messages,
            "alert_files": self.own.files + self.others.files,
        }


# Which message of an alert names its phase: one sent and not replaced, the newest; else one
# not sent yet (or not yet in force); else a superseded one (a reference cycle, which check
# refuses); a draft only when the alert has nothing published.
_PHASE_RANK = {"superseded": 1, "upcoming": 2, "drafts": 0}


def count_lists(site: Site, lists: dict[str, Collection[str]]) -> dict[str, ListCount]:
    """Each list's count (`lists`: list name → the ids of the messages in it, every message
    of `site` in one list), each alert counted in the list of the message that names its
    phase."""
    linked = reference_components(site)
    list_of = {ident: name for name, ids in lists.items() for ident in ids}
    best: dict[str, tuple[int, datetime, str]] = {}
    home: dict[str, str] = {}  # alert (its first message id) → the list it is counted in
    for group in site.groups:
        name, alert = list_of[group.id], _alert_of(group, linked)
        rank = (_PHASE_RANK.get(name, 3), group.primary.sent, group.id)
        if alert not in best or rank > best[alert]:
            best[alert], home[alert] = rank, name
    own: dict[str, list[AlertGroup]] = {name: [] for name in lists}
    others: dict[str, list[AlertGroup]] = {name: [] for name in lists}
    for group in site.groups:
        name = list_of[group.id]
        homed = home[_alert_of(group, linked)] == name
        (own if homed else others)[name].append(group)
    counts = {}
    for name in lists:
        elsewhere = {home[_alert_of(g, linked)] for g in others[name]}
        counts[name] = ListCount(
            _count(own[name], linked),
            _count(others[name], linked),
            tuple(n for n in lists if n in elsewhere),
        )
    return counts


def _alert_of(group: AlertGroup, linked: dict[str, tuple[str, ...]]) -> str:
    return linked.get(group.id, (group.id,))[0]


def _count(groups: Collection[AlertGroup], linked: dict[str, tuple[str, ...]]) -> AlertCount:
    alerts = len({_alert_of(g, linked) for g in groups})
    return AlertCount(alerts, len(groups), sum(len(g.versions) for g in groups))


def site_updated(site: Site) -> datetime:
    """The last instant ≤ now at which the published site's content changed.

    Derived from content, not the clock, so a rebuild without changes is byte-identical and
    the publisher uploads nothing.
    """
    instants = [
        t
        for g in published_groups(site)
        for t in (g.primary.sent, g.primary.effective, g.primary.expires)
        if t is not None and t <= site.now
    ]
    return max(instants, default=EPOCH)


def shown_phase(standing: Standing, latest: Standing) -> Phase:
    """The phase as citizens read it (feed titles, share titles, the archive): an alert whose
    update chain ended in a Cancel in force was cancelled, whatever updates came between, as
    its page's banner says; otherwise its phase. `latest`: the standing of `standing.latest`."""
    if standing.phase is Phase.SUPERSEDED and latest.phase is Phase.CANCELLED:
        return Phase.CANCELLED
    return standing.phase


def is_listed_on_home(standing: Standing, show_tests: bool) -> bool:
    alert = standing.group.primary
    if standing.phase is not Phase.ACTIVE:
        return False
    return show_tests or alert.status is Status.ACTUAL


def is_cancel_in_force(standing: Standing, now: datetime, show_tests: bool) -> bool:
    """A Cancel sent and not yet expired (its `expires`: how long receivers keep it), of an
    alert the home page would have listed: the home page and its areas' pages name it, so
    that a reader who saw the alert there learns it was called off."""
    alert = standing.group.primary
    if standing.phase is not Phase.CANCELLED or now >= alert.expires:
        return False
    return show_tests or alert.status is Status.ACTUAL
