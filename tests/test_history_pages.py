"""Issue 7: no alert page grows with its update chain. A page lists at most
render.HISTORY_SHOWN messages of its chain; a longer chain has a full history at
/alerts/<first>/history/, LIST_PAGE_SIZE messages a page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import brotli
import pytest

from sitegen.build import PAGE_BUDGET_BYTES, build_bundle
from sitegen.bundle import MANIFEST_PATH
from sitegen.rebuild import Rebuilder
from sitegen.render import LIST_PAGE_SIZE
from sitegen_fixtures import NOW, TmpSite, alert_text, run_sitegen

HISTORY_SHOWN = 12  # render.HISTORY_SHOWN: the most an alert page lists (docs/content.md)
LISTED = re.compile(r'<li(?: value="\d+")?>(?:<a href="/alerts/(\w+)/"|<strong aria-current)')


def chain(site: TmpSite, count: int, first: int = 0) -> None:
    """Messages first..count-1 of a chain sent an hour apart up to NOW, each updating the last."""
    for i in range(first, count):
        sent = NOW - timedelta(hours=count - i)
        site.add(
            f"m{i:04d}.md",
            alert_text(
                title=f"Hurricane watch, message {i + 1}",
                msg_type="Alert" if i == 0 else "Update",
                sent=sent.isoformat(),
                expires=(NOW + timedelta(days=1)).isoformat(),
                references="[]" if i == 0 else f"[m{i - 1:04d}]",
            ),
        )


def build(site: TmpSite) -> None:
    done = run_sitegen("build", "--site", "site.toml", "--now", NOW.isoformat(), cwd=site.root)
    assert done.returncode == 0, done.stderr


def history_of(page: str) -> str:
    found = re.search(r'<ol class="history"[^>]*>(.*?)</ol>', page, re.S)
    return found[1] if found else ""


def test_a_300_message_chain_keeps_every_page_small_and_lists_it_all_once(
    tmp_path: Path,
) -> None:
    site = TmpSite(tmp_path)
    chain(site, 300)
    build(site)
    alerts = site.public / "alerts"
    for i in range(300):
        page = (alerts / f"m{i:04d}" / "index.html").read_text("utf-8")
        listed = LISTED.findall(history_of(page))
        assert 1 < len(listed) <= HISTORY_SHOWN, i
        assert '<a href="/alerts/m0000/history/">Full history: all 300 messages' in page
        assert listed[-1] == ("" if i == 299 else "m0299")  # the latest is always there
    for path in site.public.rglob("*.html"):
        assert len(brotli.compress(path.read_bytes(), quality=11)) <= PAGE_BUDGET_BYTES, path
    pages = [alerts / "m0000" / "history" / "index.html"]
    pages += [alerts / "m0000" / "history" / "page" / str(n) / "index.html" for n in range(2, 7)]
    listed = []
    for page in pages:
        text = page.read_text("utf-8")
        entries = LISTED.findall(history_of(text))
        assert len(entries) == LIST_PAGE_SIZE
        listed += entries
        # the heading names the alert (WCAG 2.4.6): one who arrives by a link knows which
        h1 = '<h1>History of this alert: <span dir="auto">Hurricane watch, message 300</span></h1>'
        assert h1 in text
    assert listed == [f"m{i:04d}" for i in range(300)]  # every message once, in order
    assert not (alerts / "m0000" / "history" / "page" / "7").exists()
    assert not (alerts / "m0001" / "history").exists()
    sitemap = (site.public / "sitemap.xml").read_text("utf-8")
    assert "https://alerts.test/alerts/m0000/history/page/6/" in sitemap


def test_a_page_in_a_long_chain_links_the_history_pages_where_the_gaps_are(
    tmp_path: Path,
) -> None:
    site = TmpSite(tmp_path)
    chain(site, 300)
    build(site)
    page = (site.public / "alerts" / "m0150" / "index.html").read_text("utf-8")
    assert LISTED.findall(history_of(page)) == [
        "m0000",
        *["m0148", "m0149", "", "m0151", "m0152"],  # this one is aria-current
        *["m0296", "m0297", "m0298", "m0299"],
    ]
    gaps = re.findall(r'<li class="gap" value="\d+"><a href="([^"]+)">(\d+) more messages', page)
    assert gaps == [("/alerts/m0000/history/", "147"), ("/alerts/m0000/history/page/4/", "143")]
    assert '<li class="gap" value="2">' in page and '<li class="gap" value="154">' in page
    assert '<li value="149">' in page and '<li value="297">' in page


@pytest.mark.parametrize("count", [2, HISTORY_SHOWN])
def test_a_short_chain_is_listed_whole_with_no_history_pages(tmp_path: Path, count: int) -> None:
    site = TmpSite(tmp_path)
    chain(site, count)
    build(site)
    page = (site.public / "alerts" / "m0000" / "index.html").read_text("utf-8")
    assert len(LISTED.findall(history_of(page))) == count
    assert "Full history" not in page and "value=" not in page
    assert not (site.public / "alerts" / "m0000" / "history").exists()


def assert_equals_clean_build(site: TmpSite) -> None:
    bundle, manifest, _ = build_bundle(site.config, NOW)
    expected = {path: f.data for path, f in bundle.items()} | {MANIFEST_PATH: manifest}
    out = site.public
    actual = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert sorted(actual) == sorted(expected)
    assert [p for p in expected if actual[p] != expected[p]] == []


def test_history_pages_come_and_go_with_the_chain_as_a_clean_build_makes_them(
    tmp_path: Path,
) -> None:
    site = TmpSite(tmp_path)
    chain(site, HISTORY_SHOWN)
    site.build()
    history = site.public / "alerts" / "m0000" / "history"
    chain(site, HISTORY_SHOWN + 1, HISTORY_SHOWN)  # one more message: past the bound
    site.build()
    assert (history / "index.html").exists()
    assert_equals_clean_build(site)
    (site.root / "content" / "alerts" / f"m{HISTORY_SHOWN:04d}.md").unlink()
    site.build()
    assert not history.exists()
    assert_equals_clean_build(site)


def test_a_chain_growing_past_a_history_page_adds_one(tmp_path: Path) -> None:
    site = TmpSite(tmp_path)
    chain(site, LIST_PAGE_SIZE)
    site.build()
    # the chain's times are relative to NOW: rewrite them all, as one more hour of updates
    chain(site, LIST_PAGE_SIZE + 1)
    site.build()
    assert (site.public / "alerts" / "m0000" / "history" / "page" / "2" / "index.html").exists()
    assert_equals_clean_build(site)


def test_the_preview_serves_the_history_pages_as_a_build_makes_them(tmp_path: Path) -> None:
    site = TmpSite(tmp_path)
    chain(site, HISTORY_SHOWN + 1)
    rebuilder = Rebuilder(site.root / "site.toml", NOW)
    assert rebuilder.rebuild().ok
    assert "alerts/m0000/history/index.html" in rebuilder.bundle
    last = site.root / "content" / "alerts" / f"m{HISTORY_SHOWN:04d}.md"
    last.unlink()
    assert rebuilder.rebuild([last]).ok
    assert "alerts/m0000/history/index.html" not in rebuilder.bundle
    bundle, _, _ = build_bundle(site.config, NOW)
    assert sorted(rebuilder.bundle) == sorted(bundle)
    assert [p for p in bundle if rebuilder.bundle[p] != bundle[p]] == []


def test_a_history_in_another_language_than_the_page_is_linked_with_its_hreflang(
    tmp_path: Path,
) -> None:
    """The chain's first message only in Korean: its history pages are Korean, so an English
    update's links to them say so (WCAG 3.1.2), as its links to Korean messages do."""
    site = TmpSite(tmp_path)
    chain(site, HISTORY_SHOWN + 3)
    first = site.root / "content" / "alerts" / "m0000.md"
    first.rename(first.with_name("m0000.ko.md"))
    build(site)
    history = (site.public / "alerts" / "m0000" / "history" / "index.html").read_text("utf-8")
    assert history.startswith('<!doctype html>\n<html lang="ko"')
    page = (site.public / "alerts" / "m0008" / "index.html").read_text("utf-8")
    links = re.findall(r'<a href="/alerts/m0000/history/"([^>]*)>', page)
    assert links == [' hreflang="ko"'] * 2, links  # the gap's and "Full history"
