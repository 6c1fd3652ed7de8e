"""What the build cache's keys are made of: Fingerprint tells apart exactly what renders
differently, and refuses what it does not know (the unit is then rendered every build)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum

import pytest
from markupsafe import Markup

from sitegen.cache import Fingerprint
from sitegen.model import Severity


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
