"""`sitegen status`: where every alert stands now, and the next instant the site changes.

The published site is a function of the build time only through each alert's `sent`,
`effective` and `expires` (see `sitegen.lifecycle`). So between two such instants a rebuild
gives the same bytes, and a scheduler that runs `sitegen publish` at `next_change` keeps the
site exact without polling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sitegen import urls
from sitegen.config import SiteConfig
from sitegen.lifecycle import (
    AlertCount,
    ListCount,
    Standing,
    count_alerts,
    count_lists,
    published_groups,
    standings,
)
from sitegen.model import AlertGroup, Site, Status

LISTS = ("active", "upcoming", "expired", "cancelled", "superseded")


@dataclass(frozen=True, slots=True)
class Change:
    """An instant at which the published site will change, and why."""

    at: datetime
    alert_id: str
    event: str  # "is sent" | "takes effect" | "expires"


@dataclass(frozen=True, slots=True)
class StatusLine:
    id: str
    title: str
    status: str
    msg_type: str
    severity: str
    sent: datetime
    effective: datetime | None
    expires: datetime
    url: str


@dataclass(frozen=True, slots=True)
class SiteStatus:
    now: datetime
    lists: dict[str, tuple[StatusLine, ...]]  # keys: LISTS, in that order
    drafts: tuple[str, ...]  # ids checked but never published
    next_change: Change | None
    count: AlertCount  # what `sitegen check` counts: the same alerts, messages and files
    # each list's (and "drafts") count: an alert in the list of its phase only, so that the
    # lists add up to `count` (an alert counted under cancelled and superseded did not)
    counts: dict[str, ListCount]
    # whether the publish target keeps a state for `sitegen rollback --previous`; None when
    # not known: status asks no bucket (`sitegen rollback --list` does)
    rollback_possible: bool | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain data for `--json`: ISO 8601 instants, stable keys."""
        change = self.next_change
        return {
            "now": self.now.isoformat(),
            "next_change": None
            if change is None
            else {"at": change.at.isoformat(), "alert": change.alert_id, "event": change.event},
            "seconds_until_next_change": None
            if change is None
            else int((change.at - self.now).total_seconds()),
            **{name: [_line_json(line) for line in lines] for name, lines in self.lists.items()},
            "drafts": list(self.drafts),
            **self.count.as_json(),
            "counts": {name: count.as_json() for name, count in self.counts.items()},
            "rollback_possible": self.rollback_possible,
        }


def site_status(
    site: Site, config: SiteConfig, rollback_possible: bool | None = None
) -> SiteStatus:
    """Every published alert by phase at `site.now`, and the next change after it;
    ``rollback_possible`` as the caller found it (None: not known)."""
    by_phase: dict[str, list[StatusLine]] = {name: [] for name in LISTS}
    for standing in sorted(standings(site).values(), key=_order):
        by_phase[standing.phase.value].append(_line(standing.group, config))
    drafts = tuple(g.id for g in site.groups if g.primary.status is Status.DRAFT)
    listed = {name: {line.id for line in lines} for name, lines in by_phase.items()}
    return SiteStatus(
        site.now,
        {name: tuple(lines) for name, lines in by_phase.items()},
        drafts,
        next_change(site),
        count_alerts(site),
        count_lists(site, {**listed, "drafts": set(drafts)}),
        rollback_possible,
    )


def next_change(site: Site) -> Change | None:
    """The first instant after `site.now` at which a build would give different output."""
    changes = [
        Change(at, group.id, event)
        for group in published_groups(site)
        for at, event in _instants(group)
        if at is not None and at > site.now
    ]
    return min(changes, key=lambda c: (c.at, c.alert_id, c.event), default=None)


def _instants(group: AlertGroup) -> tuple[tuple[datetime | None, str], ...]:
    alert = group.primary
    return ((alert.sent, "is sent"), (alert.effective, "takes effect"), (alert.expires, "expires"))


def _order(standing: Standing) -> tuple[int, float, str]:
    alert = standing.group.primary
    return (alert.severity.rank, -alert.sent.timestamp(), standing.group.id)


def _line(group: AlertGroup, config: SiteConfig) -> StatusLine:
    alert = group.primary
    return StatusLine(
        id=group.id,
        title=alert.title,
        status=alert.status.value,
        msg_type=alert.msg_type.value,
        severity=alert.severity.value,
        sent=alert.sent,
        effective=alert.effective,
        expires=alert.expires,
        url=urls.absolute(config, urls.alert_url(group, alert.language)),
    )


def _line_json(line: StatusLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "title": line.title,
        "status": line.status,
        "msg_type": line.msg_type,
        "severity": line.severity,
        "sent": line.sent.isoformat(),
        "effective": line.effective.isoformat() if line.effective else None,
        "expires": line.expires.isoformat(),
        "url": line.url,
    }


def format_status(
    status: SiteStatus,
    content: str = "content",
    zone: tzinfo | None = None,
    rollback: str | None = None,
) -> str:
    """The human-readable report: one block per phase, then the next change. It says where
    the alerts come from: ``content`` (the folder's name), not the site online, and with a
    ``rollback`` command (`sitegen rollback` and its --site: there is a publish to go back
    to) how to go back, and that the two then differ. With a
    ``zone`` (the site's `timezone`) every instant is said in it, so "now", "until" and "next
    change" compare at a glance (a site in Seoul was told "now" in UTC); without one, each as
    written."""

    def when(instant: datetime) -> str:
        return (instant.astimezone(zone) if zone else instant).isoformat()

    lines = [
        f"now: {when(status.now)}",
        f"{status.count} in {content}/ (what the next `sitegen publish` puts online)",
    ]
    if rollback:
        lines.append(
            f"to go back to what was online before: `{rollback} --previous` "
            f"(the site online then differs from {content}/; every kept state: `{rollback} "
            "--list`)"
        )
    for name, entries in status.lists.items():
        lines.append(f"{name}: {status.counts[name]}")
        for entry in entries:
            marker = "" if entry.status == "Actual" else f" [{entry.status}]"
            if entry.sent > status.now:  # not issued: nothing of it is published yet
                marker += f" [not sent yet: published at {when(entry.sent)}]"
            lines.append(
                f"  {entry.id}  {entry.severity}  {entry.msg_type}  "
                f"until {when(entry.expires)}{marker}  {entry.title}"
            )
    if status.drafts:
        lines.append(
            f"drafts, never published, {status.counts['drafts']}: {', '.join(status.drafts)}"
        )
    change = status.next_change
    lines.append(
        "next change: none (no alert is waiting to be sent, take effect or expire)"
        if change is None
        else f"next change: {when(change.at)} ({change.alert_id} {change.event})"
    )
    return "\n".join(lines)
