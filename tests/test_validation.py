"""Every message `sitegen check` can give about one file, each with its file and line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.content import area_slug, load_site
from sitegen.errors import Problem
from sitegen_fixtures import NOW, TmpSite, alert_text, run_sitegen

GOOD = alert_text()


def problems_for(site: TmpSite, name: str, text: str | bytes) -> list[Problem]:
    site.add(name, text)
    return list(load_site(site.config, NOW).problems)


def replace(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


# (case id, file text, expected line, severity, words the message must contain)
CASES = [
    ("bad-utf8", GOOD.encode().replace(b"river", b"riv\xffer"), 17, "error", "not valid UTF-8"),
    ("bom", b"\xef\xbb\xbf" + GOOD.encode(), 1, "warning", "byte-order mark"),
    ("crlf", GOOD.replace("\n", "\r\n"), 1, "warning", "CRLF"),
    ("empty", "", 1, "error", "the file is empty"),
    ("whitespace-only", "  \n\n", 1, "error", "the file is empty"),
    ("nul", GOOD.replace("river", "riv\x00er"), 17, "error", "NUL byte"),
    ("no-front-matter", "# Flood\n\nThe river is rising.\n", 1, "error", "no front matter"),
    ("unclosed", GOOD.replace("---\nThe river", "The river"), 1, "error", "never closed"),
    (
        "closed-with-dots",
        GOOD.replace("---\nThe river", "...\nThe river"),
        16,
        "error",
        "closed with '---', not '...': change this line to '---'",
    ),
    (
        "bad-yaml",
        replace("event: Flood", "event: [Flood"),
        3,
        "error",
        "not closed: end it with ']'",
    ),
    (
        "unclosed-list-at-end",
        "---\ntitle: x\nseverity: [\n---\nbody\n",
        4,
        "error",
        "the fields cannot be read from here",
    ),
    ("no-colon", replace("severity: Severe", "severity Severe"), 5, "error", "no ':' after"),
    (
        "colon-in-value",
        replace("title: Flood watch", "title: Warning: flood"),
        2,
        "error",
        'put the whole value in quotes, e.g. title: "Warning: flood"',
    ),
    (
        "curly-quotes",
        replace("title: Flood watch", "title: \u201cWarning: flood\u201d"),
        2,
        "error",
        "curly quotes (\u201c \u201d) do not count as quotes here: write the value in straight "
        'quotes, e.g. title: "Warning: flood"',
    ),
    (
        "curly-quoted-title",
        replace("title: Flood watch", "title: \u201cFlood watch\u201d"),
        2,
        "warning",
        "'title' is in curly quotes (\u201c \u201d), which are shown as part of the text",
    ),
    (
        "over-indented",
        replace("event: Flood", "  event: Flood"),
        3,
        "error",
        "indented more than the field above it",
    ),
    (
        "unclosed-quote",
        replace("event: Flood", 'event: "Flood'),
        3,
        "error",
        "the quote opened on this line is not closed",
    ),
    ("not-mapping", "---\n- a\n- b\n---\nbody\n", 2, "error", "'key: value' lines"),
    ("empty-front-matter", "---\n---\nbody\n", 2, "error", "front matter is empty"),
    ("alias", replace("event: Flood", "event: &e Flood\nheadline: *e"), 3, "error", "aliases"),
    (
        "duplicate-key",
        replace("event: Flood", "event: Flood\nevent: Fire"),
        4,
        "error",
        "given twice (first on line 3)",
    ),
    ("unknown-field", replace("severity:", "severty:"), 5, "error", "did you mean 'severity'"),
    (
        "bad-severity",
        replace("severity: Severe", "severity: Severe!"),
        5,
        "error",
        "severity 'Severe!' is not one of Extreme, Severe, Moderate, Minor, Unknown",
    ),
    ("bad-urgency", replace("urgency: Expected", "urgency: Soon"), 6, "error", "urgency 'Soon'"),
    (
        "bad-certainty",
        replace("certainty: Likely", "certainty: Sure"),
        7,
        "error",
        "certainty 'Sure'",
    ),
    ("bad-status", replace("status: Actual", "status: Real"), 8, "error", "status 'Real'"),
    (
        "bad-msg-type",
        replace("msg_type: Alert", "msg_type: Warning"),
        9,
        "error",
        "msg_type 'Warning'",
    ),
    (
        "bad-category",
        replace("category: Met", "category: Weather"),
        4,
        "error",
        "category 'Weather'",
    ),
    ("missing-title", replace("title: Flood watch\n", ""), 1, "error", "'title' is missing"),
    ("missing-severity", replace("severity: Severe\n", ""), 1, "error", "'severity' is missing"),
    (
        "missing-expires",
        replace("expires: 2026-11-26T07:00:00+09:00\n", ""),
        1,
        "error",
        "'expires' is missing",
    ),
    (
        "no-timezone",
        replace("sent: 2026-11-25T07:00:00+09:00", "sent: 2026-11-25T07:00:00"),
        10,
        "error",
        "has no timezone",
    ),
    (
        "not-a-date",
        replace("sent: 2026-11-25T07:00:00+09:00", "sent: tomorrow"),
        10,
        "error",
        "is not a date and time",
    ),
    (
        "expires-before-sent",
        replace("expires: 2026-11-26", "expires: 2026-11-24"),
        11,
        "error",
        "must be after sent",
    ),
    (
        "bad-id",
        replace("title:", "id: ../../etc/passwd\ntitle:"),
        2,
        "error",
        "cannot be used as an alert id",
    ),
    (
        "unknown-language",
        replace("title:", "language: xx\ntitle:"),
        2,
        "error",
        "not one of the site's languages",
    ),
    (
        "no-areas",
        replace("areas:\n  - name: Seoul\n    geocodes: {ISO3166-2: KR-11}\n", ""),
        1,
        "error",
        "'areas' is missing",
    ),
    (
        "area-without-name",
        replace("  - name: Seoul\n", "  - geocodes: {ISO3166-2: KR-11}\n"),
        13,
        "error",
        "area 1 needs a 'name'",
    ),
    (
        "bad-polygon",
        replace("    geocodes:", "    polygon: '1,2 3,4'\n    geocodes:"),
        14,
        "error",
        "polygon of area 'Seoul'",
    ),
    (
        "update-without-references",
        replace("msg_type: Alert", "msg_type: Update"),
        9,
        "error",
        "must say which alert it updates",
    ),
    (
        "unknown-reference",
        replace("references: []", "references: [flod]"),
        15,
        "error",
        "no alert with that id",
    ),
    (
        "bidi-title",
        replace("title: Flood watch", "title: Flood \u202ewatch"),
        2,
        "error",
        "text-direction control",
    ),
    (
        "long-title",
        replace("title: Flood watch", "title: " + "Flood " * 40),
        2,
        "error",
        "characters; keep it under",
    ),
    (
        "todo-left",
        GOOD.replace("The river is rising.", "TODO: say what happens"),
        17,
        "error",
        "replace the 'TODO:' text",
    ),
    ("no-instruction", GOOD.split("## What to do")[0], 1, "warning", "no '## What to do'"),
    (
        "indented-text",
        GOOD.replace("The river is rising.", "The river is rising.\n\n    Call 119 now."),
        19,
        "warning",
        "indented by four spaces or more, so the page shows it as code",
    ),
    (
        "tab-indented-text",
        GOOD.replace("- Keep away from the river.", "- Keep away.\n\nNow:\n\n\tCall 119."),
        25,
        "warning",
        "indented by four spaces or more, so the page shows it as code",
    ),
    ("no-body", GOOD.split("The river")[0], 1, "warning", "no text below the front matter"),
    ("huge", GOOD + "x" * 1_000_001, 22, "error", "Line 22 alone is 1,000,001 bytes long"),
    # encodings and layouts editors produce: a located message each, never a traceback
    (
        "latin-1",
        GOOD.replace("Flood watch", "Flood wätch").encode("latin-1"),
        2,
        "error",
        "byte 0xe4 is not valid UTF-8 text; the file was probably saved as Latin-1",
    ),
    (
        "euc-kr",
        GOOD.replace("Flood watch", "홍수 주의보").encode("cp949"),
        2,
        "error",
        "probably saved as Korean EUC-KR",
    ),
    ("utf-16", GOOD.encode("utf-16"), 1, "error", "the file is saved as UTF-16"),
    ("bom-and-crlf", b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode(), 1, "warning", "CRLF"),
    ("tab-indent", replace("event: Flood", "\tevent: Flood"), 3, "error", "indented with a tab"),
    (
        "tab-indent-area",
        replace("    geocodes:", "\tgeocodes:"),
        14,
        "error",
        "indented with a tab; the front matter must be indented with spaces only",
    ),
    # characters XML 1.0 forbids (and other controls), however they are written
    (
        "escaped-bell-title",
        replace("title: Flood watch", 'title: "x \\u0007 bell"'),
        2,
        "error",
        "'title' contains the character U+0007 (an invisible control character), written as",
    ),
    (
        "escaped-fffe-area-name",
        replace("  - name: Seoul", '  - name: "Se\\uFFFEoul"'),
        13,
        "error",
        "'areas', item 1, 'name' contains the character U+FFFE (a Unicode noncharacter",
    ),
    ("escaped-nel-event", replace("event: Flood", 'event: "Flood\\N"'), 3, "error", "U+0085"),
    ("escaped-nul-title", replace("title: Flood watch", 'title: "a\\0"'), 2, "error", "U+0000"),
    # libyaml refuses a lone surrogate escape itself; the pure-Python parser gives ours
    ("escaped-surrogate", replace("event: Flood", 'event: "\\uD800"'), 3, "error", "escape"),
    (
        "raw-control-title",
        replace("title: Flood watch", "title: Flood\x1b watch"),
        2,
        "error",
        "this line contains the character U+001B",
    ),
    (
        "raw-noncharacter-title",
        replace("title: Flood watch", "title: Flood\ufdd0 watch"),
        2,
        "error",
        "U+FDD0",
    ),
    (
        "raw-control-body",
        GOOD.replace("The river is rising.", "The river\x07 is rising."),
        17,
        "error",
        "this line contains the character U+0007 (an invisible control character): web pages",
    ),
    ("raw-c1-body", GOOD.replace("- Keep away", "- Keep\x85 away"), 21, "error", "U+0085"),
    (
        "char-reference-body",
        GOOD.replace("The river is rising.", "The river &#x7; is rising."),
        17,
        "error",
        "'&#x7;' stands for the character U+0007",
    ),
    # CAP times are to the second
    (
        "fractional-seconds",
        replace("sent: 2026-11-25T07:00:00+09:00", "sent: 2026-11-25T07:00:00.500+09:00"),
        10,
        "error",
        "has a fraction of a second; CAP times are to the second: write 2026-11-25T07:00:00+09:00",
    ),
    (
        "fractional-seconds-comma",
        replace("expires: 2026-11-26T07:00:00+09:00", "expires: 2026-11-26T07:00:00,5Z"),
        11,
        "error",
        "write 2026-11-26T07:00:00Z",
    ),
    # CAP 3.3.2 and RFC 3339 write an offset in hours and minutes; "+09:00:30" made invalid CAP
    (
        "offset-seconds",
        replace("sent: 2026-11-25T07:00:00+09:00", "sent: 2026-11-25T07:00:00+09:00:30"),
        10,
        "error",
        "sent '2026-11-25T07:00:00+09:00:30' has a timezone offset with seconds; CAP and feeds "
        "write hours and minutes only, e.g. 2026-11-25T07:00:00+09:00",
    ),
    # polygons: WGS 84 latitude,longitude, in range, closed (CAP 1.2 3.2.4)
    (
        "polygon-swapped",
        replace(
            "    geocodes:",
            '    polygon: "126.8,37.7 127.2,37.7 127.2,37.4 126.8,37.4 126.8,37.7"\n    geocodes:',
        ),
        14,
        "error",
        "point 1 '126.8,37.7' with latitude 126.8, outside -90 to 90; points are "
        "'latitude,longitude' (WGS 84), latitude first: did you swap them?",
    ),
    (
        "polygon-longitude",
        replace(
            "    geocodes:",
            '    polygon: "37.7,126.8 37.7,227.2 37.4,127.2 37.7,126.8"\n    geocodes:',
        ),
        14,
        "error",
        "point 2 '37.7,227.2' with longitude 227.2, outside -180 to 180",
    ),
    (
        "polygon-open",
        replace(
            "    geocodes:",
            '    polygon: "37.7,126.8 37.7,127.2 37.4,127.2 37.4,126.8"\n    geocodes:',
        ),
        14,
        "error",
        "is not closed: its last point '37.4,126.8' must be its first, '37.7,126.8'",
    ),
    (
        "polygons-list",
        replace(
            "    geocodes:",
            '    polygons: ["37.7,126.8 37.7,127.2 37.4,127.2 37.7,126.8", "1,2 3,4"]\n'
            "    geocodes:",
        ),
        14,
        "error",
        "must be at least 4 'lat,lon' pairs",
    ),
    # geocodes name the area's web page: plain letters, digits and '-'
    (
        "geocode-not-plain",
        replace("{ISO3166-2: KR-11}", '{ISO3166-2: "KR-<11>&\\""}'),
        14,
        "error",
        "geocode ISO3166-2 of area 'Seoul' is 'KR-<11>&\"': a geocode may only hold letters A-Z, "
        "digits and single '-' between them",
    ),
    ("geocode-empty", replace("{ISO3166-2: KR-11}", "{ISO3166-2: }"), 14, "error", "is ''"),
    ("geocode-space", replace("{ISO3166-2: KR-11}", "{ISO3166-2: KR 11}"), 14, "error", "'KR 11'"),
    # YAML would publish other words than the ones written (session 12, an official's review)
    (
        "title-no",
        replace("title: Flood watch", "title: No"),
        2,
        "error",
        "read as the answer no, not as text",
    ),
    (
        "title-yes",
        replace("title: Flood watch", "title: yes"),
        2,
        "error",
        "read as the answer yes, not as text",
    ),
    (
        "event-hex",
        replace("event: Flood", "event: 0x10"),
        3,
        "error",
        "read as the number 16, not as text",
    ),
    (
        "event-float",
        replace("event: Flood", "event: 1.50"),
        3,
        "error",
        "read as the number 1.5, not as text",
    ),
    ("area-off", replace("name: Seoul", "name: Off"), 13, "error", "'area name' is read as"),
    (
        "area-name-empty",
        replace("name: Seoul", "name:"),
        13,
        "error",
        "'area name' is empty: write",
    ),
    (
        "title-hash",
        replace("title: Flood watch", "title: Flood watch #2 for Seoul"),
        2,
        "error",
        "'#2 for Seoul' after 'Flood watch' is read as a comment",
    ),
    ("title-anchor", replace("event: Flood", "event: &Co flood"), 3, "error", "YAML anchor"),
    ("area-anchor", replace("name: Seoul", "name: &x Seoul"), 13, "error", "'&x' before"),
    ("title-todo", replace("title: Flood watch", 'title: "TODO: title"'), 2, "error", "TODO"),
    ("area-todo", replace("name: Seoul", 'name: "TODO: area name"'), 13, "error", "TODO"),
    (
        "date-without-time",
        replace("sent: 2026-11-25T07:00:00+09:00", "sent: 2026-11-25"),
        10,
        "error",
        "a date without a time; write the time and its timezone, e.g. 2026-11-25T09:00:00+09:00",
    ),
    # what the page shows otherwise than written (warnings: the page is still safe)
    (
        "html-tags",
        replace("- Keep away", "- Keep <b>away</b> from<br>"),
        21,
        "warning",
        "shows '<b>', '</b>' and '<br>' as written: alerts are Markdown, not HTML",
    ),
    (
        "html-comment",
        replace("The river is rising.", "The river is rising. <!-- check with police -->"),
        17,
        "warning",
        "shows '<!--' as written",
    ),
    (
        "image",
        replace("The river is rising.", "See ![evacuation map](https://x.example/m.png)."),
        17,
        "warning",
        "the words '[evacuation map]', not the picture",
    ),
    (
        "script-link",
        replace("The river is rising.", "[Map](javascript:alert(1)) now."),
        17,
        "warning",
        "the link to 'javascript:alert(1)' is left out",
    ),
    (
        "reference-link",
        replace("- Keep away from the river.", "- See [the map][m].\n\n[m]: data:text/html,x"),
        23,
        "warning",
        "the link to 'data:text/html,x' is left out",
    ),
    (
        "table",
        replace("The river is rising.", "| Zone | Shelter |\n|:--|--:|\n| A | Gym |"),
        17,
        "warning",
        "this looks like a table, which alerts cannot show",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "line", "severity", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_each_problem_is_reported_with_file_and_line(
    tmp_site: TmpSite, name: str, text: str | bytes, line: int, severity: str, words: str
) -> None:
    problems = problems_for(tmp_site, f"{name}.md", text)
    matching = [p for p in problems if words in p.message]
    assert matching, f"no message with {words!r} in {[str(p) for p in problems]}"
    problem = matching[0]
    assert problem.path == f"content/alerts/{name}.md"
    assert (problem.line, problem.severity) == (line, severity), str(problem)


def test_a_rule_or_a_heading_underline_is_no_table(tmp_site: TmpSite) -> None:
    """Only a row of dashes with "|" under a line with "|" is a table's; a "---" under a
    sentence with "|" in it makes it a heading, and a "- - -" alone is a rule."""
    text = replace("The river is rising.", "Rain | wind\n---\n\nA | B\n\n- - -")
    problems = problems_for(tmp_site, "rule.md", text)
    assert not [p for p in problems if "table" in p.message], [str(p) for p in problems]


def test_all_problems_in_all_files_come_in_one_run(tmp_site: TmpSite) -> None:
    tmp_site.add("a.md", replace("severity: Severe", "severity: Bad"))
    tmp_site.add("b.md", replace("urgency: Expected", "urgency: Bad").replace("Met", "Bad"))
    tmp_site.add("c.md", "")
    errors = load_site(tmp_site.config, NOW).errors
    assert sorted((p.path[-4:], p.line) for p in errors) == [
        ("a.md", 5),
        ("b.md", 4),
        ("b.md", 6),
        ("c.md", 1),
    ]


def test_duplicate_ids_name_both_files(tmp_site: TmpSite) -> None:
    tmp_site.add("flood.md", GOOD)
    tmp_site.add("sub/flood.md", GOOD)
    errors = load_site(tmp_site.config, NOW).errors
    assert len(errors) == 1 and "already used by content/alerts/flood.md" in errors[0].message


def test_ids_differing_only_in_capitals_are_refused_before_they_share_a_folder(
    tmp_site: TmpSite,
) -> None:
    """flood.md and Flood.md built alerts/flood/ and alerts/Flood/: one folder on Windows and
    macOS, where one alert's pages silently replaced the other's."""
    tmp_site.add("flood.md", GOOD)
    assert run_sitegen("build", cwd=tmp_site.root).returncode == 0
    before = (tmp_site.root / "public/alerts/flood/index.html").read_bytes()
    tmp_site.add("Flood.md", alert_text(title="Another flood"))
    for command in ("check", "build"):
        result = run_sitegen(command, cwd=tmp_site.root)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert (
            "content/alerts/Flood.md:1: alert id 'Flood' differs from 'flood' "
            "(content/alerts/flood.md) only in capitals"
        ) in result.stderr
    assert (tmp_site.root / "public/alerts/flood/index.html").read_bytes() == before
    assert not (tmp_site.root / "public/alerts/Flood").exists()


BUSAN = "  - name: Busan\n    geocodes: {ISO3166-2: KR-26}\n"
SQUARE = '    polygon: "37.7,126.8 37.7,127.2 37.4,127.2 37.7,126.8"\n'


@pytest.mark.parametrize(
    ("primary", "translation", "line", "differ"),
    [
        (
            "{ISO3166-2: KR-11}",
            "{ISO3166-2: KR-011}",
            13,
            "which lists 'Seoul' (ISO3166-2 KR-11) where this file lists '서울' (ISO3166-2 KR-011)",
        ),
        (
            "{SAME: 006037}",
            "{SAME: 6037}",
            13,
            "which lists 'Seoul' (SAME 006037) where this file lists '서울' (SAME 6037)",
        ),
        (
            "{ISO3166-2: KR-11}\n" + BUSAN,
            "{ISO3166-2: KR-11}",
            12,  # nothing here to point at: the 'areas:' line
            "which also lists 'Busan' (ISO3166-2 KR-26), which this file does not",
        ),
        (
            "{ISO3166-2: KR-11}",
            "{ISO3166-2: KR-11}\n" + BUSAN,
            15,
            "which does not list 'Busan' (ISO3166-2 KR-26), which this file does",
        ),
        (
            "{ISO3166-2: KR-11}\n    id: seoul",
            "{ISO3166-2: KR-11}",
            13,
            "which lists 'Seoul' (ISO3166-2 KR-11, id seoul) where this file lists '서울' "
            "(ISO3166-2 KR-11)",
        ),
        (
            "{ISO3166-2: KR-11}\n" + SQUARE,
            "{ISO3166-2: KR-11}\n" + SQUARE.replace("127.2 37.4", "127.3 37.4"),
            13,
            "which lists 'Seoul' (ISO3166-2 KR-11, polygon 37.7,126.8 37.7,127.2 …) where this "
            "file lists '서울' (ISO3166-2 KR-11, polygon 37.7,126.8 37.7,127.3 …)",
        ),
    ],
)
def test_translations_must_name_the_same_places(
    tmp_site: TmpSite, primary: str, translation: str, line: int, differ: str
) -> None:
    """A translation is one <info> of the same CAP message: with another geocode it sent
    Korean readers to another place, without a word from `sitegen check`."""
    tmp_site.add("flood.md", replace("{ISO3166-2: KR-11}\n", primary + "\n"))
    text = replace("{ISO3166-2: KR-11}\n", translation + "\n").replace("name: Seoul", "name: 서울")
    tmp_site.add("flood.ko.md", text)
    errors = load_site(tmp_site.config, NOW).errors
    assert [(p.path, p.line) for p in errors] == [("content/alerts/flood.ko.md", line)]
    assert errors[0].message == (
        f"the areas differ from content/alerts/flood.md, {differ}; all translations of an "
        "alert must list the same places, with the same geocodes and polygons (only the area "
        "names are translated)"
    )


def test_translations_may_list_the_same_places_in_another_order(tmp_site: TmpSite) -> None:
    seoul = "  - name: Seoul\n    geocodes: {ISO3166-2: KR-11}\n"
    tmp_site.add("flood.md", replace(seoul, seoul + BUSAN))
    korean = BUSAN.replace("Busan", "부산") + seoul.replace("Seoul", "서울")
    tmp_site.add("flood.ko.md", replace(seoul, korean))
    assert load_site(tmp_site.config, NOW).problems == ()


def test_a_translation_that_disagrees_on_msg_type_names_its_line(tmp_site: TmpSite) -> None:
    """`msg_type:` (as docs/content.md writes it) was looked up as `msgType`: line 1."""
    tmp_site.add("old.md", replace("sent: 2026-11-25T07", "sent: 2026-11-25T06"))
    tmp_site.add("flood.md", GOOD)
    tmp_site.add("flood.ko.md", alert_text(msg_type="Update", references="[old]"))
    errors = load_site(tmp_site.config, NOW).errors
    assert [(p.path, p.line, p.message.split(";")[0]) for p in errors] == [
        (
            "content/alerts/flood.ko.md",
            9,
            "msg_type differs from content/alerts/flood.md (Alert there, Update here)",
        ),
        (
            "content/alerts/flood.ko.md",
            15,
            "references differs from content/alerts/flood.md (none there, old here)",
        ),
    ]


def test_translations_must_agree_on_cap_fields(tmp_site: TmpSite) -> None:
    tmp_site.add("flood.md", GOOD)
    tmp_site.add("flood.ko.md", replace("severity: Severe", "severity: Minor"))
    errors = load_site(tmp_site.config, NOW).errors
    assert [(p.path, p.line) for p in errors] == [("content/alerts/flood.ko.md", 5)]
    assert (
        "severity differs from content/alerts/flood.md (Severe there, Minor here)"
        in errors[0].message
    )


def test_language_in_file_name_and_field_must_agree(tmp_site: TmpSite) -> None:
    """A translation copied from the original keeps its `language: en`: say what to write."""
    tmp_site.add("flood.md", GOOD)
    tmp_site.add("flood.ko.md", replace("title:", "language: en\ntitle:"))
    checked = CliRunner().invoke(cli, ["check", "--site", str(tmp_site.root)])
    assert checked.exit_code == 1
    assert (
        "content/alerts/flood.ko.md:2: language 'en' disagrees with the file name, which says "
        "'ko': write `language: ko` (or leave the line out), or rename the file"
    ) in checked.output


def test_a_translation_into_a_language_the_site_lacks_says_to_add_it(tmp_site: TmpSite) -> None:
    """`flood.fr.md` before fr is in site.toml was refused as "'flood.fr' cannot be used as an
    alert id", which sent the official to rename a file that was named right."""
    tmp_site.add("flood.md", GOOD)
    tmp_site.add("flood.fr.md", GOOD)
    checked = CliRunner().invoke(cli, ["check", "--site", str(tmp_site.root)])
    assert checked.exit_code == 1
    assert (
        "content/alerts/flood.fr.md:1: the file name ends in '.fr', as a translation into 'fr' "
        "is named, but 'fr' is not one of the site's languages (en, ko): add it to `languages` "
        "in site.toml, or rename the file"
    ) in checked.output
    assert "cannot be used as an alert id" not in checked.output


