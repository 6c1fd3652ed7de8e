"""Citizen pages in real headless Chromium (issue 6): requests, accessibility, reflow,
targets, language and direction, no JavaScript, print, screenshots."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from browser_support import (
    ARTIFACTS,
    DESKTOP,
    FLOOD,
    NARROW,
    OVERFLOW_JS,
    PAGES,
    PHONE,
    QUAKE,
    SMALL_TARGETS_JS,
    Browser,
    SiteServer,
    png_size,
)

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "screenshots"


def axe_report(violations: list[dict[str, object]]) -> str:
    return json.dumps(violations, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("name", PAGES)
def test_one_request_per_visit(browser: Browser, site_server: SiteServer, name: str) -> None:
    site_server.take_requests()
    seen = browser.visit(PAGES[name], PHONE)
    assert seen == [site_server.base + PAGES[name]], f"{name} made other requests: {seen}"
    assert site_server.take_requests() == [PAGES[name]]


def test_the_request_count_sees_a_favicon_fetch(
    browser: Browser, site_server: SiteServer, browser_public: object
) -> None:
    """The counter is real: a page without our data: icon makes Chromium fetch /favicon.ico."""
    probe = site_server.public / "probe-no-icon" / "index.html"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text("<!doctype html><html lang=en><title>probe</title><p>probe</p>", "utf-8")
    try:
        seen = browser.visit("/probe-no-icon/", settle=0.5)
    finally:
        probe.unlink()
    assert site_server.base + "/favicon.ico" in seen, seen


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_wcag_violations(
    browser: Browser, axe_source: str, name: str, scheme: str
) -> None:
    browser.visit(PAGES[name], PHONE, scheme=scheme, settle=0)
    background = browser.js("return getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(18, 18, 18)" if scheme == "dark" else "rgb(255, 255, 255)")
    violations = browser.axe(axe_source)
    assert violations == [], f"{name} ({scheme}):\n{axe_report(violations)}"


@pytest.mark.parametrize("name", PAGES)
def test_text_reflows_at_320_css_px(browser: Browser, name: str) -> None:
    browser.visit(PAGES[name], NARROW, settle=0)
    widths = browser.js(OVERFLOW_JS)
    assert widths["client"] == 320
    assert widths["scroll"] <= widths["client"], f"{name} scrolls sideways: {widths}"
    assert widths["over"] == [], f"{name}: elements past the edge: {widths['over']}"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=lambda v: v.name)
@pytest.mark.parametrize("name", PAGES)
def test_targets_are_at_least_24_css_px(browser: Browser, name: str, viewport: object) -> None:
    """Every link outside the official's prose (inline links there are exempt) is ≥ 24×24."""
    browser.visit(PAGES[name], viewport, settle=0)  # type: ignore[arg-type]
    small = browser.js(SMALL_TARGETS_JS)
    assert small == [], f"{name}: targets under 24 px: {small}"
    skip = browser.js(
        "const s = document.querySelector('.skip'); s.focus();"
        "const r = s.getBoundingClientRect(); return [r.width, r.height];"
    )
    assert min(skip) >= 24, f"focused skip link is {skip}"


SHAPES = {"\u25a0", "\u25b2", "\u25c6", "\u25cf"}  # the badges' ■ ▲ ◆ ●


def test_severity_shapes_are_drawn_but_not_read_aloud(browser: Browser) -> None:
    """The shape before each severity (for readers who cannot tell its colour) is CSS
    content, which Chromium puts in the accessibility tree: a screen reader said "black
    up-pointing triangle" before every alert of a list. It is drawn in an aria-hidden <b>."""
    browser.visit("/", PHONE, settle=0)
    drawn = browser.js(
        "return [...document.querySelectorAll('.sev')].map(e => [e, ...e.children]"
        " .map(c => getComputedStyle(c, '::before').content).join(''));"
    )
    assert drawn and all(any(shape in c for shape in SHAPES) for c in drawn), drawn
    browser.driver.execute_cdp_cmd("Accessibility.enable", {})
    try:
        nodes = browser.driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
    finally:
        browser.driver.execute_cdp_cmd("Accessibility.disable", {})
    texts = [
        n["name"]["value"]
        for n in nodes
        if not n.get("ignored") and n.get("role", {}).get("value") == "StaticText"
    ]
    assert "Extreme" in texts or "Severe" in texts, texts
    read = [t for t in texts if SHAPES & set(t)]
    assert read == [], f"shapes in the accessibility tree: {read}"


@pytest.mark.parametrize(
    ("url", "lang", "direction", "heading"),
    [
        ("/ko/", "ko", "ltr", "발효 중인 경보"),
        (PAGES["alert-ko"], "ko", "ltr", "경주 인근 규모 5.8 지진 발생"),
        ("/ar/", "ar", "rtl", "التنبيهات السارية"),
        (PAGES["alert-ar"], "ar", "rtl", "مراقبة فيضان نهر هان"),
        ("/", "en", "ltr", "Active alerts"),
    ],
)
def test_lang_and_dir(browser: Browser, url: str, lang: str, direction: str, heading: str) -> None:
    browser.visit(url, PHONE, settle=0)
    seen = browser.js(
        "const h = document.documentElement; return {lang: h.lang, dir: h.dir,"
        " css: getComputedStyle(document.body).direction,"
        " h1: document.querySelector('h1').textContent.trim(),"
        " foreign: [...document.querySelectorAll('main a[href^=\"/alerts/\"]')]"
        "   .filter(a => !a.lang).map(a => a.textContent)};"
    )
    assert (seen["lang"], seen["dir"], seen["css"]) == (lang, direction, direction)
    assert seen["h1"] == heading


