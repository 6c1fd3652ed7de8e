"""The incremental rebuild gives the same bundle as a full build, re-rendering only what changed."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from sitegen import render
from sitegen.build import build_bundle
from sitegen.bundle import Bundle
from sitegen.rebuild import Rebuilder
from sitegen_fixtures import NOW, TmpSite, alert_text

FLOOD = "content/alerts/2026-11-25-han-river-flood-watch.md"


def full(site: TmpSite) -> Bundle:
    bundle, _, _ = build_bundle(site.config, NOW)
    return bundle


def assert_same(rebuilder: Rebuilder, site: TmpSite) -> None:
    expected = full(site)
    assert sorted(rebuilder.bundle) == sorted(expected)
    different = [p for p in expected if rebuilder.bundle[p] != expected[p]]
    assert different == []


@pytest.fixture
def rebuilder(example_site: TmpSite) -> Rebuilder:
    r = Rebuilder(example_site.root / "site.toml", NOW)
    assert r.rebuild().ok
    return r


def test_first_build_equals_a_full_build_and_a_second_does_nothing(
    rebuilder: Rebuilder, example_site: TmpSite
) -> None:
    assert_same(rebuilder, example_site)
    again = rebuilder.rebuild()
    assert again.ok and again.rendered == 0 and again.changed == ()
    assert rebuilder.sources is not None and rebuilder.sources.reads == 0


def test_editing_a_body_reads_one_file_and_renders_only_what_shows_it(
    rebuilder: Rebuilder, example_site: TmpSite
) -> None:
    path = example_site.root / FLOOD
    path.write_text(path.read_text().replace("raising the Han River", "raising the river fast"))
    outcome = rebuilder.rebuild([path])
    assert outcome.ok
    assert rebuilder.sources is not None and rebuilder.sources.reads == 1
    page = "alerts/2026-11-25-han-river-flood-watch/"
    assert outcome.changed == (page + "cap.xml", page + "index.html")
    # Re-rendered: those two, the pages listing the alert (home and its 2 areas, in 2
    # languages) and the site-wide feeds (cap.atom, feed.atom, ko/feed.atom), sitemap,
    # robots.txt; not the other alerts' pages.
    assert outcome.rendered == 2 + 6 + 5
    assert len(rebuilder.bundle) > 40
    assert_same(rebuilder, example_site)


def test_editing_a_title_rerenders_the_listings_that_show_it(
    rebuilder: Rebuilder, example_site: TmpSite
) -> None:
    path = example_site.root / FLOOD
    path.write_text(path.read_text().replace("Flood watch for the Han River", "Han River flood"))
    outcome = rebuilder.rebuild([path])
    assert {"index.html", "ko/index.html", "areas/kr-11/index.html", "feed.atom"} <= set(
        outcome.changed
    )
    assert "alerts/2026-11-22-busan-air-quality/index.html" not in outcome.changed
    assert_same(rebuilder, example_site)


def test_an_update_supersedes_the_alert_it_references(
    rebuilder: Rebuilder, example_site: TmpSite
) -> None:
    flood_id = "2026-11-25-han-river-flood-watch"
    example_site.add(
        "2026-11-25-han-river-update.md",
        alert_text(
            title="Han River flood warning",
            msg_type="Update",
            references=f"[{flood_id}]",
            sent="2026-11-25T10:00:00+09:00",
        ),
    )
    outcome = rebuilder.rebuild()
    assert outcome.ok
    assert f"alerts/{flood_id}/index.html" in outcome.changed  # now says "updated"
    assert "alerts/2026-11-25-han-river-update/index.html" in outcome.changed
    assert_same(rebuilder, example_site)


def test_a_cancel_in_force_follows_its_edits_on_the_home_and_area_pages(
    rebuilder: Rebuilder, example_site: TmpSite
) -> None:
    """The home and area pages name a Cancel in force (fourth walkthrough): the preview
    re-renders them when it is written and when its title is edited, as a full build."""
    flood_id = "2026-11-25-han-river-flood-watch"
    cancel = example_site.add(
        "2026-11-25-han-river-cancel.md",
        alert_text(
            title="Han River flood watch cancelled",
            msg_type="Cancel",
            references=f"[{flood_id}]",
            sent="2026-11-25T10:00:00+09:00",
        ),
    )
    assert rebuilder.rebuild().ok
    assert "Han River flood watch cancelled" in rebuilder.bundle["index.html"].data.decode()
    assert_same(rebuilder, example_site)
    cancel.write_text(cancel.read_text().replace("watch cancelled", "watch called off"))
    outcome = rebuilder.rebuild([cancel])
    assert {"index.html", "ko/index.html", "areas/kr-11/index.html"} <= set(outcome.changed)
    assert_same(rebuilder, example_site)


def test_template_edits_rerender_only_pages_using_the_template(
    rebuilder: Rebuilder, example_site: TmpSite
) -> None:
    template = example_site.root / "templates" / "area.html"
    template.write_text(
        template.read_text().replace("{% block main %}", "{% block main %}<!--x-->")
    )
    outcome = rebuilder.rebuild([template])
    assert outcome.ok and outcome.changed
    assert all(p.startswith(("areas/", "ko/areas/")) for p in outcome.changed), outcome.changed
    base = example_site.root / "templates" / "base.html"
    base.write_text(base.read_text().replace("<body>", "<body><!--y-->"))
    outcome = rebuilder.rebuild([base])
    assert "alerts/2026-11-22-busan-air-quality/index.html" in outcome.changed
    assert "feed.atom" not in outcome.changed and "robots.txt" not in outcome.changed
    assert_same(rebuilder, example_site)


def test_deleting_and_renaming_files_and_folders(
    rebuilder: Rebuilder, example_site: TmpSite
) -> None:
    alerts = example_site.root / "content" / "alerts"
    (alerts / "2026-11-22-busan-air-quality.md").unlink()
    outcome = rebuilder.rebuild()
    assert outcome.ok
    assert "alerts/2026-11-22-busan-air-quality/index.html" not in rebuilder.bundle
    assert_same(rebuilder, example_site)
    (alerts / "old").mkdir()
    shutil.move(alerts / "2026-11-23-gangwon-heavy-snow.md", alerts / "old")
    (alerts / "old").rename(alerts / "older")
    assert rebuilder.rebuild().ok
    assert_same(rebuilder, example_site)


def test_the_sitemap_crossing_its_limit_follows(
    rebuilder: Rebuilder, example_site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SITEMAP_MAX_URLS the sitemap becomes an index of parts, and one file again under
    it: the preview follows, parts appearing and going, as a full build."""
    count = rebuilder.bundle["sitemap.xml"].data.count(b"<url>")
    monkeypatch.setattr(render, "SITEMAP_MAX_URLS", count)
    added = example_site.add("2026-11-25-extra.md", alert_text(title="One more"))
    outcome = rebuilder.rebuild([added])
    assert outcome.ok and {"sitemaps/1.xml", "sitemaps/2.xml"} <= set(outcome.changed)
    assert b"<sitemapindex" in rebuilder.bundle["sitemap.xml"].data
    assert_same(rebuilder, example_site)
    added.unlink()
    outcome = rebuilder.rebuild([added])
    assert outcome.ok and {"sitemaps/1.xml", "sitemaps/2.xml"} <= set(outcome.changed)
    assert not [p for p in rebuilder.bundle if p.startswith("sitemaps/")]
    assert_same(rebuilder, example_site)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (b"---\ntitle: x\nseverity: [\n---\nbody\n", 4, "the fields cannot be read from here"),
        (b"---\ntitle: half-writ", 1, "never closed"),
        (b"", 1, "empty"),
    ],
)
def test_bad_content_keeps_the_last_good_bundle_and_names_file_and_line(
    rebuilder: Rebuilder, example_site: TmpSite, text: bytes, line: int, words: str
) -> None:
    before = dict(rebuilder.bundle)
    path = example_site.add("broken.md", text)
    outcome = rebuilder.rebuild([path])
    assert not outcome.ok
    assert rebuilder.bundle == before
    problem = next(p for p in outcome.errors if p.path == "content/alerts/broken.md")
    assert (problem.line, words in problem.message) == (line, True), problem
    path.unlink()
    assert rebuilder.rebuild([path]).ok
    assert_same(rebuilder, example_site)


