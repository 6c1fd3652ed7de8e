"""`{% include %}` of a plain file is inlined at compile time with the same output."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from sitegen.render import _StaticInclude

FILES = {
    "plain.css": "body { color: #222; }\n/* {not jinja} */\n",
    "no-newline.txt": "tail without newline",
    "dynamic.txt": "Hello {{ who }}!\n",
    "commented.txt": "a {# note #} b\n",
    "crlf.txt": "line one\r\nline two\r\n",
    "page.html": (
        "<style>\n{% include 'plain.css' %}\n</style>\n"
        '  {% include "no-newline.txt" %}  |\n'
        "{%- include 'dynamic.txt' -%}\n"
        "{% include 'commented.txt' %}{% include 'crlf.txt' %}"
        "{% include 'absent.txt' ignore missing %}end\n"
    ),
}


def environment(folder: Path, inline: bool, keep_newline: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_newline,
        extensions=[_StaticInclude] if inline else [],
    )


@pytest.mark.parametrize("keep_newline", [True, False])
def test_inlined_includes_render_as_includes(tmp_path: Path, keep_newline: bool) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_bytes(text.encode())
    plain = environment(tmp_path, False, keep_newline).get_template("page.html")
    inlined = environment(tmp_path, True, keep_newline).get_template("page.html")
    assert inlined.render(who="<you>") == plain.render(who="<you>")
    assert "body { color" in inlined.render(who="x")


def test_only_plain_files_are_inlined(tmp_path: Path) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_bytes(text.encode())
    env = environment(tmp_path, True, True)
    code = env.compile(env.loader.get_source(env, "page.html")[0], raw=True)  # type: ignore[union-attr]
    # inlined (the loader reads CRLF as LF, as the include would)
    assert "plain.css" not in code and "no-newline.txt" not in code and "crlf.txt" not in code
    for kept in ("dynamic.txt", "commented.txt", "absent.txt"):
        assert kept in code  # still included at run time


def test_a_missing_include_still_fails_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("{% include 'gone.css' %}")
    template = environment(tmp_path, True, True).get_template("page.html")
    with pytest.raises(jinja2.TemplateNotFound, match="gone.css"):
        template.render()