def test_an_alert_cannot_reference_itself(tmp_site: TmpSite) -> None:
    tmp_site.add("flood.md", replace("references: []", "references: [flood]"))
    assert "cannot reference itself" in load_site(tmp_site.config, NOW).errors[0].message


def test_symlink_out_of_content_is_refused(tmp_site: TmpSite, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text(GOOD)
    (tmp_site.root / "content" / "alerts" / "leak.md").symlink_to(secret)
    errors = load_site(tmp_site.config, NOW).errors
    assert [p.path for p in errors] == ["content/alerts/leak.md"]
    assert "outside content/" in errors[0].message


def test_quoted_text_and_spaced_comments_are_taken_as_written(tmp_site: TmpSite) -> None:
    text = replace("title: Flood watch", 'title: "No"  # a comment, as docs/content.md shows')
    text = text.replace("event: Flood", 'event: "0x10 & #2"')
    assert problems_for(tmp_site, "quoted.md", text) == []
    assert load_site(tmp_site.config, NOW).site.groups[0].primary.title == "No"


@pytest.mark.parametrize(
    "codes",
    [
        "    id: 0101\n    geocodes: {SAME: 006037, FIPS6: 1e3}",  # the fast reader's form
        "    id: 0101\n    geocodes:\n      SAME: 006037\n      FIPS6: 1e3",  # libyaml's
    ],
)
def test_area_codes_are_taken_as_written(tmp_site: TmpSite, codes: str) -> None:
    """YAML reads 006037 as the octal number 3103 and 1e3 as 1000.0: a geocode that lost its
    leading zero names another county, and its area page moved."""
    assert (
        problems_for(tmp_site, "codes.md", replace("    geocodes: {ISO3166-2: KR-11}", codes)) == []
    )
    area = load_site(tmp_site.config, NOW).site.groups[0].primary.areas[0]
    assert area.geocodes == (("FIPS6", "1e3"), ("SAME", "006037"))
    assert area.slug == "0101"


@pytest.mark.parametrize(
    "codes",
    [
        "{SAME: [006037, 006059]}",  # the fast reader's form
        '{SAME: [006037, "006059"]}',
        "\n      SAME: [006037, 006059]",  # libyaml's, from here on
        "\n      SAME:\n        - 006037\n        - 006059",
        "\n      SAME:\n        - '006037'\n        - 006059",
    ],
)
def test_a_list_of_geocodes_is_refused_showing_the_codes_as_written(
    tmp_site: TmpSite, codes: str
) -> None:
    """A geocode has one value; refusing a list said "is '[3103, ...]'", YAML's octal reading
    of 006037, so the official was shown another county's code as what they had typed."""
    text = replace("    geocodes: {ISO3166-2: KR-11}", f"    geocodes: {codes}")
    [problem] = problems_for(tmp_site, "codes.md", text)
    assert problem.line == (14 if codes.startswith("{") else 15)
    assert problem.message.startswith(
        "geocode SAME of area 'Seoul' is a list (006037, 006059), but a geocode has one value"
    )


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("[seoul, busan]", "a list (seoul, busan)"),
        ("{a: b}", "a set of 'name: value' pairs (a: b)"),
    ],
)
def test_an_area_id_that_is_not_one_value_is_refused(
    tmp_site: TmpSite, written: str, shown: str
) -> None:
    """`id: [seoul, busan]` was taken quietly and named the area's page /areas/seoul-busan/."""
    text = GOOD.replace("areas:\n", f"areas:\n  - name: Busan\n    id: {written}\n", 1)
    [problem] = problems_for(tmp_site, "busan.md", text)
    assert problem.message == (
        f"the id of area 'Busan' is {shown}, but an area has one id, the name of its web page, "
        "e.g. 'id: seoul' (/areas/seoul/)"
    )
    assert text.splitlines()[problem.line - 1].strip().startswith("id:")