def test_template_errors_name_the_template_and_line(
    rebuilder: Rebuilder, example_site: TmpSite
) -> None:
    alert = example_site.root / "templates" / "alert.html"
    good = alert.read_text()
    lines = good.split("\n")
    main = next(i for i, line in enumerate(lines) if "{% block main %}" in line)
    lines.insert(main + 1, "{{ alert.no_such_field.upper() }}")
    alert.write_text("\n".join(lines))
    outcome = rebuilder.rebuild([alert])
    assert not outcome.ok
    assert [(p.path, p.line) for p in outcome.errors] == [("templates/alert.html", main + 2)]
    assert "no_such_field" in outcome.errors[0].message
    alert.write_text(good.replace("{% block main %}", "{% block main %}{% if %}"))
    outcome = rebuilder.rebuild([alert])
    assert [str(p).split(": ")[0] for p in outcome.errors] == [f"templates/alert.html:{main + 1}"]
    alert.write_text(good)
    assert rebuilder.rebuild([alert]).ok
    assert_same(rebuilder, example_site)


def test_a_broken_site_toml_is_reported_then_recovered(
    rebuilder: Rebuilder, example_site: TmpSite
) -> None:
    toml = example_site.root / "site.toml"
    good = toml.read_text()
    toml.write_text(good.replace("[site]", "[site\n"))
    outcome = rebuilder.rebuild([toml])
    assert not outcome.ok and outcome.errors[0].path.endswith("site.toml")
    assert rebuilder.bundle  # still the last good build
    toml.write_text(good.replace("National Emergency Alerts", "National Alerts"))
    assert rebuilder.rebuild([toml]).ok
    assert_same(rebuilder, example_site)


