"""Updates, cancels, tests, exercises and drafts, as citizens and CAP receivers see them."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from cap_checks import cap_text, check_atom, validate_cap

from sitegen.build import build_bundle
from sitegen.bundle import Bundle
from sitegen_fixtures import NOW, TmpSite, alert_text

INSTANTS = [
    "2026-08-04T00:00:00+09:00",
    "2026-09-12T21:00:00+09:00",
    "2026-11-24T07:00:00+09:00",
    "2026-11-24T10:00:00+09:00",
    "2026-11-24T13:00:00+09:00",
    NOW.isoformat(),
    "2027-11-27T00:00:00+09:00",
    "2028-01-01T00:00:00+09:00",
]


def build(site: TmpSite, now: datetime = NOW) -> Bundle:
    return build_bundle(site.config, now)[0]


def page(bundle: Bundle, path: str) -> str:
    return bundle[path].data.decode()


def listed(html: str) -> list[str]:
    """Alert ids linked from the main list(s) of a page, in order."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.findall(r'href="/alerts/([^/"]+)/', main)


def active_list(html: str) -> list[str]:
    """Ids in the home page's active list (before the exercises section)."""
    main = html[html.index("<main") : html.index("</main>")]
    return listed(main.split("<h2", 1)[0] + "</main>")


def test_an_update_replaces_the_alert_on_home_and_area_pages(tmp_site: TmpSite) -> None:
    tmp_site.add("first.md", alert_text(title="Rising river"))
    tmp_site.add(
        "second.md",
        alert_text(
            title="River at danger level",
            msg_type="Update",
            references="[first]",
            sent="2026-11-25T09:00:00+09:00",
        ),
    )
    bundle = build(tmp_site)
    for path in ("index.html", "areas/kr-11/index.html", "ko/index.html"):
        assert listed(page(bundle, path)) == ["second"], path
    first = page(bundle, "alerts/first/index.html")
    assert "This alert has been updated." in first and 'href="/alerts/second/"' in first
    second = page(bundle, "alerts/second/index.html")
    history = second[second.index("History of this alert") :]
    assert history.index("Rising river") < history.index("River at danger level")
    assert 'datetime="2026-11-25T07:00:00+09:00"' in history  # when each message was sent
    assert 'datetime="2026-11-25T09:00:00+09:00"' in history
    # before the update is sent, the original is still the one in force
    early = build(tmp_site, datetime.fromisoformat("2026-11-25T08:00:00+09:00"))
    assert listed(page(early, "index.html")) == ["first"]


def test_a_cancel_moves_the_alert_to_the_archive_with_a_banner(tmp_site: TmpSite) -> None:
    tmp_site.add("warn.md", alert_text(title="Storm warning"))
    tmp_site.add(
        "stop.md",
        alert_text(
            title="Storm warning cancelled",
            msg_type="Cancel",
            references="[warn]",
            sent="2026-11-25T10:00:00+09:00",
        ),
    )
    bundle = build(tmp_site)
    home = page(bundle, "index.html")
    assert active_list(home) == []
    assert "No alerts are in force right now." in home
    # the Cancel, until it expires, under its own heading (not as an alert in force)
    assert listed(home) == ["stop"]
    assert home.index("Recently cancelled") < home.index('href="/alerts/stop/"')
    assert set(listed(page(bundle, "archive/index.html"))) == {"warn", "stop"}
    for alert_id in ("warn", "stop"):
        html = page(bundle, f"alerts/{alert_id}/index.html")
        assert (
            '<p class="banner" role="status">Cancelled: this alert is no longer in force.' in html
        )
    cap = validate_cap(bundle["alerts/stop/cap.xml"].data)
    assert cap_text(cap, "msgType") == ["Cancel"]
    entries = check_atom(bundle["cap.atom"].data)
    assert [e.link("application/cap+xml").split("/")[-2] for e in entries] == ["stop"]


@pytest.mark.parametrize("status", ["Test", "Exercise"])
@pytest.mark.parametrize("show_tests", [False, True])
def test_tests_and_exercises_are_published_marked_and_off_the_home_list(
    tmp_site: TmpSite, status: str, show_tests: bool
) -> None:
    if show_tests:
        toml = tmp_site.root / "site.toml"
        toml.write_text(toml.read_text() + "show_tests_on_home = true\n")
    tmp_site.add("drill.md", alert_text(title="Siren test", status=status))
    tmp_site.add("real.md", alert_text(title="Real flood", severity="Minor"))
    bundle = build(tmp_site)
    home = page(bundle, "index.html")
    expected = ["drill", "real"] if show_tests else ["real"]  # Severe before Minor
    assert active_list(home) == expected
    if not show_tests:
        assert "drill" in listed(home)  # under "Exercises and tests", not as an alert in force
    drill = page(bundle, "alerts/drill/index.html")
    assert f"{status}: this is not a real emergency." in drill
    assert cap_text(validate_cap(bundle["alerts/drill/cap.xml"].data), "status") == [status]
    feed = bundle["feed.atom"].data.decode()
    assert f"<title>{status} · Severe: Siren test</title>" in feed


def test_a_draft_is_never_published_anywhere(tmp_site: TmpSite) -> None:
    tmp_site.add("draft.md", alert_text(title="Unreviewed text", status="Draft"))
    tmp_site.add("real.md", alert_text(title="Real flood"))
    bundle = build(tmp_site)
    assert not [p for p in bundle if "draft" in p]
    for path, file in bundle.items():
        assert b"Unreviewed text" not in file.data, path
        assert b"/alerts/draft/" not in file.data, path


def test_page_cap_and_feeds_always_agree(example_site: TmpSite) -> None:
    """At every instant where the example site changes, the three views tell one story."""
    for instant in INSTANTS:
        bundle = build(example_site, datetime.fromisoformat(instant))
        cap_index = [
            e.link("application/cap+xml").split("/")[-2]
            for e in check_atom(bundle["cap.atom"].data)
        ]
        feed = [
            e.link("application/cap+xml").split("/")[-2]
            for e in check_atom(bundle["feed.atom"].data)
        ]
        assert set(cap_index) <= set(feed), instant
        home = active_list(page(bundle, "index.html"))
        assert set(home) <= set(cap_index), instant  # what citizens see as in force is in CAP
        for alert_id in cap_index:
            html = page(bundle, f"alerts/{alert_id}/index.html")
            assert "Expired: this alert" not in html and "has been updated" not in html
        for alert_id in {p.split("/")[1] for p in bundle if p.endswith("/cap.xml")}:
            _agree(bundle, alert_id, alert_id in cap_index, instant)


def _agree(bundle: Bundle, alert_id: str, indexed: bool, instant: str) -> None:
    html = page(bundle, f"alerts/{alert_id}/index.html")
    root = validate_cap(bundle[f"alerts/{alert_id}/cap.xml"].data)
    title = re.search(r"<h1>(.*?)</h1>", html)
    assert title is not None
    assert cap_text(root, "info/headline")[0] == title.group(1).replace("&#39;", "'")
    expires = cap_text(root, "info/expires")[0]
    # a Cancel's page gives no expiry: its expires is how long receivers keep the Cancel
    cancel = cap_text(root, "msgType")[0] == "Cancel"
    assert cancel or f'datetime="{expires}"' in html, (alert_id, instant)
    status = cap_text(root, "status")[0]
    assert (status != "Actual") == ("this is not a real emergency" in html)
    english = f"alerts/{alert_id}/en/index.html"  # banners are compared in English
    html = page(bundle, english) if english in bundle else html
    ended = any(
        banner in html
        for banner in ("Expired: this alert", "Cancelled: this alert", "has been updated")
    )
    if indexed:
        assert not ended or cap_text(root, "msgType") == ["Cancel"], (alert_id, instant)
    elif not ended:
        assert "Not yet in force." in html or datetime.fromisoformat(
            cap_text(root, "sent")[0]
        ) > datetime.fromisoformat(instant), (alert_id, instant)


@pytest.mark.parametrize("show_tests", [False, True])
def test_home_max_alerts_bounds_the_exercises_too(tmp_site: TmpSite, show_tests: bool) -> None:
    """Kept apart from the alerts in force (docs/cap.md), exercises and tests are listed under
    "Exercises and tests", most severe first, at most `home_max_alerts` of them; with
    show_tests_on_home they share the main list and its bound."""
    toml = tmp_site.root / "site.toml"
    extra = "home_max_alerts = 2\n" + ("show_tests_on_home = true\n" if show_tests else "")
    toml.write_text(toml.read_text() + extra)
    for n, severity in enumerate(["Minor", "Extreme", "Moderate"]):
        tmp_site.add(
            f"drill{n}.md", alert_text(title=f"Drill {n}", status="Exercise", severity=severity)
        )
    tmp_site.add("real.md", alert_text(title="Real flood", severity="Severe"))
    home = page(build(tmp_site), "index.html")
    if show_tests:
        assert active_list(home) == ["drill1", "real"]
        assert "Exercises and tests" not in home
        return
    assert active_list(home) == ["real"]
    exercises = home[home.index("Exercises and tests") :]
    assert listed("<main>" + exercises) == ["drill1", "drill2"]
    assert "Only the most severe exercises and tests are listed here." in exercises