def test_text_in_another_language_is_marked(browser: Browser) -> None:
    """On the Arabic home page an alert only written in English keeps lang=en and its own
    direction, so screen readers switch voice and the Latin title is not mirrored."""
    browser.visit("/ar/", PHONE, settle=0)
    links = browser.js(
        "return [...document.querySelectorAll('ul.alerts a')].map(a =>"
        " ({lang: a.getAttribute('lang'), dir: a.getAttribute('dir'),"
        "   css: getComputedStyle(a).direction, text: a.textContent}));"
    )
    english = [link for link in links if link["lang"] == "en"]
    arabic = [link for link in links if link["lang"] is None]
    assert english and arabic, links
    assert all(link["dir"] == "auto" and link["css"] == "ltr" for link in english), english


@pytest.mark.parametrize("name", PAGES)
def test_pages_work_without_javascript(browser: Browser, name: str) -> None:
    browser.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.visit(PAGES[name], PHONE, settle=0)
        seen = browser.js(
            "const m = document.querySelector('main'); const r = m.getBoundingClientRect();"
            "return {scripts: document.scripts.length, noscript:"
            " document.querySelectorAll('noscript').length, text: m.innerText.length,"
            " h: r.height, links: document.querySelectorAll('a[href]').length};"
        )
    finally:
        browser.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    assert seen["scripts"] == 0 and seen["noscript"] == 0, seen
    assert seen["text"] > 20 and seen["h"] > 50 and seen["links"] >= 3, seen


@pytest.mark.parametrize("name", ["alert", "alert-ko", "home"])
def test_print_stylesheet(browser: Browser, name: str) -> None:
    browser.visit(PAGES[name], DESKTOP, media="print", settle=0)
    seen = browser.js(
        "const s = e => e && getComputedStyle(e);"
        "return {nav: s(document.querySelector('footer nav')).display,"
        " color: s(document.body).color, bg: s(document.body).backgroundColor,"
        " sev: s(document.querySelector('.sev')).backgroundImage + '|'"
        " + s(document.querySelector('.sev')).borderTopStyle,"
        " updated: document.querySelector('footer time').offsetHeight > 0};"
    )
    assert seen["nav"] == "none", "site and language navigation are not printed"
    assert seen["color"] == "rgb(0, 0, 0)" and seen["bg"] == "rgb(255, 255, 255)"
    assert seen["sev"].endswith("|solid"), "severity keeps a border when colours are dropped"
    assert seen["updated"], "the last-updated time is printed"
    pdf = browser.pdf(ARTIFACTS / "print" / f"{name}.pdf")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type/Page") <= 3


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=lambda v: v.name)
@pytest.mark.parametrize("name", PAGES)
def test_screenshots(browser: Browser, name: str, viewport: object) -> None:
    """PNGs for a reviewer under tests/artifacts/screenshots/ (git-ignored)."""
    browser.visit(PAGES[name], viewport, settle=0)  # type: ignore[arg-type]
    path = SHOTS / f"{name}-{viewport.name}.png"  # type: ignore[attr-defined]
    width, height = png_size(browser.screenshot(path))
    assert width == viewport.width  # type: ignore[attr-defined]
    assert height >= viewport.height or name == "404"  # type: ignore[attr-defined]


def test_times_show_the_alerts_own_timezone(browser: Browser) -> None:
    browser.visit(f"/alerts/{QUAKE}/", PHONE, settle=0)
    times = browser.js(
        "return [...document.querySelectorAll('time')].map(t => [t.dateTime, t.textContent]);"
    )
    sent = times[0]
    assert sent == ["2026-09-12T20:32:00+09:00", "2026년 9월 12일 20:32 (UTC+09:00)"]
    for iso, _text in times:
        assert datetime.fromisoformat(iso).utcoffset() is not None, iso
    browser.visit(f"/alerts/{FLOOD}/ar/", PHONE, settle=0)
    arabic = browser.js("return document.querySelector('dd time').textContent")
    assert "نوفمبر" in arabic and "07:00" in arabic, arabic


def test_share_meta_in_the_dom(browser: Browser) -> None:
    browser.visit(f"/alerts/{FLOOD}/", PHONE, settle=0)
    meta = browser.js(
        "const m = n => document.querySelector(`meta[property='${n}'],meta[name='${n}']`);"
        "return {title: document.title, og: m('og:title').content,"
        " desc: m('description').content, canonical:"
        " document.querySelector('link[rel=canonical]').href};"
    )
    assert meta["og"] == "Severe: Flood watch for the Han River"
    assert meta["desc"].startswith("Severe: Heavy rain upstream")
    assert meta["canonical"] == f"https://alerts.example.gov/alerts/{FLOOD}/"
    assert meta["title"].startswith(meta["og"] + " · ")  # the tab says what og:title says
