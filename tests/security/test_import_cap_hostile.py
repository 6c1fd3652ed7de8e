"""Hostile CAP messages given to `sitegen import-cap`: refused at their file and line, or
imported only inside content/alerts/, and what they carry well-formed in every feed."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import fromstring  # noqa: S405 - parses only what the build wrote
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner, Result

from sitegen.cli import cli
from sitegen_fixtures import TmpSite

MESSAGE = """<?xml version="1.0" encoding="{encoding}"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>alerts@test.invalid</sender>
  <sent>2026-11-25T07:00:00+09:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Met</category>
    <event>Flood</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <expires>2026-11-26T07:00:00+09:00</expires>
    <headline>{headline}</headline>
    <description>{description}</description>
    <instruction>Keep away from the river.</instruction>
    <area>
      <areaDesc>{area}</areaDesc>
      <geocode><valueName>ISO3166-2</valueName><value>KR-11</value></geocode>
    </area>
  </info>
</alert>
"""
HEADLINE_LINE, AREA_LINE = 16, 20


def message(**fields: str) -> str:
    values = {
        "encoding": "UTF-8",
        "identifier": "X-1",
        "headline": "Flood watch",
        "description": "The river is rising.",
        "area": "Seoul",
    }
    return MESSAGE.format(**(values | fields))


def import_cap(site: TmpSite, data: bytes, *options: str) -> Result:
    (site.root / "in.xml").write_bytes(data)
    args = ["import-cap", "--site", str(site.root / "site.toml"), *options, "in.xml"]
    return CliRunner().invoke(cli, args)


@pytest.fixture(autouse=True)
def _in_site(tmp_site: TmpSite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_site.root)  # the message is named as an official names it: in.xml


@pytest.mark.parametrize("encoding", ["x-no-such-encoding", "Shift_JIS", "utf-7", "rot13"])
def test_an_encoding_expat_cannot_read_is_refused_at_line_1(
    tmp_site: TmpSite, encoding: str
) -> None:
    # expat raises LookupError or ValueError for these, not a ParseError: it was a traceback
    result = import_cap(tmp_site, message(encoding=encoding).encode())
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, (LookupError, ValueError)), result.exception
    assert f"in.xml:1: the encoding {encoding} of this file is one sitegen cannot read" in (
        result.output
    )
    assert "save it as UTF-8" in result.output
    assert list((tmp_site.root / "content/alerts").iterdir()) == []


@pytest.mark.parametrize(
    ("fields", "line", "tag", "char"),
    [
        ({"headline": "Flood\u0085watch"}, HEADLINE_LINE, "headline", "U+0085"),
        ({"headline": "Flood \u009b31m watch"}, HEADLINE_LINE, "headline", "U+009B"),
        ({"area": "Seoul\ufdd0"}, AREA_LINE, "areaDesc", "U+FDD0"),
        ({"headline": "Flood\x7f"}, HEADLINE_LINE, "headline", "U+007F"),
    ],
)
def test_a_character_xml_allows_but_no_alert_may_carry_is_refused_at_its_element(
    tmp_site: TmpSite, fields: dict[str, str], line: int, tag: str, char: str
) -> None:
    # it was said with no line ("in.xml: this line contains ..."), of a file not written
    result = import_cap(tmp_site, message(**fields).encode())
    assert result.exit_code == 1, result.output
    assert f"in.xml:{line}: <{tag}> contains the character {char}" in result.output
    assert "this line contains" not in result.output
    assert list((tmp_site.root / "content/alerts").iterdir()) == []


@pytest.mark.parametrize(
    ("fields", "line", "tag"),
    [
        ({"headline": "Flood \u202ewatch"}, HEADLINE_LINE, "headline"),
        ({"area": "Seoul\u2066"}, AREA_LINE, "areaDesc"),
    ],
)
def test_a_direction_control_dropped_on_import_is_said_at_its_element(
    tmp_site: TmpSite, fields: dict[str, str], line: int, tag: str
) -> None:
    # `check` refuses these in an alert file; the import removed them and said nothing
    result = import_cap(tmp_site, message(**fields).encode())
    assert result.exit_code == 0, result.output
    assert (
        f"in.xml:{line}: warning: <{tag}> contained invisible text-direction control characters"
    ) in result.output
    written = (tmp_site.root / "content/alerts/X-1.md").read_text(encoding="utf-8")
    assert "\u202e" not in written and "\u2066" not in written


@pytest.mark.parametrize(
    ("identifier", "name"),
    [
        ("../../../etc/passwd", "etc-passwd.md"),
        ("/etc/passwd", "etc-passwd.md"),
        ("..\\..\\x", "x.md"),
        ("..", "alert.md"),
        ("abc\u202egpj.md", "abcgpj-md.md"),
        ("CON", "CON-alert.md"),
        ("LPT1", "LPT1-alert.md"),
        ("a\n---\nb", "a-----b.md"),
    ],
)
def test_an_identifier_names_a_file_inside_content_alerts_only(
    tmp_site: TmpSite, identifier: str, name: str
) -> None:
    result = import_cap(tmp_site, message(identifier=escape(identifier)).encode())
    assert result.exit_code == 0, result.output
    files = [p for p in tmp_site.root.rglob("*") if p.is_file()]
    made = sorted(p.relative_to(tmp_site.root).as_posix() for p in files)
    assert [m for m in made if m.startswith("content/")] == [f"content/alerts/{name}"]


def test_a_very_long_identifier_makes_a_short_file_name(tmp_site: TmpSite) -> None:
    result = import_cap(tmp_site, message(identifier="a" * 5000).encode())
    assert result.exit_code == 0, result.output
    (written,) = (tmp_site.root / "content/alerts").iterdir()
    assert len(written.name) <= 110


HOSTILE = "</script><script>alert(1)</script>]]>--&gt;--><!--\u2028\u2029\"'\\"


def test_hostile_text_imported_builds_into_well_formed_feeds_and_inert_pages(
    tmp_site: TmpSite,
) -> None:
    fields = {"headline": HOSTILE, "description": f"{HOSTILE}\n\n{HOSTILE}", "area": HOSTILE}
    result = import_cap(tmp_site, message(**{k: escape(v) for k, v in fields.items()}).encode())
    assert result.exit_code == 0, result.output
    tmp_site.build()
    written = sorted(tmp_site.public.rglob("*"))
    xml = [p for p in written if p.suffix in {".xml", ".atom"}]
    assert {p.name for p in xml} >= {"cap.xml", "cap.atom", "feed.atom", "sitemap.xml"}
    for path in xml:
        fromstring(path.read_bytes())  # noqa: S314 - raises if not well-formed
    for path in written:
        if path.suffix in {".html", ".xml", ".atom"}:
            assert "<script>alert" not in path.read_text("utf-8"), path


def test_a_message_only_ever_writes_in_content_alerts(tmp_site: TmpSite, tmp_path: Path) -> None:
    before = {p for p in tmp_path.rglob("*")}
    result = import_cap(tmp_site, message(identifier="../../../../x").encode())
    assert result.exit_code == 0, result.output
    new = {p for p in tmp_path.rglob("*")} - before - {tmp_site.root / "in.xml"}
    assert new == {tmp_site.root / "content/alerts/x.md"}


def test_such_a_character_in_an_element_not_imported_is_no_error(tmp_site: TmpSite) -> None:
    data = message().replace("<scope>", "<note>Test\u0085</note>\n  <scope>")
    result = import_cap(tmp_site, data.encode())
    assert result.exit_code == 0, result.output
    assert "<note> is not part of sitegen's alert format" in result.output


@pytest.mark.parametrize("char", ["\u009b", "\u0085", "\u202e", "\u2066"])
def test_what_messages_quote_of_the_xml_holds_no_control_or_direction_character(
    tmp_site: TmpSite, char: str
) -> None:
    # U+009B is a terminal's escape-sequence opener: `import-cap` printed it as received
    data = message().replace("<scope>", f"<note>31m{char}red</note>\n  <scope>")
    data = data.replace("<sender>alerts@test.invalid", f"<sender>other{char}@x.example")
    result = import_cap(tmp_site, data.encode())
    assert "<note> is not part of sitegen's alert format and was not imported: 31m" in (
        result.output
    )
    assert char not in result.output


def test_content_alerts_linked_outside_content_is_never_written_to(
    tmp_site: TmpSite, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_site.root / "content/alerts").rmdir()
    (tmp_site.root / "content/alerts").symlink_to(outside)
    result = import_cap(tmp_site, message().encode())
    assert result.exit_code == 1, result.output
    assert "content/alerts: is a link to" in result.output
    assert "a folder outside content/, so nothing was written" in result.output
    assert list(outside.iterdir()) == []


def test_an_alert_file_linked_outside_content_is_named_as_the_file_not_the_xml(
    tmp_site: TmpSite, tmp_path: Path
) -> None:
    # it was said as "in.xml: ... (`sitegen check` would refuse content/alerts/X-1.md:0 for it)"
    outside = tmp_path / "outside.md"
    outside.write_text("kept\n", encoding="utf-8")
    (tmp_site.root / "content/alerts/X-1.md").symlink_to(outside)
    result = import_cap(tmp_site, message().encode(), "--force")
    assert result.exit_code == 1, result.output
    assert "content/alerts/X-1.md: this is a link to a file or folder outside content/" in (
        result.output
    )
    assert "in.xml would be imported to this file, so nothing was written: remove the link" in (
        result.output
    )
    assert ":0" not in result.output and "in.xml: this is a link" not in result.output
    assert outside.read_text(encoding="utf-8") == "kept\n"
    assert (tmp_site.root / "content/alerts/X-1.md").is_symlink()
