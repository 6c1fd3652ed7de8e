"""What machines read from a built site, parsed from `sitegen build`'s output on disk: every
CAP message against the OASIS schema and the CAP rules a schema cannot say, both Atom feeds
against RFC 4287, the sitemap against sitemaps.org, robots.txt. The sites mix every status,
message type, lifecycle phase, language arrangement and base path an official can write."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import pytest
from cap_checks import ATOM, cap_text, check_atom, validate_cap
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen_fixtures import NOW, TmpSite, alert_text

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# CAP 1.2 3.3.2: a numeric offset, never "Z" (UTC is -00:00); seconds, no fraction.
CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
W3C_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
HOSTILE = "Tom & Jerry <b>x</b> ]]> \"q\" 'x' 서울 ☔"
POLYGONS = (
    '    polygons: ["37.6,126.5 37.6,126.8 37.3,126.8 37.6,126.5",'
    ' "37.8,126.3  37.8,126.4 37.7,126.4 37.8,126.3"]\n'
)


def varied_site(root: Path, base_url: str, default: str) -> TmpSite:
    """A site with every lifecycle and field mix; `default` is its default language."""
    site = TmpSite(root)
    other = "ko" if default == "en" else "en"
    toml = site.root / "site.toml"
    text = toml.read_text().replace("https://alerts.test/", base_url)
    text = text.replace('default_language = "en"', f'default_language = "{default}"')
    toml.write_text(text.replace('["en", "ko"]', f'["{default}", "{other}"]'))
    no_instruction = "## What to do\n\n- Keep away from the river.\n"
    quoted = HOSTILE.replace('"', '\\"')
    site.add("hostile.md", alert_text(title=f'"{quoted}"', sent="2026-11-24T22:00:00Z"))
    site.add("update.md", alert_text(msg_type="Update", references="[hostile]"))
    site.add(
        "cancel.md",
        alert_text(
            msg_type="Cancel", references="[hostile, update]", sent="2026-11-25T09:00:00+09:00"
        ),
    )
    site.add("test.md", alert_text(status="Test", title="Siren test"))
    site.add("exercise.md", alert_text(status="Exercise", title="Drill"))
    site.add("draft.md", alert_text(status="Draft", title="Draft only"))
    site.add(f"other.{other}.md", alert_text(title="Only in the other language"))
    site.add("both.md", alert_text(title="In both languages"))
    site.add(f"both.{other}.md", alert_text(title="Translated"))
    site.add(
        "expired.md",
        alert_text(expires="2026-11-25T08:00:00+09:00").replace(no_instruction, ""),
    )
    site.add(
        "shapes.md",
        alert_text(severity="Extreme").replace(
            "    geocodes: {ISO3166-2: KR-11}\n",
            "    geocodes: {ISO3166-2: KR-11}\n" + POLYGONS + "  - name: Incheon\n",
        ),
    )
    site.add(
        "upcoming.md",
        alert_text().replace("expires:", "effective: 2026-11-25T15:00:00+09:00\nexpires:"),
    )
    site.add("scheduled.md", alert_text(sent="2026-11-25T18:00:00+09:00"))
    return site


SITES = [("https://alerts.test/", "en"), ("https://alerts.test/em/", "ko")]


@pytest.fixture(params=SITES, ids=["root-en", "path-ko"])
def built(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[TmpSite, Path]:
    """A varied site built by `sitegen build` at NOW; (site, its public/ folder)."""
    base_url, default = request.param
    site = varied_site(tmp_path / "site", base_url, default)
    return site, build(site)


def build(site: TmpSite, now: datetime = NOW) -> Path:
    result = CliRunner().invoke(
        cli, ["build", "--quiet", "--site", str(site.root / "site.toml"), "--now", now.isoformat()]
    )
    assert result.exit_code == 0, result.output
    return site.public


def on_disk(public: Path, base_url: str, url: str) -> Path:
    """The file an absolute URL of the site is served from (a folder's index.html)."""
    assert url.startswith(base_url), url
    path = public / url.removeprefix(base_url)
    return path / "index.html" if url.endswith("/") else path


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_every_cap_message_validates_and_keeps_the_rules_a_schema_cannot(
    built: tuple[TmpSite, Path],
) -> None:
    site, public = built
    base = site.config.base_url
    messages = {
        p.parent.name: validate_cap(p.read_bytes()) for p in public.glob("alerts/*/cap.xml")
    }
    assert "draft" not in messages and "scheduled" not in messages  # never / not yet published
    assert {"hostile", "update", "cancel", "test", "exercise", "expired", "shapes"} <= set(messages)
    header = {
        alert_id: (cap_text(root, "sender")[0], cap_text(root, "identifier")[0])
        for alert_id, root in messages.items()
    }
    for alert_id, root in messages.items():
        identifier = cap_text(root, "identifier")[0]
        assert not re.search(r"[\s,<&]", identifier), identifier  # CAP 3.2.1
        times = cap_text(root, "sent") + cap_text(root, "info/effective")
        for value in times + cap_text(root, "info/expires"):
            assert CAP_TIME.match(value), (alert_id, value)
        pages = cap_text(root, "info/web")
        languages = cap_text(root, "info/language")
        assert pages[0] == f"{base}alerts/{alert_id}/"  # the primary's page, absolute
        for page, language in zip(pages[1:], languages[1:], strict=True):
            assert page == f"{base}alerts/{alert_id}/{language}/"
        for page in pages:
            assert on_disk(public, base, page).is_file()
        for triple in " ".join(cap_text(root, "references")).split():
            sender, identifier, sent = triple.split(",")  # exactly three parts each
            ref = next(i for i, h in header.items() if h == (sender, identifier))
            assert sent == cap_text(messages[ref], "sent")[0]
    assert cap_text(messages["cancel"], "references")[0].count(" ") == 1  # two triples
    assert cap_text(messages["expired"], "info/instruction") == []
    assert len(cap_text(messages["shapes"], "info/area/polygon")) == 2
    assert cap_text(messages["hostile"], "info/headline")[0] == HOSTILE
    assert cap_text(messages["hostile"], "sent") == ["2026-11-24T22:00:00-00:00"]


def test_times_are_one_instant_in_cap_the_feeds_and_the_page(
    built: tuple[TmpSite, Path],
) -> None:
    site, public = built
    base = site.config.base_url
    feed = SafeET.fromstring((public / "feed.atom").read_bytes())
    for entry in feed.findall(ATOM + "entry"):
        cap_url = next(
            link.get("href", "")
            for link in entry.findall(ATOM + "link")
            if link.get("type") == "application/cap+xml"
        )
        root = validate_cap(on_disk(public, base, cap_url).read_bytes())
        sent = instant(cap_text(root, "sent")[0])
        assert instant(entry.findtext(ATOM + "published") or "") == sent
        page = next(
            link.get("href", "")
            for link in entry.findall(ATOM + "link")
            if link.get("type") == "text/html"
        )
        html = on_disk(public, base, page).read_text("utf-8")
        shown = [instant(t) for t in re.findall(r'<time datetime="([^"]+)"', html)]
        assert sent in shown
        expires = instant(cap_text(root, "info/expires")[0])
        # a Cancel's page gives no expiry: its expires is how long receivers keep the Cancel
        assert expires in shown or cap_text(root, "msgType")[0] == "Cancel"


def links(element: Element) -> list[dict[str, str]]:
    return [dict(link.attrib) for link in element.findall(ATOM + "link")]


def other_language(site: TmpSite) -> str:
    """The site's language that is not its default one (varied sites have two)."""
    config = site.config
    return next(lang for lang in config.languages if lang != config.default_language)


def test_every_feed_is_atom_whose_links_all_lead_to_files(built: tuple[TmpSite, Path]) -> None:
    site, public = built
    config = site.config
    base = config.base_url
    other = other_language(site)
    feed_ids = []
    for name in ("feed.atom", "cap.atom", f"{other}/feed.atom"):
        data = (public / name).read_bytes()
        check_atom(data)
        root = SafeET.fromstring(data)
        language = other if name.startswith(f"{other}/") else config.default_language
        assert root.get(XML_LANG) == language
        home = base if language == config.default_language else f"{base}{other}/"
        own = {x["rel"]: x["href"] for x in links(root) if x["rel"] in ("self", "alternate")}
        assert own == {"self": f"{base}{name}", "alternate": home}
        feed_ids.append(root.findtext(ATOM + "id"))
        for entry in [root, *root.findall(ATOM + "entry")]:
            for link in links(entry):
                assert on_disk(public, base, link["href"]).is_file(), link
        entries = root.findall(ATOM + "entry")
        ids = [e.findtext(ATOM + "id") or "" for e in entries]
        assert all(i.startswith(base) for i in ids)
        for entry in entries:
            caps = [x for x in links(entry) if x.get("type") == "application/cap+xml"]
            assert [x["rel"] for x in caps] == ["alternate"]
            assert caps[0]["href"].startswith(f"{base}alerts/")
            assert caps[0]["href"].endswith("/cap.xml")
    index = SafeET.fromstring((public / "cap.atom").read_bytes())
    listed = [e.findtext(ATOM + "id") or "" for e in index.findall(ATOM + "entry")]
    ids = [url.split("/")[-2] for url in listed]
    # current messages only, newest sent first; the cancel replaced its chain
    assert ids[0] == "cancel" and not {"hostile", "update", "expired", "draft"} & set(ids)
    assert {"test", "exercise", "upcoming", "shapes", "both", "other"} <= set(ids)
    assert len(set(feed_ids)) == 3  # RFC 4287 4.2.6: each feed is a feed of its own


# What a page feed calls its links, in each language (the catalogs' words).
LINK_TITLES = {
    "en": {"CAP index", "Past and cancelled alerts"},
    "ko": {"CAP 색인", "지난 경보 및 해제된 경보"},
}


def test_each_language_has_a_page_feed_of_every_alert(built: tuple[TmpSite, Path]) -> None:
    """Pages in a language other than the default linked /feed.atom, in the default language:
    a citizen reading Korean who subscribed got English entries. Each other site language
    has its own feed, /<lang>/feed.atom, of the same alerts (everyone needs every alert):
    an entry in that language when the alert has a version in it, else in the alert's own
    language, marked with xml:lang and hreflang; the feed's own words in its language. Its
    pages link it."""
    site, public = built
    config = site.config
    default, other = config.default_language, other_language(site)
    base = config.base_url
    main = feed_entries(public)
    theirs = feed_entries(public, f"{other}/feed.atom")
    assert list(theirs) == list(main)  # the same alerts in the same order
    assert "other" in theirs and "both" in theirs and "test" in theirs
    for alert_id, entry in theirs.items():  # one alert, one id, whatever the feed
        assert entry.findtext(ATOM + "id") == main[alert_id].findtext(ATOM + "id")
    pages = {
        alert_id: [x for x in links(entry) if x["type"] == "text/html"]
        for alert_id, entry in theirs.items()
    }
    # its translation, in the feed's language
    assert (theirs["both"].findtext(ATOM + "title") or "").endswith(": Translated")
    assert theirs["both"].get(XML_LANG) is None
    assert pages["both"] == [
        {"rel": "alternate", "type": "text/html", "href": f"{base}alerts/both/{other}/"}
    ]
    assert theirs["other"].get(XML_LANG) is None  # written in the feed's language
    assert main["other"].get(XML_LANG) == other
    # no version in the feed's language: the alert's own, and the entry says which
    assert (theirs["test"].findtext(ATOM + "title") or "").endswith(": Siren test")
    assert theirs["test"].get(XML_LANG) == default
    assert [x.get("hreflang") for x in pages["test"]] == [default]
    # the feed's words in its language; the CAP index it names is in the default one
    root = SafeET.fromstring((public / other / "feed.atom").read_bytes())
    titled = {x["title"]: x for x in links(root) if "title" in x}
    assert set(titled) == LINK_TITLES[other]
    cap_index = next(x for x in titled.values() if x["href"] == f"{base}cap.atom")
    assert cap_index["hreflang"] == default
    archive = next(x for x in titled.values() if x["type"] == "text/html")
    assert archive["href"] == f"{base}{other}/archive/"
    # each page links its language's feed, at the site's base path
    path = urlsplit(base).path
    for page, language in (
        ("index.html", default),
        (f"{other}/index.html", other),
        (f"{other}/archive/index.html", other),
        (f"alerts/both/{other}/index.html", other),
        ("alerts/both/index.html", default),
    ):
        html = (public / page).read_text("utf-8")
        feed = path if language == default else f"{path}{other}/"
        found = re.findall(r'<link rel="alternate" type="application/atom\+xml"[^>]*>', html)
        assert len(found) == 1, page
        assert f'hreflang="{language}"' in found[0] and f'href="{feed}feed.atom"' in found[0]
        assert f'<a href="{feed}feed.atom">' in html, page  # and its footer does


def test_sitemap_lists_every_page_once_with_its_lastmod(built: tuple[TmpSite, Path]) -> None:
    site, public = built
    base = site.config.base_url
    root = SafeET.fromstring((public / "sitemap.xml").read_bytes())
    assert root.tag == SITEMAP + "urlset"
    urls = root.findall(SITEMAP + "url")
    locs = [u.findtext(SITEMAP + "loc") or "" for u in urls]
    assert len(locs) == len(set(locs)) and 0 < len(locs) <= 50_000
    for url in urls:
        loc = url.findtext(SITEMAP + "loc") or ""
        assert on_disk(public, base, loc).is_file(), loc
        lastmod = url.findtext(SITEMAP + "lastmod") or ""
        assert W3C_DATETIME.match(lastmod) and instant(lastmod) <= NOW, lastmod
    pages = {p.parent for p in public.rglob("index.html")}
    assert {on_disk(public, base, loc).parent for loc in locs} == pages
    robots = (public / "robots.txt").read_text("utf-8").splitlines()
    assert f"Sitemap: {base}sitemap.xml" in robots and "User-agent: *" in robots


def test_the_same_content_gives_the_same_bytes(built: tuple[TmpSite, Path]) -> None:
    site, public = built
    again = site.root.parent / "again"
    shutil.copytree(site.root, again, ignore=shutil.ignore_patterns("public", ".sitegen"))
    copy = TmpSite.__new__(TmpSite)
    copy.root = again
    rebuilt = build(copy)
    names = ["feed.atom", f"{other_language(site)}/feed.atom", "cap.atom", "sitemap.xml"]
    names.append("robots.txt")
    names += [str(p.relative_to(public)) for p in public.glob("alerts/*/cap.xml")]
    for name in names:
        assert (public / name).read_bytes() == (rebuilt / name).read_bytes(), name


def feed_entries(public: Path, name: str = "feed.atom") -> dict[str, Element]:
    """A feed's entries by the alert id their CAP link names."""
    root = SafeET.fromstring((public / name).read_bytes())
    found = {}
    for entry in root.findall(ATOM + "entry"):
        cap_url = next(x["href"] for x in links(entry) if x["type"] == "application/cap+xml")
        found[cap_url.split("/")[-2]] = entry
    return found


def test_an_entry_keeps_its_id_when_a_translation_is_added(tmp_site: TmpSite) -> None:
    """RFC 4287 4.2.6: an entry's id never changes. It was the page in the feed's language,
    so the Korean alert whose English translation came ten minutes later was a second entry
    for every reader (`/alerts/x/`, then `/alerts/x/en/`)."""
    korean = alert_text(title="지진").replace("title:", "language: ko\ntitle:")
    tmp_site.add("quake.md", korean)
    before = feed_entries(build(tmp_site))["quake"]
    tmp_site.add("quake.en.md", alert_text(title="Earthquake"))
    after = feed_entries(build(tmp_site))["quake"]
    assert after.findtext(ATOM + "title") == "Severe: Earthquake"  # the reader's language
    assert after.findtext(ATOM + "id") == before.findtext(ATOM + "id")
    assert after.findtext(ATOM + "id") == "https://alerts.test/alerts/quake/"


def test_an_entry_in_another_language_says_so(tmp_site: TmpSite) -> None:
    """A feed is in the site's default language (xml:lang); an alert that has no version in
    it is listed in its own, marked as such (xml:lang, hreflang), as listing pages mark it."""
    tmp_site.add("flood.md", alert_text(title="Flood"))
    tmp_site.add("quake.ko.md", alert_text(title="지진"))
    public = build(tmp_site)
    for name in ("feed.atom", "cap.atom"):
        entries = feed_entries(public, name)
        assert entries["flood"].get(XML_LANG) is None  # the feed's own language
        assert entries["quake"].get(XML_LANG) == "ko", name
        pages = [x for x in links(entries["quake"]) if x["type"] == "text/html"]
        assert [x.get("hreflang") for x in pages] == ["ko"], name


def test_feed_titles_are_in_the_feed_language(tmp_site: TmpSite) -> None:
    """The words a feed adds to a title (phase, status, severity) are in its language, as
    the alert page's title is: a Korean site's feed said "Expired · Severe: 홍수". So are
    the feeds' link titles and the CAP index's subtitle, which were English."""
    toml = tmp_site.root / "site.toml"
    toml.write_text(
        toml.read_text()
        .replace('default_language = "en"', 'default_language = "ko"')
        .replace('["en", "ko"]', '["ko", "en"]')
    )
    tmp_site.add("flood.md", alert_text(title="홍수", expires="2026-11-25T08:00:00+09:00"))
    tmp_site.add("drill.md", alert_text(title="훈련 경보", status="Exercise"))
    public = build(tmp_site)
    entries = feed_entries(public)
    assert entries["flood"].findtext(ATOM + "title") == "만료 · 심각: 홍수"
    assert entries["drill"].findtext(ATOM + "title") == "훈련 · 심각: 훈련 경보"
    # and the feeds' own fixed words: link titles and the CAP index's subtitle
    feed = SafeET.fromstring((public / "feed.atom").read_bytes())
    index = SafeET.fromstring((public / "cap.atom").read_bytes())
    titled = {x["title"] for f in (feed, index) for x in links(f) if "title" in x}
    assert titled == {"CAP 색인", "지난 경보 및 해제된 경보"}
    assert index.findtext(ATOM + "subtitle") == "발효 중인 경보의 CAP 1.2 메시지"


def test_the_page_feed_carries_the_site_description(tmp_site: TmpSite) -> None:
    """docs/content.md: `description` is "for search engines and feed readers"; the feed had
    none. It is the feed's <subtitle> (RFC 4287 4.2.12), and no subtitle when not set."""
    tmp_site.add("flood.md", alert_text())
    feed = SafeET.fromstring((build(tmp_site) / "feed.atom").read_bytes())
    assert feed.find(ATOM + "subtitle") is None
    toml = tmp_site.root / "site.toml"
    said = "Official alerts for Seoul & Incheon <all districts>."
    toml.write_text(toml.read_text().replace("[site]\n", f'[site]\ndescription = "{said}"\n'))
    feed = SafeET.fromstring((build(tmp_site) / "feed.atom").read_bytes())
    assert feed.findtext(ATOM + "subtitle") == said
    check_atom((tmp_site.public / "feed.atom").read_bytes())
