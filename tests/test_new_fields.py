"""`sitegen new`: what the options and the prompts accept, and what they refuse."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sitegen.model import Area, MsgType, Severity
from sitegen.scaffold import default_times, follow_up, later, new_alert
from sitegen_fixtures import TmpSite, run_sitegen


@pytest.mark.parametrize("hours", ["inf", "1e9", "nan", "-5", "0.1", "721", "abc"])
def test_expires_in_out_of_range_is_a_usage_error(tmp_site: TmpSite, hours: str) -> None:
    result = run_sitegen(
        "new", "X", "--area", "Seoul", "--no-input", "--expires-in", hours, cwd=tmp_site.root
    )
    assert result.returncode == 2, result.stderr  # was: internal error (exit 3) for inf/1e9/nan
    assert "Invalid value for '--expires-in'" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize(
    ("written", "hours"),
    [("6", 6), ("1.5", 1.5), ("90m", 1.5), ("90 min", 1.5), ("6h", 6), ("3d", 72), ("2 Days", 48)],
)
def test_expires_in_takes_minutes_hours_and_days(
    tmp_site: TmpSite, written: str, hours: float
) -> None:
    """An official thinks "3 days" or "90 minutes"; '3d' was refused as 'not a number of hours'."""
    result = run_sitegen(
        "new", "Heat", "--area", "Seoul", "--no-input", "--expires-in", written, cwd=tmp_site.root
    )
    assert result.returncode == 0, result.stderr
    [path] = (tmp_site.root / "content/alerts").glob("*heat.md")
    text = path.read_text()
    sent = datetime.fromisoformat(text.split("sent: ")[1].split()[0])
    expires = datetime.fromisoformat(text.split("expires: ")[1].split()[0])
    assert expires - sent == timedelta(hours=hours)


@pytest.mark.parametrize("written", ["3x", "d", "1.2.3h", "three days", ""])
def test_expires_in_that_is_no_length_of_time_says_how_to_write_one(
    tmp_site: TmpSite, written: str
) -> None:
    result = run_sitegen(
        "new", "X", "--area", "Seoul", "--no-input", "--expires-in", written, cwd=tmp_site.root
    )
    assert result.returncode == 2, result.stderr
    assert "is not a length of time: give hours (24, 1.5), or minutes, hours or days" in " ".join(
        result.stderr.split()
    )


def test_the_prompt_checks_hours_as_the_option_does(tmp_site: TmpSite) -> None:
    answers = "Storm\nen\nStorm\nMet\nSevere\nExpected\nLikely\nSeoul\n-5\n1e9\n2\n"
    result = run_sitegen("new", "--interactive", cwd=tmp_site.root, input=answers)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("'-5' is less than 15 minutes: an alert expires from 15") == 1
    assert result.stdout.count("'1e9' is over 30 days: an alert expires from 15 minutes") == 1
    [path] = (tmp_site.root / "content/alerts").glob("*storm.md")
    text = path.read_text()
    sent = datetime.fromisoformat(text.split("sent: ")[1].split()[0])
    expires = datetime.fromisoformat(text.split("expires: ")[1].split()[0])
    assert expires - sent == timedelta(hours=2)


def test_cap_words_are_shown_as_cap_writes_them(tmp_site: TmpSite) -> None:
    shown = run_sitegen("new", "--help", cwd=tmp_site.root).stdout
    assert "--severity [Extreme|Severe|Moderate|Minor|Unknown]" in shown
    assert "[Geo|Met|Safety|" in shown and "extreme" not in shown
    wrong = run_sitegen("new", "X", "--severity", "Severe!", cwd=tmp_site.root)
    assert wrong.returncode == 2
    assert "'Severe!' is not one of Extreme, Severe, Moderate, Minor, Unknown" in wrong.stderr
    lower = run_sitegen(
        "new", "X", "--severity", "severe", "--area", "Seoul", "--no-input", cwd=tmp_site.root
    )
    assert lower.returncode == 0, lower.stderr  # any case is accepted, written as in CAP
    [path] = (tmp_site.root / "content/alerts").glob("*-x.md")
    assert "severity: Severe\n" in path.read_text()


def test_a_korean_alert_is_offered_the_korean_area_names(example_site: TmpSite) -> None:
    answers = "지진 발생\nko\n지진\nGeo\n\n\n\n6\n\n"
    result = run_sitegen("new", "--interactive", cwd=example_site.root, input=answers)
    assert result.returncode == 0, result.stderr
    offered = result.stdout.split("Areas already used in this site:")[1]
    assert "  6. 부산광역시" in offered and "Busan" not in offered
    [path] = (example_site.root / "content/alerts").glob("*.ko.md")
    text = path.read_text()
    assert 'name: "부산광역시"\n    geocodes: {"ISO3166-2": "KR-26"}' in text
    assert "severity: Moderate" in text and "category: Geo" in text


def test_the_area_prompt_refuses_a_number_not_listed_and_an_empty_answer(
    example_site: TmpSite,
) -> None:
    """A number not in the list was written as an area named "99" (and published so); Enter
    alone asked again without a word."""
    answers = "Storm\nen\nStorm\nMet\n\n\n\n99, Seoul\n\n ,\n1\n\n"
    result = run_sitegen("new", "--interactive", cwd=example_site.root, input=answers)
    assert result.returncode == 0, result.stderr
    offered = result.stdout.split("Areas already used in this site:\n")[1].splitlines()
    first = offered[0].split(". ", 1)[1]
    count = sum(line.startswith("  ") for line in offered)
    said = result.stdout
    assert said.count(f"Error: there is no area number 99 (the list goes from 1 to {count})") == 1
    assert said.count("Error: give at least one area: a number from the list or an area") == 2
    [path] = (example_site.root / "content/alerts").glob("*-storm.md")
    areas = path.read_text().split("areas:\n")[1].split("references:")[0]
    assert areas.startswith(f'  - name: "{first}"\n') and areas.count("- name:") == 1


def test_an_area_the_site_names_only_in_another_language_is_marked_to_translate(
    example_site: TmpSite,
) -> None:
    """`new --lang ko --area Seoul`: the example site names Seoul (KR-11) in English only, so
    the Korean file gets a TODO, as `new --update` marks such a name; it was written as is
    and would have been published on the Korean page. A name the site knows in Korean stays,
    and a name the site does not know is the official's own word for this file."""
    result = run_sitegen(
        "new", "서울 폭염", "--lang", "ko", "--area", "Seoul", "--area", "부산광역시",
        "--area", "Jeju", "--no-input", cwd=example_site.root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [path] = (example_site.root / "content/alerts").glob("*.ko.md")
    text = path.read_text()
    assert 'name: "TODO: Seoul (write this in ko)"\n    geocodes: {"ISO3166-2": "KR-11"}' in text
    assert '- name: "부산광역시"' in text and '- name: "Jeju"' in text
    checked = run_sitegen("check", cwd=example_site.root)
    assert checked.returncode == 1 and path.name in checked.stdout + checked.stderr


def test_defaults_used_without_prompts_are_said(tmp_site: TmpSite) -> None:
    result = run_sitegen("new", "Storm", "--area", "Seoul", "--no-input", cwd=tmp_site.root)
    assert result.returncode == 0, result.stderr
    assert (
        "note: not given, so written as category Other, severity Moderate, urgency Expected, "
        "certainty Likely, expires in 24 hours"
    ) in result.stderr


def test_the_note_suggests_only_options_that_were_not_given(tmp_site: TmpSite) -> None:
    result = run_sitegen(
        "new", "Storm", "--severity", "Severe", "--expires-in", "6", "--area", "Seoul",
        "--no-input", cwd=tmp_site.root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    note = result.stderr.split("note: ")[1]
    assert "written as category Other, urgency Expected, certainty Likely;" in note
    assert "(or pass --category, --urgency, --certainty)" in note  # was: --severity too


def test_the_note_on_one_default_says_it(tmp_site: TmpSite) -> None:
    result = run_sitegen(
        "new", "Storm", "--severity", "Severe", "--category", "Met", "--urgency", "Immediate",
        "--certainty", "Observed", "--area", "Seoul", "--no-input", cwd=tmp_site.root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        "note: not given, so written as expires in 24 hours; change it in the file "
        "(or pass --expires-in)"
    ) in result.stderr


def test_new_writes_times_in_the_sites_timezone(tmp_site: TmpSite) -> None:
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text() + 'timezone = "Asia/Seoul"\n')
    env = {**os.environ, "TZ": "UTC"}  # a server on UTC
    result = run_sitegen(
        "new", "Storm", "--area", "Seoul", "--no-input", cwd=tmp_site.root, env=env
    )
    assert result.returncode == 0, result.stderr
    [path] = (tmp_site.root / "content/alerts").glob("*storm.md")
    sent = path.read_text().split("sent: ")[1].split()[0]
    assert sent.endswith("+09:00"), sent
    assert datetime.fromisoformat(sent).utcoffset() == timedelta(hours=9)


def test_without_a_timezone_setting_the_machines_zone_is_used(tmp_site: TmpSite) -> None:
    env = {**os.environ, "TZ": "UTC"}
    result = run_sitegen(
        "new", "Storm", "--area", "Seoul", "--no-input", cwd=tmp_site.root, env=env
    )
    assert result.returncode == 0, result.stderr
    [path] = (tmp_site.root / "content/alerts").glob("*storm.md")
    assert path.read_text().split("sent: ")[1].split()[0].endswith("+00:00")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"Asia/Seul"', "timezone 'Asia/Seul' is not an IANA timezone name such as 'Asia/Seoul'"),
        ('"Asia/Seul"', "did you mean 'Asia/Seoul'?"),
        ('"KST"', "did you mean 'Asia/Seoul'?"),  # was 'MST', 16 hours off
        ('"Seoul"', "did you mean 'Asia/Seoul'?"),
        ('"+09:00"', "timezone '+09:00' is not an IANA timezone name"),
        ('"/etc/passwd"', "timezone '/etc/passwd' is not an IANA timezone name"),
        ("9", "timezone 9 is not an IANA timezone name"),
    ],
)
def test_a_wrong_timezone_is_a_clear_error(tmp_site: TmpSite, value: str, message: str) -> None:
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text() + f"timezone = {value}\n")
    result = run_sitegen("check", cwd=tmp_site.root)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


