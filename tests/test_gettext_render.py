"""Our template `_()` (render._direct_gettext, plus literals folded at compile time by
render._ConstantGettext) must mean exactly what Jinja's i18n extension means with newstyle
gettext: the same output for literals, variables (escaped), "%%", and dynamic messages."""

from __future__ import annotations

import jinja2
import pytest

from sitegen.render import _ConstantGettext, _direct_gettext

CATALOG = {
    "Severity": "심각도",
    "Page %(number)s": "%(number)s 페이지",
    "a <b>": "가 <b>",
    "100%% sure": "100%% 확실",
    "Extreme": "극심",
}
CASES = [
    '{{ _("Severity") }}',
    '{{ _("Not translated") }}',
    '{{ _("a <b>") }}',
    '{{ _("100%% sure") }}',
    '{{ _("Page %(number)s", number=3) }}',
    '{{ _("Page %(number)s", number=hostile) }}',
    "{{ _(value) }}",
    '<a title="{{ _("a <b>") }}">{{ _("Severity")|upper }}</a>',
    '{% set label = _("Severity") %}{{ label ~ "!" ~ hostile }}',
    '{{ _("Severity") if flag else _("Extreme") }}',
]


def translate(message: str) -> str:
    return CATALOG.get(message) or message


def reference_env() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(translate, lambda s, p, n: s, newstyle=True)  # type: ignore[attr-defined]
    return env


def our_env() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n", _ConstantGettext])
    env.install_gettext_callables(translate, lambda s, p, n: s, newstyle=True)  # type: ignore[attr-defined]
    env.globals["_sitegen_gettext"] = translate
    env.globals["_"] = _direct_gettext(translate)
    return env


@pytest.mark.parametrize("source", CASES)
def test_same_output_as_jinja_newstyle_gettext(source: str) -> None:
    context = {"value": "Extreme", "hostile": "<script>x</script>", "flag": True}
    expected = reference_env().from_string(source).render(context)
    assert our_env().from_string(source).render(context) == expected
    assert "<script>" not in expected


def test_an_untranslated_dynamic_message_is_escaped_unlike_jinja() -> None:
    """Jinja trusts `_(x)` whatever x is; ours trusts only catalog text (see _direct_gettext)."""
    context = {"hostile": "<script>x</script>", "known": "a <b>"}
    assert reference_env().from_string("{{ _(hostile) }}").render(context) == "<script>x</script>"
    ours = our_env().from_string("{{ _(hostile) }} {{ _(known) }}").render(context)
    assert ours == "&lt;script&gt;x&lt;/script&gt; 가 <b>"


def test_literals_are_folded_into_the_compiled_template() -> None:
    env = our_env()
    code = env.compile('{{ _("Severity") }} {{ _("Page %(number)s", number=n) }}', raw=True)
    assert "심각도" in code  # translated at compile time, no call left for it
    assert "Page %(number)s" in code  # a call with variables stays a call
