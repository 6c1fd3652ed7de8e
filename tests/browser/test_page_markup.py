"""The built pages as files (no browser): size budget, share meta, times, catalogs, check."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET  # noqa: S405 - our own build's output
from html.parser import HTMLParser
from pathlib import Path

import brotli
import pytest
from browser_support import (
    FLOOD,
    LONG,
    NOW,
    add_alert,
    build_browser_site,
    build_long_site,
    make_site,
)
from click.testing import CliRunner

from sitegen.build import PAGE_BUDGET_BYTES, build_site, over_budget
from sitegen.cli import cli
from sitegen.config import load_config
from sitegen.i18n import catalog
from sitegen.i18n_check import translation_problems


class Head(HTMLParser):
    """Collects <title>, <meta> and <link> from a page's head."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("name" in a or "property" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag == "link" and "hreflang" not in a and "type" not in a:
            self.links[a["rel"]] = a["href"]
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def head(path: Path) -> Head:
    parser = Head()
    parser.feed(path.read_text("utf-8"))
    return parser


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_browser_site(tmp_path_factory.mktemp("markup") / "site")


@pytest.fixture(scope="module")
def long_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_long_site(tmp_path_factory.mktemp("long") / "site")


def test_the_long_site_is_what_its_tests_expect(long_pages: Path) -> None:
    """tests/browser/test_long_content.py looks at these: two pages of areas and of Seoul."""
    assert (long_pages / "areas/page/2/index.html").is_file()
    assert (long_pages / "areas/kr-11/page/2/index.html").is_file()
    assert "<pre><code>" in (long_pages / f"alerts/{LONG}-update/index.html").read_text("utf-8")


def test_history_marks_a_title_in_another_language(long_pages: Path) -> None:
    """The Arabic alert's history lists the English update: its title says lang="en" (WCAG
    3.1.2; a screen reader read it with an Arabic voice), its link hreflang="en", as the
    alert lists do; the page's own Arabic message needs neither."""
    page = (long_pages / f"alerts/{LONG}/ar/index.html").read_text("utf-8")
    history = page.split('<ol class="history">')[1].split("</ol>")[0]
    assert f'<a href="/alerts/{LONG}-update/" hreflang="en">' in history
    assert '<span dir="auto" lang="en">Flash flood update for ' in history
    assert '<span dir="auto">فيضان مفاجئ</span>' in history
    # the message being read is not a link, and a screen reader says it is this page
    assert history.count('aria-current="page"') == 1
    assert '<strong aria-current="page">' in history
    banner = page.split('<p class="banner"')[1].split("</p>")[0]
    assert f'<a href="/alerts/{LONG}-update/" hreflang="en">' in banner
    english = (long_pages / f"alerts/{LONG}/index.html").read_text("utf-8")
    assert "hreflang=" not in english.split("<main")[1].split("</main>")[0]


@pytest.mark.parametrize(
    ("rel", "title"),
    [
        ("areas/index.html", "Areas · Test Alerts"),
        ("areas/page/2/index.html", "Areas · Page 2 of 2 · Test Alerts"),
        ("areas/kr-11/page/2/index.html", "Seoul · Page 2 of 2 · Test Alerts"),
        ("ar/areas/page/2/index.html", "المناطق · الصفحة 2 من 2 · Test Alerts"),
    ],
)
def test_each_page_of_a_list_has_its_own_title(long_pages: Path, rel: str, title: str) -> None:
    """Page 2 had page 1's title: a reader who followed "Next page" heard the same title, and
    tabs and history could not tell them apart (WCAG 2.4.2)."""
    h = head(long_pages / rel)
    assert h.title == title
    assert h.meta["og:title"] == title.rsplit(" · ", 1)[0]


def test_every_page_fits_the_brotli_budget(pages: Path) -> None:
    html = sorted(pages.rglob("*.html"))
    assert len(html) > 30
    sizes = {p.relative_to(pages).as_posix(): len(brotli.compress(p.read_bytes())) for p in html}
    over = {p: s for p, s in sizes.items() if s > PAGE_BUDGET_BYTES}
    assert over == {}