@pytest.mark.parametrize("nothing", ["~", "null", "Null", ""])
@pytest.mark.parametrize("form", ["{{name: Busan, id: {}}}", "\n    name: Busan\n    id: {}"])
def test_an_area_id_of_null_is_no_id(tmp_site: TmpSite, nothing: str, form: str) -> None:
    """`id: ~` was taken as the code "~" (two areas with it shared one page), `id: null` as
    "null" (/areas/null/): null says there is no id, so the page is named after the area."""
    area = form.format(nothing).rstrip()
    text = GOOD.replace("areas:\n", f"areas:\n  - {area}\n", 1)
    assert problems_for(tmp_site, "busan.md", text) == []
    slugs = [a.slug for a in load_site(tmp_site.config, NOW).site.groups[0].primary.areas]
    assert slugs[0] == "busan"


def test_valid_alert_has_no_problem_and_case_is_forgiven(tmp_site: TmpSite) -> None:
    tmp_site.add("flood.md", replace("severity: Severe", "severity: severe"))
    loaded = load_site(tmp_site.config, NOW)
    assert loaded.problems == () and loaded.site is not None
    assert loaded.site.groups[0].primary.severity.value == "Severe"


def test_alias_bomb_is_refused_quickly(tmp_site: TmpSite) -> None:
    bomb = (
        "---\n"
        + "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n"
            for i in range(1, 30)
        )
        + "---\nbody\n"
    )
    problems = problems_for(tmp_site, "bomb.md", bomb)
    assert any("aliases" in p.message for p in problems)


