"""Alerts → CAP 1.2 messages, and which alerts the CAP index and the page feed list.

Pure and deterministic: the same site gives byte-identical XML (elements in schema order, no
build timestamps), so an unchanged alert is never re-uploaded. The mapping to the model is
documented in docs/cap.md; `sitegen.cap_import` is its inverse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

from sitegen import urls
from sitegen.body import render_body
from sitegen.config import SiteConfig
from sitegen.errors import BuildError
from sitegen.lifecycle import Standing, published_groups
from sitegen.model import Alert, AlertGroup, Phase, Site

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
# Aggregators (e.g. public-alert services) refuse feeds above about 1 MB; stay clear of it.
FEED_LIMIT_BYTES = 900_000
# A CAP parameter carrying the page title when the alert also has a separate CAP headline.
TITLE_PARAMETER = "sitegen:title"
# Characters XML 1.0 cannot carry at all; an alert containing one would make invalid CAP.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_TOUCHED = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # what _escape changes
# What CAP forbids inside sender and identifier (spec 3.2.1: spaces, commas, '<' and '&').
_CAP_RESTRICTED = re.compile(r"[\s,<&]")

T = TypeVar("T")


def sender_domain(config: SiteConfig) -> str:
    """The domain identifiers are scoped by: the sender's, else the site's host."""
    sender = config.sender.strip()
    if "@" in sender:
        return sender.rsplit("@", 1)[1].lower()
    return (urlsplit(sender).hostname or urlsplit(config.base_url).hostname or "sitegen").lower()


def cap_identifier(config: SiteConfig, alert_id: str) -> str:
    """Stable CAP identifier of an alert: `{sender domain}-{alert id}`, the same every build."""
    return f"{sender_domain(config)}-{alert_id}"


def cap_time(value: datetime) -> str:
    """CAP dateTime: seconds precision and a numeric offset; UTC is written -00:00 (spec 3.3.2)."""
    text = value.replace(microsecond=0).isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def cap_xml(group: AlertGroup, site: Site, config: SiteConfig) -> bytes:
    """One CAP 1.2 message for an alert: one <info> per language version, primary first."""
    _check_sender(config)
    alert = group.primary
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<alert xmlns="{CAP_NS}">']
    _leaf(out, 1, "identifier", cap_identifier(config, group.id))
    _leaf(out, 1, "sender", config.sender)
    _leaf(out, 1, "sent", cap_time(alert.sent))
    _leaf(out, 1, "status", alert.status.value)
    _leaf(out, 1, "msgType", alert.msg_type.value)
    _leaf(out, 1, "scope", "Public")
    if alert.references:
        _leaf(out, 1, "references", _references(alert, site, config))
    for version in group.versions:
        _info(out, group, version, config)
    out.append("</alert>\n")
    return "\n".join(out).encode("utf-8")


def cap_files(site: Site, config: SiteConfig) -> Iterator[tuple[str, bytes]]:
    """(bundle path, bytes) of the CAP message of every published alert, Drafts excluded."""
    for group in published_groups(site):
        yield urls.cap_url(group).lstrip("/"), cap_xml(group, site, config)


def _check_sender(config: SiteConfig) -> None:
    if _CAP_RESTRICTED.search(config.sender):
        raise BuildError(
            f"{config.root / 'site.toml'}: [site] sender {config.sender!r} cannot be a CAP "
            "sender: it must not contain spaces, commas, '<' or '&' (use an email address)"
        )


def _references(alert: Alert, site: Site, config: SiteConfig) -> str:
    # CAP 3.2.1: "sender,identifier,sent" triples separated by whitespace.
    return " ".join(
        f"{config.sender},{cap_identifier(config, ref)},{cap_time(site.by_id[ref].primary.sent)}"
        for ref in alert.references
        if ref in site.by_id
    )


def _info(out: list[str], group: AlertGroup, alert: Alert, config: SiteConfig) -> None:
    body = render_body(alert.body, config.base_url)  # the page's: one render
    out.append(" <info>")
    _leaf(out, 2, "language", alert.language)
    _leaf(out, 2, "category", alert.category.value)
    _leaf(out, 2, "event", alert.event)
    _leaf(out, 2, "urgency", alert.urgency.value)
    _leaf(out, 2, "severity", alert.severity.value)
    _leaf(out, 2, "certainty", alert.certainty.value)
    if alert.effective is not None:
        _leaf(out, 2, "effective", cap_time(alert.effective))
    _leaf(out, 2, "expires", cap_time(alert.expires))
    _leaf(out, 2, "senderName", config.sender_name)
    _leaf(out, 2, "headline", alert.headline or alert.title)
    if body.description:
        _leaf(out, 2, "description", body.description)
    if body.instruction:
        _leaf(out, 2, "instruction", body.instruction)
    _leaf(out, 2, "web", urls.absolute(config, urls.alert_url(group, alert.language)))
    if alert.headline and alert.headline != alert.title:
        _pair(out, 2, "parameter", TITLE_PARAMETER, alert.title)
    for area in alert.areas:
        out.append("  <area>")
        _leaf(out, 3, "areaDesc", area.name)
        for polygon in area.polygons:
            _leaf(out, 3, "polygon", " ".join(polygon.split()))
        for name, value in area.geocodes:
            _pair(out, 3, "geocode", name, value)
        out.append("  </area>")
    out.append(" </info>")


# CAP is written as text, one element per line indented one space per level: it needs no
# attributes, comments or namespaces beyond one default, and ElementTree's generic writer
# (then a tree of nodes) cost as much per alert as rendering its page.
_PADS = tuple(" " * depth for depth in range(6))


def _leaf(out: list[str], depth: int, tag: str, text: str) -> None:
    out.append(f"{_PADS[depth]}<{tag}>{_escape(text)}</{tag}>")


def _pair(out: list[str], depth: int, tag: str, name: str, value: str) -> None:
    pad = _PADS[depth]
    out.append(f"{pad}<{tag}>")
    _leaf(out, depth + 1, "valueName", name)
    _leaf(out, depth + 1, "value", value)
    out.append(f"{pad}</{tag}>")


def _escape(text: str) -> str:
    if _XML_TOUCHED.search(text) is None:  # most values: one scan instead of five
        return text
    text = _XML_ILLEGAL.sub("", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


# --- which alerts the feeds list -------------------------------------------------------------


def in_cap_index(standing: Standing, now: datetime) -> bool:
    """A message belongs in the CAP index from its `sent` until it expires, unless replaced.

    A Cancel stays listed until its own expiry so that receivers learn of the cancellation;
    an alert superseded by an Update leaves the index as the Update (which references it)
    enters it.
    """
    alert = standing.group.primary
    current = standing.phase in (Phase.ACTIVE, Phase.UPCOMING, Phase.CANCELLED)
    return current and alert.sent <= now < alert.expires


def newest_first(standings: Iterable[Standing]) -> list[Standing]:
    """Newest `sent` first, then by id: two stable sorts (a key of (-sent.timestamp(), id)
    made a tuple and called timestamp() per alert, twice as slow at 10,000 alerts)."""
    ordered = sorted(standings, key=_group_id)
    ordered.sort(key=_sent, reverse=True)  # reverse keeps equal keys in their order
    return ordered


def _group_id(standing: Standing) -> str:
    return standing.group.id


def _sent(standing: Standing) -> datetime:
    return standing.group.primary.sent


def cap_index(standings: Iterable[Standing], now: datetime) -> list[Standing]:
    """The CAP index: every current message, newest first (expired ones have left it)."""
    return newest_first(s for s in standings if in_cap_index(s, now))


def feed_standings(standings: Iterable[Standing], now: datetime, limit: int) -> list[Standing]:
    """The page feed: every alert of the CAP index, then the newest past ones, up to `limit`.

    Current alerts come first so that trimming the feed to its byte limit drops past alerts
    before any current one: the page feed always links every alert the CAP index lists. A
    message not sent yet is in neither (`lifecycle.issued` keeps it out of the site too).
    """
    every = list(standings)
    current = cap_index(every, now)
    listed = {s.group.id for s in current}
    past = [
        s for s in newest_first(every) if s.group.id not in listed and s.group.primary.sent <= now
    ]
    return current + past[: max(0, limit - len(current))]


def left_out_in_force(listed: Sequence[Standing], written: bytes) -> int:
    """How many alerts in force (active or upcoming) of a feed's `listed` alerts its
    `written` document left out: `fit_feed` keeps a prefix, one Atom <entry> each."""
    kept = written.count(b"<entry")
    return sum(1 for s in listed[kept:] if s.phase in (Phase.ACTIVE, Phase.UPCOMING))


def fit_feed(
    entries: Sequence[T],
    render: Callable[[Sequence[T]], bytes],
    limit: int = FEED_LIMIT_BYTES,
) -> bytes:
    """Render the longest prefix of `entries` whose document stays within `limit` bytes."""
    data = render(entries)
    if len(data) <= limit:
        return data
    # Bisect on the entry count (entries[:fits] fits, entries[:too_big] does not); the first
    # guess comes from the average entry size, so a slightly long feed costs two renders.
    fits, too_big, best = 0, len(entries), render(entries[:0])
    guess = int(len(entries) * limit / len(data))
    while too_big - fits > 1:
        middle = guess if fits < guess < too_big else (fits + too_big) // 2
        guess = 0
        attempt = render(entries[:middle])
        if len(attempt) <= limit:
            fits, best = middle, attempt
        else:
            too_big = middle
    return best
