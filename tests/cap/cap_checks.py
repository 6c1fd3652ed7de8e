"""Validators the CAP tests share: the OASIS CAP 1.2 schema and RFC 4287 (Atom) rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import xmlschema

SCHEMA_PATH = Path(__file__).parent / "schema" / "CAP-v1.2.xsd"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
# RFC 3339 date-time, as RFC 4287 section 3.3 requires for atom:updated.
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@cache
def cap_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def validate_cap(data: bytes) -> Element:
    """Raise if `data` is not a valid CAP 1.2 message; return the parsed root."""
    cap_schema().validate(data.decode("utf-8"))
    root: Element = SafeET.fromstring(data)
    return root


def cap_text(root: Element, path: str) -> list[str]:
    """Texts of the elements at a CAP path like 'info/area/areaDesc'."""
    query = "/".join(CAP + part for part in path.split("/"))
    return [e.text or "" for e in root.findall(query)]


@dataclass(frozen=True)
class AtomEntry:
    id: str
    title: str
    updated: str
    links: list[dict[str, str]]

    def link(self, type_: str) -> str:
        return next(x["href"] for x in self.links if x.get("type") == type_)


def check_atom(data: bytes) -> list[AtomEntry]:
    """Parse an Atom document and assert RFC 4287's requirements; return its entries."""
    root = SafeET.fromstring(data)
    assert root.tag == ATOM + "feed"
    _check_common(root, "feed")
    has_author = root.find(ATOM + "author") is not None
    self_links = [x for x in root.findall(ATOM + "link") if x.get("rel") == "self"]
    assert len(self_links) == 1, "a feed SHOULD have exactly one rel=self link"
    entries = []
    for entry in root.findall(ATOM + "entry"):
        _check_common(entry, "entry")
        # 4.1.2: an entry without content MUST have a rel=alternate link.
        links = [dict(x.attrib) for x in entry.findall(ATOM + "link")]
        alternates = [
            (x.get("type"), x.get("hreflang")) for x in links if x.get("rel") == "alternate"
        ]
        assert alternates, "entry without content needs a rel=alternate link"
        assert len(alternates) == len(set(alternates)), "one alternate per type+hreflang (4.1.1)"
        # 4.1.1: author in each entry unless the feed has one.
        assert has_author or entry.find(ATOM + "author") is not None
        entries.append(
            AtomEntry(
                entry.findtext(ATOM + "id") or "",
                entry.findtext(ATOM + "title") or "",
                entry.findtext(ATOM + "updated") or "",
                links,
            )
        )
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids)), "entry ids must be unique within the feed"
    # 4.2.15: a feed's <updated> is its latest significant change, so no entry is newer
    feed_updated = _instant(root.findtext(ATOM + "updated") or "")
    for entry in entries:
        assert _instant(entry.updated) <= feed_updated, f"{entry.id} is newer than its feed"
    for element in root.findall(ATOM + "entry"):
        published = element.findtext(ATOM + "published")
        if published is not None:  # 4.2.9: published is no later than updated
            assert _instant(published) <= _instant(element.findtext(ATOM + "updated") or "")
    return entries


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _check_common(element: Element, what: str) -> None:
    for name in ("id", "title", "updated"):
        found = element.findall(ATOM + name)
        assert len(found) == 1, f"{what} must have exactly one atom:{name}"
    identifier = element.findtext(ATOM + "id") or ""
    assert urlsplit(identifier).scheme, f"{what} id {identifier!r} must be an absolute IRI"
    updated = element.findtext(ATOM + "updated") or ""
    assert RFC3339.match(updated), f"{what} updated {updated!r} is not RFC 3339"
    datetime.fromisoformat(updated.replace("Z", "+00:00"))
    for link in element.findall(ATOM + "link"):
        assert link.get("href"), f"{what} has a link without href"
