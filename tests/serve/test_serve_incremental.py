"""Dependency tracking: fingerprints, the graph, template closures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

import jinja2
import pytest

from sitegen.incremental import (
    DependencyGraph,
    changed_keys,
    fingerprint,
    template_closure,
    template_inputs,
)

REPO = Path(__file__).resolve().parents[2]


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Thing:
    name: str
    colour: Colour
    when: datetime
    lines: dict[str, int] = field(default_factory=dict, compare=False)


WHEN = datetime.fromisoformat("2026-11-25T07:00:00+09:00")


def test_fingerprint_is_stable_and_sees_every_compared_field() -> None:
    a = Thing("flood", Colour.RED, WHEN)
    assert fingerprint(a) == fingerprint(Thing("flood", Colour.RED, WHEN))
    assert fingerprint(a) != fingerprint(Thing("Flood", Colour.RED, WHEN))
    assert fingerprint(a) != fingerprint(Thing("flood", Colour.BLUE, WHEN))
    assert fingerprint(a) != fingerprint(Thing("flood", Colour.RED, WHEN.replace(hour=8)))
    # fields left out of equality (line maps) do not change the output, so not the digest
    assert fingerprint(a) == fingerprint(Thing("flood", Colour.RED, WHEN, {"title": 3}))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (1, "1"),
        (True, 1),
        ([1, 2], [2, 1]),
        (["ab"], ["a", "b"]),
        ({"a": 1}, {"a": 2}),
        (b"x", "x"),
        (None, "None"),
    ],
)
def test_fingerprint_tells_apart_values_that_print_alike(left: object, right: object) -> None:
    assert fingerprint(left) != fingerprint(right)


def test_fingerprint_ignores_dict_and_set_order_and_refuses_unknown_types() -> None:
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"x", "y"}) == fingerprint({"y", "x"})
    with pytest.raises(TypeError):
        fingerprint(object())


def test_changed_keys_covers_added_removed_and_modified() -> None:
    old = {"alert:a": "1", "alert:b": "2", "alert:c": "3"}
    new = {"alert:a": "1", "alert:b": "9", "alert:d": "4"}
    assert changed_keys(old, new) == {"alert:b", "alert:c", "alert:d"}
    assert changed_keys(new, new) == set()


def test_graph_finds_dependents_and_freshness() -> None:
    graph = DependencyGraph()
    graph.record("index.html", {"alert:a": "1", "alert:b": "2", "template:index.html": "t"})
    graph.record("alerts/a/index.html", {"alert:a": "1", "template:alert.html": "u"})
    graph.record("alerts/b/index.html", {"alert:b": "2", "template:alert.html": "u"})
    assert graph.dependents(["alert:a"]) == {"index.html", "alerts/a/index.html"}
    assert graph.dependents(["template:alert.html"]) == {
        "alerts/a/index.html",
        "alerts/b/index.html",
    }
    assert graph.dependents(["alert:zzz"]) == set()
    assert graph.is_fresh("alerts/a/index.html", {"alert:a": "1", "template:alert.html": "u"})
    assert not graph.is_fresh("alerts/a/index.html", {"alert:a": "2", "template:alert.html": "u"})
    assert not graph.is_fresh("alerts/a/index.html", {"alert:a": "1"})  # a key fewer
    assert not graph.is_fresh("never.html", {})


def test_recording_again_replaces_the_old_inputs_and_forget_drops_them() -> None:
    graph = DependencyGraph()
    graph.record("index.html", {"alert:a": "1", "alert:b": "2"})
    graph.record("index.html", {"alert:b": "3"})  # a no longer listed on the home page
    assert graph.dependents(["alert:a"]) == set()
    assert graph.dependents(["alert:b"]) == {"index.html"}
    assert graph.inputs_of("index.html") == {"alert:b": "3"}
    graph.forget("index.html")
    assert graph.outputs == set() and graph.dependents(["alert:b"]) == set()
    graph.forget("index.html")  # forgetting twice is harmless


def test_template_closure_follows_extends_includes_and_imports() -> None:
    loader = jinja2.FileSystemLoader(REPO / "templates")
    closure = template_closure(loader, "alert.html")
    assert {"alert.html", "base.html", "macros.html", "style.css"} <= closure
    assert "index.html" not in closure and "feed.atom" not in closure
    assert template_closure(loader, "robots.txt") == {"robots.txt"}


def test_template_closure_keeps_broken_and_missing_templates_by_name() -> None:
    loader = jinja2.DictLoader(
        {"page.html": "{% extends 'broken.html' %}", "broken.html": "{% if %}"}
    )
    assert template_closure(loader, "page.html") == {"page.html", "broken.html"}
    assert template_closure(loader, "gone.html") == {"gone.html"}
    fps = {"page.html": "p", "broken.html": "b"}
    assert template_inputs(["page.html", "broken.html"], fps.__getitem__) == {
        "template:page.html": "p",
        "template:broken.html": "b",
    }
