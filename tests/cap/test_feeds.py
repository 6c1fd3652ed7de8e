"""The CAP index and the page feed: valid Atom, current alerts only, under 900 KB."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import defusedxml.ElementTree as SafeET
import test_alert_chain as chain
from cap_checks import ATOM, check_atom
from click.testing import CliRunner

from sitegen.build import build_bundle
from sitegen.cap import FEED_LIMIT_BYTES, fit_feed
from sitegen.cli import cli
from sitegen_fixtures import NOW, TmpSite, add_long_alerts, alert_text, run_sitegen

BASE = "https://alerts.example.gov/alerts/"


def feeds(site: TmpSite, now: datetime) -> dict[str, list[str]]:
    """Alert ids each feed lists (from the entries' page links), after RFC 4287 checks."""
    bundle, _, _ = build_bundle(site.config, now)
    result = {}
    for name in ("cap.atom", "feed.atom"):
        entries = check_atom(bundle[name].data)
        result[name] = [e.link("application/cap+xml").split("/")[-2] for e in entries]
        for entry in entries:
            cap_path = entry.link("application/cap+xml").split("/", 3)[3]
            page_path = entry.link("text/html").split("/", 3)[3] + "index.html"
            assert cap_path in bundle and page_path in bundle  # links never dangle
    return result


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_cap_index_follows_the_tsunami_chain(example_site: TmpSite) -> None:
    chain = "2026-11-24-east-coast-tsunami-"
    timeline = {
        "2026-11-24T07:00:00+09:00": [chain + "warning"],
        "2026-11-24T10:00:00+09:00": [chain + "update"],  # the update replaced the warning
        "2026-11-24T13:00:00+09:00": [chain + "cancel"],  # receivers must learn of the cancel
        "2026-11-24T18:00:00+09:00": [],  # the cancel expired: the chain left the index
    }
    for instant, expected in timeline.items():
        listed = feeds(example_site, at(instant))
        assert [i for i in listed["cap.atom"] if i.startswith(chain)] == expected, instant
        assert set(listed["cap.atom"]) <= set(listed["feed.atom"]), instant


def test_expired_alerts_leave_the_cap_index_but_stay_on_the_page_feed(tmp_site: TmpSite) -> None:
    tmp_site.add("short.md", alert_text(title="Short one", expires="2026-11-25T13:00:00+09:00"))
    tmp_site.add("long.md", alert_text(title="Long one"))
    assert feeds(tmp_site, NOW)["cap.atom"] == ["long", "short"]
    later = feeds(tmp_site, at("2026-11-25T13:00:00+09:00"))
    assert later["cap.atom"] == ["long"]
    assert later["feed.atom"] == ["long", "short"]  # current first, then the past one
    bundle, _, _ = build_bundle(tmp_site.config, at("2026-11-25T13:00:00+09:00"))
    assert b"<title>Expired \xc2\xb7 Severe: Short one</title>" in bundle["feed.atom"].data
    assert b"/archive/" in bundle["cap.atom"].data  # the index points to the archive


def test_upcoming_messages_enter_the_index_when_sent(tmp_site: TmpSite) -> None:
    tmp_site.add("later.md", alert_text(sent="2026-11-25T15:00:00+09:00"))
    assert feeds(tmp_site, NOW)["cap.atom"] == []
    assert feeds(tmp_site, at("2026-11-25T15:00:00+09:00"))["cap.atom"] == ["later"]


def test_feeds_stay_under_900_kb_by_keeping_the_newest(tmp_site: TmpSite) -> None:
    count = 420
    add_long_alerts(tmp_site, count)
    bundle, _, _ = build_bundle(tmp_site.config, NOW)
    for name in ("cap.atom", "feed.atom"):
        data = bundle[name].data
        assert 800_000 < len(data) <= FEED_LIMIT_BYTES, (name, len(data))
        ids = [e.link("application/cap+xml").split("/")[-2] for e in check_atom(data)]
        assert 300 < len(ids) < count
        assert ids == [f"a{n:03}" for n in range(count - 1, count - 1 - len(ids), -1)]


def test_build_and_check_warn_when_a_feed_leaves_out_alerts_in_force(tmp_site: TmpSite) -> None:
    """Past 900 KB a feed drops its oldest entries. When those were alerts in force, the
    aggregators that poll cap.atom missed live alerts and nobody was told: every build
    (changed or not) and `check` now say which feed and how many, and what to do. So for
    each language's page feed (ko/feed.atom lists the same alerts)."""
    count = 420
    add_long_alerts(tmp_site, count)
    site = str(tmp_site.root / "site.toml")

    def run(*args: str, now: datetime = NOW) -> str:
        result = CliRunner().invoke(cli, [*args, "--site", site, "--now", now.isoformat()])
        assert result.exit_code == 0, result.output
        return result.stderr

    said = run("build")
    expected = []
    for name in ("cap.atom", "feed.atom", "ko/feed.atom"):
        kept = len(check_atom((tmp_site.public / name).read_bytes()))
        assert 300 < kept < count
        expected.append(
            f"{name}: warning: {count - kept} alerts in force were left out of this feed"
        )
        assert expected[-1] in said, said
    assert "cancel the alerts that are over" in said
    assert all(line in run("build") for line in expected)  # nothing changed: still said
    (tmp_site.root / "content" / "pages").mkdir()
    (tmp_site.root / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nUs.\n")
    assert all(line in run("build") for line in expected)  # the feeds were not rendered again
    assert all(line in run("check") for line in expected)
    # once they have expired, dropping the oldest of them is what the page feed is meant to do
    assert "left out" not in run("build", now=at("2026-11-26T08:00:00+09:00"))


def test_fit_feed_keeps_the_longest_prefix_that_fits() -> None:
    sizes = [100, 5, 300, 7, 7, 7, 50]
    renders: list[int] = []

    def render(entries: list[int]) -> bytes:  # type: ignore[type-arg]
        renders.append(len(entries))
        return b"h" * 20 + b"".join(b"x" * s for s in entries)

    for limit in range(20, 520):
        data = fit_feed(sizes, render, limit)
        kept = next(k for k in range(len(sizes), -1, -1) if 20 + sum(sizes[:k]) <= limit)
        assert len(data) == 20 + sum(sizes[:kept]), limit
    assert fit_feed(sizes, render, 10_000) == render(sizes)


def test_a_message_not_sent_yet_is_published_nowhere(example_site: TmpSite) -> None:
    """At 07:00 the tsunami Update (08:40) and Cancel (12:15) are not issued yet: no feed,
    listing, sitemap, page or CAP file may show them, not even their ids; at their `sent`
    they appear. Every feed's <updated> is then at least each of its entries'."""
    later = {"2026-11-24-east-coast-tsunami-update", "2026-11-24-east-coast-tsunami-cancel"}
    bundle, manifest, _ = build_bundle(example_site.config, at("2026-11-24T07:00:00+09:00"))
    for path, file in {**bundle}.items():
        for alert_id in later:
            assert alert_id not in path
            assert alert_id.encode() not in file.data, (path, alert_id)
    for alert_id in later:
        assert alert_id.encode() not in manifest
    for name in ("feed.atom", "cap.atom"):
        data = bundle[name].data.decode()
        feed_updated = at(data.split("<updated>", 1)[1].split("<", 1)[0])
        for entry in data.split("<entry>")[1:]:
            entry_updated = at(entry.split("<updated>", 1)[1].split("<", 1)[0])
            assert entry_updated <= feed_updated, name
    sent = feeds(example_site, at("2026-11-24T12:15:00+09:00"))
    assert later <= set(sent["feed.atom"])


def entry_updated(data: bytes, alert_id: str) -> str:
    """The <updated> of the page feed's entry for `alert_id`."""
    entry = next(e for e in check_atom(data) if e.id.endswith(f"/alerts/{alert_id}/"))
    return entry.updated


def test_an_entry_is_updated_when_it_last_changed(tmp_site: TmpSite) -> None:
    """RFC 4287 4.2.15: an entry retitled "Expired · …" or "Superseded · …" was updated
    then (its expiry, the update's `sent`), not at its own `sent`; the alert page's "Last
    updated" is the same instant."""
    tmp_site.add("short.md", alert_text(expires="2026-11-25T10:00:00+09:00"))
    tmp_site.add("first.md", alert_text(title="Rising river"))
    tmp_site.add(
        "second.md",
        alert_text(msg_type="Update", references="[first]", sent="2026-11-25T09:00:00+09:00"),
    )
    bundle, _, _ = build_bundle(tmp_site.config, NOW)
    feed = bundle["feed.atom"].data
    assert b"<title>Expired \xc2\xb7 Severe: Flood watch</title>" in feed
    assert entry_updated(feed, "short") == "2026-11-25T10:00:00+09:00"
    assert b"<title>Superseded \xc2\xb7 Severe: Rising river</title>" in feed
    assert entry_updated(feed, "first") == "2026-11-25T09:00:00+09:00"
    assert entry_updated(feed, "second") == "2026-11-25T09:00:00+09:00"
    assert b"<published>2026-11-25T07:00:00+09:00</published>" in feed  # when it was sent
    for alert_id, changed in (("short", "10:00"), ("first", "09:00")):
        html = bundle[f"alerts/{alert_id}/index.html"].data.decode()
        footer = html[html.index("<footer>") :]
        assert f'Last updated: <time datetime="2026-11-25T{changed}:00+09:00">' in footer
    # before the update and the expiry, each entry is as sent
    early = build_bundle(tmp_site.config, at("2026-11-25T08:00:00+09:00"))[0]
    assert entry_updated(early["feed.atom"].data, "first") == "2026-11-25T07:00:00+09:00"
    assert entry_updated(early["feed.atom"].data, "short") == "2026-11-25T07:00:00+09:00"


def test_an_entry_is_updated_when_it_takes_effect(tmp_site: TmpSite) -> None:
    """Its phase ("upcoming" → "active") is part of the entry."""
    tmp_site.add(
        "later.md",
        alert_text().replace("expires:", "effective: 2026-11-25T11:00:00+09:00\nexpires:"),
    )
    feed = build_bundle(tmp_site.config, NOW)[0]["feed.atom"].data
    assert entry_updated(feed, "later") == "2026-11-25T11:00:00+09:00"
    early = build_bundle(tmp_site.config, at("2026-11-25T10:00:00+09:00"))[0]["feed.atom"].data
    assert entry_updated(early, "later") == "2026-11-25T07:00:00+09:00"
    assert b'<category term="upcoming" label="phase"/>' in early


def test_an_alert_whose_chain_was_cancelled_says_cancelled_everywhere(tmp_site: TmpSite) -> None:
    """An alert updated, then cancelled: its page's banner said "Cancelled" while its feed
    entry, og:title and the archive said "Superseded". Citizens read one word: "Cancelled"
    (the feed's phase category stays "superseded", for machines)."""
    tmp_site.add("first.md", alert_text(title="Rising river"))
    tmp_site.add(
        "second.md",
        alert_text(
            title="River still rising",
            msg_type="Update",
            references="[first]",
            sent="2026-11-25T08:00:00+09:00",
        ),
    )
    tmp_site.add(
        "third.md",
        alert_text(msg_type="Cancel", references="[second]", sent="2026-11-25T09:00:00+09:00"),
    )
    bundle, _, _ = build_bundle(tmp_site.config, NOW)
    feed = bundle["feed.atom"].data.decode()
    archive = bundle["archive/index.html"].data.decode()
    for alert_id, title in (("first", "Rising river"), ("second", "River still rising")):
        assert f"<title>Cancelled · Severe: {title}</title>" in feed
        page = bundle[f"alerts/{alert_id}/index.html"].data.decode()
        assert f'<meta property="og:title" content="Cancelled · Severe: {title}">' in page
        assert f"<title>Cancelled · Severe: {title} · " in page
        assert "Cancelled: this alert is no longer in force." in page  # the banner, as before
        listed = archive.split(f'href="/alerts/{alert_id}/"')[1].split("</li>")[0]
        assert "<strong>Cancelled</strong>" in listed
    assert "Superseded" not in feed + archive
    assert feed.count('<category term="superseded" label="phase"/>') == 2


def test_each_language_feed_has_its_own_description(example_site: TmpSite) -> None:
    """`descriptions = { ko = ... }` is the Korean feed's subtitle. There was one description,
    in the default language, so a Korean feed reader showed English under the Korean title."""
    toml = example_site.root / "site.toml"
    lines = toml.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("descriptions =")]
    kept.insert(kept.index("[site]\n") + 1, 'descriptions = { ko = "공식 재난 경보" }\n')
    toml.write_text("".join(kept), encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "-q", "--site", str(toml), "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    korean = (example_site.public / "ko/feed.atom").read_text(encoding="utf-8")
    english = (example_site.public / "feed.atom").read_text(encoding="utf-8")
    assert "<subtitle>공식 재난 경보</subtitle>" in korean  # in the feed's language, ko
    assert "<subtitle>Official public emergency alerts:" in english
    check_atom(korean.encode())


def test_an_update_entry_names_and_links_the_message_it_updates(tmp_path: Path) -> None:
    """An Update's Atom entry stood alone in a feed reader: nothing said it updates an earlier
    alert, or linked it (fourth walkthrough). Each Update's entry links the message it
    updates (rel="related") and its summary names it, in every feed's language."""
    root = tmp_path / "site"
    assert run_sitegen("init", str(root), cwd=tmp_path).returncode == 0
    toml = root / "site.toml"
    toml.write_text(toml.read_text("utf-8").replace('["en"]', '["en", "ko"]'), "utf-8")
    first = chain.new(root, "Flood warning for Mapo", "--area", "Mapo", words="The river rises.")
    update = chain.new(root, "--update", chain.alert_id(first), words="It rose by one metre.")
    again = chain.new(root, "--update", chain.alert_id(update), words="It is falling.")
    built = run_sitegen("build", "--now", chain.soon(), cwd=root)
    assert built.returncode == 0, built.stderr
    page = "https://alerts.example.org/alerts/{}/".format
    said = {
        "feed.atom": "Updates “{}”, sent ",
        "ko/feed.atom": "에 발송된 “{}”의 갱신입니다.",
    }
    for name, sentence in said.items():
        data = (root / "public" / name).read_bytes()
        check_atom(data)  # RFC 4287
        related, summaries = {}, {}
        for entry in SafeET.fromstring(data).iter(ATOM + "entry"):
            key = entry.findtext(ATOM + "id") or ""
            links = entry.findall(ATOM + "link")
            related[key] = [x.get("href") for x in links if x.get("rel") == "related"]
            summaries[key] = entry.findtext(ATOM + "summary") or ""
        ids = [chain.alert_id(p) for p in (first, update, again)]
        assert related[page(ids[0])] == [], name  # the alert itself updates nothing
        for newer, older, title in (
            (1, 0, "Flood warning for Mapo"),
            (2, 1, "Flood warning for Mapo (update)"),
        ):
            assert related[page(ids[newer])] == [page(ids[older])], name
            assert sentence.format(title) in summaries[page(ids[newer])], (name, summaries)