NEW_YORK = ZoneInfo("America/New_York")  # clocks go back from 02:00 EDT to 01:00 EST on 2026-11-01


def _real(value: datetime) -> datetime:
    return value.astimezone(UTC)  # subtracting two times of one zone compares wall clocks


@pytest.mark.parametrize(
    ("now", "hours"),
    [
        ("2026-11-01T06:10:00+00:00", 0.5),  # 01:10 EST, the second 01:10: was 01:40 EDT, before it
        ("2026-11-01T05:10:00+00:00", 1.5),  # 01:10 EDT: was 02:40 EST, 2.5 hours later
        ("2026-10-31T12:00:00+00:00", 24),  # the day before: was 25 hours
        ("2027-03-14T05:30:00+00:00", 2.5),  # 00:30 EST, clocks skip 02:00-03:00: was 2 hours
    ],
)
def test_expiry_is_real_hours_after_sent_across_a_daylight_saving_change(
    now: str, hours: float
) -> None:
    """`sitegen new` (and `new --update/--cancel --expires-in`) write `sent` on the site's
    clocks and the expiry `hours` of real time later, whatever the clocks do in between."""
    sent, expires = default_times(datetime.fromisoformat(now), hours, NEW_YORK)
    assert _real(sent) == datetime.fromisoformat(now)
    assert _real(expires) - _real(sent) == timedelta(hours=hours)
    assert later(sent, hours) == expires
    original = new_alert(
        "Storm", event="Storm", severity=Severity.SEVERE, areas=(Area("Riverside", "riverside"),),
        language="en", sent=sent - timedelta(days=2), expires=sent - timedelta(days=1),
    )  # fmt: skip
    cancel = follow_up(original, MsgType.CANCEL, sent)  # of an expired alert: kept an hour
    assert _real(cancel.expires) - _real(sent) == timedelta(hours=1)


