"""`sitegen new --update/--cancel ID`: which alert is followed up, and what is carried over."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sitegen import cli_new, follow_up, salvage
from sitegen.cli import cli
from sitegen_fixtures import TmpSite, alert_text, run_sitegen

FLOOD = "2026-11-25-han-river-flood-watch"


def alerts(site: TmpSite) -> Path:
    return site.root / "content" / "alerts"


def test_unknown_id_is_reported_first_with_a_did_you_mean(example_site: TmpSite) -> None:
    example_site.add("zz-draft.md", "---\ntitle: half written\n---\nTODO: finish\n")
    result = run_sitegen("new", "--cancel", "han-river-flood", cwd=example_site.root)
    assert result.returncode == 2
    assert "there is no alert with id 'han-river-flood'" in result.stderr
    assert f"did you mean '{FLOOD}'?" in result.stderr
    assert "the site has errors" not in result.stderr


@pytest.mark.parametrize(
    "typed", [f"content/alerts/{FLOOD}.md", f"./content/alerts/{FLOOD}.ko.md", f"{FLOOD}.md"]
)
def test_a_file_name_given_for_the_id_is_answered_with_its_id(
    example_site: TmpSite, typed: str
) -> None:
    """A shell's Tab completes `--cancel content/al<Tab>` to the file's path: the official was
    told only that no alert has that id, with no hint of the id to give."""
    result = run_sitegen("new", "--cancel", typed, cwd=example_site.root)
    assert result.returncode == 2
    assert f"there is no alert with id '{typed}'; did you mean '{FLOOD}'?" in result.stderr


def test_an_unrelated_broken_file_does_not_block_a_cancel(example_site: TmpSite) -> None:
    example_site.add("zz-draft.md", "---\ntitle: half written\n---\nTODO: finish\n")
    result = run_sitegen("new", "--cancel", FLOOD, cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    assert "warning: the problems in content/alerts/zz-draft.md do not affect" in result.stderr
    assert any("cancel" in p.name for p in alerts(example_site).glob("*han-river*"))


def test_a_broken_file_of_the_chain_blocks_and_is_named_with_its_line(
    example_site: TmpSite,
) -> None:
    example_site.add(
        "zz-update.md",
        alert_text(msg_type="Update", references=f"[{FLOOD}]").replace(
            "The river is rising.", "TODO: say what changed"
        ),
    )
    example_site.add("zz-draft.md", "---\ntitle: half written\n---\nTODO: finish\n")
    result = run_sitegen("new", "--cancel", FLOOD, cwd=example_site.root)
    assert result.returncode == 1
    assert "content/alerts/zz-update.md:17: replace the 'TODO:' text" in result.stderr
    assert f"alert '{FLOOD}' cannot be followed up until these problems" in result.stderr
    assert "zz-draft.md" not in result.stderr  # not part of the chain
    assert not any("cancel" in p.name for p in alerts(example_site).glob("*han-river*"))


def test_a_broken_translation_of_the_alert_blocks(example_site: TmpSite) -> None:
    example_site.add(f"{FLOOD}.ko.md", "---\ntitle: [unclosed\n---\n")
    result = run_sitegen("new", "--update", FLOOD, cwd=example_site.root)
    assert result.returncode == 1 and f"content/alerts/{FLOOD}.ko.md" in result.stderr


TSUNAMI = "2026-11-24-east-coast-tsunami"


def test_a_cancelled_alert_is_refused_naming_the_cancel(example_site: TmpSite) -> None:
    for option in ("--update", "--cancel"):
        result = run_sitegen("new", option, f"{TSUNAMI}-warning", cwd=example_site.root)
        assert result.returncode == 1
        assert (
            f"alert '{TSUNAMI}-warning' was cancelled by content/alerts/{TSUNAMI}-cancel.md"
        ) in result.stderr


def test_a_superseded_alert_is_followed_from_the_latest_message(example_site: TmpSite) -> None:
    (alerts(example_site) / f"{TSUNAMI}-cancel.md").unlink()
    before = set(alerts(example_site).iterdir())
    result = run_sitegen("new", "--update", f"{TSUNAMI}-warning", cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    [path] = set(alerts(example_site).iterdir()) - before
    text = path.read_text()
    # the update's fields (Severe, two areas, its wording), not the original warning's
    assert "severity: Severe\n" in text and 'Ulsan"' not in text
    assert "Waves of 0.6 m were measured at Mukho" in text
    assert f'references: ["{TSUNAMI}-warning", "{TSUNAMI}-update"]' in text


def test_titles_without_latin_letters_get_unique_ids(tmp_site: TmpSite) -> None:
    """Every Korean title of a day made 2026-11-26-alert.ko.md, and a title like '!!!' became a
    'translation' of an unrelated Korean alert."""
    korean = ("new", "호우 경보", "--lang", "ko", "--area", "서울", "--no-input")
    assert run_sitegen(*korean, cwd=tmp_site.root).returncode == 0
    second = run_sitegen("new", "강풍 주의보", *korean[2:], cwd=tmp_site.root)
    assert second.returncode == 0, second.stderr
    punctuation = run_sitegen("new", "!!!", "--area", "서울", "--no-input", cwd=tmp_site.root)
    assert punctuation.returncode == 0, punctuation.stderr
    by_area = run_sitegen("new", "폭염", "--lang", "ko", "--area", "Seoul", cwd=tmp_site.root)
    assert by_area.returncode == 0, by_area.stderr
    names = sorted(p.name for p in alerts(tmp_site).iterdir())
    day = names[0][:10]
    assert names == [
        f"{day}-alert-2.ko.md",
        f"{day}-alert-3.md",
        f"{day}-alert.ko.md",
        f"{day}-seoul.ko.md",  # the area's name, when it has Latin letters
    ]


def test_follow_ups_are_named_after_the_original_and_numbered(example_site: TmpSite) -> None:
    quake = "2026-09-12-gyeongju-earthquake"  # a Korean title
    result = run_sitegen("new", "--update", quake, cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    assert f"created content/alerts/{quake}-update.md" in result.stdout
    first = alerts(example_site) / f"{quake}-update.md"
    first.write_text(first.read_text().replace("TODO: ", ""))
    for path in alerts(example_site).glob(f"{quake}-update.*.md"):
        path.write_text(path.read_text().replace("TODO: ", ""))
    again = run_sitegen("new", "--update", quake, cwd=example_site.root)
    assert again.returncode == 0, again.stderr  # was: "already exists"
    assert f"created content/alerts/{quake}-update-2.md" in again.stdout
    assert f'"{quake}-update"]' in (alerts(example_site) / f"{quake}-update-2.md").read_text()


def test_an_existing_file_is_named_relative_to_the_site(tmp_site: TmpSite) -> None:
    import dataclasses
    from datetime import datetime, timedelta

    from sitegen.model import Area, Severity
    from sitegen.scaffold import new_alert, write_alert

    sent = datetime.fromisoformat("2026-11-26T09:00:00+09:00")
    alert = new_alert(
        "X", event="X", severity=Severity.MINOR, areas=(Area("Seoul", "seoul"),),
        language="en", sent=sent, expires=sent + timedelta(hours=1),
    )  # fmt: skip
    alert = dataclasses.replace(alert, id="x")
    write_alert(alert, tmp_site.config)
    try:
        write_alert(alert, tmp_site.config)
    except Exception as exc:
        assert str(exc).startswith("content/alerts/x.md: already exists"), exc
    else:
        raise AssertionError("overwrote the file")


def test_an_update_takes_severity_areas_and_expiry_from_options(example_site: TmpSite) -> None:
    result = run_sitegen(
        "new", "--update", FLOOD, "--severity", "Extreme", "--area", "busan",
        "--area", "Nowhere", "--expires-in", "3", cwd=example_site.root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = (alerts(example_site) / f"{FLOOD}-update.md").read_text()
    assert "severity: Extreme\n" in text
    # a known area keeps its geocodes (as the site names it); a new one is written as given
    assert '- name: "Busan"\n    geocodes: {"ISO3166-2": "KR-26"}\n  - name: "Nowhere"\n' in text
    assert '"Seoul"' not in text
    sent = datetime.fromisoformat(text.split("sent: ")[1].split()[0])
    expires = datetime.fromisoformat(text.split("expires: ")[1].split()[0])
    assert expires - sent == timedelta(hours=3)


def test_an_update_that_leaves_out_areas_names_them_and_how_to_keep_them(
    example_site: TmpSite,
) -> None:
    """`--area Busan` on an Update, meant to add Busan, wrote Busan alone: Seoul and
    Gyeonggi-do, still at risk, would have lost the alert on their pages once it was sent,
    and nothing said so (fourth walkthrough). The note names them and the whole command."""
    result = run_sitegen("new", "--update", FLOOD, "--area", "Busan", cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    assert (
        "note: --area gives this Update all its areas, so Seoul, Gyeonggi-do (in the latest "
        f"message, content/alerts/{FLOOD}.md) are left out: once it is sent, the pages of "
        "those areas show no alert for it." in result.stderr
    )
    assert (
        f"`sitegen new --update {FLOOD} --area Seoul --area Gyeonggi-do --area Busan`"
        in result.stderr
    )
    (alerts(example_site) / f"{FLOOD}-update.md").unlink()
    every = ("--area", "Seoul", "--area", "Gyeonggi-do", "--area", "Busan")
    again = run_sitegen("new", "--update", FLOOD, *every, cwd=example_site.root)
    assert again.returncode == 0 and "note" not in again.stderr, again.stderr


def test_an_update_with_areas_reads_the_site_once(
    example_site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load of the site takes ~2 s at 10,000 alerts, in an emergency: `new --update ID
    --area NAME` loaded it to find the chain, again for the areas of each language and once
    more to mark names in another language (4 loads, 8.9 s, for one at 2.1 s)."""
    loads = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        loads.append(args)
        return salvage.load_valid(*args, **kwargs)

    monkeypatch.setattr(cli_new, "load_valid", counted)
    monkeypatch.setattr(follow_up, "load_valid", counted)
    toml = str(example_site.root / "site.toml")
    args = ["new", "--site", toml, "--update", FLOOD, "--area", "busan", "--no-input"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (alerts(example_site) / f"{FLOOD}-update.md").exists()
    assert len(loads) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--update", FLOOD, "--lang", "ko"), "--lang cannot be used with --update"),
        (("--update", FLOOD, "--category", "Geo"), "--category cannot be used with --update"),
        (("--cancel", FLOOD, "--severity", "Minor"), "--severity cannot be used with --cancel"),
        (("--cancel", FLOOD, "--area", "Seoul"), "--area cannot be used with --cancel"),
    ],
)
def test_options_a_follow_up_cannot_use_are_refused(
    example_site: TmpSite, args: tuple[str, ...], message: str
) -> None:
    result = run_sitegen("new", *args, cwd=example_site.root)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not list(alerts(example_site).glob(f"{FLOOD}-*"))