def test_a_home_page_with_50_active_alerts_fits_the_budget(tmp_path: Path) -> None:
    root = make_site(tmp_path / "fifty")
    provinces = ["KR-11", "KR-26", "KR-27", "KR-28", "KR-29", "KR-30", "KR-31", "KR-41", "KR-42"]
    rng = random.Random(50)

    def name() -> str:  # made-up place names: nothing for brotli to reuse across alerts
        return "".join(rng.choice("bcdghjkmnprstw") + rng.choice("aeiou") for _ in range(3))

    for i in range(50):
        add_alert(
            root,
            f"2026-11-25-alert-{i:02d}",
            title=f"Flash flood warning for {name().title()} and the {name().title()} valley",
            severity=["Extreme", "Severe", "Moderate", "Minor"][i % 4],
            sent=f"2026-11-25T{i % 12:02d}:{i % 60:02d}:00+09:00",
            area=f"{name().title()}, {name().title()}-gu",
            code=provinces[i % 9],
        )
    build_site(load_config(root / "site.toml"), NOW)
    for home in ("index.html", "ko/index.html"):
        data = (root / "public" / home).read_bytes()
        assert data.count(b'class="sev ') == 50
        assert len(brotli.compress(data)) <= PAGE_BUDGET_BYTES, home


@pytest.mark.parametrize(
    "rel",
    [
        "index.html",
        "ko/index.html",
        f"alerts/{FLOOD}/index.html",
        "areas/kr-11/index.html",
        "archive/index.html",
        "ar/index.html",
        "404.html",
    ],
)
def test_share_friendly_head(pages: Path, rel: str) -> None:
    h = head(pages / rel)
    url = "https://alerts.example.gov/" + re.sub(r"index\.html$", "", rel)
    assert h.title.strip()
    for key in ("description", "og:title", "og:description", "og:type", "og:site_name"):
        assert h.meta.get(key, "").strip(), f"{rel}: no {key}"
    if rel == "404.html":  # served at any missing URL: it is the canonical copy of none
        assert "canonical" not in h.links and "og:url" not in h.meta
        assert h.title.startswith("Page not found · ")
    else:
        assert h.links["canonical"] == h.meta["og:url"] == url
    assert h.links["icon"] == "data:,"  # no favicon request


def test_the_404_title_is_in_the_default_language(tmp_path: Path) -> None:
    root = make_site(tmp_path / "ko")
    toml = root / "site.toml"
    toml.write_text(
        toml.read_text("utf-8").replace('default_language = "en"', 'default_language = "ko"')
    )
    build_site(load_config(toml), NOW)
    h = head(root / "public" / "404.html")
    assert h.title.startswith("페이지를 찾을 수 없습니다 · ")
    assert "canonical" not in h.links


def test_an_alert_shares_its_severity_in_the_reader_language(pages: Path) -> None:
    quake = head(pages / "alerts/2026-09-12-gyeongju-earthquake/index.html")
    assert quake.meta["og:title"] == "만료 · 매우 심각: 경주 인근 규모 5.8 지진 발생"
    assert quake.meta["description"].startswith("매우 심각: 9월 12일")
    flood = head(pages / f"alerts/{FLOOD}/ar/index.html")
    assert flood.meta["og:title"] == "شديد: مراقبة فيضان نهر هان"


def test_an_alert_title_says_it_is_no_longer_in_force(pages: Path) -> None:
    """The browser tab, and what a screen reader announces first, said only the alert's title
    when it had expired, been cancelled or superseded; the banner and og:title said so."""
    quake = head(pages / "alerts/2026-09-12-gyeongju-earthquake/index.html")
    assert quake.title == "만료 · 매우 심각: 경주 인근 규모 5.8 지진 발생 · 국가 재난 안전 경보"
    for alert in ("2026-11-24-east-coast-tsunami-warning", f"{FLOOD}/ar"):
        h = head(pages / "alerts" / alert / "index.html")
        assert h.title.rsplit(" · ", 1)[0] == h.meta["og:title"], alert


