"""Template mistakes as an official editing templates meets them: every one at once, at its
file and line, the same from `check`, `build` and `serve`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner

from sitegen import build as build_module
from sitegen.cli import cli
from sitegen.rebuild import Rebuilder
from sitegen.render import make_environment
from sitegen.template_check import template_problems
from sitegen_fixtures import NOW, TmpSite, assert_no_other_thread

WHEN = NOW.isoformat()
REPO = Path(__file__).resolve().parent.parent


def run(command: str, site: TmpSite) -> tuple[int, list[str]]:
    """`sitegen COMMAND` on `site`, in this process: (exit code, lines of its problems)."""
    result = CliRunner().invoke(
        cli, [command, "--site", str(site.root / "site.toml"), "--now", WHEN]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.removeprefix("Error: ").splitlines()
    return result.exit_code, [line for line in lines if line.startswith("templates/")]


def edit(site: TmpSite, name: str, old: str, new: str) -> int:
    """Replace `old` by `new` in templates/NAME; returns the line `old` was on."""
    path = site.root / "templates" / name
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    return text[: text.index(old)].count("\n") + 1


def test_every_syntax_error_is_reported_at_once_by_check_and_build(
    example_site: TmpSite,
) -> None:
    """Before: only the first template error was reported, and `check` and `build` could
    report different ones."""
    main = edit(example_site, "base.html", '<main id="main">', '<main id="main">{{ title ')
    listed = edit(example_site, "index.html", "{% block main %}", "{% block main %}{% if x %}")
    edit(example_site, "macros.html", "{% macro", "{% macro x(}")
    edit(example_site, "archive.html", "{% block main %}", "{% block main %}{{ x|no_filter }}")
    expected = [
        f"templates/archive.html:{listed}: No filter named 'no_filter'.",
        f"templates/base.html:{main}: the {{{{ on this line is never closed: add }}}} where "
        "it should end (Jinja read on to line",
        f"templates/index.html:{listed}: the {{% if %}} on this line is never closed: add "
        "{% endif %} where it should end (Jinja noticed at line",
        "templates/macros.html:1: unexpected '}', expected ')'",
    ]
    for command in ("check", "build"):
        code, problems = run(command, example_site)
        assert code == 1
        assert len(problems) == len(expected), problems
        for line, start in zip(problems, expected, strict=True):
            assert line.startswith(start), (command, line)
    assert not example_site.public.exists()


@pytest.mark.forks
def test_every_runtime_error_is_reported_once_per_line_and_check_and_build_agree(
    example_site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What only rendering finds: one problem per template line (not one per page), naming
    the first page in site order, even when forked workers render (in any order)."""
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 2)
    monkeypatch.setattr(build_module, "CHUNK", 1)
    assert_no_other_thread()  # marked `forks`: before the servers of other tests start
    monkeypatch.setattr(build_module._Build, "_can_fork", lambda self: True)
    alert = edit(example_site, "alert.html", "{% block main %}", "{% block main %}{{ alert.x }}")
    home = edit(example_site, "index.html", "{% block main %}", "{% block main %}{{ 1 + '' }}")
    reports = [run(command, example_site) for command in ("check", "build")]
    assert reports[0] == reports[1]
    code, problems = reports[0]
    assert code == 1
    assert [p.split(": ")[0] for p in problems] == [
        f"templates/alert.html:{alert}",
        f"templates/index.html:{home}",
    ]
    assert "has no attribute 'x' (while rendering /alerts/2026-08-03-" in problems[0]


def test_a_base_html_without_a_block_the_theme_fills_is_an_error(example_site: TmpSite) -> None:
    """A site that keeps only its base.html and renames `{% block main %}`: every page made
    with sitegen's theme extended it and was silently built with no text."""
    for path in (example_site.root / "templates").iterdir():
        if path.name != "base.html":
            path.unlink()
    edit(example_site, "base.html", "{% block main %}", "{% block content %}")
    edit(example_site, "base.html", "{% block head %}{% endblock %}", "")
    expected = [
        "templates/base.html: no block 'head', which alert.html (sitegen's own) fills: the "
        "alert pages would show nothing of it. Put {% block head %}{% endblock %} back where "
        "it belongs, or rename the block where it is filled (the blocks here: content, "
        "description, share_title)",
        "templates/base.html: no block 'main', which 8 templates of sitegen's own fill "
        "(404.html, alert.html, archive.html, area.html, areas.html, history.html, index.html "
        "and page.html): "
        "their pages would show nothing of it. Put {% block main %}{% endblock %} back where "
        "it belongs, or rename the block where it is filled (the blocks here: content, "
        "description, share_title)",
    ]
    assert run("check", example_site) == (1, expected)
    assert run("build", example_site) == (1, expected)


def test_a_block_the_site_s_own_template_fills_and_its_base_lacks(example_site: TmpSite) -> None:
    edit(example_site, "alert.html", "{% block head %}", "{% block header %}")
    code, problems = run("check", example_site)
    assert (code, problems) == (
        1,
        [
            "templates/base.html: no block 'header', which alert.html fills: the alert pages "
            "would show nothing of it. Put {% block header %}{% endblock %} back where it "
            "belongs, or rename the block where it is filled (the blocks here: description, "
            "head, main, share_title)"
        ],
    )


