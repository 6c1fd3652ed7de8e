"""What the build cache's keys are made of: Fingerprint tells apart exactly what renders
differently, and refuses what it does not know (the unit is then rendered every build)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum

import pytest
from markupsafe import Markup

from sitegen.cache import Fingerprint
from sitegen.content import require_site
from sitegen.lifecycle import Standing
from sitegen.model import Phase, Severity
from sitegen.render import Item, SiteView
from sitegen_fixtures import NOW, TmpSite


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    label: str
    note: str = dataclasses.field(default="", compare=False)  # not rendered: not digested


class Colour(Enum):
    RED = "red"


def digest(value: object) -> str:
    return Fingerprint({}).digest(value)


def test_equal_values_have_equal_digests_and_different_ones_differ() -> None:
    values = [
        "a",
        Markup("a"),  # trusted HTML renders unescaped: not the same input as the text
        1,
        1.0,
        True,
        None,
        "1",
        ("a",),
        ("a", "b"),
        ("ab",),
        {"a": 1},
        {"a": 2},
        Colour.RED,
        Severity.EXTREME,
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=9))),  # same instant, shown apart
        Point(1, "a"),
        Point(2, "a"),
    ]
    digests = [digest(v) for v in values]
    assert len(set(digests)) == len(values)
    assert [digest(v) for v in values] == digests  # and the same again


def test_what_does_not_render_does_not_count() -> None:
    assert digest(Point(1, "a", note="x")) == digest(Point(1, "a", note="y"))
    assert digest({"b": 1, "a": 2}) == digest({"a": 2, "b": 1})
    assert digest(["a", 1]) == digest(("a", 1))


def test_a_shared_object_is_digested_once_and_the_same_each_time() -> None:
    fingerprint = Fingerprint({})
    point = Point(1, "a")
    first = fingerprint.digest((point, point))
    assert fingerprint.digest((point, point)) == first == Fingerprint({}).digest((point, point))


@pytest.mark.parametrize("value", [object(), {1, 2}, Point, b"bytes", [object()]])
def test_unknown_types_are_refused(value: object) -> None:
    with pytest.raises(TypeError):
        digest(value)


def test_every_field_of_a_listed_item_and_its_standing_changes_the_key(
    example_site: TmpSite,
) -> None:
    """Listing pages are keyed by their Items through a dedicated encoding of Items, Standings
    and AlertGroups (not the field-by-field walk): a field it left out would serve a stale
    page. Each field is changed in turn, the standing's phase and the translation's title
    among them, and each change must change the digest of a listing's items."""
    site, _ = require_site(example_site.config, NOW)
    view = SiteView(site, example_site.config)
    standing = next(s for s in view.standings.values() if len(s.group.versions) > 1)
    language = standing.group.versions[1].language
    item = view.item(standing, language)
    assert item.alert is not standing.group.primary  # the translation is listed
    other = next(s for s in view.standings.values() if s.group.id != standing.group.id)
    later = standing.changed + timedelta(seconds=1)
    phase = Phase.CANCELLED if standing.phase is not Phase.CANCELLED else Phase.ACTIVE
    standings = {
        "group": dataclasses.replace(standing, group=other.group),
        "phase": dataclasses.replace(standing, phase=phase),
        "latest": dataclasses.replace(standing, latest=other.group),
        "history": dataclasses.replace(standing, history=(*standing.history, other.group)),
        "changed": dataclasses.replace(standing, changed=later),
    }
    retitled = dataclasses.replace(item.alert, title=item.alert.title + "!")
    items = {
        "group": dataclasses.replace(item, group=other.group),
        "alert": dataclasses.replace(item, alert=retitled),
        "url": dataclasses.replace(item, url=item.url + "x/"),
        "shown_phase": dataclasses.replace(item, shown_phase=phase),
        **{f"standing.{k}": dataclasses.replace(item, standing=s) for k, s in standings.items()},
    }
    assert {f.name for f in dataclasses.fields(Standing)} == standings.keys()
    assert {f.name for f in dataclasses.fields(Item)} == {n.partition(".")[0] for n in items}

    def key(listed: Item) -> str:
        return Fingerprint({}).digest({"items": [listed]})

    assert Fingerprint({})._bytes(item).startswith(b"I")  # the dedicated encoding
    assert key(item) == key(view.item(standing, language))
    changed = {name: key(value) for name, value in items.items()}
    assert [name for name, k in changed.items() if k == key(item)] == []
    assert len(set(changed.values())) == len(changed)
