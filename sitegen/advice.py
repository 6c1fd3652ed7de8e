"""Warnings that help an official without failing the check (issue 5, `sitegen check`)."""

from __future__ import annotations

from datetime import timedelta

from sitegen.errors import Problem
from sitegen.lifecycle import standings
from sitegen.model import Phase, Site, Status

PHONE_LINE = 60  # characters a phone lock screen shows on one line of a notification
RECENT = timedelta(days=2)  # an alert sent this recently and already expired is likely a typo


def advice(site: Site) -> list[Problem]:
    """Already-expired fresh alerts and titles too long for one phone line."""
    found = []
    for standing in standings(site).values():
        for alert in standing.group.versions:
            if len(alert.title) > PHONE_LINE:
                found.append(
                    Problem(
                        alert.source,
                        alert.field_lines.get("title", 1),
                        f"the title is {len(alert.title)} characters; phones show about "
                        f"{PHONE_LINE} on one line, so put the essential words first",
                        "warning",
                    )
                )
        alert = standing.group.primary
        fresh = site.now - alert.sent < RECENT
        if standing.phase is Phase.EXPIRED and fresh and alert.status is Status.ACTUAL:
            found.append(
                Problem(
                    alert.source,
                    alert.field_lines.get("expires", 1),
                    f"expires {alert.expires.isoformat()} is already past, so the alert will be "
                    "published straight into the archive; check the date",
                    "warning",
                )
            )
    return sorted(found, key=lambda p: (p.path, p.line, p.message))