def test_blocks_inside_blocks_and_blocks_written_out_need_no_place_in_the_base(
    example_site: TmpSite,
) -> None:
    edit(
        example_site,
        "alert.html",
        "{% block main %}",
        "{% block notice %}!{% endblock %}{% block main %}{{ self.notice() }}"
        "{% block inner %}{% endblock %}",
    )
    assert run("check", example_site)[0] == 0


def test_a_template_that_is_named_and_missing_is_reported_at_the_line_naming_it(
    example_site: TmpSite,
) -> None:
    line = edit(example_site, "area.html", '{% extends "base.html" %}', '{% extends "lay.html" %}')
    assert run("build", example_site) == (
        1,
        [
            f"templates/area.html:{line}: extends 'lay.html', which neither templates/ nor "
            "sitegen's own theme has: check the name's spelling"
        ],
    )


def test_a_file_that_is_not_utf8_is_reported_at_its_line(example_site: TmpSite) -> None:
    page = example_site.root / "templates" / "page.html"
    page.write_bytes(page.read_bytes().replace(b"{% block main %}", b"{% block main %}\xe9", 1))
    assert run("check", example_site) == (
        1,
        [
            "templates/page.html:2: this line is not UTF-8 text (byte 0xe9): save the file as "
            "UTF-8 in your editor"
        ],
    )


@pytest.mark.parametrize(
    ("source", "line", "start"),
    [
        ("a\n{{ title \nb\n<p>x</p>\n", 2, "the {{ on this line is never closed: add }}"),
        ("a\n{{ title\n<p>don't</p>\n", 2, "the {{ on this line is never closed: add }}"),
        ("a\n{%- if x \nb\n{% endif %}\n", 2, "the {%- on this line is never closed: add %}"),
        ("{% if x %}\n{% for y in z %}\n{% endif %}\n", 2, "the {% for %} on this line is never"),
        ("{% set y = 1 %}{% set x %}\nz\n", 1, "the {% set %} on this line is never closed"),
        # where Jinja is right: a tag going on over lines, a mistake on the line itself
        ("a\n{{ f(1,\n 2) + }}\n", 3, "unexpected 'end of print statement'"),
        ("a\n{{ f(\n x }}\n", 3, "unexpected '}', expected ')'"),
        ("a\n{{ 1 + }}\nb\n", 2, "unexpected 'end of print statement'"),
        ("{% for y in z %}{% endif %}\n", 1, "Encountered unknown tag 'endif'"),
    ],
)
def test_a_tag_left_open_is_reported_where_it_opens(
    example_site: TmpSite, source: str, line: int, start: str
) -> None:
    """Jinja reads an unclosed `{{` on into the next lines and reports where they stop
    making sense (the next line, or the file's end for a missing {% endif %})."""
    (example_site.root / "templates" / "page.html").write_text(source, "utf-8")
    code, problems = run("check", example_site)
    assert code == 1 and len(problems) == 1
    assert problems[0].startswith(f"templates/page.html:{line}: {start}")


def test_serve_shows_every_template_problem_and_recovers(example_site: TmpSite) -> None:
    rebuilder = Rebuilder(example_site.root / "site.toml", NOW)
    assert rebuilder.rebuild().ok
    base = example_site.root / "templates" / "base.html"
    good = base.read_text("utf-8")
    edit(example_site, "base.html", "{% block main %}", "{% block content %}")
    line = edit(example_site, "page.html", "{% block main %}", "{% block main %}{{ x ")
    outcome = rebuilder.rebuild([base])
    assert not outcome.ok
    assert [(p.path, p.line) for p in outcome.errors] == [
        ("templates/base.html", 0),
        ("templates/page.html", line),
    ]
    assert "no block 'main', which 7 templates fill (404.html," in outcome.errors[0].message
    base.write_text(good, "utf-8")
    edit(example_site, "page.html", "{{ x ", "")
    assert rebuilder.rebuild([base]).ok


def test_content_errors_come_first_with_the_templates_problems(example_site: TmpSite) -> None:
    broken = example_site.root / "content" / "alerts" / "2026-11-22-busan-air-quality.md"
    broken.write_text(broken.read_text("utf-8").replace("severity:", "severity: Huge\nx:"))
    edit(example_site, "base.html", "{% block main %}", "{% block content %}")
    for command in ("check", "build"):
        site = str(example_site.root / "site.toml")
        result = CliRunner().invoke(cli, [command, "--site", site, "--now", WHEN])
        lines = result.stderr.removeprefix("Error: ").splitlines()
        assert result.exit_code == 1
        assert lines[0].startswith("content/alerts/2026-11-22-busan-air-quality.md:")
        assert [line.split(":")[0] for line in lines if line.startswith("templates/")] == [
            "templates/base.html"
        ], command


