"""What `sitegen check` once let pass without a word (input review, 2026-12-07): invisible
characters inside a value, an absurd past 'sent', Windows' reserved names as ids and
protocol-relative links."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen_fixtures import TmpSite, alert_text


def _check(site: TmpSite) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", "--site", str(site.root / "site.toml")])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_an_invisible_character_in_a_title_is_named_where_it_is(tmp_site: TmpSite) -> None:
    """`title: "Flood\\ufeff watch"` looked like "Flood watch" and was published as it is."""
    tmp_site.add("flood.md", alert_text(title='"Flood\\ufeff watch"'))
    code, output = _check(tmp_site)
    assert code == 0
    assert (
        "content/alerts/flood.md:2: warning: an invisible character (ZERO WIDTH NO-BREAK "
        "SPACE, U+FEFF) in the title, after 'Flood': delete it"
    ) in output


@pytest.mark.parametrize(
    ("line", "char"),
    [
        ("  - name: Seo\u200bul", "ZERO WIDTH SPACE, U+200B"),
        ("  - name: Seoul\u202e", "RIGHT-TO-LEFT OVERRIDE, U+202E"),
    ],
)
def test_an_invisible_character_in_an_area_name_is_an_error(
    tmp_site: TmpSite, line: str, char: str
) -> None:
    """'Seo\\u200bul' made the area page /areas/seo-ul/, apart from every other Seoul alert's."""
    tmp_site.add("flood.md", alert_text().replace("  - name: Seoul", line))
    code, output = _check(tmp_site)
    assert code == 1
    assert f"content/alerts/flood.md:13: an invisible character ({char}) in the area name" in output


def test_an_invisible_character_in_an_id_is_one_error_naming_it(tmp_site: TmpSite) -> None:
    tmp_site.add("flood.md", "---\nid: flood\u200b\n" + alert_text()[4:])
    code, output = _check(tmp_site)
    assert code == 1
    assert (
        "content/alerts/flood.md:2: an invisible character (ZERO WIDTH SPACE, U+200B) in the "
        "id, after 'flood': delete it; the id must match others exactly"
    ) in output
    assert "cannot be used as an alert id" not in output


@pytest.mark.parametrize("sent", ["0001-01-01T00:00:00+09:00", "1926-11-25T07:00:00+09:00"])
def test_a_sent_time_before_2000_is_warned_like_one_far_ahead(tmp_site: TmpSite, sent: str) -> None:
    """Year 0001 (or 1926 for 2026) passed as 'ok' and was published as the alert's time."""
    tmp_site.add("old.md", alert_text(sent=sent))
    code, output = _check(tmp_site)
    assert code == 0
    assert (
        f"content/alerts/old.md:10: warning: sent is {sent}, before the year 2000, long before "
        "alerts were written this way (CAP, 2004): check the date (the year?)"
    ) in output


@pytest.mark.parametrize(
    ("name", "front", "line", "reserved", "rename"),
    [
        ("con.md", "", 1, "con", "the file, e.g. to 'con-alert'"),
        ("Aux.ko.md", "language: ko\n", 1, "Aux", "the file, e.g. to 'aux-alert'"),
        ("flood.md", "id: LPT1\n", 2, "LPT1", "its 'id:', e.g. to 'lpt1-alert'"),
    ],
)
def test_a_name_windows_keeps_for_its_devices_is_refused(
    tmp_site: TmpSite, name: str, front: str, line: int, reserved: str, rename: str
) -> None:
    """con.md built public/alerts/con/, which no checkout or build on Windows can write."""
    tmp_site.add(name, "---\n" + front + alert_text()[4:])
    code, output = _check(tmp_site)
    assert code == 1
    assert (
        f"content/alerts/{name}:{line}: '{reserved}' is a name Windows keeps for its devices"
    ) in output
    assert f"Rename {rename}" in output


@pytest.mark.parametrize(
    ("link", "line"),
    [("[the map](//evil.example/map)", 17), ("[the map][m]\n\n[m]: //evil.example/map", 19)],
)
def test_a_link_starting_with_two_slashes_is_warned(
    tmp_site: TmpSite, link: str, line: int
) -> None:
    """`[x](//evil.example/)` became a link to another site without a word: a typo for
    `/areas/...` or an address missing its https:, either way not what the text meant."""
    tmp_site.add("flood.md", alert_text().replace("The river is rising.", f"See {link} now."))
    code, output = _check(tmp_site)
    assert code == 0
    assert (
        f"content/alerts/flood.md:{line}: warning: the link to '//evil.example/map' starts with "
        "'//', so it leads to another website (evil.example), not a page of this site: write "
        "https://evil.example/map if that site is meant"
    ) in output


def test_a_very_long_line_in_a_file_under_the_limit_is_named(tmp_site: TmpSite) -> None:
    """A 900 KB word (pasted data, or a key held down) passed without a word, though the
    file's limit only is 1,000,000 bytes and docs/content.md promised check names such lines."""
    tmp_site.add("flood.md", alert_text().replace("The river is rising.", "a" * 900_000))
    for command in ("check", "build"):
        result = CliRunner().invoke(cli, [command, "--site", str(tmp_site.root / "site.toml")])
        assert result.exit_code == 0, result.output
        assert (
            "content/alerts/flood.md:17: warning: this line is longer than any alert's text "
            "needs (100,000 bytes). Line 17 alone is 900,000 bytes long. Move long material to "
            "a page of its own and link to it."
        ) in result.output