def test_many_control_characters_are_reported_on_ten_lines_then_counted(
    tmp_site: TmpSite,
) -> None:
    body = "".join(f"line {i}\x07\n" for i in range(25))
    problems = problems_for(tmp_site, "bells.md", GOOD.replace("The river is rising.\n", body))
    lines = [p.line for p in problems if p.severity == "error"]
    assert lines == list(range(17, 27)) + [27]
    assert "15 more lines from here contain such characters" in problems[-1].message


def test_polygon_checks_compare_numbers_and_hint_a_swap_only_when_it_would_fit(
    tmp_site: TmpSite,
) -> None:
    closed = "37.70,126.8 37.7,127.2 37.4,127.2 37.7,126.80"  # first == last as numbers
    far = "95,200 37.7,127.2 37.4,127.2 95,200"  # swapped, 200 is no latitude either
    for name, polygon in (("closed.md", closed), ("far.md", far)):
        tmp_site.add(name, replace("    geocodes:", f'    polygon: "{polygon}"\n    geocodes:'))
    problems = load_site(tmp_site.config, NOW).problems
    assert [(p.path, p.line) for p in problems] == [("content/alerts/far.md", 14)]
    assert "latitude 95, outside -90 to 90" in problems[0].message
    assert "swap" not in problems[0].message