def test_a_cancel_takes_its_expiry_from_the_option(example_site: TmpSite) -> None:
    result = run_sitegen("new", "--cancel", FLOOD, "--expires-in", "6", cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    text = (alerts(example_site) / f"{FLOOD}-cancel.md").read_text()
    sent = datetime.fromisoformat(text.split("sent: ")[1].split()[0])
    expires = datetime.fromisoformat(text.split("expires: ")[1].split()[0])
    assert expires - sent == timedelta(hours=6)


QUAKE = "2026-09-12-gyeongju-earthquake"  # Korean primary, English translation; expired


def _times(text: str) -> timedelta:
    sent = datetime.fromisoformat(text.split("sent: ")[1].split()[0])
    return datetime.fromisoformat(text.split("expires: ")[1].split()[0]) - sent


def test_an_update_of_an_expired_alert_is_in_force_for_a_day_and_says_so(
    example_site: TmpSite,
) -> None:
    """Updating an alert that has expired issues it again: for a new alert's 24 hours (was 1
    hour, without a word), and the official is told until when."""
    result = run_sitegen("new", "--update", QUAKE, cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    assert _times((alerts(example_site) / f"{QUAKE}-update.md").read_text()) == timedelta(days=1)
    assert (
        f"note: alert '{QUAKE}' expired at 2026-09-13T20:32:00+09:00 "
        f"(content/alerts/{QUAKE}.md), so it is no longer in force; this Update puts it in "
        "force again for 24 hours, until "
    ) in result.stderr
    assert "change 'expires' in the file, or pass --expires-in" in result.stderr


def test_a_cancel_of_an_expired_alert_says_it_is_over_already(example_site: TmpSite) -> None:
    result = run_sitegen("new", "--cancel", QUAKE, cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    assert _times((alerts(example_site) / f"{QUAKE}-cancel.md").read_text()) == timedelta(hours=1)
    assert "so it is no longer in force; a Cancel only tells receivers it is over" in result.stderr


def test_cancelling_a_translated_alert_writes_every_language_with_its_own_title(
    example_site: TmpSite,
) -> None:
    result = run_sitegen("new", "--cancel", QUAKE, cwd=example_site.root)
    assert result.returncode == 0, result.stderr
    korean = (alerts(example_site) / f"{QUAKE}-cancel.md").read_text()
    english = (alerts(example_site) / f"{QUAKE}-cancel.en.md").read_text()
    # the alert's own title: the site says "Cancelled" (in Korean, 해제) wherever it shows it
    assert 'title: "경주 인근 규모 5.8 지진 발생"\n' in korean
    assert "language: ko" in korean and "## 행동 요령" in korean
    assert 'title: "Magnitude 5.8 earthquake near Gyeongju"\n' in english
    for path in alerts(example_site).glob(f"{QUAKE}-cancel*.md"):
        path.write_text(path.read_text().replace("TODO: ", ""))
    checked = run_sitegen("check", cwd=example_site.root)
    assert checked.returncode == 0, checked.stderr  # the two files agree as translations


def test_follow_up_titles_do_not_stack(example_site: TmpSite) -> None:
    """'Tsunami warning for the east coast (update)' cancelled is the alert's own title, not
    '... (update) (cancelled)' (nor, since session 23, '... (cancelled)': the site says it)."""
    (alerts(example_site) / "2026-11-24-east-coast-tsunami-cancel.md").unlink()
    result = run_sitegen(
        "new", "--cancel", "2026-11-24-east-coast-tsunami-update", cwd=example_site.root
    )
    assert result.returncode == 0, result.stderr
    [path] = alerts(example_site).glob("*tsunami-warning-cancel.md")
    assert 'title: "Tsunami warning for the east coast"\n' in path.read_text()


@pytest.mark.parametrize(
    ("title", "base"),
    [
        ("Flood watch (update 2)", "Flood watch"),
        ("Flood watch (update) (update 12)", "Flood watch"),
        ("Flood watch (cancelled)", "Flood watch"),  # what sitegen wrote before session 23
        ("홍수 주의보 (갱신 3)", "홍수 주의보"),
        ("مراقبة الفيضان (تحديث 2)", "مراقبة الفيضان"),
        ("(update 2)", "(update 2)"),  # nothing left: an official's title, kept
        ("Flood watch (update two)", "Flood watch (update two)"),
    ],
)
def test_a_follow_up_title_is_made_from_the_title_without_earlier_marks(
    title: str, base: str
) -> None:
    from sitegen.scaffold import base_title

    assert base_title(title) == base


def test_every_catalog_translates_the_follow_up_titles() -> None:
    from sitegen.i18n import LOCALES, catalog
    from sitegen.scaffold import FOLLOW_UP_TITLES

    for path in LOCALES.glob("*.json"):
        for key in FOLLOW_UP_TITLES:
            assert "%(title)s" in catalog(path.stem).get(key, ""), (path.name, key)


def _sent(path: Path) -> datetime:
    return datetime.fromisoformat(path.read_text().split("sent: ")[1].split()[0])


def _filled(site: TmpSite) -> None:
    for path in alerts(site).glob("*.md"):
        path.write_text(path.read_text().replace("TODO: ", ""))


def test_an_update_carries_the_languages_only_earlier_messages_have(tmp_site: TmpSite) -> None:
    """The latest message was written in Korean only: the English version of the alert
    silently disappeared from every later message."""
    tmp_site.add("flood.md", alert_text(title="Flood watch"))
    tmp_site.add("flood.ko.md", alert_text(title="홍수 주의보"))
    tmp_site.add(
        "flood-update.ko.md",
        alert_text(
            title="홍수 주의보 (갱신)", severity="Extreme", msg_type="Update",
            sent="2026-11-25T08:00:00+09:00", references="[flood]",
        ),
    )  # fmt: skip
    result = run_sitegen("new", "--update", "flood", "--no-input", cwd=tmp_site.root)
    assert result.returncode == 0, result.stderr
    english = (alerts(tmp_site) / "flood-update-2.md").read_text()
    # the alert's second Update (the first was in Korean only)
    assert 'title: "Flood watch (update 2)"' in english and "severity: Extreme\n" in english
    assert (
        "note: the latest message (content/alerts/flood-update.ko.md) has no version in en, "
        "but earlier messages of this alert do, so the new files carry those languages too "
        "(en from content/alerts/flood.md"
    ) in result.stderr
    _filled(tmp_site)
    checked = run_sitegen("check", cwd=tmp_site.root)
    assert checked.returncode == 0 and "warning" not in checked.stderr, checked.stderr


def test_words_from_another_language_are_marked_to_translate(tmp_site: TmpSite) -> None:
    """An Update written from a Korean-only message carried English, with the Korean name of
    an area only that message has ('부산광역시' on the English page); --event changed the
    first file only, so the English one still said 'Flood' after the Korean said otherwise."""
    tmp_site.add("flood.md", alert_text())
    tmp_site.add(
        "flood.ko.md", alert_text(title="홍수 주의보").replace("name: Seoul", "name: 서울")
    )
    busan = "  - name: 부산광역시\n    geocodes: {ISO3166-2: KR-26}\nreferences:"
    update = alert_text(
        title="홍수 주의보 (갱신)", msg_type="Update", sent="2026-11-25T08:00:00+09:00",
        references="[flood]",
    ).replace("name: Seoul", "name: 서울").replace("references:", busan)  # fmt: skip
    tmp_site.add("flood-update.ko.md", update)
    result = run_sitegen(
        "new", "--update", "flood", "--no-input", "--event", "산사태", cwd=tmp_site.root
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    korean = (alerts(tmp_site) / "flood-update-2.ko.md").read_text()
    english = (alerts(tmp_site) / "flood-update-2.md").read_text()
    assert 'event: "산사태"' in korean and '"부산광역시"' in korean and '"서울"' in korean
    assert 'event: "TODO: 산사태 (write this in en)"' in english
    assert '- name: "Seoul"' in english  # as the English message named it
    assert '- name: "TODO: 부산광역시 (write this in en)"' in english
    checked = run_sitegen("check", cwd=tmp_site.root)
    assert "flood-update-2.md" in checked.stdout + checked.stderr and checked.returncode == 1


def test_a_message_scheduled_for_later_stops_a_follow_up_and_says_what_to_do(
    tmp_site: TmpSite,
) -> None:
    """A Cancel written while an Update was scheduled for later failed `check` ("sent after
    this Cancel") without saying what to do; `new --cancel` now says it first."""
    soon = (datetime.now().astimezone() + timedelta(hours=2)).replace(microsecond=0)
    later = soon + timedelta(days=1)
    tmp_site.add("flood.md", alert_text(expires=later.isoformat()))
    update = dict(msg_type="Update", references="[flood]", expires=later.isoformat())
    tmp_site.add("flood-update.md", alert_text(sent=soon.isoformat(), **update))
    tmp_site.add("flood-update.ko.md", alert_text(sent=soon.isoformat(), **update))
    result = run_sitegen("new", "--cancel", "flood", cwd=tmp_site.root)
    assert result.returncode == 1
    assert (
        "alert 'flood' has a message scheduled for later: content/alerts/flood-update.md and "
        f"content/alerts/flood-update.ko.md (to be sent {soon.isoformat()})"
    ) in result.stderr
    assert "delete those files (or give them a 'sent' time already past)" in result.stderr
    assert not list(alerts(tmp_site).glob("flood-cancel*"))
    # written by hand, `check` names the file to delete or reschedule
    cancel = dict(msg_type="Cancel", references="[flood, flood-update]", expires=later.isoformat())
    tmp_site.add(
        "flood-cancel.md", alert_text(sent=(soon - timedelta(hours=1)).isoformat(), **cancel)
    )
    checked = run_sitegen("check", cwd=tmp_site.root)
    assert (
        "If that message is scheduled for later and this Cancel should replace it, delete "
        "content/alerts/flood-update.md or give it a 'sent' time before this one"
    ) in checked.stderr


def test_a_cancel_scheduled_for_later_is_not_said_to_have_cancelled(tmp_site: TmpSite) -> None:
    """A Cancel scheduled for later was refused as if sent ("was cancelled by ..., a cancelled
    alert cannot be updated"), so the official was told to write a new alert instead of how
    to change or end this one now."""
    soon = (datetime.now().astimezone() + timedelta(hours=2)).replace(microsecond=0)
    later = soon + timedelta(days=1)
    tmp_site.add("flood.md", alert_text(expires=later.isoformat()))
    cancel = dict(msg_type="Cancel", references="[flood]", expires=later.isoformat())
    tmp_site.add("flood-cancel.md", alert_text(sent=soon.isoformat(), **cancel))
    result = run_sitegen("new", "--update", "flood", cwd=tmp_site.root)
    assert result.returncode == 1
    assert "was cancelled" not in result.stderr
    assert (
        "alert 'flood' has a message scheduled for later: content/alerts/flood-cancel.md "
        f"(to be sent {soon.isoformat()})"
    ) in result.stderr


def test_updates_in_one_minute_are_sent_one_after_another(tmp_site: TmpSite) -> None:
    """Times were rounded to the minute, so follow-ups written within a minute had the same
    `sent`, and the tenth Update came before the ninth (ordered by id): it was not shown."""
    now = datetime.now().astimezone().replace(second=0, microsecond=0)
    expires = (now + timedelta(days=1)).isoformat()
    tmp_site.add("flood.md", alert_text(sent=now.isoformat(), expires=expires))
    for _ in range(10):
        result = run_sitegen("new", "--update", "flood", cwd=tmp_site.root)
        assert result.returncode == 0, result.stderr
        _filled(tmp_site)
    names = ["flood", "flood-update", *(f"flood-update-{n}" for n in range(2, 11))]
    sents = [_sent(alerts(tmp_site) / f"{name}.md") for name in names]
    assert sents == sorted(set(sents)), sents
    status = run_sitegen("status", "--now", sents[-1].isoformat(), cwd=tmp_site.root)
    assert "active: 1 alert (1 message, 1 file)\n  flood-update-10 " in status.stdout, (
        status.stdout + status.stderr
    )


def test_a_follow_up_sent_at_the_time_of_the_message_it_follows_is_a_warning(
    tmp_site: TmpSite,
) -> None:
    tmp_site.add("flood.md", alert_text())
    tmp_site.add("flood-update.md", alert_text(msg_type="Update", references="[flood]"))
    checked = run_sitegen("check", cwd=tmp_site.root)
    assert checked.returncode == 0, checked.stderr
    assert (
        "content/alerts/flood-update.md:10: warning: sent at the same time as 'flood' "
        "(content/alerts/flood.md), which this Update follows"
    ) in checked.stderr


def test_an_update_keeps_the_page_an_area_id_gives(tmp_site: TmpSite) -> None:
    """docs/content.md: an area with a name only is told apart by its `id:` (`Seoul` and its
    translation `서울` share /areas/seoul/). `new --update` wrote the areas without it, so the
    Update moved to /areas/riverside/ and the Korean one to an /areas/area-…/ of its own."""
    plain = "  - name: Seoul\n    geocodes: {ISO3166-2: KR-11}\n"
    tmp_site.add("flood.md", alert_text().replace(plain, "  - name: Riverside\n    id: seoul\n"))
    tmp_site.add(
        "flood.ko.md",
        alert_text(title="홍수 주의보").replace(plain, "  - name: 서울\n    id: seoul\n"),
    )
    result = run_sitegen("new", "--update", "flood", "--no-input", cwd=tmp_site.root)
    assert result.returncode == 0, result.stderr
    assert (
        '  - name: "Riverside"\n    id: "seoul"\n'
        in (alerts(tmp_site) / "flood-update.md").read_text()
    )
    assert (
        '  - name: "서울"\n    id: "seoul"\n'
        in (alerts(tmp_site) / "flood-update.ko.md").read_text()
    )
    _filled(tmp_site)
    assert run_sitegen("build", cwd=tmp_site.root).returncode == 0
    areas = tmp_site.public / "areas"
    assert sorted(p.name for p in areas.iterdir() if p.is_dir()) == ["seoul"]
    assert "flood-update" in (areas / "seoul/index.html").read_text()