def test_a_file_deleted_between_listing_and_reading_is_not_fatal(
    rebuilder: Rebuilder, example_site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = example_site.root / "content" / "alerts" / "ghost.md"
    outcome = rebuilder.rebuild([gone])  # an event for a file that no longer exists
    assert outcome.ok
    assert isinstance(Path(gone), Path)


def test_paginated_archive_and_area_pages_follow_edits(tmp_site: TmpSite) -> None:
    """More than one page of archive and area: every page is built, and adding one alert
    (which shifts every page and the page count) re-renders them like a full build."""
    for n in range(52):
        tmp_site.add(
            f"old-{n:02d}.md",
            alert_text(title=f"Old {n}", expires=f"2026-11-25T0{8 + n % 2}:00:00+09:00"),
        )
        tmp_site.add(f"now-{n:02d}.md", alert_text(title=f"Now {n}"))
    rebuilder = Rebuilder(tmp_site.root / "site.toml", NOW)
    assert rebuilder.rebuild().ok
    assert "archive/page/2/index.html" in rebuilder.bundle
    assert "areas/kr-11/page/2/index.html" in rebuilder.bundle
    assert_same(rebuilder, tmp_site)
    added = tmp_site.add("now-99.md", alert_text(title="Newest", severity="Extreme"))
    assert rebuilder.rebuild([added]).ok
    assert_same(rebuilder, tmp_site)


def test_a_page_from_sitegen_s_theme_follows_the_site_s_base_html(example_site: TmpSite) -> None:
    """areas.html missing from templates/ comes from sitegen's theme; it extends the site's
    base.html, so editing base.html must re-render it too (its closure spans both folders)."""
    (example_site.root / "templates" / "areas.html").unlink()
    rebuilder = Rebuilder(example_site.root / "site.toml", NOW)
    assert rebuilder.rebuild().ok
    base = example_site.root / "templates" / "base.html"
    base.write_text(base.read_text().replace("<main", "<!-- edited --><main", 1))
    assert rebuilder.rebuild([base]).ok
    assert b"<!-- edited -->" in rebuilder.bundle["areas/index.html"].data
    assert_same(rebuilder, example_site)


def test_a_now_without_offset_follows_the_timezone_site_toml_names(tmp_site: TmpSite) -> None:
    """`sitegen serve --now 2026-11-26T06:30` is the site's local time; when site.toml's
    timezone is changed while serve runs, the next rebuild reads it in the new zone (it was
    read once, at start-up), and a time the new zone skips is a problem on site.toml."""
    toml = tmp_site.root / "site.toml"
    plain = toml.read_text()
    toml.write_text(plain.replace("[site]\n", '[site]\ntimezone = "Asia/Seoul"\n'))
    tmp_site.add("flood.md", alert_text())  # in force 2026-11-25T07:00 to 11-26T07:00 +09:00
    rebuilder = Rebuilder(toml, datetime(2026, 11, 26, 6, 30))
    assert rebuilder.rebuild().ok
    assert b"/alerts/flood/" in rebuilder.bundle["index.html"].data  # 06:30 in Seoul: in force
    toml.write_text(plain.replace("[site]\n", '[site]\ntimezone = "Europe/Paris"\n'))
    assert rebuilder.rebuild([toml]).ok
    assert b"/alerts/flood/" not in rebuilder.bundle["index.html"].data  # 14:30 in Seoul
    skipped = Rebuilder(toml, datetime(2026, 3, 29, 2, 30))  # Paris skips 02:00-03:00
    outcome = skipped.rebuild()
    assert not outcome.ok
    [problem] = outcome.problems
    assert problem.path == str(toml) and "never happens in Europe/Paris" in problem.message