@pytest.mark.parametrize(
    ("geocodes", "name", "slug"),
    [
        ((("ISO3166-2", "KR-11"),), "Seoul", "kr-11"),
        ((("ISO3166-2", "kr-11"),), "서울", "kr-11"),
        ((), "Seoul", "seoul"),
        ((), "Gyeonggi-do", "gyeonggi-do"),
        ((), "Ulsan (Nam-gu, Jung-gu)", "ulsan-nam-gu-jung-gu"),
        ((), "Seoul \u2013 North", "seoul-north"),  # an en dash separates words as '-' does
        ((), "\uff33\uff45\uff4f\uff55\uff4c", "seoul"),  # full-width letters are letters
        ((), "서울", "area-9bdf86fae7187ffa"),  # pinned: a published URL must not change
    ],
)
def test_ascii_area_slugs_are_kept_and_others_are_stable(
    geocodes: tuple[tuple[str, str], ...], name: str, slug: str
) -> None:
    assert area_slug("", geocodes, name) == slug


def test_different_area_names_never_share_a_page() -> None:
    """Keeping only a-z0-9 made both '1'; a digest of the first 12 characters made long names
    sharing them one page; 'Café' was 'caf', like 'Caf'."""
    names = [
        "종로1가",
        "을지로1가",
        "서울특별시 종로구 청운효자동 가",
        "서울특별시 종로구 청운효자동 나",
        "Café",
        "Caf",
        "Cafè",
        "???",
        "!!!",
        "종로 1가",
    ]
    slugs = [area_slug("", (), name) for name in names]
    assert len(set(slugs)) == len(names), slugs
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) for slug in slugs)
    # the same name however it is spaced, cased or composed is the same area
    assert area_slug("", (), "종로1가") == area_slug("", (), " 종로1가 ")
    assert area_slug("", (), "Café") == area_slug("", (), "CAFE\u0301")


def test_areas_named_alike_get_their_own_pages(tmp_site: TmpSite) -> None:
    for name, area in (("a.md", "종로1가"), ("b.md", "을지로1가")):
        tmp_site.add(
            name, replace("  - name: Seoul\n    geocodes: {ISO3166-2: KR-11}", f"  - name: {area}")
        )
    site = load_site(tmp_site.config, NOW).site
    assert site is not None
    slugs = {g.primary.areas[0].slug for g in site.groups}
    assert len(slugs) == 2 and "1" not in slugs


def follow_up(msg_type: str, refs: str, sent: str = "2026-11-25T08:00:00+09:00", **kw: str) -> str:
    return alert_text(msg_type=msg_type, references=refs, sent=sent, **kw)


