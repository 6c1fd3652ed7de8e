"""site.toml: every mistake reported at once, on its line, with a did-you-mean."""

from __future__ import annotations

import json

import pytest

from sitegen.config import load_config
from sitegen.errors import ConfigError
from sitegen_fixtures import SITE_TOML, TmpSite, run_sitegen


def test_a_byte_order_mark_is_accepted(tmp_site: TmpSite) -> None:
    toml = tmp_site.root / "site.toml"
    toml.write_bytes(b"\xef\xbb\xbf" + toml.read_bytes())  # as Notepad saves "UTF-8 with BOM"
    assert load_config(toml).title == "Test Alerts"  # was: Invalid statement (line 1, column 1)


def test_every_problem_at_once_each_on_its_line(tmp_site: TmpSite) -> None:
    toml = tmp_site.root / "site.toml"
    toml.write_text(
        SITE_TOML.replace("base_url", "baseurl")
        + 'home_max_alerts = "many"\nshow_tests_on_home = "false"\n'
        + "[publsh]\ntarget = 1\n[publish]\nmax_delete = 3\n"
    )
    result = run_sitegen("check", cwd=tmp_site.root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for expected in (
        "site.toml:3: [site] unknown key 'baseurl'; did you mean 'base_url'?",
        "site.toml:7: [site] home_max_alerts must be a whole number (0 or more), got 'many'",
        "site.toml:8: [site] show_tests_on_home must be true or false (no quotes), got 'false'",
        "site.toml:9: unknown section [publsh]; did you mean 'publish'?",
        "site.toml:12: [publish] unknown key 'max_delete'; did you mean 'max_deletes'?",
        "5 problems in site.toml",
    ):
        assert expected in result.stderr, (expected, result.stderr)
    assert "base_url is required" not in result.stderr  # the misspelt line says it once


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'title = "Test Alerts"',
            "title = Test Alerts",
            'text goes in double quotes: title = "Test Alerts"',
        ),
        (
            'title = "Test Alerts"',
            "title = \u201cTest Alerts\u201d",
            "curly quotes (\u201c \u201d) do not count as quotes here: write the text in straight "
            'quotes, title = "Test Alerts"',
        ),
        (
            'title = "Test Alerts"',
            'title: "Test Alerts"',
            "write '=' between the name and its value: title = \"Test Alerts\"",
        ),
        ('title = "Test Alerts"', 'title = "Test Alerts"\ntitle = "X"', "'title' is given twice"),
    ],
)
def test_a_toml_mistake_is_said_in_plain_words_with_the_line_to_write(
    tmp_site: TmpSite, old: str, new: str, message: str
) -> None:
    toml = tmp_site.root / "site.toml"
    assert old in toml.read_text()
    toml.write_text(toml.read_text().replace(old, new))
    result = run_sitegen("check", cwd=tmp_site.root)
    assert result.returncode == 1
    assert f": {message}" in result.stderr and "TOML" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('default_language = "xx"\n', "language 'xx' is not one sitegen knows"),
        ('output_dir = "../out"\n', "output_dir must be a folder inside the site"),
        ("titles = 3\n", "titles must be a table"),
        (
            'titles = { kr = "x" }\n',
            "[site] titles has 'kr', which is not one of the site's languages (en, ko): correct "
            "the code, or add it to languages = [...] to publish pages in it",
        ),
        ('descriptions = { ko = "x", eng = "y" }\n', "'eng', which is not one of the site's"),
        ('sender_name = ["a"]\n', "sender_name must be text"),
        ("[cache]\nalert = 60\n", 'alert must be a Cache-Control text, e.g. alert = "no-store"'),
        ("[cache]\nhtml = 'x'\n", "[cache] unknown key 'html'"),
        ('[publish]\nmax_deletes = "50"\n', "max_deletes must be a whole number"),
        ("[publish]\nlock_lease_s = 0\n", "lock_lease_s must be 1 or more (seconds)"),
        ("[publish]\ncloudfront = 5\n", "cloudfront must be a list of texts"),
    ],
)
def test_wrong_values_are_config_errors(tmp_site: TmpSite, extra: str, message: str) -> None:
    toml = tmp_site.root / "site.toml"
    text = toml.read_text()
    text = text.replace('default_language = "en"\n', "") if "default_language" in extra else text
    toml.write_text(
        text.replace("[site]\n", f"[site]\n{extra}") if extra[0] != "[" else text + extra
    )
    with pytest.raises(ConfigError, match=None) as raised:
        load_config(toml)
    assert message in raised.value.format_message()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            'title = "Test\\u0007Alerts"',
            "site.toml:2: [site] title contains the character U+0007 (an invisible control "
            "character): web pages, feeds and CAP messages cannot carry it; remove it",
        ),
        (
            'sender_name = "Office\\bOne"',
            "site.toml:2: [site] sender_name contains the character U+0008",
        ),
        ('titles = { ko = "경보\\f" }', "site.toml:2: [site] titles contains the character U+000C"),
        (
            'description = "A\\uFFFE"',
            "site.toml:2: [site] description contains the character U+FFFE",
        ),
    ],
)
def test_text_no_feed_can_carry_is_a_config_error(
    tmp_site: TmpSite, setting: str, message: str
) -> None:
    """TOML escapes (`\\u0007`, `\\b`, `\\f`) write characters XML 1.0 forbids: the title
    and sender name are in every page and both feeds, which were then not well-formed."""
    toml = tmp_site.root / "site.toml"
    text = SITE_TOML.replace('title = "Test Alerts"\n', "") if "title =" in setting else SITE_TOML
    toml.write_text(text.replace("[site]\n", f"[site]\n{setting}\n", 1))
    with pytest.raises(ConfigError) as raised:
        load_config(toml)
    assert message in raised.value.format_message()