def test_times_keep_the_alerts_own_offset(tmp_path: Path) -> None:
    root = make_site(tmp_path / "tz")
    add_alert(root, "2026-11-24-ny-flood", sent="2026-11-24T17:00:00-05:00")
    build_site(load_config(root / "site.toml"), NOW)
    page = (root / "public/alerts/2026-11-24-ny-flood/index.html").read_text("utf-8")
    assert '<time datetime="2026-11-24T17:00:00-05:00">November 24, 2026 17:00 (UTC-05:00)' in page
    korean = (root / "public/ko/index.html").read_text("utf-8")
    assert "2026년 12월 26일 07:00 (UTC+09:00)" in korean
    assert "최종 갱신" in korean  # "Last updated" on every page, in the page's language


def test_every_page_states_when_it_was_last_updated(pages: Path) -> None:
    for page in pages.rglob("*.html"):
        text = page.read_text("utf-8")
        assert re.search(r"<footer>\n<p>[^<]+: <time datetime=\"[^\"]+\">", text), page


def test_catalogs_are_complete_for_the_shipped_languages(tmp_path: Path) -> None:
    root = make_site(tmp_path / "all", '["en", "ko", "ar"]')
    assert translation_problems(load_config(root / "site.toml")) == []
    assert set(catalog("ko")) == set(catalog("ar")), "ko and ar catalogs list different texts"


def test_check_warns_about_a_missing_translation_and_falls_back_to_english(
    tmp_path: Path,
) -> None:
    root = make_site(tmp_path / "missing")
    add_alert(root, "2026-11-25-flood")
    not_found = root / "templates" / "404.html"
    not_found.write_text(
        not_found.read_text("utf-8").replace(
            "{% block main %}\n", "{% block main %}\n<p>{{ _('Stay calm.') }}</p>\n"
        ),
        "utf-8",
    )
    result = CliRunner().invoke(cli, ["check", "--site", str(root / "site.toml")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "translation" in line]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("templates/404.html:4: warning:")
    assert "no 한국어 (ko) translation for 'Stay calm.'" in lines[0]
    build_site(load_config(root / "site.toml"), NOW)
    assert "<p>Stay calm.</p>" in (root / "public" / "404.html").read_text("utf-8")


def test_check_warns_once_for_a_language_without_a_catalog(tmp_path: Path) -> None:
    root = make_site(tmp_path / "de", '["en", "de"]')
    problems = translation_problems(load_config(root / "site.toml"))
    assert [p.message.split(":")[0] for p in problems] == ["no message catalog for Deutsch (de)"]


def test_check_warns_about_a_page_over_the_budget(tmp_path: Path) -> None:
    root = make_site(tmp_path / "big")
    words = random.Random(6)
    noise = " ".join(
        "".join(words.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(words.randint(2, 9)))
        for _ in range(6000)
    )
    add_alert(root, "2026-11-25-flood", body=noise)
    (root / "content" / "alerts" / "2026-11-25-flood.md").rename(
        root / "content" / "alerts" / "flood-report.md"  # the id is not the file's name
    )
    text = (root / "content" / "alerts" / "flood-report.md").read_text("utf-8")
    (root / "content" / "alerts" / "flood-report.md").write_text(
        text.replace("---\n", "---\nid: 2026-11-25-flood\n", 1), "utf-8"
    )
    result = CliRunner().invoke(cli, ["check", "--site", str(root / "site.toml")])
    assert result.exit_code == 0, result.output
    # at the file the official must shorten, naming the alert and its page (it named the page)
    assert (
        "content/alerts/flood-report.md: warning: the page of alert '2026-11-25-flood' "
        "(alerts/2026-11-25-flood/index.html) is"
    ) in result.output
    assert "over the 14,000 bytes a page should stay under" in result.output
    assert "shorten this alert's text" in result.output  # what to do, for an official
    build = CliRunner().invoke(cli, ["build", "--site", str(root / "site.toml")])
    assert "content/alerts/flood-report.md: warning: the page of alert" in build.output


@pytest.mark.parametrize(
    ("path", "advice"),
    [
        ("alerts/2026-11-25-flood/index.html", "shorten this alert's text"),
        ("alerts/2026-11-25-flood/ko/index.html", "shorten this alert's text"),
        ("ko/alerts/x/index.html", "shorten this alert's text"),
        ("index.html", "lower [site] home_max_alerts"),
        ("ko/index.html", "lower [site] home_max_alerts"),
        ("zh-hant/index.html", "lower [site] home_max_alerts"),
        ("areas/index.html", "titles of the alerts it lists"),
        ("404.html", "templates/404.html"),
        ("archive/page/2/index.html", "titles of the alerts it lists"),
        ("areas/kr-11/index.html", "titles of the alerts it lists"),
        ("areas/pages/index.html", "titles of the alerts it lists"),
        ("pages/about/index.html", "shorten this page's text"),
        ("ko/pages/about/index.html", "shorten this page's text"),
    ],
)
def test_the_budget_warning_says_what_to_shorten(path: str, advice: str) -> None:
    assert advice in over_budget(path, 15_000).message


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("alerts/flood/index.html", "content/alerts/flood.md"),
        ("alerts/flood/en/index.html", "content/alerts/flood.en.md"),
        ("alerts/flood/ar/index.html", "alerts/flood/ar/index.html"),  # no such file: the page
        ("areas/flood/index.html", "areas/flood/index.html"),
    ],
)
def test_the_budget_warning_is_at_the_alerts_file(path: str, source: str) -> None:
    members = {"flood": ("content/alerts/flood.md", "content/alerts/flood.en.md")}
    assert over_budget(path, 15_000, members).path == source


