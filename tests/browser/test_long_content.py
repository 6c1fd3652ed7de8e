"""Worst-case content in real headless Chromium: unbroken words and URLs, an indented block,
long lists split into pages (browser_support.build_long_site)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import (
    DESKTOP,
    LONG,
    NARROW,
    OVERFLOW_JS,
    PHONE,
    SMALL_TARGETS_JS,
    Browser,
    SiteServer,
    build_long_site,
    watch_id,
)

pytestmark = pytest.mark.browser

PAGES = [
    f"/alerts/{LONG}/",
    f"/alerts/{LONG}-update/",
    f"/alerts/{LONG}/ar/",
    "/",
    "/areas/page/2/",
    "/areas/kr-11/page/2/",
    f"/alerts/{watch_id(30)}/",  # a shortened history: first, around this one, latest, gaps
    f"/alerts/{watch_id(0)}/history/",
    f"/alerts/{watch_id(0)}/history/page/2/",
]

# WCAG 1.4.12: what a reader's own style sheet may set; nothing may be cut off or overflow.
TEXT_SPACING = (
    "const s = document.createElement('style'); s.textContent = '*{line-height:1.5!important;"
    "letter-spacing:.12em!important;word-spacing:.16em!important}"
    "p{margin-bottom:2em!important}'; document.head.appendChild(s);"
)


@pytest.fixture(scope="module")
def long_site(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    server = SiteServer(build_long_site(tmp_path_factory.mktemp("long") / "site")).start()
    yield Browser(browser.driver, server.base)
    server.stop()


@pytest.mark.parametrize("url", PAGES)
def test_long_content_reflows_at_320_css_px(long_site: Browser, url: str) -> None:
    """An indented paragraph is a <pre> block, which does not wrap by default: one long line
    made the whole alert page scroll sideways (4,000 px wide at 320)."""
    long_site.visit(url, NARROW, settle=0)
    widths = long_site.js(OVERFLOW_JS)
    assert widths["scroll"] <= widths["client"] == 320, f"{url} scrolls sideways: {widths}"
    assert widths["over"] == [], f"{url}: elements past the edge: {widths['over']}"


@pytest.mark.parametrize("url", PAGES)
def test_text_spacing_overrides_keep_the_text_in_view(long_site: Browser, url: str) -> None:
    long_site.visit(url, NARROW, settle=0)
    long_site.js(TEXT_SPACING)
    widths = long_site.js(OVERFLOW_JS)
    clipped = long_site.js(
        "return [...document.querySelectorAll('body *')].filter(e => {"
        " const s = getComputedStyle(e); return (s.overflowX != 'visible'"
        " || s.overflowY != 'visible') && !e.closest('.skip') && (e.scrollWidth > e.clientWidth"
        " || e.scrollHeight > e.clientHeight); }).map(e => e.tagName + '.' + e.className);"
    )
    assert widths["scroll"] <= widths["client"], f"{url} scrolls sideways: {widths}"
    assert widths["over"] == [] and clipped == [], (widths["over"], clipped)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=lambda v: v.name)
@pytest.mark.parametrize(
    "url",
    [
        "/areas/",
        "/areas/page/2/",
        "/areas/kr-11/",
        "/ar/areas/page/2/",
        f"/alerts/{watch_id(0)}/history/",
        f"/alerts/{watch_id(0)}/history/page/2/",
    ],
)
def test_pager_links_are_at_least_24_css_px(long_site: Browser, url: str, viewport: Any) -> None:
    """The pager's "Previous page" and "Next page" were 20 px high, the only links of these
    pages under WCAG 2.5.8's 24 px (the example site has no list long enough for a pager)."""
    long_site.visit(url, viewport, settle=0)
    pager = long_site.js("return document.querySelectorAll('.pager a').length")
    small = long_site.js(SMALL_TARGETS_JS)
    assert pager and small == [], f"{url}: targets under 24 px: {small}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("url", PAGES)
def test_long_pages_have_no_wcag_violations(
    long_site: Browser, axe_source: str, url: str, scheme: str
) -> None:
    """The example site has no chain long enough to shorten an alert page's history or to
    make a history page: these are the only pages with them (and with gaps linking into it)."""
    long_site.visit(url, PHONE, scheme=scheme, settle=0)
    violations = long_site.axe(axe_source)
    assert violations == [], f"{url} ({scheme}):\n{json.dumps(violations, indent=1)}"


def test_a_shortened_history_links_into_the_full_one(long_site: Browser) -> None:
    long_site.visit(f"/alerts/{watch_id(30)}/", PHONE, settle=0)
    history = long_site.js(
        "return [...document.querySelectorAll('ol.history li')].map(li => li.textContent)"
    )
    assert 2 < len(history) <= 12 and any("more messages" in h for h in history), history
    full = long_site.js(
        "return [...document.querySelectorAll('a')].filter(a => a.pathname.endsWith('/history/')"
        " || a.pathname.includes('/history/page/')).map(a => a.pathname)"
    )
    assert f"/alerts/{watch_id(0)}/history/" in full, full