def test_a_value_check_would_refuse_is_refused_before_any_file_is_written(
    tmp_site: TmpSite,
) -> None:
    """A title pasted with hidden text-direction marks (U+200F, common in copied Arabic or
    Hebrew text) was written into the file, which `sitegen check` then refused: the official
    had to mend by hand a file `new` had just made."""
    before = sorted((tmp_site.root / "content/alerts").iterdir())
    result = run_sitegen(
        "new", "Tsunami warning for \u200fBusan\u200f", "--area", "Busan", "--no-input",
        cwd=tmp_site.root,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert "nothing was created: `sitegen check` would refuse it:" in said
    assert "'title' contains invisible text-direction control characters" in said
    assert sorted((tmp_site.root / "content/alerts").iterdir()) == before
    assert "Traceback" not in result.stderr


def test_a_value_check_only_warns_about_is_written_with_the_warning(tmp_site: TmpSite) -> None:
    result = run_sitegen(
        "new", "Flood\u200b watch", "--area", "Busan", "--no-input", cwd=tmp_site.root
    )
    assert result.returncode == 0, result.stderr
    assert "warning: an invisible character (ZERO WIDTH SPACE, U+200B) in the title" in (
        " ".join(result.stderr.split())
    )
    assert list((tmp_site.root / "content/alerts").glob("*flood-watch.md"))
    # the file made is what `check` reads: only the TODO lines and that warning are left
    check = run_sitegen("check", cwd=tmp_site.root)
    assert "TODO" in check.stderr + check.stdout
    assert "text-direction" not in check.stderr + check.stdout


def test_the_title_prompt_asks_again_for_a_title_check_would_refuse(tmp_site: TmpSite) -> None:
    """At the prompts the title is asked again at once, not refused after every other
    question (the whole file is still checked before it is written)."""
    answers = "Storm \u202eSeoul\nStorm Seoul\nen\nStorm \u200fwarning\nStorm\n"
    answers += "Met\nSevere\nExpected\nLikely\nSeoul\n2\n"
    result = run_sitegen("new", "--interactive", cwd=tmp_site.root, input=answers)
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert said.count("'title' contains invisible text-direction control characters") == 1
    assert said.count("'event' contains invisible text-direction control characters") == 1
    [path] = (tmp_site.root / "content/alerts").glob("*storm-seoul.md")
    assert 'title: "Storm Seoul"' in path.read_text()
    assert 'event: "Storm"' in path.read_text()