def test_a_language_without_a_catalog_marks_its_english_text_as_english(
    tmp_path: Path, pages: Path
) -> None:
    """Persian ships no catalog, so sitegen's words on a Persian page are English: the page
    says English, left to right, and marks the official's Persian text as Persian, right to
    left. It said lang="fa" dir="rtl" around "Skip to content", "Severity", "Until"…, so a
    screen reader read English with a Persian voice and punctuation jumped sides (WCAG 3.1.1,
    3.1.2); its dates were Persian among the English words."""
    root = make_site(tmp_path / "fa", '["en", "fa"]')
    add_alert(root, "2026-11-25-flood")
    add_alert(root, "2026-11-25-flood.fa", title="هشدار سیل", body="آب رودخانه بالا می‌آید.")
    build_site(load_config(root / "site.toml"), NOW)
    public = root / "public"
    page = (public / "alerts" / "2026-11-25-flood" / "fa" / "index.html").read_text("utf-8")
    assert '<html lang="en" dir="ltr">' in page
    assert '<h1 lang="fa" dir="rtl">هشدار سیل</h1>' in page
    assert '<div class="body" lang="fa" dir="rtl">' in page
    assert "<dt>Severity</dt>" in page and "December 26, 2026" in page
    home = (public / "fa" / "index.html").read_text("utf-8")
    assert '<html lang="en" dir="ltr">' in home
    assert 'hreflang="fa" lang="fa" dir="auto">هشدار سیل</a>' in home
    # a language with a catalog is unchanged: its words are its own
    assert '<html lang="ar" dir="rtl">' in (pages / "ar" / "index.html").read_text("utf-8")
    # and the Persian feed: its words ("Severe:", "CAP index") are English, and it said
    # xml:lang="fa" for all of them; the alert's own Persian entry says it is Persian
    atom, xml_lang = "{http://www.w3.org/2005/Atom}", "{http://www.w3.org/XML/1998/namespace}lang"
    feed = ET.fromstring((public / "fa" / "feed.atom").read_bytes())
    assert feed.get(xml_lang) == "en"
    (entry,) = feed.findall(atom + "entry")
    assert entry.get(xml_lang) == "fa"
    assert (entry.findtext(atom + "title") or "").endswith(": هشدار سیل")
    assert all(link.get("hreflang") != "en" for link in feed.findall(atom + "link"))
    english = ET.fromstring((public / "feed.atom").read_bytes())  # as before
    assert english.get(xml_lang) == "en"
    assert english.findall(atom + "entry")[0].get(xml_lang) is None
