"""One alert's end as citizens see it, in real headless Chromium at phone width: an alert in
three languages, then its Cancel, built with `sitegen build --now` as an official runs it
(the fourth walkthrough, docs/architecture.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser_support import (
    PHONE,
    SMALL_TARGETS_JS,
    Browser,
    SiteServer,
    add_alert,
    area_yaml,
    make_site,
)

from sitegen.i18n import catalog
from sitegen_fixtures import run_sitegen

pytestmark = pytest.mark.browser

IN_FORCE = "2026-11-25T12:00:00+09:00"  # the Cancel was sent at 08:00; it expires at 18:00
LATER = "2026-11-25T19:00:00+09:00"
NAMES = {"": ("Seoul", "Busan"), ".ko": ("서울", "부산"), ".ar": ("سيول", "بوسان")}
HEADINGS = {"en": "Recently cancelled", "ko": "최근 해제된 경보", "ar": "تنبيهات أُلغيت مؤخرًا"}

# The links of the list under the heading arguments[0], or null when no such heading.
SECTION_LINKS_JS = """
const h = [...document.querySelectorAll('h2')].find(h => h.textContent === arguments[0]);
return h ? [...h.nextElementSibling.querySelectorAll('a')].map(a => a.pathname) : null;
"""


def build_cancelled_site(root: Path, now: str) -> Path:
    """A flood alert for Seoul and Busan in English, Korean and Arabic, cancelled at 08:00 (the
    Cancel kept until 18:00), built through the CLI at `now`; returns public/."""
    make_site(root, '["en", "ko", "ar"]')
    for suffix, (seoul, busan) in NAMES.items():
        areas = area_yaml(seoul, "KR-11") + "\n" + area_yaml(busan, "KR-26")
        add_alert(root, f"flood{suffix}", areas=areas)
        add_alert(
            root,
            f"flood-cancel{suffix}",
            title="Flood watch cancelled",
            msg_type="Cancel",
            sent="2026-11-25T08:00:00+09:00",
            references="flood",
            body="The river is falling: the danger has passed.",
            areas=areas,
        )
        cancel = root / "content" / "alerts" / f"flood-cancel{suffix}.md"
        text = cancel.read_text("utf-8")
        cancel.write_text(text.replace("2026-12-26T07:00", "2026-11-25T18:00"), "utf-8")
    built = run_sitegen("build", "--now", now, cwd=root)
    assert built.returncode == 0, built.stderr
    return root / "public"


def served_at(browser: Browser, folder: Path, now: str) -> Iterator[Browser]:
    """The Chromium of the session, reading the site built at `now` in `folder`."""
    server = SiteServer(build_cancelled_site(folder / "site", now)).start()
    yield Browser(browser.driver, server.base)
    server.stop()


@pytest.fixture(scope="module")
def cancelled(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    yield from served_at(browser, tmp_path_factory.mktemp("cancelled"), IN_FORCE)


@pytest.fixture(scope="module")
def cancel_expired(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    yield from served_at(browser, tmp_path_factory.mktemp("expired"), LATER)


def assert_axe_clean(browser: Browser, axe_source: str, url: str, scheme: str) -> None:
    """The page at `url`, read in `scheme` at phone width, has no WCAG violation axe finds."""
    browser.visit(url, PHONE, scheme=scheme, settle=0)
    violations = browser.axe(axe_source)
    assert violations == [], f"{url} ({scheme}):\n{json.dumps(violations, indent=1)}"


LISTINGS = [
    ("/", "en"),
    ("/ko/", "ko"),
    ("/ar/", "ar"),
    ("/areas/kr-11/", "en"),
    ("/ko/areas/kr-26/", "ko"),
    ("/ar/areas/kr-11/", "ar"),
]


@pytest.mark.parametrize(("url", "lang"), LISTINGS)
def test_a_cancel_in_force_is_named_on_the_home_and_area_pages(
    cancelled: Browser, url: str, lang: str
) -> None:
    """After a Cancel, the home page said only "No alerts are in force right now" (and each
    area's page the same), minutes after it had listed the alert: a citizen could not tell an
    all-clear from a fault, and the Cancel's words were in the archive alone. Until the
    Cancel expires, the page names it in its language, linking its page in that language."""
    cancelled.visit(url, PHONE, settle=0)
    assert cancelled.js("return document.documentElement.lang") == lang
    page = "/alerts/flood-cancel/" + ("" if lang == "en" else f"{lang}/")
    assert cancelled.js(SECTION_LINKS_JS, HEADINGS[lang]) == [page]
    listed = cancelled.js("return [...document.querySelectorAll('ul.alerts a')].length")
    assert listed == 1, "the cancelled alert is still listed as in force"
    assert cancelled.js(SMALL_TARGETS_JS) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("url", ["/", "/ar/areas/kr-11/"])
def test_the_cancel_list_has_no_wcag_violations(
    cancelled: Browser, axe_source: str, url: str, scheme: str
) -> None:
    assert_axe_clean(cancelled, axe_source, url, scheme)


@pytest.mark.parametrize(("url", "lang"), LISTINGS)
def test_an_expired_cancel_leaves_the_home_and_area_pages(
    cancel_expired: Browser, url: str, lang: str
) -> None:
    cancel_expired.visit(url, PHONE, settle=0)
    assert cancel_expired.js(SECTION_LINKS_JS, HEADINGS[lang]) is None
    assert cancel_expired.js("return document.querySelectorAll('ul.alerts a').length") == 0
    archive = "/archive/" if lang == "en" else f"/{lang}/archive/"
    cancel_expired.visit(archive, PHONE, settle=0)
    links = cancel_expired.js("return [...document.querySelectorAll('ul.alerts a')].length")
    assert links == 2  # the alert and its Cancel, as before


TITLES = {"en": "Flood watch", "ko": "홍수 주의보", "ar": "مراقبة الفيضان"}


def build_cancelled_by_new(root: Path) -> Path:
    """A flood watch in English, Korean and Arabic cancelled with `sitegen new --cancel` as an
    official does, its TODO lines filled in, built through the CLI; returns public/."""
    make_site(root, '["en", "ko", "ar"]')
    for lang, title in TITLES.items():
        add_alert(root, "flood" if lang == "en" else f"flood.{lang}", title=title)
    made = run_sitegen("new", "--cancel", "flood", "--no-input", cwd=root)
    assert made.returncode == 0, made.stderr
    for path in (root / "content" / "alerts").glob("flood-cancel*.md"):
        path.write_text(path.read_text("utf-8").replace("TODO: ", ""), "utf-8")
    later = (datetime.now(UTC) + timedelta(minutes=10)).isoformat(timespec="seconds")
    built = run_sitegen("build", "--now", later, cwd=root)
    assert built.returncode == 0, built.stderr
    return root / "public"


@pytest.fixture(scope="module")
def cancelled_by_new(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Browser, Path]]:
    public = build_cancelled_by_new(tmp_path_factory.mktemp("by-new") / "site")
    server = SiteServer(public).start()
    yield Browser(browser.driver, server.base), public
    server.stop()


@pytest.mark.parametrize("lang", ["en", "ko", "ar"])
def test_a_cancel_written_by_new_says_cancelled_once_and_no_expiry(
    cancelled_by_new: tuple[Browser, Path], lang: str
) -> None:
    """A Cancel `new` wrote read "Cancelled · Extreme: Flood warning (cancelled)" in its tab,
    share and feed titles ("(해제)", "(ملغى)" in Korean and Arabic): `new` added the mark to
    a title the site prefixes, and the all-clear bore the danger's severity. And its
    "Expires" row (how long receivers keep the Cancel) read as when the danger ends. The
    title is the alert's; the site says "Cancelled: Flood watch", and of the alert it
    cancelled "Cancelled · Severe: Flood watch"."""
    browser, public = cancelled_by_new
    words = catalog(lang)
    cancelled, expires, severe = (words.get(w, w) for w in ("Cancelled", "Expires", "Severe"))
    suffix = "" if lang == "en" else f"{lang}/"
    browser.visit(f"/alerts/flood-cancel/{suffix}", PHONE, settle=0)
    assert browser.js("return document.querySelector('h1').textContent") == TITLES[lang]
    title = browser.js("return document.title")
    assert title.startswith(f"{cancelled}: {TITLES[lang]} · "), title
    labels = browser.js("return [...document.querySelectorAll('dt')].map(d => d.textContent)")
    assert expires not in labels and words.get("Sent", "Sent") in labels
    feed = (public / ("" if lang == "en" else lang) / "feed.atom").read_text("utf-8")
    titles = re.findall(r"<entry.*?<title>(.*?)</title>", feed, re.S)
    assert titles == [f"{cancelled}: {TITLES[lang]}", f"{cancelled} · {severe}: {TITLES[lang]}"]


# The badge of each row of the page's first list of alerts: [link's path, badge's text].
BADGES_JS = """
return [...document.querySelectorAll('ul.alerts li')].map(
  li => [li.querySelector('a').pathname, li.querySelector('.sev').textContent]);
"""


@pytest.mark.parametrize("lang", ["en", "ko", "ar"])
def test_a_cancel_reads_cancelled_not_its_severity(
    cancelled_by_new: tuple[Browser, Path], lang: str
) -> None:
    """The example's Cancel showed a "Minor" badge and a "Severity: Minor" row minutes after
    an Extreme tsunami warning (a Cancel carries a severity because CAP requires one): a
    citizen read "Minor Tsunami". Its page and its archive row say "Cancelled" instead, in
    the reader's language; its CAP file keeps CAP's <severity>."""
    browser, public = cancelled_by_new
    words = catalog(lang)
    cancelled, severity = (words.get(w, w) for w in ("Cancelled", "Severity"))
    suffix = "" if lang == "en" else f"{lang}/"
    page = f"/alerts/flood-cancel/{suffix}"
    browser.visit(page, PHONE, settle=0)
    assert browser.js("return document.querySelector('main .sev').textContent") == cancelled
    labels = browser.js("return [...document.querySelectorAll('dt')].map(d => d.textContent)")
    assert severity not in labels, labels
    archive = "/archive/" if lang == "en" else f"/{lang}/archive/"
    browser.visit(archive, PHONE, settle=0)
    badges = dict(browser.js(BADGES_JS))
    assert badges[page] == cancelled, badges
    assert badges["/alerts/flood/" + suffix] == words.get("Severe", "Severe"), badges
    cap = (public / "alerts" / "flood-cancel" / "cap.xml").read_text("utf-8")
    assert "<severity>Severe</severity>" in cap


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("url", ["/alerts/flood-cancel/", "/ar/archive/"])
def test_a_cancel_badge_has_no_wcag_violations(
    cancelled_by_new: tuple[Browser, Path], axe_source: str, url: str, scheme: str
) -> None:
    browser, _ = cancelled_by_new
    assert_axe_clean(browser, axe_source, url, scheme)


def build_chain_by_new(root: Path) -> Path:
    """A flood watch in English, Korean and Arabic, updated twice and cancelled with `sitegen
    new` as an official does (TODO lines filled in after each step; the second Update's
    English title rewritten without its mark), built through the CLI; returns public/."""
    make_site(root, '["en", "ko", "ar"]')
    for lang, title in TITLES.items():
        add_alert(root, "flood" if lang == "en" else f"flood.{lang}", title=title)
    alerts = root / "content" / "alerts"
    for step in (("--update", "flood"), ("--update", "flood-update"), ("--cancel", "flood")):
        made = run_sitegen("new", *step, "--no-input", cwd=root)
        assert made.returncode == 0, made.stderr
        for path in alerts.glob("*.md"):
            path.write_text(path.read_text("utf-8").replace("TODO: ", ""), "utf-8")
    second = alerts / "flood-update-2.md"
    text = second.read_text("utf-8")
    second.write_text(text.replace("Flood watch (update 2)", "River rising at Seoul"), "utf-8")
    later = (datetime.now(UTC) + timedelta(minutes=10)).isoformat(timespec="seconds")
    built = run_sitegen("build", "--now", later, cwd=root)
    assert built.returncode == 0, built.stderr
    return root / "public"


@pytest.fixture(scope="module")
def chain_by_new(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    server = SiteServer(build_chain_by_new(tmp_path_factory.mktemp("chain") / "site")).start()
    yield Browser(browser.driver, server.base)
    server.stop()


# Each row of the archive: [link's path, badge's text, the row's text, its phase line's].
ROWS_JS = """
const text = e => e.textContent.replace(/\\s+/g, ' ').trim();
return [...document.querySelectorAll('ul.alerts li')].map(li => [
  li.querySelector('a').pathname, text(li.querySelector('.sev')), text(li),
  text(li.querySelector('.meta'))]);
"""


@pytest.mark.parametrize("lang", ["en", "ko", "ar"])
def test_a_cancelled_chain_s_archive_rows_say_each_message_once(
    chain_by_new: Browser, lang: str
) -> None:
    """The archive of an alert updated twice and cancelled had four rows all saying
    "Cancelled" (a session-22 decision: one row per message), the Cancel's twice (badge and
    phase line), and nothing but a title `new` marked told the alert from its Updates. Each
    row now says which message it is and that the alert was cancelled, each word once: the
    alert and its Updates their severity badge and "Cancelled", the alert "Alert", an Update
    whose title has no mark "Update N"; the Cancel its "Cancelled" badge alone."""
    words = catalog(lang)
    cancelled, severe, alert = (words.get(w, w) for w in ("Cancelled", "Severe", "Alert"))
    update_2 = (words.get("Update %(number)d") or "Update %(number)d") % {"number": 2}
    suffix = "" if lang == "en" else f"{lang}/"
    chain_by_new.visit("/archive/" if lang == "en" else f"/{lang}/archive/", PHONE, settle=0)
    rows = {path: row for path, *row in chain_by_new.js(ROWS_JS)}
    pages = [f"/alerts/{name}/{suffix}" for name in ("flood-cancel", "flood-update-2")]
    pages += [f"/alerts/{name}/{suffix}" for name in ("flood-update", "flood")]
    assert list(rows) == pages, rows
    for page, (badge, text, _) in rows.items():
        assert text.count(cancelled) == 1, (page, text)
        assert len(re.findall(r"update|갱신|تحديث", text, re.I)) <= 1, (page, text)
        assert badge == (cancelled if page == pages[0] else severe), (page, badge)
    metas = [rows[page][2] for page in pages]
    assert metas[0].startswith(words.get("Sent", "Sent")), metas
    # only the English second Update's title was rewritten without "(update 2)"
    second = f"{update_2} · {cancelled} · " if lang == "en" else f"{cancelled} · "
    assert metas[1].startswith(second), metas
    assert metas[2].startswith(f"{cancelled} · "), metas  # its title says "(update)"
    assert metas[3].startswith(f"{alert} · {cancelled} · "), metas
    assert chain_by_new.js(SMALL_TARGETS_JS) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("url", ["/archive/", "/ko/archive/", "/ar/archive/"])
def test_a_cancelled_chain_s_archive_has_no_wcag_violations(
    chain_by_new: Browser, axe_source: str, url: str, scheme: str
) -> None:
    assert_axe_clean(chain_by_new, axe_source, url, scheme)
