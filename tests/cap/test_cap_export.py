"""Every alert as a CAP 1.2 message: schema-valid, stable, and saying what the page says."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import xmlschema
from cap_checks import CAP, cap_schema, cap_text, check_atom, validate_cap

from sitegen.build import build_bundle
from sitegen.content import require_site
from sitegen.errors import BuildError
from sitegen_fixtures import NOW, TmpSite, alert_text, run_sitegen

QUAKE = "2026-09-12-gyeongju-earthquake"
# Instants at which the example site looks different: quake active, tsunami warning active,
# its update active, after the cancel, the default test instant, and everything expired.
INSTANTS = [
    "2026-09-12T21:00:00+09:00",
    "2026-11-24T07:00:00+09:00",
    "2026-11-24T10:00:00+09:00",
    "2026-11-24T13:00:00+09:00",
    NOW.isoformat(),
    "2028-01-01T00:00:00+00:00",
]


def caps(site: TmpSite, now: datetime = NOW) -> dict[str, bytes]:
    bundle, _, _ = build_bundle(site.config, now)
    return {path: f.data for path, f in bundle.items() if path.endswith("cap.xml")}


@pytest.mark.parametrize("instant", INSTANTS)
def test_everything_the_build_emits_validates(example_site: TmpSite, instant: str) -> None:
    now = datetime.fromisoformat(instant)
    bundle, _, _ = build_bundle(example_site.config, now)
    cap_paths = [p for p in bundle if p.endswith("/cap.xml")]
    # every alert sent by then (the example has no Draft); one not sent yet is not issued
    loaded, _ = require_site(example_site.config, now)
    sent = {f"alerts/{g.id}/cap.xml" for g in loaded.groups if g.primary.sent <= now}
    assert sorted(cap_paths) == sorted(sent) and len(sent) >= 2
    for path in cap_paths:
        validate_cap(bundle[path].data)
        assert bundle[path].content_type.startswith("application/cap+xml")
    for feed in ("cap.atom", "feed.atom"):
        check_atom(bundle[feed].data)


def test_the_schema_is_strict_enough_to_fail() -> None:
    """The validator must be able to say no: Z times, wrong order, missing scope."""
    good = (
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier>'
        "<sender>a@b.c</sender><sent>2026-01-01T00:00:00-00:00</sent><status>Actual</status>"
        "<msgType>Alert</msgType><scope>Public</scope></alert>"
    )
    cap_schema().validate(good)
    for bad in (
        good.replace("-00:00", "Z"),
        good.replace("00:00-00:00", "00:00.5-00:00"),
        good.replace("<scope>Public</scope>", ""),
        good.replace(
            "<status>Actual</status><msgType>Alert</msgType>",
            "<msgType>Alert</msgType><status>Actual</status>",
        ),
        good.replace("Actual", "Real"),
    ):
        with pytest.raises(xmlschema.XMLSchemaValidationError):
            cap_schema().validate(bad)


def test_a_translated_alert_is_one_message_with_one_info_per_language(
    example_site: TmpSite,
) -> None:
    root = validate_cap(caps(example_site)[f"alerts/{QUAKE}/cap.xml"])
    assert cap_text(root, "identifier") == [f"safety.example.gov-{QUAKE}"]
    assert cap_text(root, "sender") == ["alerts@safety.example.gov"]
    assert cap_text(root, "sent") == ["2026-09-12T20:32:00+09:00"]
    assert cap_text(root, "scope") == ["Public"]
    assert cap_text(root, "info/language") == ["ko", "en"]  # primary first
    assert cap_text(root, "info/web") == [
        f"https://alerts.example.gov/alerts/{QUAKE}/",
        f"https://alerts.example.gov/alerts/{QUAKE}/en/",
    ]
    assert cap_text(root, "info/headline")[1] == "Magnitude 5.8 earthquake near Gyeongju"
    assert cap_text(root, "info/area/areaDesc")[:3] == ["경상북도", "울산광역시", "부산광역시"]
    assert cap_text(root, "info/area/geocode/valueName")[0] == "ISO3166-2"
    assert cap_text(root, "info/area/geocode/value")[0] == "KR-47"
    instruction = cap_text(root, "info/instruction")[1]
    assert instruction.splitlines()[0] == (
        "While the ground shakes, get under a sturdy table and hold on to its legs."
    )
    assert len(instruction.splitlines()) == 5  # one line per "What to do" item


def test_description_and_instruction_are_plain_text(example_site: TmpSite) -> None:
    for data in caps(example_site).values():
        root = validate_cap(data)
        for text in cap_text(root, "info/description") + cap_text(root, "info/instruction"):
            assert text.strip()
            assert not any(mark in text for mark in ("**", "<", "##", "\n- ", "&amp;"))
    warning = caps(example_site)["alerts/2026-11-24-east-coast-tsunami-warning/cap.xml"]
    root = validate_cap(warning)
    assert "at least 10 m above sea level now." in cap_text(root, "info/instruction")[0]
    assert "What to do" not in cap_text(root, "info/description")[0]


def test_update_and_cancel_reference_sender_identifier_sent(example_site: TmpSite) -> None:
    files = caps(example_site)
    cancel = validate_cap(files["alerts/2026-11-24-east-coast-tsunami-cancel/cap.xml"])
    assert cap_text(cancel, "msgType") == ["Cancel"]
    assert cap_text(cancel, "references") == [  # every earlier message of the chain
        "alerts@safety.example.gov,safety.example.gov-2026-11-24-east-coast-tsunami-warning,"
        "2026-11-24T06:10:00+09:00 "
        "alerts@safety.example.gov,safety.example.gov-2026-11-24-east-coast-tsunami-update,"
        "2026-11-24T08:40:00+09:00"
    ]
    update = validate_cap(files["alerts/2026-11-24-east-coast-tsunami-update/cap.xml"])
    sender, identifier, sent = cap_text(update, "references")[0].split(",")
    warning = validate_cap(files["alerts/2026-11-24-east-coast-tsunami-warning/cap.xml"])
    assert [sender, identifier, sent] == [
        cap_text(warning, "sender")[0],
        cap_text(warning, "identifier")[0],
        cap_text(warning, "sent")[0],
    ]
    assert cap_text(warning, "references") == []


def test_polygon_and_effective_are_exported_when_given(example_site: TmpSite) -> None:
    files = caps(example_site)
    warning = validate_cap(files["alerts/2026-11-24-east-coast-tsunami-warning/cap.xml"])
    assert cap_text(warning, "info/area/polygon") == [
        "38.6,128.3 38.6,128.7 37.0,129.5 37.0,129.2 38.6,128.3"
    ]
    assert cap_text(warning, "info/effective") == []  # none given: CAP means "sent"
    drill = validate_cap(files["alerts/2026-11-20-national-evacuation-drill/cap.xml"])
    assert cap_text(drill, "status") == ["Exercise"]
    assert cap_text(drill, "info/effective") == ["2026-11-20T09:00:00+09:00"]
    assert cap_text(drill, "info/expires") == ["2027-11-28T00:00:00+09:00"]


def test_cap_files_do_not_depend_on_the_build_time(example_site: TmpSite) -> None:
    """Identifiers and bytes are stable: a rebuild later never re-uploads an unchanged CAP
    (a message appears at its `sent` and is the same from then on)."""
    every = caps(example_site)
    assert every == caps(example_site, datetime.fromisoformat(INSTANTS[-1]))
    for instant in INSTANTS[:4]:
        early = caps(example_site, datetime.fromisoformat(instant))
        assert early and early == {path: every[path] for path in early}, instant


def test_utc_is_written_as_minus_zero_and_stays_valid(tmp_site: TmpSite) -> None:
    tmp_site.add(
        "utc.md", alert_text(sent="2026-11-24T22:00:00Z", expires="2026-11-26T00:00:00+00:00")
    )
    root = validate_cap(caps(tmp_site)["alerts/utc/cap.xml"])
    assert cap_text(root, "sent") == ["2026-11-24T22:00:00-00:00"]
    assert cap_text(root, "info/expires") == ["2026-11-26T00:00:00-00:00"]


@pytest.mark.parametrize("offset", ["+15:00", "-14:30", "+23:59"])
def test_an_offset_no_cap_reader_accepts_is_refused_at_its_line(
    tmp_site: TmpSite, offset: str
) -> None:
    """XML Schema's dateTime (CAP's <sent>, <expires>) allows offsets up to 14 hours: a typed
    "+15:00" was built into a message that fails the CAP schema, so readers refuse it."""
    tmp_site.add("far.md", alert_text(sent=f"2026-11-25T07:00:00{offset}"))
    result = run_sitegen("build", cwd=tmp_site.root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        f"content/alerts/far.md:10: sent '2026-11-25T07:00:00{offset}' has a timezone offset "
        "more than 14 hours from UTC"
    ) in result.stderr
    assert not (tmp_site.root / "public").exists()


def test_the_widest_offsets_places_have_build_valid_cap(tmp_site: TmpSite) -> None:
    tmp_site.add(
        "kiribati.md",
        alert_text(sent="2026-11-25T07:00:00+14:00", expires="2026-11-26T07:00:00-12:00"),
    )
    result = run_sitegen("build", cwd=tmp_site.root)
    assert result.returncode == 0, result.stderr
    root = validate_cap((tmp_site.root / "public/alerts/kiribati/cap.xml").read_bytes())
    assert cap_text(root, "sent") == ["2026-11-25T07:00:00+14:00"]


def test_hostile_text_is_escaped_and_the_message_stays_valid(tmp_site: TmpSite) -> None:
    text = alert_text(title='"\'><script>alert(1)</script> & co"').replace(
        "The river is rising.", "Rising <b>fast</b> & now ]]> {{ config.sender }}"
    )
    tmp_site.add("evil.md", text)
    data = caps(tmp_site)["alerts/evil/cap.xml"]
    root = validate_cap(data)
    assert cap_text(root, "info/headline") == ["'><script>alert(1)</script> & co"]
    assert cap_text(root, "info/description") == [
        "Rising <b>fast</b> & now ]]> {{ config.sender }}"
    ]
    assert b"<script>" not in data and b"<b>" not in data


def test_characters_xml_cannot_carry_are_dropped_from_cap_as_a_last_resort() -> None:
    """`sitegen check` refuses them (tests/test_validation.py); CAP drops any that get by."""
    from sitegen.cap import _escape

    assert _escape("fa\x08st \ufffe& now") == "fast &amp; now"


def test_links_in_the_body_keep_their_address_in_cap_text(tmp_site: TmpSite) -> None:
    """CAP receivers get no HTML: a link's address follows its text, a link to the site's
    own page absolute under base_url (with its path); the page keeps plain links."""
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("https://alerts.test/", "https://alerts.test/em/"))
    text = (
        alert_text()
        .replace(
            "The river is rising.",
            "The river is rising: see the [evacuation map](https://maps.example.gov/evac)"
            " and <https://river.example.gov/levels>.",
        )
        .replace(
            "- Keep away from the river.",
            "- Go to [a shelter](/areas/kr-11/).\n- Call [the hotline](tel:+82-2-120).\n"
            "- Not [this](javascript:alert(1)).",
        )
    )
    tmp_site.add("linked.md", text)
    bundle, _, _ = build_bundle(tmp_site.config, NOW)
    root = validate_cap(bundle["alerts/linked/cap.xml"].data)
    assert cap_text(root, "info/description") == [
        "The river is rising: see the evacuation map (https://maps.example.gov/evac)"
        " and https://river.example.gov/levels."
    ]
    assert cap_text(root, "info/instruction") == [
        "Go to a shelter (https://alerts.test/em/areas/kr-11/).\n"
        "Call the hotline (+82-2-120).\nNot this."
    ]
    page = bundle["alerts/linked/index.html"].data.decode()
    assert '<a href="/em/areas/kr-11/">a shelter</a>' in page
    assert "(https://maps.example.gov/evac)" not in page  # not in the page, nor its meta


def test_drafts_have_no_cap_and_are_in_no_feed(tmp_site: TmpSite) -> None:
    tmp_site.add("draft.md", alert_text(status="Draft"))
    tmp_site.add("real.md", alert_text())
    bundle, _, _ = build_bundle(tmp_site.config, NOW)
    assert "alerts/real/cap.xml" in bundle and "alerts/draft/cap.xml" not in bundle
    for feed in ("cap.atom", "feed.atom"):
        assert b"/alerts/real/" in bundle[feed].data
        assert b"/alerts/draft/" not in bundle[feed].data


def test_a_sender_cap_cannot_carry_is_a_config_error(tmp_site: TmpSite) -> None:
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("alerts@test.invalid", "Ministry of Safety"))
    tmp_site.add("a.md", alert_text())
    with pytest.raises(BuildError, match=r"site\.toml: \[site\] sender 'Ministry of Safety'"):
        build_bundle(tmp_site.config, NOW)


def test_alert_pages_link_their_cap_in_the_head(built_site: TmpSite) -> None:
    for page in Path(built_site.public / "alerts").glob("*/index.html"):
        html = page.read_text()
        head = html[: html.index("</head>")]
        alert_id = page.parent.name
        assert (
            f'<link rel="alternate" type="application/cap+xml" title="CAP 1.2" '
            f'href="/alerts/{alert_id}/cap.xml">' in head
        )
        assert '<a href="/cap.atom"' in html  # and the footer links the CAP index


def test_every_cap_element_is_in_schema_order(example_site: TmpSite) -> None:
    """Belt and braces beside the schema: the alert block starts with the header fields."""
    root = validate_cap(caps(example_site)[f"alerts/{QUAKE}/cap.xml"])
    tags = [child.tag.removeprefix(CAP) for child in root]
    assert tags == ["identifier", "sender", "sent", "status", "msgType", "scope", "info", "info"]


def test_cap_escaping_skips_only_text_it_would_not_change() -> None:
    """_escape returns clean text as is: the same result as removing what XML forbids and
    escaping &, <, > and CR, for text with and without any of them."""
    import random

    from sitegen import cap

    def full(text: str) -> str:
        text = cap._XML_ILLEGAL.sub("", text)
        for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
            text = text.replace(old, new)
        return text

    rng = random.Random(4)
    alphabet = ["a", " ", "서", "&", "<", ">", "\r", "\n", "\t", "\x00", "\x0b", "\ufffe", "é"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert cap._escape(text) == full(text), repr(text)
