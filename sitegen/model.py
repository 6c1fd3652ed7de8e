"""The content model: CAP 1.2 vocabularies as enums, alerts as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import Enum
from operator import attrgetter
from typing import TYPE_CHECKING


class _Vocabulary(Enum):
    """A closed vocabulary whose `value` is read without a Python call: Enum's own `value` is
    a Python-level descriptor (two calls, ~0.13 µs through getattr), read ~370,000 times in a
    clean 10,000-alert build (templates' `alert.severity.value`, CAP XML, cache keys)."""

    if not TYPE_CHECKING:  # the same attribute to a type checker: Enum's, typed per member
        value = property(attrgetter("_value_"))


class Severity(_Vocabulary):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"

    @property
    def rank(self) -> int:
        """0 is the most severe; used to order the home page."""
        return list(Severity).index(self)


class Urgency(_Vocabulary):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Certainty(_Vocabulary):
    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


class Status(_Vocabulary):
    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class MsgType(_Vocabulary):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


class Category(_Vocabulary):
    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class Phase(_Vocabulary):
    """Where an alert stands at build time."""

    UPCOMING = "upcoming"
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class Area:
    name: str
    slug: str
    geocodes: tuple[tuple[str, str], ...] = ()
    polygons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert in one language, validated."""

    id: str
    language: str
    source: str  # path relative to the site root, for messages
    title: str
    event: str
    category: Category
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    status: Status
    msg_type: MsgType
    sent: datetime
    expires: datetime
    effective: datetime | None
    areas: tuple[Area, ...]
    references: tuple[str, ...]
    body: str  # Markdown, front matter removed
    headline: str = ""
    translation_of_default: bool = False  # True for `<id>.<lang>.md` files
    # line of each front-matter key, and of each area ("areas/0"), for cross-file messages
    field_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    body_line: int = field(default=1, compare=False, hash=False)  # the body's first line

    @property
    def starts(self) -> datetime:
        return self.effective or self.sent


# Alert fields that only its text shows: a change to these alone leaves which alerts are
# listed where, and in what order, as it was (`shape`).
TEXT_FIELDS = frozenset({"title", "headline", "body", "event", "field_lines", "body_line"})


def shape(alert: Alert) -> tuple[object, ...]:
    """Everything about an alert but its text: what the site's structure is made of (ids,
    languages, times, status, message type, severity, areas, references, …)."""
    return tuple(getattr(alert, f.name) for f in fields(alert) if f.name not in TEXT_FIELDS)


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """All language versions of one alert id, primary language first."""

    id: str
    versions: tuple[Alert, ...]

    @property
    def primary(self) -> Alert:
        return self.versions[0]

    def version(self, language: str) -> Alert | None:
        return next((a for a in self.versions if a.language == language), None)


@dataclass(frozen=True, slots=True)
class Site:
    """Every alert of the site, grouped and ordered, and the instant the build is for."""

    groups: tuple[AlertGroup, ...]  # sorted by id
    now: datetime
    pages: tuple[Page, ...] = ()
    by_id: dict[str, AlertGroup] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """A static page (about, how to prepare) from content/pages/."""

    slug: str
    language: str
    source: str
    title: str
    body: str
    body_line: int = field(default=1, compare=False, hash=False)  # the body's first line
