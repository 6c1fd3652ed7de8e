"""What `sitegen check` once let pass without a word (input review, 2026-12-07): invisible
characters inside a value, an absurd past 'sent', Windows' reserved names as ids and
protocol-relative links."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen_fixtures import NOW, TmpSite, alert_text, run_sitegen


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


SEOUL = "  - name: Seoul\n    geocodes: {ISO3166-2: KR-11}\n"


@pytest.mark.parametrize(
    ("area", "name", "line", "folder", "made_from"),
    [
        ("  - name: Seoul\n    id: con\n", "Seoul", 14, "con", "id"),
        ("  - name: Seoul\n    id: Aux\n", "Seoul", 14, "aux", "id"),
        ("  - name: NUL\n", "NUL", 13, "nul", "name"),
        ("  - Lpt9\n", "Lpt9", 13, "lpt9", "name"),
        ("  - name: Port\n    geocodes: {X: COM1}\n", "Port", 14, "com1", "first geocode"),
    ],
)
def test_an_area_page_folder_windows_keeps_for_a_device_is_refused(
    tmp_site: TmpSite, area: str, name: str, line: int, folder: str, made_from: str
) -> None:
    """`id: con` (or an area named 'Nul') built public/areas/con/, which Windows cannot create
    or copy: a build or publish there failed with words about devices, not this file."""
    tmp_site.add("flood.md", alert_text().replace(SEOUL, area))
    code, output = _check(tmp_site)
    assert code == 1
    assert (
        f"content/alerts/flood.md:{line}: area '{name}' would have its page in the folder "
        f"areas/{folder}/ (made from its {made_from}), but '{folder}' is a name Windows keeps "
        "for its devices"
    ) in output
    fix = "change its id" if made_from == "id" else "give it an id (its name stays as written)"
    assert f"For the area's page, {fix}, e.g. 'id: {folder}-area'" in output


def test_an_area_id_with_a_device_name_and_an_ending_is_a_folder_windows_can_have(
    tmp_site: TmpSite,
) -> None:
    """`id: con.txt` makes areas/con-txt/ (a dot is not kept): Windows creates that."""
    tmp_site.add("flood.md", alert_text().replace(SEOUL, "  - name: S\n    id: con.txt\n"))
    assert _check(tmp_site)[0] == 0


@pytest.mark.parametrize(
    ("name", "char", "after", "rename"),
    [
        ("flood\u200b.md", "ZERO WIDTH SPACE, U+200B", "after 'flood'", "flood.md"),
        ("\u200eflood.md", "LEFT-TO-RIGHT MARK, U+200E", "at its start", "flood.md"),
        ("flood\u00adwatch.md", "SOFT HYPHEN, U+00AD", "after 'flood'", "floodwatch.md"),
        ("flood\u00a0watch.md", "NO-BREAK SPACE, U+00A0", "after 'flood'", "flood-watch.md"),
    ],
)
def test_an_invisible_character_in_a_file_name_is_named_with_the_name_to_give(
    tmp_site: TmpSite, name: str, char: str, after: str, rename: str
) -> None:
    """A title pasted as the file name brought its zero-width space along: check said the
    name 'cannot be used as an alert id', of a name that looked right."""
    tmp_site.add(name, alert_text())
    code, output = _check(tmp_site)
    assert code == 1
    assert (
        f"content/alerts/{name}:1: an invisible character ({char}) in the file name, {after}: "
        f"rename the file to '{rename}', typing its name anew"
    ) in output
    assert "cannot be used as an alert id" not in output


@pytest.mark.parametrize(
    ("kept", "refused", "how"),
    [
        (
            "caf\u00e9.md",
            "cafe\u0301.md",
            "in how an accented letter is stored (in this name as a letter and an accent, as "
            "macOS writes it; in the other as one character): on a Mac they are one file",
        ),
        ("storm.md", "Storm.md", "in capitals: on a Mac and on Windows they are one file"),
    ],
)
def test_file_names_a_mac_takes_as_one_are_refused_naming_both(
    tmp_site: TmpSite, kept: str, refused: str, how: str
) -> None:
    """café.md written once composed (NFC) and once decomposed (NFD, as macOS writes names),
    each with an id of its own, built two alerts from what a Mac checks out as one file."""
    tmp_site.add(kept, "---\nid: one\n" + alert_text()[4:])
    tmp_site.add(refused, "---\nid: two\n" + alert_text()[4:])
    code, output = _check(tmp_site)
    assert code == 1
    assert (
        f"content/alerts/{refused}: this file's name differs from content/alerts/{kept}'s only "
        f"{how}, so a copy of content/ there keeps one of the two alerts: rename this file, "
        "typing a name of its own"
    ) in output
    assert output.count("differs from") == 1


@pytest.mark.parametrize("kept_id", ["", "id: cafe\n"])  # neither read, or one of the two
def test_file_names_a_mac_takes_as_one_without_ids_name_each_other(
    tmp_site: TmpSite, kept_id: str
) -> None:
    """Without an 'id:', café.md NFC and NFD each got "'café' cannot be used as an alert
    id", the same line twice, neither naming the other file, as files with ids do."""
    tmp_site.add("caf\u00e9.md", "---\n" + kept_id + alert_text()[4:])
    tmp_site.add("cafe\u0301.md", alert_text())
    code, output = _check(tmp_site)
    assert code == 1
    assert (
        "content/alerts/cafe\u0301.md: this file's name differs from content/alerts/caf\u00e9.md's "
        "only in how an accented letter is stored"
    ) in output, output
    assert output.count("differs from") == 1


