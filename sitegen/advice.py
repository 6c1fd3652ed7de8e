"""Warnings that help an official without failing the check (issue 5, `sitegen check`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sitegen.content import earlier_messages
from sitegen.errors import Problem, problem_order
from sitegen.lifecycle import standings
from sitegen.model import Alert, Phase, Site, Status

PHONE_LINE = 60  # characters a phone lock screen shows on one line of a notification
RECENT = timedelta(days=2)  # an alert sent this recently and already expired is likely a typo
FAR_AHEAD = timedelta(days=30)  # as far as `sitegen new --expires-in` goes
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # a 'sent' before it is a mistyped year


def advice(site: Site) -> list[Problem]:
    """Already-expired fresh alerts, alerts sent far ahead, titles too long for one phone
    line, chains that fork, follow-ups sent at the time of what they follow or leaving out an
    earlier message of their chain. Advice, not warnings of every build: a build warning must
    be one file's alone, since a patch build rereads only the changed files and keeps the
    others' warnings from the last build (`build._Build._patch_warnings`); one found across
    files or changing with the clock would be reported stale."""
    found = _forks(site)
    found += _far_ahead(site)
    found += _same_time(site)
    found += _unlisted(site)
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
    return sorted(found, key=problem_order)


def _far_ahead(site: Site) -> Iterator[Problem]:
    """A warning for each alert sent more than FAR_AHEAD from now: nothing shows it until then,
    and a mistyped year (2062 for 2026) would otherwise pass as 'ok', silently never shown;
    and for each sent before EARLIEST (0001 or 1926 for 2026), published as if it were
    history no one could have written."""
    for group in site.groups:
        for alert in group.versions:
            if alert.sent - site.now > FAR_AHEAD:
                days = (alert.sent - site.now).days
                when = f"{days} days from now; nothing shows this alert before then"
            elif alert.sent < EARLIEST:
                when = "before the year 2000, long before alerts were written this way (CAP, 2004)"
            else:
                continue
            yield Problem(
                alert.source,
                alert.field_lines.get("sent", 1),
                f"sent is {alert.sent.isoformat()}, {when}: check the date (the year?)",
                "warning",
            )


def _same_time(site: Site) -> Iterator[Problem]:
    """A warning for each published follow-up sent at the very time of a message it follows:
    receivers cannot tell which came last, and the site orders them by id. Found across
    files, so advice (a build warning kept every build of the site from patching)."""
    for group in site.groups:
        alert = group.primary
        if alert.status is Status.DRAFT:
            continue
        for ref in alert.references:
            target = site.by_id[ref].primary if ref in site.by_id else None
            if target is not None and ref != alert.id and target.sent == alert.sent:
                kind = alert.msg_type.value
                yield Problem(
                    alert.source,
                    alert.field_lines.get("sent", alert.field_lines.get("references", 1)),
                    f"sent at the same time as '{target.id}' ({target.source}), which this "
                    f"{kind} follows, so receivers cannot tell which came last (the site takes "
                    f"them in the order of their ids): give this {kind} a 'sent' time after "
                    f"{target.sent.isoformat()}, a minute or even a second later",
                    "warning",
                )


def _unlisted(site: Site) -> Iterator[Problem]:
    """A warning for each published follow-up that leaves out earlier messages of its chain:
    a CAP receiver that holds only those cannot link it to them. Found across files, so
    advice (a build warning kept every build of the site from patching)."""
    for group in site.groups:
        alert = group.primary
        if not alert.references or alert.status is Status.DRAFT:
            continue
        # drafts and other statuses are errors of their own: not suggested here
        earlier = earlier_messages(alert, site.by_id).values()
        chain = sorted((a for a in earlier if a.status is alert.status), key=_by_sent)
        missing = [a for a in chain if a.id not in alert.references]
        if not missing:
            continue
        names = ", ".join(f"'{a.id}' ({a.source})" for a in missing)
        which = "an earlier message" if len(missing) == 1 else "earlier messages"
        yield Problem(
            alert.source,
            alert.field_lines.get("references", 1),
            f"this {alert.msg_type.value} does not reference {names}, {which} of the same "
            "chain; CAP receivers that hold only the earlier messages cannot link this one to "
            "them. List every earlier message of the chain: references: "
            f"[{', '.join(a.id for a in chain)}]",
            "warning",
        )


def _by_sent(alert: Alert) -> tuple[datetime, str]:
    return alert.sent, alert.id


def _forks(site: Site) -> list[Problem]:
    """Two messages that follow up one alert, the later not referencing the earlier. Advice,
    not a warning of every build: it is found across files, which a build warning may not be
    (see `advice`); as one (session 17) it kept sites from patching, and a one-alert rebuild
    of the bench's 10,000 alerts, 124 of them in such forks, took 0.99 s instead of 0.46."""
    referrers: dict[str, list[Alert]] = {}
    for group in site.groups:
        if group.primary.status is not Status.DRAFT:
            for ref in dict.fromkeys(group.primary.references):
                referrers.setdefault(ref, []).append(group.primary)
    found: list[Problem] = []
    for group in site.groups:
        alert = group.primary
        if alert.references and alert.status is not Status.DRAFT:
            found += _fork_problems(alert, referrers)
    return found


def _fork_problems(alert: Alert, referrers: dict[str, list[Alert]]) -> list[Problem]:
    """A warning when an earlier message follows up a message `alert` follows up too, and
    `alert` does not reference it: the chain forks (two officials each updated the warning),
    and an Update of the other branch stays in force beside `alert` (lifecycle._latest)."""
    own = set(alert.references)
    forks: dict[str, tuple[str, Alert]] = {}
    for ref in alert.references:
        for other in referrers.get(ref, ()):
            if (
                other.id not in own
                and other.id != alert.id
                and other.status is alert.status
                and alert.id not in other.references
                and (other.sent, other.id) < (alert.sent, alert.id)
            ):
                forks.setdefault(other.id, (ref, other))
    if not forks:
        return []
    ref, other = next(iter(sorted(forks.values(), key=lambda f: (f[1].sent, f[1].id))))
    kind = other.msg_type.value
    return [
        Problem(
            alert.source,
            alert.field_lines.get("references", 1),
            f"'{other.id}' ({other.source}, sent {other.sent.isoformat()}) is an earlier "
            f"{kind} of '{ref}' too, and this {alert.msg_type.value} does not reference it, "
            "so the story splits in two: an Update stays in force beside this message, shown "
            "as a second alert, and receivers are not told this message follows it. If it "
            f"does, add it: references: [{', '.join((*alert.references, other.id))}]; if both "
            "are meant to stand (different areas), this warning may be ignored",
            "warning",
        )
    ]