# Checks across files: (case id, {file: text}, the file and line reported, severity, words)
REFERENCE_CASES = [
    (
        "test-cancel-of-actual",
        {"a.md": GOOD, "b.md": follow_up("Cancel", "[a]", status="Test")},
        ("b.md", 8),
        "error",
        "status is Test, but this Cancel references 'a' (content/alerts/a.md), whose status "
        "is Actual; an Update or Cancel must have the status of the messages it references",
    ),
    (
        "exercise-update-of-actual",
        {"a.md": GOOD, "b.md": follow_up("Update", "[a]", status="Exercise")},
        ("b.md", 8),
        "error",
        "or this Exercise message would replace or cancel an Actual one",
    ),
    (
        "actual-update-of-system",
        {"a.md": alert_text(status="System"), "b.md": follow_up("Update", "[a]")},
        ("b.md", 8),
        "error",
        "whose status is System",
    ),
    (
        "reference-to-draft",
        {"a.md": alert_text(status="Draft"), "b.md": follow_up("Update", "[a]")},
        ("b.md", 15),
        "error",
        "references 'a' (content/alerts/a.md), which is a Draft and is never published",
    ),
    (
        "reference-sent-later",
        {
            "a.md": alert_text(sent="2026-11-25T09:30:00+09:00"),
            "b.md": follow_up("Cancel", "[a]"),
        },
        ("b.md", 15),
        "error",
        "references 'a' (content/alerts/a.md, sent 2026-11-25T09:30:00+09:00), which is sent "
        "after this Cancel (sent 2026-11-25T08:00:00+09:00)",
    ),
    (
        "reference-loop",
        {
            "a.md": follow_up("Update", "[b]"),
            "b.md": follow_up("Update", "[a]"),
        },
        ("a.md", 15),
        "error",
        "the references go round in a loop back to this alert",
    ),
]


@pytest.mark.parametrize(
    ("files", "where", "severity", "words"),
    [c[1:] for c in REFERENCE_CASES],
    ids=[c[0] for c in REFERENCE_CASES],
)
def test_each_reference_problem_names_the_file_and_line(
    tmp_site: TmpSite, files: dict[str, str], where: tuple[str, int], severity: str, words: str
) -> None:
    for name, text in files.items():
        tmp_site.add(name, text)
    problems = load_site(tmp_site.config, NOW).problems
    matching = [p for p in problems if words in p.message]
    assert matching, f"no message with {words!r} in {[str(p) for p in problems]}"
    problem = matching[0]
    assert (problem.path, problem.line) == (f"content/alerts/{where[0]}", where[1]), str(problem)
    assert problem.severity == severity, str(problem)


# Chain warnings `check` gives as advice, not the build: (case id, {file: text}, the file and
# line reported, words). Found across files, a build warning kept every build of the site from
# patching (tests/perf/test_incremental.py: such sites still patch).
CHAIN_ADVICE_CASES = [
    (
        "cancel-of-latest-update-only",
        {
            "a.md": GOOD,
            "b.md": follow_up("Update", "[a]"),
            "c.md": follow_up("Cancel", "[b]", sent="2026-11-25T09:00:00+09:00"),
        },
        ("c.md", 15),
        "this Cancel does not reference 'a' (content/alerts/a.md), an earlier message of the "
        "same chain; CAP receivers that hold only the earlier messages cannot link this one "
        "to them. List every earlier message of the chain: references: [a, b]",
    ),
    (
        "update-of-latest-update-only",
        {
            "a.md": GOOD,
            "b.md": follow_up("Update", "[a]"),
            "c.md": follow_up("Update", "[a, b]", sent="2026-11-25T09:00:00+09:00"),
            "d.md": follow_up("Update", "[c]", sent="2026-11-25T10:00:00+09:00"),
        },
        ("d.md", 15),
        "this Update does not reference 'a' (content/alerts/a.md), 'b' (content/alerts/b.md), "
        "earlier messages of the same chain",
    ),
    (
        "update-sent-with-the-alert",
        {"a.md": GOOD, "b.md": follow_up("Update", "[a]", sent="2026-11-25T07:00:00+09:00")},
        ("b.md", 10),
        "sent at the same time as 'a' (content/alerts/a.md), which this Update follows, so "
        "receivers cannot tell which came last",
    ),
]


@pytest.mark.parametrize(
    ("files", "where", "words"),
    [c[1:] for c in CHAIN_ADVICE_CASES],
    ids=[c[0] for c in CHAIN_ADVICE_CASES],
)
def test_check_advises_on_chains_at_the_file_and_line(
    tmp_site: TmpSite, files: dict[str, str], where: tuple[str, int], words: str
) -> None:
    for name, text in files.items():
        tmp_site.add(name, text)
    site = ["--site", str(tmp_site.root / "site.toml"), "--now", NOW.isoformat()]
    checked = CliRunner().invoke(cli, ["check", *site])
    assert checked.exit_code == 0, checked.output
    at = f"content/alerts/{where[0]}:{where[1]}: warning: "
    assert at + words in " ".join(checked.output.split()), checked.output
    as_json = CliRunner().invoke(cli, ["check", "--json", *site])
    problems = json.loads(as_json.stdout)["problems"]
    assert [(p["path"], p["line"], p["severity"]) for p in problems if words in p["message"]] == [
        (f"content/alerts/{where[0]}", where[1], "warning")
    ]
    # not a warning of the build: found across files, it would keep the site from patching
    assert not [p for p in load_site(tmp_site.config, NOW).problems if words in p.message]


def test_check_advises_on_the_valid_alerts_while_another_file_has_an_error(
    tmp_site: TmpSite,
) -> None:
    """The chain warnings were build warnings, given beside any error; as advice they were
    left out while any file had an error, though the chain itself is valid."""
    _, files, (name, line), words = CHAIN_ADVICE_CASES[0]
    for file, text in files.items():
        tmp_site.add(file, text)
    tmp_site.add("broken.md", alert_text(severity="Severe!"))
    site = ["--site", str(tmp_site.root / "site.toml"), "--now", NOW.isoformat()]
    checked = CliRunner().invoke(cli, ["check", *site])
    assert checked.exit_code == 1, checked.output
    output = " ".join(checked.output.split())
    assert "content/alerts/broken.md:5: severity 'Severe!'" in output, output
    assert f"content/alerts/{name}:{line}: warning: {words}" in output, output


FORK_WARNING = (
    "content/alerts/c.md:15: warning: 'b' (content/alerts/b.md, sent 2026-11-25T08:00:00+09:00) "
    "is an earlier Update of 'a' too, and this Update does not reference it, so the story splits "
    "in two: an Update stays in force beside this message, shown as a second alert, and "
    "receivers are not told this message follows it. If it does, add it: references: [a, b]"
)


def test_check_warns_at_two_updates_of_one_alert(tmp_site: TmpSite) -> None:
    """Two officials each updated the warning: b would stay in force beside c. `check` says so
    at c's references (advice); the build does not, as a warning found across files keeps
    every build of the site from patching (a one-alert rebuild at 10,000 alerts took 0.99 s
    instead of 0.46 with the bench's 124 such forks)."""
    tmp_site.add("a.md", GOOD)
    tmp_site.add("b.md", follow_up("Update", "[a]"))
    tmp_site.add("c.md", follow_up("Update", "[a]", sent="2026-11-25T09:00:00+09:00"))
    checked = CliRunner().invoke(cli, ["check", "--site", str(tmp_site.root / "site.toml")])
    assert checked.exit_code == 0, checked.output
    assert FORK_WARNING in " ".join(checked.output.split())
    # not a warning of the build (tests/perf/test_incremental.py: such a site still patches)
    assert not [p for p in load_site(tmp_site.config, NOW).problems if "too, and" in p.message]


