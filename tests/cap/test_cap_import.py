"""CAP → alert files: round trip over every example alert, national-feed shapes, safe parsing."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cap_checks import cap_text, validate_cap

from sitegen.body import render_body
from sitegen.build import build_bundle
from sitegen.cap_import import MAX_INPUT_BYTES, ImportedFile, import_cap
from sitegen.cli_cap import write_imported
from sitegen.content import require_site
from sitegen.lifecycle import standings
from sitegen.model import Alert, MsgType, Phase, Site, Status
from sitegen_fixtures import NOW, TmpSite, alert_text, file_size_limit

FIXTURES = Path(__file__).parent / "fixtures"
MULTILINGUAL_TOML = """\
[site]
title = "Imported Alerts"
base_url = "https://alerts.test/"
default_language = "en"
languages = ["en", "fr", "de", "ko"]
sender = "alerts@test.invalid"
"""
NWS = "urn-oid-2-49-0-1-840-0-{}-001-1"
NWS_WARNING = NWS.format("7d4c1f0a2b9e8d3c6f5a4b3c2d1e0f9a8b7c6d5e")
NWS_UPDATE = NWS.format("0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b")
NWS_CANCEL = NWS.format("f1e2d3c4b5a697887766554433221100ffeeddcc")


@pytest.fixture
def import_site(tmp_site: TmpSite) -> TmpSite:
    (tmp_site.root / "site.toml").write_text(MULTILINGUAL_TOML, encoding="utf-8")
    return tmp_site


def import_files(site: TmpSite, *names: str) -> list[str]:
    """Import fixture files through the library, write them, return every problem as text."""
    files: list[ImportedFile] = []
    problems: list[str] = []
    for name in names:
        result = import_cap((FIXTURES / name).read_bytes(), name, site.config)
        assert result.ok, [str(p) for p in result.problems]
        files.extend(result.files)
        problems.extend(str(p) for p in result.problems)
    write_imported(files, site.config, force=False)
    return problems


def loaded(site: TmpSite, now: datetime = NOW) -> Site:
    return require_site(site.config, now)[0]


def comparable(alert: Alert) -> Alert:
    """Every field but the body, which CAP carries as plain text (compared separately)."""
    return replace(alert, body="")


def cap_texts(alert: Alert) -> tuple[str, str]:
    body = render_body(alert.body)
    return body.description, body.instruction


def test_round_trip_every_example_alert(example_site: TmpSite, tmp_path: Path) -> None:
    """import(export(a)) == a for every example alert, and exporting again is byte-identical."""
    original = loaded(example_site)
    bundle, _, _ = build_bundle(example_site.config, NOW)
    caps = {p: f.data for p, f in bundle.items() if p.endswith("/cap.xml")}
    target = tmp_path / "reimported"
    shutil.copytree(example_site.root, target)
    shutil.rmtree(target / "content" / "alerts")
    again = TmpSite.__new__(TmpSite)
    again.root = target
    files: list[ImportedFile] = []
    for path, data in sorted(caps.items()):
        result = import_cap(data, path, again.config)
        assert result.problems == (), [str(p) for p in result.problems]  # nothing lost
        files.extend(result.files)
    write_imported(files, again.config, force=False)
    imported = loaded(again)
    assert [g.id for g in imported.groups] == [g.id for g in original.groups]
    for before, after in zip(original.groups, imported.groups, strict=True):
        assert len(after.versions) == len(before.versions)
        for a, b in zip(before.versions, after.versions, strict=True):
            assert comparable(b) == comparable(a)
            assert cap_texts(b) == cap_texts(a)
    rebuilt, _, _ = build_bundle(again.config, NOW)
    assert {p: rebuilt[p].data for p in caps} == caps


def test_a_separate_headline_travels_beside_the_title(tmp_site: TmpSite, tmp_path: Path) -> None:
    text = alert_text(title="Flood watch").replace(
        "event: Flood", "headline: River Han above 8.5 m at Hangang Bridge\nevent: Flood"
    )
    tmp_site.add("h.md", text)
    data = build_bundle(tmp_site.config, NOW)[0]["alerts/h/cap.xml"].data
    root = validate_cap(data)
    assert cap_text(root, "info/headline") == ["River Han above 8.5 m at Hangang Bridge"]
    (tmp_site.root / "content/alerts/h.md").unlink()
    result = import_cap(data, "h.xml", tmp_site.config)
    write_imported(list(result.files), tmp_site.config, force=False)
    alert = loaded(tmp_site).by_id["h"].primary
    assert (alert.title, alert.headline) == (
        "Flood watch",
        "River Han above 8.5 m at Hangang Bridge",
    )


def test_us_nws_update_and_cancel_chain(import_site: TmpSite) -> None:
    problems = import_files(
        import_site,
        "us-nws-tornado-warning.xml",
        "us-nws-tornado-update.xml",
        "us-nws-tornado-cancel.xml",
    )
    during = loaded(import_site, datetime.fromisoformat("2026-05-14T18:00:00-05:00"))
    phases = {k: s.phase for k, s in standings(during).items()}
    assert (phases[NWS_WARNING], phases[NWS_UPDATE]) == (Phase.SUPERSEDED, Phase.ACTIVE)
    after = loaded(import_site, datetime.fromisoformat("2026-05-14T18:10:00-05:00"))
    assert standings(after)[NWS_CANCEL].phase is Phase.CANCELLED
    warning = after.by_id[NWS_WARNING].primary
    assert warning.title.startswith("Tornado Warning issued May 14 at 5:42PM CDT")
    # one <area> with two counties: the front matter's one value per name makes it two areas,
    # named by the parts of the areaDesc (two names, two places), the polygon on the first,
    # so no county is lost and no page shows the other county's name
    assert [(a.name, a.geocodes, a.polygons) for a in warning.areas] == [
        (
            "Cleveland, OK",
            (("SAME", "040027"), ("UGC", "OKC027")),
            ("35.08,-97.57 35.21,-97.30 35.05,-97.22 34.95,-97.50 35.08,-97.57",),
        ),
        ("McClain, OK", (("SAME", "040087"), ("UGC", "OKC087")), ()),
    ]
    split = [p for p in problems if "holds 2 places" in p and "Cleveland" in p]
    assert len(split) == 2 and split[0].startswith("us-nws-tornado-warning.xml:"), problems
    assert (
        "warning: area 'Cleveland, OK; McClain, OK' holds 2 places (SAME 040027 UGC OKC027, "
        "SAME 040087 UGC OKC087): written as 2 areas named by the order of its names and "
        "geocodes (Cleveland, OK, McClain, OK); check that each name has its own place's codes"
    ) in split[0]
    assert not any("040087" in p and "not imported" in p for p in problems), problems
    assert warning.effective == datetime.fromisoformat("2026-05-14T17:42:00-05:00")
    assert after.by_id[NWS_CANCEL].primary.references == (NWS_UPDATE,)
    assert "TAKE COVER NOW!" in render_body(warning.body).instruction
    assert "Newcastle & Blanchard." in render_body(warning.body).description
    # what the alert format cannot hold is reported, with the line it was on
    for expected in (
        "us-nws-tornado-warning.xml:19: warning: <eventCode> is not part of sitegen's alert "
        "format and was not imported: SAME=TOR",
        "us-nws-tornado-warning.xml:58: warning: <parameter> is not part of sitegen's alert "
        "format and was not imported: VTEC=/O.NEW.KOUN.TO.W.0021.260514T2242Z-260514T2315Z/",
        "us-nws-tornado-warning.xml:28: warning: <onset>",
        "us-nws-tornado-warning.xml:15: warning: <responseType>",
        "us-nws-tornado-cancel.xml:11: warning: <note>",
    ):
        assert any(p.startswith(expected) for p in problems), expected


def test_reexported_chain_references_the_imported_messages(import_site: TmpSite) -> None:
    import_files(
        import_site,
        "us-nws-tornado-warning.xml",
        "us-nws-tornado-update.xml",
        "us-nws-tornado-cancel.xml",
    )
    when = datetime.fromisoformat("2026-05-14T18:10:00-05:00")
    bundle = build_bundle(import_site.config, when)[0]
    cancel = validate_cap(bundle[f"alerts/{NWS_CANCEL}/cap.xml"].data)
    assert cap_text(cancel, "references") == [
        f"alerts@test.invalid,test.invalid-{NWS_UPDATE},2026-05-14T17:58:00-05:00"
    ]
    assert cap_text(cancel, "msgType") == ["Cancel"]
    warning = validate_cap(bundle[f"alerts/{NWS_WARNING}/cap.xml"].data)
    assert cap_text(warning, "info/area/geocode/value") == ["040027", "OKC027", "040087", "OKC087"]


def test_canadian_bilingual_message_becomes_two_files(import_site: TmpSite) -> None:
    problems = import_files(import_site, "ca-naad-rainfall.xml")
    alert_id = "urn-oid-2-49-0-1-124-2719650543-2026"
    names = sorted(p.name for p in (import_site.root / "content/alerts").iterdir())
    assert names == [f"{alert_id}.fr.md", f"{alert_id}.md"]
    group = loaded(import_site, datetime.fromisoformat("2026-10-02T12:00:00+00:00")).by_id[alert_id]
    assert [v.language for v in group.versions] == ["en", "fr"]
    fr = group.version("fr")
    assert fr is not None and fr.title == "avertissement de pluie en vigueur"
    assert fr.areas[0].name == "Vancouver - centre incluant le centre-ville"
    assert render_body(fr.body).instruction.startswith("Les fortes averses")
    assert group.primary.sent == datetime.fromisoformat("2026-10-02T05:31:00+00:00")
    assert group.primary.areas[0].geocodes[0] == ("layer:EC-MSC-SMC:1.0:CLC", "071110")
    assert any("<audience> is not part" in p and "grand public" in p for p in problems)
    assert any("<source> is not part" in p for p in problems)
    assert [a.geocodes for a in fr.areas] == [
        (("layer:EC-MSC-SMC:1.0:CLC", "071110"), ("profile:CAP-CP:Location:0.3", "5915022")),
        (("profile:CAP-CP:Location:0.3", "5915025"),),  # the second place, kept
    ]
    assert [a.name for a in fr.areas] == ["Vancouver - centre incluant le centre-ville"] * 2
    assert any(  # one name for two places: the official is asked to name each
        "holds 2 places (layer:EC-MSC-SMC:1.0:CLC 071110 profile:CAP-CP:Location:0.3 5915022, "
        "profile:CAP-CP:Location:0.3 5915025): written as 2 areas of this name" in p
        for p in problems
    ), problems


def test_german_mowas_and_dwd_messages(import_site: TmpSite) -> None:
    problems = import_files(
        import_site,
        "de-mowas-chemical.xml",
        "de-dwd-thunderstorm.xml",
        "de-dwd-thunderstorm-update.xml",
    )
    site = loaded(import_site, datetime.fromisoformat("2026-07-15T13:00:00+02:00"))
    mowas = site.by_id["DE-NW-BN-SE030-20260715-30-000"]
    assert [v.language for v in mowas.versions] == ["de", "en"]
    assert mowas.primary.areas[0].geocodes == (("SHN", "053140000000"),)  # leading zero kept
    assert render_body(mowas.primary.body).instruction.splitlines() == [
        "Halten Sie Fenster und Türen geschlossen.",
        "Schalten Sie Lüftungs- und Klimaanlagen ab.",
        "Meiden Sie das betroffene Gebiet.",
    ]
    assert "## Was zu tun ist" in mowas.primary.body
    dwd = [g for g in site.groups if g.id.startswith("2-49-0-0-276-0-DWD")]
    update = next(g for g in dwd if g.primary.msg_type is MsgType.UPDATE)
    assert update.primary.references == (next(g.id for g in dwd if g is not update),)
    assert {s.phase for k, s in standings(site).items() if "DWD" in k} == {
        Phase.SUPERSEDED,
        Phase.ACTIVE,
    }
    assert any("<altitude> is not part" in p for p in problems)
    assert any("<contact> is not part" in p and "0228 77 3333" in p for p in problems)


def test_imported_sites_build_valid_cap_again(import_site: TmpSite) -> None:
    import_files(import_site, *sorted(p.name for p in FIXTURES.glob("*.xml")))
    when = datetime.fromisoformat("2026-10-02T06:00:00+00:00")  # after the last one's `sent`
    bundle, _, _ = build_bundle(import_site.config, when)
    caps = [p for p in bundle if p.endswith("cap.xml")]
    assert len(caps) == 7
    for path in caps:
        validate_cap(bundle[path].data)


MINIMAL = """<?xml version="1.0"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>x-1</identifier><sender>a@b.c</sender><sent>2026-01-01T00:00:00-00:00</sent>
<status>{status}</status><msgType>{msg_type}</msgType><scope>{scope}</scope>
<info><language>{language}</language><category>Met</category><event>Storm</event>
<urgency>Expected</urgency><severity>{severity}</severity><certainty>Likely</certainty>
{expires}<headline>Storm</headline><area><areaDesc>Coast</areaDesc></area></info>
</alert>
"""


def minimal(**fields: str) -> bytes:
    values = {
        "status": "Actual",
        "msg_type": "Alert",
        "scope": "Public",
        "language": "en-GB",
        "severity": "Severe",
        "expires": "<expires>2026-01-02T00:00:00-00:00</expires>",
    }
    values.update(fields)
    return MINIMAL.format(**values).encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&d;</identifier></alert>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&secret;</identifier></alert>
"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not xml", "x.xml:1: not well-formed XML"),
        (b"<alert><unclosed></alert>", "x.xml:1: not well-formed XML (mismatched tag"),
        (BILLION_LAUGHS, "x.xml:2: refused: the XML uses a DTD (<!DOCTYPE alert>); CAP needs none"),
        (EXTERNAL, "x.xml:2: refused: the XML uses a DTD (<!DOCTYPE alert>)"),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"/>',
            "this is an Atom feed, not a CAP message",
        ),
        (
            minimal().replace(b"cap:1.2", b"cap:1.1"),
            "not a CAP 1.2 message: the root element is <alert> in namespace "
            "urn:oasis:names:tc:emergency:cap:1.1",
        ),
        (minimal(scope="Restricted"), "scope is Restricted: this message is not for the public"),
        (minimal(msg_type="Ack"), "msgType Ack is a reply between systems"),
        (minimal(msg_type="Update"), "an Update must have <references>"),
        (minimal(language="ja-JP"), "language ja-JP is not one of the site's languages (en, ko)"),
        (minimal(expires=""), "<info> has no <expires>, which sitegen needs"),
        (minimal(severity="Catastrophic"), "<severity> 'Catastrophic' is not one of Extreme"),
        (minimal(status="Real"), "<status> 'Real' is not one of Actual"),
        (  # Latin-1 saved without saying so: was "not well-formed (invalid token)"
            minimal().replace(b"Storm</headline>", "Tempête</headline>".encode("latin-1")),
            "x.xml:7: not UTF-8 text (byte 0xEA in column 59): save it as UTF-8, or name its "
            'encoding in its first line, e.g. <?xml version="1.0" encoding="ISO-8859-1"?>',
        ),
        (  # was: written as `geocodes: {"": "1"}`, which check let through
            minimal().replace(b"</area>", b"<geocode><value>1</value></geocode></area>"),
            "x.xml:7: <geocode> 1 has no <valueName>",
        ),
        (  # was: no file and no error, so the command said nothing was wrong
            minimal().replace(b"<identifier>x-1</identifier>", b"<identifier> </identifier>"),
            "x.xml:3: <identifier> is empty, and sitegen needs it",
        ),
        (
            minimal().replace(b"<areaDesc>Coast</areaDesc>", b"<areaDesc/>"),
            "x.xml:7: <areaDesc> is empty, and sitegen needs it",
        ),
    ],
)
def test_unusable_input_gets_a_clear_error(tmp_site: TmpSite, data: bytes, message: str) -> None:
    result = import_cap(data, "x.xml", tmp_site.config)
    assert not result.ok and result.files == ()
    assert any(message in str(p) for p in result.problems), [str(p) for p in result.problems]
    assert not any("root:" in str(p) for p in result.problems)  # /etc/passwd never read
    assert not any("Forbidden(" in str(p) for p in result.problems)  # no Python repr


def test_infos_that_disagree_on_shared_fields_are_refused(tmp_site: TmpSite) -> None:
    data = minimal().replace(
        b"</info>",
        b"</info>"
        + minimal(language="ko-KR", severity="Minor").split(b"</scope>")[1].split(b"</alert>")[0],
        1,
    )
    result = import_cap(data, "x.xml", tmp_site.config)
    assert not result.ok
    assert any("disagree on severity (en: Severe, ko: Minor)" in str(p) for p in result.problems)


def test_infos_that_name_other_places_are_refused(tmp_site: TmpSite) -> None:
    """As `sitegen check` refuses such translations: one CAP message, one set of places."""
    code = "<geocode><valueName>SAME</valueName><value>{}</value></geocode></area>"
    english = minimal().replace(b"</area>", code.format("006037").encode())
    korean = minimal(language="ko-KR").replace(b"</area>", code.format("6037").encode())
    data = english.replace(
        b"</info>", b"</info>" + korean.split(b"</scope>")[1].split(b"</alert>")[0], 1
    )
    result = import_cap(data, "x.xml", tmp_site.config)
    assert not result.ok
    assert [str(p) for p in result.problems if p.severity == "error"] == [
        "x.xml:10: the <info> blocks disagree on the areas (en: Coast (SAME=006037); ko: Coast "
        "(SAME=6037)); sitegen needs the same places, with the same geocodes and polygons, in "
        "every language"
    ]


def test_a_minimal_foreign_message_imports(tmp_site: TmpSite) -> None:
    result = import_cap(minimal(status="Test"), "x.xml", tmp_site.config)
    assert result.ok and [f.name for f in result.files] == ["x-1.md"]
    write_imported(list(result.files), tmp_site.config, force=False)
    alert = loaded(tmp_site).by_id["x-1"].primary
    assert (alert.status, alert.language, alert.title) == (Status.TEST, "en", "Storm")


def cli(*args: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", "from sitegen.cli import main; main()", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_cli_reads_stdin_and_refuses_to_overwrite(import_site: TmpSite) -> None:
    data = (FIXTURES / "de-mowas-chemical.xml").read_bytes()
    first = cli("import-cap", "-", cwd=import_site.root, stdin=data)
    assert first.returncode == 0, first.stderr
    assert b"wrote content/alerts/DE-NW-BN-SE030-20260715-30-000.md" in first.stdout
    assert b"<stdin>:31: warning: <contact> is not part" in first.stderr
    again = cli("import-cap", "-", cwd=import_site.root, stdin=data)
    assert again.returncode == 1 and b"already exist" in again.stderr
    assert b"Traceback" not in again.stderr
    forced = cli("import-cap", "--force", "-", cwd=import_site.root, stdin=data)
    assert forced.returncode == 0, forced.stderr


def test_cli_writes_nothing_when_any_file_fails(import_site: TmpSite, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(BILLION_LAUGHS)
    good = FIXTURES / "de-mowas-chemical.xml"
    result = cli("import-cap", str(good), str(bad), cwd=import_site.root)
    assert result.returncode == 1
    assert (
        b"bad.xml:2: refused: the XML uses a DTD" in result.stderr
        and b"Traceback" not in result.stderr
    )
    assert list((import_site.root / "content/alerts").iterdir()) == []


def test_a_file_that_is_not_there_is_a_usage_error(import_site: TmpSite) -> None:
    """Exit 2, as for any other wrong argument (a folder: click's "is a directory"), in the
    shared words (errors.cannot_read), and before the site is read: a typo in the file's
    name is the mistake to name first."""
    (import_site.root / "site.toml").unlink()
    result = cli("import-cap", "nowhere.xml", cwd=import_site.root)
    assert result.returncode == 2, result.stderr
    assert (
        b"nowhere.xml: cannot read the file: No such file or directory; check the file's name "
        b"and folder" in result.stderr
    )
    assert b"Traceback" not in result.stderr and b"site.toml" not in result.stderr


def test_two_messages_with_one_file_name_are_refused(import_site: TmpSite, tmp_path: Path) -> None:
    """`a/b` and `a:b` both become a-b.md: the second silently replaced the first."""
    for name, identifier in (("one.xml", "a/b"), ("two.xml", "a:b")):
        data = minimal().replace(b"x-1", identifier.encode())
        (tmp_path / name).write_bytes(data)
    (tmp_path / "again.xml").write_bytes((tmp_path / "one.xml").read_bytes())
    result = cli(
        "import-cap", *(str(tmp_path / n) for n in ("one.xml", "two.xml")), cwd=import_site.root
    )
    assert result.returncode == 1, result.stderr
    assert (
        f"{tmp_path / 'two.xml'}: this message would be written to content/alerts/a-b.md, as "
        f"{tmp_path / 'one.xml'} is"
    ).encode() in result.stderr
    assert list((import_site.root / "content/alerts").iterdir()) == []
    same = cli(
        "import-cap", str(tmp_path / "one.xml"), str(tmp_path / "again.xml"), cwd=import_site.root
    )
    assert same.returncode == 0, same.stderr  # the same message twice: imported once
    assert f"{tmp_path / 'again.xml'}: warning: the same message as".encode() in same.stderr
    changed = minimal(severity="Minor").replace(b"x-1", b"a/b")
    (tmp_path / "again.xml").write_bytes(changed)  # the same identifier, another message
    result = cli(
        "import-cap", str(tmp_path / "one.xml"), str(tmp_path / "again.xml"), cwd=import_site.root
    )
    assert result.returncode == 1 and b"both have the identifier a/b but say" in result.stderr


class _Endless(io.RawIOBase):
    """A stdin that never ends (`import-cap - < /dev/zero`): reading past the limit fails."""

    def __init__(self) -> None:
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        assert self.given <= 2 * MAX_INPUT_BYTES, "read on past the size limit"
        size = len(buffer)
        buffer[:size] = b"<" * size
        self.given += size
        return size


def test_endless_input_is_cut_at_the_size_limit(import_site: TmpSite) -> None:
    from click.testing import CliRunner

    from sitegen.cli import cli as sitegen_cli

    site = str(import_site.root / "site.toml")
    stdin = io.BufferedReader(_Endless())
    result = CliRunner().invoke(sitegen_cli, ["import-cap", "--site", site, "-"], input=stdin)
    assert result.exit_code == 1, result.output
    assert "<stdin>: over 5,000,000 bytes" in result.output


HARD_WRAPPED = """<instruction>TAKE COVER NOW! Move to a basement or an interior room on the lowest
floor of a sturdy building. Avoid windows.
- If you are outdoors, move to the closest
  substantial shelter.
2. Protect your head.</instruction>
<description>A confirmed tornado was located near Blanchard, moving
northeast at 30 mph.
Hail is expected.</description>
"""


def test_hard_wrapped_lines_are_joined_and_only_real_items_start_a_step(
    tmp_site: TmpSite,
) -> None:
    data = minimal().replace(b"<area>", HARD_WRAPPED.encode() + b"<area>")
    result = import_cap(data, "x.xml", tmp_site.config)
    assert result.ok, [str(p) for p in result.problems]
    write_imported(list(result.files), tmp_site.config, force=False)
    description, instruction = cap_texts(loaded(tmp_site).by_id["x-1"].primary)
    assert instruction.split("\n") == [
        "TAKE COVER NOW! Move to a basement or an interior room on the lowest floor of a sturdy "
        "building. Avoid windows.",
        "If you are outdoors, move to the closest substantial shelter.",
        "2. Protect your head.",
    ]
    assert description.split("\n") == [
        "A confirmed tornado was located near Blanchard, moving northeast at 30 mph.",
        "Hail is expected.",
    ]


def test_one_step_per_line_stays_one_step_per_line(import_site: TmpSite) -> None:
    import_files(import_site, "de-mowas-chemical.xml")
    [group] = loaded(import_site).groups
    assert cap_texts(group.primary)[1].count("\n") == 2  # three steps, as sent


def test_problems_name_the_line_of_the_element_they_are_about(tmp_site: TmpSite) -> None:
    data = b"\n".join(
        [
            b'<?xml version="1.0"?>',
            b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">',
            b"<identifier>x-1</identifier>",
            b"<sender>other@example.org</sender>",  # line 4
            b"<sent>2026-01-01T00:00:00-00:00</sent><status>Actual</status>",
            b"<msgType>Alert</msgType><scope>Public</scope>",
            b"<info><language>en</language><category>Met</category><event>Storm</event>",
            b"<urgency>Expected</urgency>",
            b"<severity>Catastrophic</severity>",  # line 9
            b"<certainty>Likely</certainty>",
            b"<expires>soon</expires>",  # line 11
            b"<headline>Storm</headline><area><areaDesc>Coast</areaDesc></area></info>",
            b"</alert>",
        ]
    )
    problems = [str(p) for p in import_cap(data, "x.xml", tmp_site.config).problems]
    assert any(p.startswith("x.xml:4: warning: sender other@example.org") for p in problems)
    assert any(p.startswith("x.xml:9: <severity> 'Catastrophic'") for p in problems)
    assert any(p.startswith("x.xml:11: <expires> 'soon'") for p in problems), problems


def run_import(site: TmpSite, tmp_path: Path, *datas: bytes, force: bool = False) -> Any:
    """`sitegen import-cap [--force] FILES` through click, each message saved as m<n>.xml."""
    from click.testing import CliRunner

    from sitegen.cli import cli as sitegen_cli

    names = []
    for number, data in enumerate(datas, 1):
        (tmp_path / f"m{number}.xml").write_bytes(data)
        names.append(str(tmp_path / f"m{number}.xml"))
    options = ["--site", str(site.root / "site.toml"), *(["--force"] if force else [])]
    return CliRunner().invoke(sitegen_cli, ["import-cap", *options, *names])


def written(site: TmpSite) -> list[str]:
    return sorted(p.name for p in (site.root / "content/alerts").iterdir())


@pytest.mark.parametrize(
    ("identifier", "name"),
    [
        ("ñandú-1", "nandu-1.md"),  # was "and-1.md": letters lost
        ("Ñandú-1", "Nandu-1.md"),
        ("CON", "CON-alert.md"),  # Windows cannot create CON.md, NUL.md, COM1.md...
        ("nul", "nul-alert.md"),
        ("LPT9", "LPT9-alert.md"),
        ("test.invalid-com1", "com1-alert.md"),  # this site's own, when its id is a device name
        ("경보-1", "1-60ca5688aa.md"),  # no Latin form: a digest keeps it apart from 경고-1
        ("DE-NW-BN-SE030", "DE-NW-BN-SE030.md"),  # ASCII ids as before: URLs stay
    ],
)
def test_file_names_are_safe_on_every_system_and_keep_letters(
    import_site: TmpSite, tmp_path: Path, identifier: str, name: str
) -> None:
    data = minimal().replace(b"<identifier>x-1<", f"<identifier>{identifier}<".encode())
    result = run_import(import_site, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert written(import_site) == [name]
    require_site(import_site.config, NOW)  # and `sitegen check` takes it


def test_names_differing_only_in_case_are_one_file(import_site: TmpSite, tmp_path: Path) -> None:
    """`ABC.md` and `abc.md` are one file on Windows and macOS: the second would replace it."""
    upper, lower = (minimal().replace(b"x-1", i) for i in (b"ABC", b"abc"))
    result = run_import(import_site, tmp_path, upper, lower)
    assert result.exit_code == 1
    assert "would be written to content/alerts/abc.md, as" in result.output, result.output
    assert written(import_site) == []


def test_a_full_disk_leaves_no_file_written(import_site: TmpSite, tmp_path: Path) -> None:
    """Written one by one, the first file stayed when the second did not fit (here: over a
    file size limit, which fails a write as a full disk does)."""
    small = minimal().replace(b"x-1", b"small")
    large = minimal().replace(b"x-1", b"large")
    large = large.replace(b"<area>", b"<description>" + b"Rain. " * 2000 + b"</description><area>")
    for name, data in (("small.xml", small), ("large.xml", large)):
        (tmp_path / name).write_bytes(data)

    result = subprocess.run(
        [sys.executable, "-B", "-c", "from sitegen.cli import main; main()", "import-cap"]
        + [str(tmp_path / "small.xml"), str(tmp_path / "large.xml")],
        cwd=import_site.root,
        capture_output=True,
        timeout=60,
        preexec_fn=file_size_limit(4000),
    )
    assert result.returncode == 1, result.stderr
    assert written(import_site) == []  # was: small.md
    assert list((import_site.root / "content").iterdir()) == [import_site.root / "content/alerts"]
    assert b"content/alerts/large.md: cannot write it (File too large)" in result.stderr
    assert b"Nothing was written." in result.stderr and b"Traceback" not in result.stderr


def test_force_never_replaces_a_file_from_another_message(
    import_site: TmpSite, tmp_path: Path
) -> None:
    """`a/b` and later `a:b` both make a-b.md: --force replaced the first without a word."""
    first = minimal().replace(b"x-1", b"a/b")
    assert run_import(import_site, tmp_path, first).exit_code == 0
    before = (import_site.root / "content/alerts/a-b.md").read_text(encoding="utf-8")
    assert "# imported from the CAP message a/b\n" in before
    other = minimal(severity="Minor").replace(b"x-1", b"a:b")
    result = run_import(import_site, tmp_path, other, force=True)
    assert result.exit_code == 1
    assert (
        "content/alerts/a-b.md: holds the CAP message a/b, not a:b, whose file name it would "
        "also be\nNothing was written, --force or not." in result.output
    ), result.output
    assert (import_site.root / "content/alerts/a-b.md").read_text(encoding="utf-8") == before
    corrected = minimal(severity="Extreme").replace(b"x-1", b"a/b")  # the same message again
    assert run_import(import_site, tmp_path, corrected, force=True).exit_code == 0
    assert "severity: Extreme" in (import_site.root / "content/alerts/a-b.md").read_text()


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize(("there", "new"), [("abc", "ABC"), ("ABC", "abc")])
def test_a_name_differing_only_in_case_from_a_file_there_is_refused(
    import_site: TmpSite, tmp_path: Path, force: bool, there: str, new: str
) -> None:
    """`abc.md` was there and importing `ABC` wrote `ABC.md` beside it: one file on Windows
    and macOS, so a copy of the site there lost one (on Linux, the test's, `exists()` is no
    help: the check must compare the names in the folder). Said so whichever of the two ids
    `sitegen check` would refuse (the one with more capitals)."""
    first = minimal().replace(b"x-1", there.encode())
    assert run_import(import_site, tmp_path, first).exit_code == 0
    second = minimal().replace(b"x-1", new.encode())
    result = run_import(import_site, tmp_path, second, force=force)
    assert result.exit_code == 1, result.output
    assert (
        f"content/alerts/{new}.md: content/alerts/{there}.md is there already, a name that "
        "differs only in case: on Windows and macOS they are one file\nNothing was written, "
        "--force or not. To keep both, rename the file that is there" in result.output
    ), result.output
    assert written(import_site) == [f"{there}.md"]


@pytest.mark.parametrize("force", [False, True])
def test_force_never_replaces_a_file_written_by_hand(
    import_site: TmpSite, tmp_path: Path, force: bool
) -> None:
    """--force replaced an alert the official wrote (no `# imported from` line) without a
    word; without --force, the advice was to use it."""
    mine = import_site.root / "content/alerts/x-1.md"
    mine.write_text(alert_text(), encoding="utf-8")
    result = run_import(import_site, tmp_path, minimal(), force=force)
    assert result.exit_code == 1, result.output
    assert (
        "content/alerts/x-1.md: was not imported from a CAP message (its front matter has no "
        "line '# imported from the CAP message ...'), so it is not replaced\nNothing was "
        "written, --force or not." in result.output
    ), result.output
    assert "Use --force" not in result.output
    assert mine.read_text(encoding="utf-8") == alert_text()
    mine.unlink()  # as the message says, when the new message replaces it
    assert run_import(import_site, tmp_path, minimal(), force=force).exit_code == 0


def test_force_help_says_what_it_replaces() -> None:
    """`import-cap --help` said --force would "Overwrite alert files that already exist",
    the very files it refuses to replace (above), as docs/cap.md says."""
    from click.testing import CliRunner

    from sitegen.cli import cli as sitegen_cli

    result = CliRunner().invoke(sitegen_cli, ["import-cap", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Overwrite" not in result.output
    assert (
        "Replace alert files imported before from the same messages (a corrected copy); a "
        "file written by hand or from another message is never replaced." in result.output
    ), result.output


@pytest.mark.parametrize(
    ("texts", "said"),
    [
        (
            "",
            "m1.xml:5: warning: <info> has no <description> and no <instruction>: the alert "
            "page would show its title alone; add what happened and what to do to the message, "
            "or write them at the end of the alert file once imported",
        ),
        (
            "<description>Rain.</description>",
            "m1.xml:5: warning: <info> has no <instruction>: the alert page would have no "
            "'What to do' section, and citizens look for instructions first; add it to the "
            "message, or write it at the end of the alert file once imported",
        ),
    ],
)
def test_missing_texts_are_said_in_cap_terms_at_the_info_line(
    import_site: TmpSite, tmp_path: Path, texts: str, said: str
) -> None:
    """Said as `check` says it of the file, with no XML line: "the alert has no text below
    the front matter", "no '## What to do' section", words of a file the official never saw."""
    data = minimal().replace(b"<area>", texts.encode() + b"<area>")
    result = run_import(import_site, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert f"{tmp_path}/{said}\n" in result.output, result.output
    assert "front matter" not in result.output and "##" not in result.output


AREA_WITH = b"<area><areaDesc>Coast</areaDesc>\n{}\n</area>"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (  # line 9: the <polygon>
            AREA_WITH.replace(b"{}", b"<polygon>1,1 1,2 2,2 2,1</polygon>"),
            "m1.xml:9: polygon of area 'Coast' is not closed: its last point '2,1' must be its "
            "first, '1,1', written again (`sitegen check` would refuse content/alerts/x-1.md:",
        ),
        (  # line 9: the <geocode>, not its <area>
            AREA_WITH.replace(
                b"{}", b"<geocode><valueName>ISO</valueName>\n<value>KR 11</value></geocode>"
            ),
            "m1.xml:9: geocode ISO of area 'Coast' is 'KR 11': a geocode may only hold letters",
        ),
    ],
)
def test_what_check_would_refuse_is_said_at_import(
    import_site: TmpSite, tmp_path: Path, change: bytes, said: str
) -> None:
    """They imported fine, and `sitegen check` then named the written file's line."""
    data = minimal().replace(b"<area><areaDesc>Coast</areaDesc></area>", b"\n" + change)
    result = run_import(import_site, tmp_path, data)
    assert result.exit_code == 1
    assert f"{tmp_path}/{said}" in result.output, result.output
    assert written(import_site) == []


def test_an_update_of_a_message_the_site_lacks_is_said_at_import(
    import_site: TmpSite, tmp_path: Path
) -> None:
    update = minimal(msg_type="Update").replace(
        b"</scope>", b"</scope>\n<references>a@b.c,x-0,2025-12-31T00:00:00-00:00</references>"
    )
    result = run_import(import_site, tmp_path, update)
    assert result.exit_code == 1
    assert f"{tmp_path}/m1.xml:5: references 'x-0', but there is no alert with that id" in (
        result.output
    ), result.output
    assert written(import_site) == []
    original = minimal().replace(b"x-1", b"x-0").replace(b"01T00", b"00T00")  # sent before
    original = original.replace(b"2026-01-00", b"2025-12-31")
    result = run_import(import_site, tmp_path, original, update)  # together: fine
    assert result.exit_code == 0, result.output
    assert written(import_site) == ["x-0.md", "x-1.md"]
