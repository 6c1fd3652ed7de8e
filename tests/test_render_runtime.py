"""render._Template and render._Context: Jinja's runtime with two costs cut (output escaping,
calls of plain functions); pages must come out exactly as Jinja's own runtime makes them."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import jinja2
import pytest
from markupsafe import Markup, escape

from sitegen import model
from sitegen.render import _Context, _Environment, _escape_output, _Template, make_environment
from sitegen_fixtures import TmpSite


class Html:
    def __html__(self) -> str:
        return "<i>safe</i>"


@pytest.mark.parametrize(
    "value",
    ["", "plain", "a & b", "<x>", "it's", 'say "hi"', "ünï ☃", Markup("<b>&</b>"), 5, 2.5, None]
    + [True, Html(), ["<"], {"k": "&"}],
)
def test_output_escaping_is_markupsafes(value: object) -> None:
    assert str(_escape_output(value)) == str(escape(value))


@jinja2.pass_context
def from_context(context: jinja2.runtime.Context) -> str:
    return f"ctx:{context['name']}"


@jinja2.pass_environment
def from_environment(environment: jinja2.Environment) -> str:
    return f"env:{environment.autoescape}"


class Callable:
    @jinja2.pass_context
    def __call__(self, context: jinja2.runtime.Context) -> str:
        return f"call:{context['name']}"


def stops() -> str:
    raise StopIteration


TEMPLATE = """\
{% macro box(x) %}<{{ x }}>{% endmacro %}
{{ name }} {{ box(name) }} {{ plain(name, tail="&") }} {{ from_context() }}
{{ from_environment() }} {{ callable() }} [{{ stops() }}] {{ safe }}
{% for i in items %}{{ loop.index }}:{{ i }}{% if not loop.last %}, {% endif %}{% endfor %}
{% set kept %}<{{ name }}>{% endset %}{{ kept }} {{ name|upper }} {{ 5 }} {{ none }}
{% set x = [from_context] %}{{ x[0]() }}
"""
VALUES: dict[str, Any] = {
    "name": "Tom & <Jerry>",
    "plain": lambda value, tail="": f"{value}{tail}",
    "from_context": from_context,
    "from_environment": from_environment,
    "callable": Callable(),
    "stops": stops,
    "safe": Markup("<em>ok</em>"),
    "items": ["a<", "'b'"],
    "none": None,
}


@pytest.mark.parametrize("autoescape", [True, False])
def test_pages_render_as_with_jinjas_runtime(autoescape: bool) -> None:
    ours = _Environment(autoescape=autoescape)
    theirs = jinja2.Environment(autoescape=autoescape)
    template = ours.from_string(TEMPLATE)
    assert isinstance(template, _Template)
    assert isinstance(template.new_context(), _Context)
    assert template.render(VALUES) == theirs.from_string(TEMPLATE).render(VALUES)
    assert "Tom &amp; &lt;Jerry&gt;" in template.render(VALUES) or not autoescape


def test_strict_undefined_still_fails_the_page() -> None:
    env = _Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ stops() }}").render(stops=stops)


def test_time_filters_format_each_instant_once_in_its_own_timezone(tmp_site: TmpSite) -> None:
    """`isotime` and `localtime` keep what they formatted for each datetime (an alert's times
    appear on its pages, its history and the listings: ~130,000 calls at 10,000 alerts); an
    equal instant in another timezone is another text."""
    env = make_environment(tmp_site.config, "en")
    seoul = datetime(2026, 9, 12, 20, 32, tzinfo=timezone(timedelta(hours=9)))
    same_in_utc = seoul.astimezone(UTC)
    assert seoul == same_in_utc
    page = env.from_string(
        "{{ a|isotime }} {{ b|isotime }} | {{ a|localtime }} | {{ b|localtime }}"
    )
    expected = (
        "2026-09-12T20:32:00+09:00 2026-09-12T11:32:00+00:00 | September 12, 2026 20:32 "
        "(UTC+09:00) | September 12, 2026 11:32 (UTC+00:00)"
    )
    assert page.render(a=seoul, b=same_in_utc) == expected
    assert page.render(a=same_in_utc, b=seoul) != expected
    assert page.render(a=seoul, b=same_in_utc) == expected
    for name in ("isotime", "localtime"):
        formatted = env.filters[name]
        assert formatted(seoul) is formatted(seoul)  # kept, not formatted again


def test_a_macro_is_called_without_jinjas_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A macro (Jinja's Macro, which wants no context injected) is called directly, as a plain
    function is: ~32,000 calls a 10,000-alert build. A pass_context callable still is not."""
    checked: list[object] = []
    jinjas = jinja2.runtime.Context.call

    def counting(self: Any, obj: Any, *args: Any, **kwargs: Any) -> Any:
        checked.append(obj)
        return jinjas(self, obj, *args, **kwargs)

    monkeypatch.setattr(jinja2.runtime.Context, "call", counting)
    env = _Environment(autoescape=True)
    source = "{% macro box(x) %}<{{ x }}>{% endmacro %}{% for i in items %}{{ box(i) }}{% endfor %}"
    assert env.from_string(source).render(items=["a", "<b>"]) == "<a><&lt;b&gt;>"
    assert checked == []
    assert env.from_string("{{ f() }}").render(f=from_context, name="n") == "ctx:n"
    assert checked == [from_context]


def test_vocabulary_values_are_read_without_a_python_call() -> None:
    """Templates read `alert.severity.value` & co. ~370,000 times a 10,000-alert build: the
    model's enums read `value` in C (Enum's descriptor is two Python calls a read). Values,
    lookups by value and names are Enum's."""
    vocabularies = [
        kind
        for kind in vars(model).values()
        if isinstance(kind, type) and issubclass(kind, Enum) and list(kind)
    ]
    assert model.Severity in vocabularies and model.Phase in vocabularies
    members = [member for kind in vocabularies for member in kind]
    calls: list[str] = []

    def note(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            calls.append(frame.f_code.co_name)

    sys.setprofile(note)
    try:
        values = [member.value for member in members]
    finally:
        sys.setprofile(None)
    assert [c for c in calls if c != "<listcomp>"] == []
    assert values == [member._value_ for member in members]
    assert model.Severity("Severe") is model.Severity.SEVERE
    assert model.Severity.SEVERE.name == "SEVERE"
    assert [s.value for s in model.Severity][:2] == ["Extreme", "Severe"]
