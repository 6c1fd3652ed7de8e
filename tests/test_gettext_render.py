"""Our template `_()` (render._direct_gettext, plus literals folded at compile time by
render._ConstantGettext) must mean exactly what Jinja's i18n extension means with newstyle
gettext: the same output for literals, variables (escaped), "%%", and dynamic messages."""

from __future__ import annotations

import jinja2
import pytest
from markupsafe import Markup

from sitegen.render import _ConstantGettext, install_gettext

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
    # one-argument calls, compiled as a filter: precedence and nesting unchanged
    "{{ _(value).lower() }}|{{ _(value)|upper }}|{{ _(value) ~ '!' ~ hostile }}",
    "{{ _(pair[0]) }} {{ _(pair[1]) }} {{ _({'k': value}['k']) }} {{ _((value)) }}",
    "{{ _(flag and value or 'Severity') }}{{ _(value) if flag }}{{ _(_(value)) }}",
    "{% for v in [value, 'Severity', 'a <b>'] %}{{ _(v) }}{{ loop.index }}{% endfor %}",
    '{{ _(value)[0] }}{{ _(value) is string }}{{ ("x" ~ _(value))|length }}',
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
    install_gettext(env, translate)
    return env


@pytest.mark.parametrize("source", CASES)
def test_same_output_as_jinja_newstyle_gettext(source: str) -> None:
    context = {
        "value": "Extreme",
        "hostile": "<script>x</script>",
        "flag": True,
        "pair": ("Severity", "a <b>"),
    }
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


def test_one_argument_calls_compile_to_a_filter() -> None:
    env = our_env()
    code = env.compile("{{ _(value) }}{{ _(a, b) }}{{ _(m, n=1) }}{{ x._(y) }}", raw=True)
    assert code.count("_sitegen_gettext") >= 1  # _(value): a filter
    assert code.count("context.call(") == 3  # two arguments, a keyword, an attribute: calls


def test_a_dynamic_message_is_looked_up_once_and_means_the_same_every_time() -> None:
    """The `_(value)` filter keeps each message's result (~170,000 calls a 10,000-alert build
    for a few dozen messages): a str and a Markup of the same text, and a message outside
    autoescape, each still render as they would alone."""
    looked_up: list[str] = []

    def counting(message: str) -> str:
        looked_up.append(message)
        return translate(message)

    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n", _ConstantGettext])
    env.install_gettext_callables(counting, lambda s, p, n: s, newstyle=True)  # type: ignore[attr-defined]
    install_gettext(env, counting)
    loop = "{% for v in values %}{{ _(v) }}|{% endfor %}"
    template = env.from_string(f"{loop}{{% autoescape false %}}{loop}{{% endautoescape %}}")
    values = ["Extreme", "<i>", Markup("<i>"), "a <b>"] * 3
    once = "극심|&lt;i&gt;|<i>|가 <b>|"
    plain = "극심|<i>|<i>|가 <b>|"
    assert template.render(values=values) == once * 3 + plain * 3
    assert template.render(values=values) == once * 3 + plain * 3
    assert looked_up.count("Extreme") == 2  # with autoescape and without, then kept