@pytest.mark.parametrize(
    ("url", "encoded"),
    [
        ("https://www.example.gov/a b/", "'https://www.example.gov/a%20b/'"),
        ("https://www.example.gov/비상/", "'https://www.example.gov/%EB%B9%84%EC%83%81/'"),
        ("https://예시.kr/x/", "'https://xn--vv4b11d.kr/x/'"),
    ],
)
def test_a_base_url_must_be_written_as_it_is_sent(
    tmp_site: TmpSite, url: str, encoded: str
) -> None:
    """It goes into every link, feed, sitemap and the CDN's settings as written: a space or
    a raw non-ASCII character made broken links and a CloudFront template keyed elsewhere."""
    toml = tmp_site.root / "site.toml"
    toml.write_text(SITE_TOML.replace("https://alerts.test/", url), "utf-8")
    with pytest.raises(ConfigError, match=f"write it encoded, {encoded}"):
        load_config(toml)
    toml.write_text(SITE_TOML.replace("https://alerts.test/", encoded.strip("'")), "utf-8")
    assert load_config(toml).base_url == encoded.strip("'")


BROKEN = "[site\ntitle = 1\n"  # a TOML mistake on line 1


@pytest.mark.parametrize(
    "command",
    [
        ("check",),
        ("build",),
        ("serve", "--port", "0"),
        ("publish", "--dry-run", "--target", "folder:_out"),
    ],
)
def test_a_site_toml_mistake_is_shown_file_line_message(
    tmp_site: TmpSite, command: tuple[str, ...]
) -> None:
    """Shown as every other problem, `site.toml:LINE: message`: it was the full path given to
    --site, the line in parentheses at the end ("(at line 1, column 6)")."""
    toml = tmp_site.root / "site.toml"
    toml.write_text(BROKEN)
    result = run_sitegen(*command, "--site", str(toml), cwd=tmp_site.root)
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: site.toml:1: not valid TOML"), result.stderr
    assert str(tmp_site.root) not in result.stderr and "(at line" not in error


def test_a_site_toml_mistake_is_named_from_where_the_command_ran(tmp_site: TmpSite) -> None:
    """Relative to the folder the command ran in when the file is inside it, else in full."""
    toml = tmp_site.root / "site.toml"
    toml.write_text(SITE_TOML + 'home_max_alerts = "x"\n')
    above = run_sitegen("check", "--site", str(toml), cwd=tmp_site.root.parent)
    assert f"Error: {tmp_site.root.name}/site.toml:7: [site] home_max_alerts" in above.stderr
    elsewhere = tmp_site.root.parent / "elsewhere"
    elsewhere.mkdir()
    outside = run_sitegen("check", "--site", str(toml), cwd=elsewhere)
    assert f"Error: {toml.resolve()}:7: [site] home_max_alerts" in outside.stderr


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (BROKEN, 1, "not valid TOML (column 6): Expected ']' at the end of a table declaration"),
        (SITE_TOML + 'home_max_alerts = "x"\n', 7, "[site] home_max_alerts must be a whole"),
    ],
)
def test_site_toml_mistakes_are_json_problems_with_path_and_line(
    tmp_site: TmpSite, text: str, line: int, message: str
) -> None:
    """docs/operations.md, JSON output: every mistake found in a file is in `problems`, with
    its path and line (site.toml's were not: `problems` was [])."""
    (tmp_site.root / "site.toml").write_text(text)
    result = run_sitegen("check", "--json", cwd=tmp_site.root)
    document = json.loads(result.stdout)
    assert document["error"]["kind"] == "config"
    [problem] = document["problems"]
    assert (problem["path"], problem["line"], problem["severity"]) == ("site.toml", line, "error")
    assert problem["message"].startswith(message), problem


def test_what_urls_may_not_hold_is_controls_space_some_marks_and_non_ascii() -> None:
    """config._NOT_IN_URLS, written as a negated class for non-ASCII (the range up to
    U+10FFFF cost ~5 ms to compile in every run), matches what RFC 3986 leaves out."""
    from sitegen.config import _NOT_IN_URLS

    marks = set('"<>\\^`{|}')
    for code in [*range(0x3000), 0xFEFF, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF]:
        expected = code <= 0x20 or code >= 0x7F or chr(code) in marks
        assert bool(_NOT_IN_URLS.fullmatch(chr(code))) == expected, hex(code)


def test_a_base_url_with_a_password_is_refused_without_showing_it(tmp_site: TmpSite) -> None:
    """`https://user:secret@host/` went into every page, feed and sitemap: the password
    published for all to read. Refused, and the message does not repeat it (CI logs)."""
    toml = tmp_site.root / "site.toml"
    toml.write_text(SITE_TOML.replace("https://", "https://editor:s3cret@"), "utf-8")
    result = run_sitegen("build", cwd=tmp_site.root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "site.toml:3: [site] base_url holds a user name or password" in result.stderr
    assert "'https://alerts.test/'" in result.stderr and "s3cret" not in result.stderr
    assert not (tmp_site.root / "public").exists()