def test_the_check_parses_each_template_once(
    example_site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It keeps the syntax trees compiling makes (~25 ms a build saved, see
    render._Environment.kept_trees)."""
    parsed: list[str | None] = []
    parse = jinja2.Environment._parse

    def counted(
        env: jinja2.Environment, source: str, name: str | None, filename: str | None
    ) -> jinja2.nodes.Template:
        parsed.append(name)
        return parse(env, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "_parse", counted)
    config = example_site.config
    assert template_problems(make_environment(config, config.default_language)) == []
    assert sorted(parsed) == sorted(set(parsed)) and "base.html" in parsed


def _git(*args: str) -> bytes | None:
    """Output of a git command on this repository, or None where its whole history is not
    here (an unpacked sdist, a shallow clone)."""
    try:
        shallow = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--is-shallow-repository"],
            capture_output=True,
            check=True,
        )
        if shallow.stdout.strip() != b"false":
            return None
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout


def test_an_unedited_copy_of_an_earlier_theme_file_is_a_warning(example_site: TmpSite) -> None:
    """A site made by an earlier `sitegen init` keeps its copy of the theme, which wins over
    sitegen's own: its feed never got the fixes made since, and nothing said so."""
    commits = _git("log", "--format=%H", "--", "sitegen/default_site/templates/feed.atom")
    if not commits:
        pytest.skip("no git history of the theme here")
    first = commits.split()[-1].decode()
    earlier = _git("show", f"{first}:sitegen/default_site/templates/feed.atom")
    assert earlier is not None
    feed = example_site.root / "templates" / "feed.atom"
    assert earlier != feed.read_bytes()
    feed.write_bytes(earlier)
    code, problems = run("check", example_site)
    assert (code, problems) == (
        0,
        [
            "templates/feed.atom: warning: an unedited copy of sitegen's theme from an earlier "
            "version, without the fixes made since; delete it to use the current one (a "
            "template missing from templates/ comes from sitegen's theme)"
        ],
    )
    feed.write_bytes(earlier.replace(b"</feed>", b"</feed>\n"))  # edited: the site's own now
    assert run("check", example_site) == (0, [])


def test_the_theme_history_is_up_to_date() -> None:
    """scripts/theme_history.py --check: every version git has of each theme file but the
    current is listed (run the script after changing a theme file)."""
    if _git("log", "-1", "--format=%H", "--", "sitegen/default_site/templates") in (None, b""):
        pytest.skip("no git history of the theme here")
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "theme_history.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_template_showing_text_unescaped_is_a_warning_at_its_line(
    example_site: TmpSite,
) -> None:
    """A site's template with `{{ alert.title|safe }}` put an official's (or an imported CAP
    message's) `<script>` on the page as a live script, and `check` said nothing."""
    line = edit(example_site, "alert.html", "{{ alert.title }}</h1>", "{{ alert.title|safe }}</h1>")
    extra = example_site.root / "templates" / "extra.html"
    extra.write_text("{% autoescape false %}{{ x }}{% endautoescape %}\n{{ body|safe }}\n")
    code, problems = run("check", example_site)
    said = (
        "shows text as HTML, unescaped: a '<script>' in an alert's title or area would run "
        "on the page. Remove it (sitegen escapes text for you; the alert's body is safe HTML "
        "already)"
    )
    assert (code, problems) == (
        0,
        [
            f"templates/alert.html:{line}: warning: '|safe' {said}",
            f"templates/extra.html:1: warning: '{{% autoescape false %}}' {said}",
        ],
    )
    extra.write_text("{% autoescape true %}{{ x }}{% endautoescape %}\n")  # on: no warning
    edit(example_site, "alert.html", "{{ alert.title|safe }}</h1>", "{{ alert.title }}</h1>")
    assert run("check", example_site) == (0, [])


def test_build_and_preview_warn_of_unescaped_text_as_check_does(example_site: TmpSite) -> None:
    """`|safe` on an alert's title was a warning in `check` only: `build` (which publish runs)
    and the preview said nothing, so a site built and published without a check never heard."""
    line = edit(example_site, "alert.html", "{{ alert.title }}</h1>", "{{ alert.title|safe }}</h1>")
    warned = [
        f"templates/alert.html:{line}: warning: '|safe' shows text as HTML, unescaped: a "
        "'<script>' in an alert's title or area would run on the page. Remove it (sitegen "
        "escapes text for you; the alert's body is safe HTML already)"
    ]
    assert run("check", example_site) == (0, warned)
    assert run("build", example_site) == (0, warned)  # a full build
    assert run("build", example_site) == (0, warned)  # nothing to do: the last build's
    alert = sorted((example_site.root / "content" / "alerts").glob("*.md"))[0]
    alert.write_text(alert.read_text("utf-8") + "\nOne more line.\n", "utf-8")
    assert run("build", example_site) == (0, warned)  # a patch build, templates as they were
    outcome = Rebuilder(example_site.root / "site.toml", NOW).rebuild()
    shown = [str(p) for p in outcome.problems if p.path.startswith("templates/")]
    assert outcome.ok and shown == warned