def test_an_id_from_a_decomposed_file_name_is_refused_as_the_composed_one_is(
    tmp_site: TmpSite,
) -> None:
    """Web addresses are made of ids of a-z, 0-9, '-' and '_' only, so no id taken from a
    name macOS wrote decomposed (NFD) can give an address other than the composed one's."""
    tmp_site.add("cafe\u0301.md", alert_text())
    code, output = _check(tmp_site)
    assert code == 1
    assert "cafe\u0301' cannot be used as an alert id (it becomes the web address)" in output


def _add_page(site: TmpSite, name: str, text: str) -> None:
    path = site.root / "content" / "pages" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def test_two_pages_with_one_id_are_refused_naming_both(tmp_site: TmpSite) -> None:
    """`about.md` and `other.md` with `id: about` built one page over the other without a
    word: public/pages/about/ held whichever came last."""
    tmp_site.add("flood.md", alert_text())
    _add_page(tmp_site, "about.md", "---\ntitle: About us\n---\nWho we are.\n")
    _add_page(tmp_site, "other.md", "---\ntitle: Shelters\nid: about\n---\nWhere to go.\n")
    code, output = _check(tmp_site)
    assert code == 1
    assert (
        "content/pages/other.md:1: page id 'about' (language 'en') is already used by "
        "content/pages/about.md"
    ) in output
    built = run_sitegen("build", "--now", NOW.isoformat(), cwd=tmp_site.root)
    assert built.returncode == 1 and not (tmp_site.root / "public").exists()


def test_pages_one_on_a_mac_are_refused(tmp_site: TmpSite) -> None:
    """`About.md` and `about.md` are one file on a Mac and on Windows, and their pages one
    web folder there."""
    tmp_site.add("flood.md", alert_text())
    _add_page(tmp_site, "about.md", "---\ntitle: About us\n---\nWho we are.\n")
    _add_page(tmp_site, "About.md", "---\ntitle: About\n---\nWho we are not.\n")
    _add_page(tmp_site, "Shelters.md", "---\ntitle: Shelters\n---\nWhere to go.\n")
    _add_page(tmp_site, "list.md", "---\ntitle: List\nid: shelters\n---\nWhere to go.\n")
    code, output = _check(tmp_site)
    assert code == 1
    assert (
        "content/pages/About.md: this file's name differs from content/pages/about.md's only "
        "in capitals"
    ) in output
    assert (
        "content/pages/Shelters.md:1: page id 'Shelters' (language 'en') differs only in "
        "capitals from 'shelters', already used by content/pages/list.md"
    ) in output
    assert "cannot be used as an alert id" not in output