def test_references_that_follow_cap_practice_pass(tmp_site: TmpSite) -> None:
    """Same status, sent before, the whole chain listed; a Draft may reference anything (it is
    checked when it is published); Exercises update Exercises."""
    tmp_site.add("a.md", GOOD)
    tmp_site.add("b.md", follow_up("Update", "[a]"))
    tmp_site.add("c.md", follow_up("Cancel", "[a, b]", sent="2026-11-25T09:00:00+09:00"))
    tmp_site.add("d.md", follow_up("Update", "[c]", status="Draft"))
    tmp_site.add("x.md", alert_text(status="Exercise"))
    tmp_site.add("y.md", follow_up("Cancel", "[x]", status="Exercise"))
    loaded = load_site(tmp_site.config, NOW)
    assert loaded.problems == (), [str(p) for p in loaded.problems]


def test_the_example_site_has_no_problem() -> None:
    """Its tsunami Cancel lists the Warning and the Update (the chain warning's example)."""
    from sitegen.config import load_config
    from sitegen_fixtures import REPO

    assert load_site(load_config(REPO / "site.toml"), NOW).problems == ()


@pytest.mark.parametrize(
    ("ref", "hint"),
    [
        ("2026-11-25-flood-watch", "; did you mean '2026-11-24-flood-watch'?"),  # another day
        ("2026-11-24-flood-wach", "; did you mean '2026-11-24-flood-watch'?"),  # a typo
        ("flood-watch", "; did you mean '2026-11-24-flood-watch'?"),  # the date left off
        ("alerts/2026-11-24-flood-watch.md", "; did you mean '2026-11-24-flood-watch'?"),  # a path
        ("2026-11-24-storm-surge", ""),  # only the day in common: no unrelated alert offered
    ],
)
def test_an_unknown_reference_suggests_only_a_likely_id(
    tmp_site: TmpSite, ref: str, hint: str
) -> None:
    tmp_site.add("2026-11-24-flood-watch.md", GOOD)
    tmp_site.add("2026-11-24-school-closures.md", GOOD)
    update = alert_text(references=f"[{ref}]", sent="2026-11-25T08:00:00+09:00")
    problems = problems_for(
        tmp_site, "update.md", update.replace("msg_type: Alert", "msg_type: Update")
    )
    assert [p.message for p in problems] == [
        f"references '{ref}', but there is no alert with that id{hint}"
    ]


# --- links to the site's own pages (`sitegen check`, sitegen/link_check.py) -------------------

NO_PAGE = "leads to no page of this site"


def link_warnings(site: TmpSite, text: str, base_url: str = "https://alerts.test/") -> list[str]:
    """The broken-link warnings `sitegen check` gives for content/alerts/flood.md = `text`."""
    from sitegen.page_check import with_page_problems

    toml = site.root / "site.toml"
    toml.write_text(toml.read_text("utf-8").replace("https://alerts.test/", base_url), "utf-8")
    site.add("flood.md", text)
    loaded = with_page_problems(site.config, load_site(site.config, NOW))
    return [str(p) for p in loaded.problems if NO_PAGE in p.message]


TYPO = f"{NO_PAGE} (a typo, or a page that does not exist yet?)"
# After links that lead to pages: the one warning shows that the links before it were checked.
THEN_A_TYPO = "\n\nAnd [this](/areas/kr-1/)."
TYPO_AFTER = [f"content/alerts/flood.md:19: warning: the link /areas/kr-1/ {TYPO}"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("The river is rising.", "See [shelters](/areas/kr-11/)." + THEN_A_TYPO, TYPO_AFTER),
        (
            "The river is rising.",
            "See [the map](/areas/kr-11/#map), [it](/areas/kr-11/?from=sms), [홈](/ko/),\n"
            "[this](/areas/kr%2D11/), [that](</areas/kr-11/ >)." + THEN_A_TYPO,
            [TYPO_AFTER[0].replace(":19:", ":20:")],
        ),
        (
            "The river is rising.",
            "[feed](/feed.atom), [CAP](/alerts/flood/cap.xml), [this](/alerts/flood), [home](/)"
            + THEN_A_TYPO,
            TYPO_AFTER,
        ),
        (
            "The river is rising.",
            "See [shelters](/areas/kr-1/).",
            [f"content/alerts/flood.md:17: warning: the link /areas/kr-1/ {TYPO}"],
        ),
        (
            "The river is rising.",
            "See [shelters][s].\n\n[s]: /areas/kr-1/#top",
            [f"content/alerts/flood.md:19: warning: the link /areas/kr-1/#top {TYPO}"],
        ),
        (
            "The river is rising.",
            "See [shelters](</areas/kr 1/>).",
            [f"content/alerts/flood.md:17: warning: the link /areas/kr 1/ {TYPO}"],
        ),
        (
            "The river is rising.",
            "See [a](/shelters/).\n\nAgain [b](/shelters/).",
            [
                f"content/alerts/flood.md:17: warning: the link /shelters/ {TYPO}",
                f"content/alerts/flood.md:19: warning: the link /shelters/ {TYPO}",
            ],
        ),
        (
            "- Keep away from the river.",
            "- Go to [a shelter](/alerts/shelters?x=1).",
            [f"content/alerts/flood.md:21: warning: the link /alerts/shelters?x=1 {TYPO}"],
        ),
    ],
    ids=["good", "fragment-query", "feed-cap", "typo", "reference", "space", "twice", "what-to-do"],
)
def test_a_link_to_a_page_the_site_lacks_is_a_warning_on_its_line(
    tmp_site: TmpSite, old: str, new: str, expected: list[str]
) -> None:
    assert link_warnings(tmp_site, GOOD.replace(old, new)) == expected


def test_a_link_with_the_base_path_says_to_write_it_from_the_root(tmp_site: TmpSite) -> None:
    text = GOOD.replace(
        "The river is rising.",
        "See [shelters](/emergency/areas/kr-11/),\nnot [x](/emergency/areas/kr-1/).",
    )
    assert link_warnings(tmp_site, text, "https://www.example.gov/emergency/") == [
        f"content/alerts/flood.md:17: warning: the link /emergency/areas/kr-11/ {NO_PAGE}; "
        "write links to the site's pages from its root, /areas/kr-11/ "
        "(sitegen adds /emergency/ itself)",
        f"content/alerts/flood.md:18: warning: the link /emergency/areas/kr-1/ {TYPO}",
    ]


def test_a_static_page_link_is_checked_too(tmp_site: TmpSite) -> None:
    pages = tmp_site.root / "content" / "pages"
    pages.mkdir()
    (pages / "about.md").write_text(
        "---\ntitle: About\n---\nWho we are.\n\nSee [our shelters](/areas/kr-1/).\n", "utf-8"
    )
    assert link_warnings(tmp_site, GOOD) == [
        f"content/pages/about.md:6: warning: the link /areas/kr-1/ {TYPO}"
    ]


@pytest.mark.parametrize(
    "body",
    [
        "- Keep away from the river.\n\n    Even at night, keep away.",  # a list item's paragraph
        "1. Leave now.\n    Take water.",  # a list item's second line
        "The river is rising.\n    It rose 2 m.",  # a paragraph's second line
    ],
)
def test_indented_text_that_stays_text_is_not_warned_about(tmp_site: TmpSite, body: str) -> None:
    problems = problems_for(tmp_site, "a.md", GOOD.replace("- Keep away from the river.", body))
    assert not [p for p in problems if "code" in p.message], [str(p) for p in problems]


@pytest.mark.parametrize(
    "areas",
    ["  - Seoul\n  - Busan", "  [Seoul, Busan]", '  - "Seoul"\n  - name: Busan'],
)
def test_areas_written_as_plain_names_are_taken_as_names(tmp_site: TmpSite, areas: str) -> None:
    """`- Seoul` is the shorthand of `- name: Seoul`. Its text is not a set of fields: each
    letter was reported as an unknown field ('areas: S', 'areas: e', ...)."""
    text = replace("  - name: Seoul\n    geocodes: {ISO3166-2: KR-11}", areas)
    assert problems_for(tmp_site, "names.md", text) == []
    alert = load_site(tmp_site.config, NOW).site.groups[0].primary
    assert [a.name for a in alert.areas] == ["Seoul", "Busan"]


def test_markup_shown_as_written_on_purpose_is_no_warning(tmp_site: TmpSite) -> None:
    """Code spans and indented code show tags as written on purpose; web, mail, phone and
    site links, autolinks, and '<' between words are what the page shows too."""
    text = replace(
        "The river is rising.",
        "Type `<b>` to bold. Levels < 5 m > normal.\n"
        "[Call](tel:112), [mail](mailto:a@b.example), [map](https://x.example/a_(b)),\n"
        "<https://x.example/> and [areas](/areas/).\n\n"
        "    <pre> shown as code",
    )
    problems = [str(p) for p in problems_for(tmp_site, "plain.md", text)]
    assert problems == [  # the indented line's own warning, not one about its tag
        "content/alerts/plain.md:21: warning: this line is indented by four spaces or more, so "
        "the page shows it as code (small fixed-width letters, as a program would be); remove "
        "the spaces before it unless that is what you want"
    ]


def test_a_static_page_with_html_is_warned_on_its_line(tmp_site: TmpSite) -> None:
    pages = tmp_site.root / "content" / "pages"
    pages.mkdir()
    (pages / "about.md").write_text(
        "---\ntitle: About\n---\nWho we are.\n\n<p align=center>Call 112</p>\n", "utf-8"
    )
    problems = [str(p) for p in problems_for(tmp_site, "flood.md", GOOD)]
    assert problems == [
        "content/pages/about.md:6: warning: the page shows '<p align=center>' and '</p>' as "
        "written: alerts are Markdown, not HTML. Write **words** for bold, a blank line "
        "between paragraphs and '- ' before list items, or remove the tag"
    ]


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("severity: Severe", "severity:\u00a0Severe", 5),  # read as a field without ':'
        ("  - name: Seoul", "\u00a0\u00a0- name: Seoul", 13),  # read as a field '  - name'
        ("  - name: Seoul", "  -\u00a0name: Seoul", 13),
        ("severity: Severe", "severity:\u3000Severe", 5),  # a Korean input mode's space
    ],
)
def test_a_pasted_no_break_space_in_the_fields_is_named_on_its_line(
    tmp_site: TmpSite, old: str, new: str, line: int
) -> None:
    """A no-break space pasted from Word looks like a space: check said "this line has no ':'
    after the field's name" of `severity: Severe`, or "unknown field '  - name'"."""
    tmp_site.add("quake.md", replace(old, new))
    checked = CliRunner().invoke(cli, ["check", "--site", str(tmp_site.root / "site.toml")])
    assert checked.exit_code == 1, checked.output
    said = f"content/alerts/quake.md:{line}: this line has a"
    assert said in checked.stderr and "(U+" in checked.stderr, checked.stderr
    assert "type it again with the space bar" in checked.stderr


@pytest.mark.parametrize(
    "title",
    [
        "title: Flood\u00a0watch 5\u2009km",
        "title: Flood watch for\n  \u2009the Han River",  # a title wrapped onto a second line
        "title: Flood watch\nheadline: |\n  \u3000Han River rising",  # a paragraph's indent
        "title: Flood watch\nheadline: >-\n  Han River\n  \u00a0above 8.5 m",
    ],
)
def test_a_no_break_space_inside_a_value_is_text(tmp_site: TmpSite, title: str) -> None:
    """Also on a value's further lines: check refused them as fields with a pasted space."""
    tmp_site.add("quake.md", replace("title: Flood watch", title))
    checked = CliRunner().invoke(cli, ["check", "--site", str(tmp_site.root / "site.toml")])
    assert checked.exit_code == 0, checked.output


def test_a_pasted_image_address_is_not_printed_whole(tmp_site: TmpSite) -> None:
    """An image pasted as a data: address: the warning printed all of its 200 KB."""
    image = "data:image/png;base64," + "iVBORw0KGgo" * 20_000
    tmp_site.add("quake.md", replace("The river is rising.", f"![map]({image})"))
    checked = CliRunner().invoke(cli, ["check", "--site", str(tmp_site.root / "site.toml")])
    assert checked.exit_code == 0, checked.output
    [link] = [w for w in checked.stderr.splitlines() if "the link to 'data:image/png" in w]
    assert len(link) < 400 and "...' is left out" in link, link


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (
            "Severe\u200b",
            "severity 'Severe' holds an invisible character (U+200B), pasted with the text: "
            "delete the whole value and type it again",
        ),
        ("\ufeffSevre", "severity 'Sevre' holds an invisible character (U+FEFF), pasted with"),
    ],
)
def test_an_invisible_character_in_a_choice_is_named(
    tmp_site: TmpSite, value: str, said: str
) -> None:
    """'Severe' + a zero-width space was "severity 'Severe' is not one of ... Severe": a
    character no one can see, and a message that contradicts itself."""
    tmp_site.add("quake.md", replace("severity: Severe", f"severity: {value}"))
    checked = CliRunner().invoke(cli, ["check", "--site", str(tmp_site.root / "site.toml")])
    assert checked.exit_code == 1
    [line] = [x for x in checked.stderr.splitlines() if "severity '" in x]
    assert line.startswith("content/alerts/quake.md:") and said in line, line
    assert ("use one of" in line) == (value != "Severe\u200b"), line


@pytest.mark.parametrize("fence", ["---", "--- \t", "---\u3000"])
def test_the_closing_fence_may_have_spaces_after_it_and_the_body_keeps_its_lines(
    tmp_site: TmpSite, fence: str
) -> None:
    """The front matter ends at the first '---' line below the first (spaces after it are
    no part of it); what follows, a later '---' rule too, is the body, numbered as in the file."""
    text = replace("---\nThe river", f"{fence}\nThe river").replace(
        "The river is rising.", "The river is rising.\n\n---\nMore."
    )
    tmp_site.add("fence.md", text)
    loaded = load_site(tmp_site.config, NOW)
    assert loaded.site is not None, [str(p) for p in loaded.problems]
    alert = next(g for g in loaded.site.groups if g.id == "fence").primary
    assert alert.body.startswith("The river is rising.\n\n---\nMore.\n"), alert.body
    assert alert.body_line == text.split("\n").index("The river is rising.") + 1
