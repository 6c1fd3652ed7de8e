"""Building the example site: golden output, determinism, atomic writes, safe Markdown."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitegen.build import BuildReport, build_site, compressed_size
from sitegen.errors import BuildError, ContentError
from sitegen_fixtures import NOW, REPO, TmpSite, alert_text

GOLDEN = REPO / "tests" / "golden" / "example"


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_golden_bundle(built_site: TmpSite, request: pytest.FixtureRequest) -> None:
    """The example site builds to exactly the files in tests/golden/example/.

    After an intended change run `pytest tests/test_build.py --update-golden` and review
    the diff of tests/golden/ before committing it.
    """
    actual = tree(built_site.public)
    if request.config.getoption("--update-golden"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, data in actual.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_bytes(data)
    expected = tree(GOLDEN)
    assert sorted(actual) == sorted(expected), "files differ; --update-golden if intended"
    for rel, data in expected.items():
        assert actual[rel].decode() == data.decode(), f"{rel} differs; --update-golden if intended"


def test_every_url_in_the_design_is_built(built_site: TmpSite) -> None:
    files = set(tree(built_site.public))
    for rel in (
        "index.html",
        "archive/index.html",
        "feed.atom",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        ".sitegen/manifest.json",
        "ko/index.html",
        "alerts/2026-09-12-gyeongju-earthquake/index.html",
        "alerts/2026-09-12-gyeongju-earthquake/en/index.html",
        "areas/kr-47/index.html",
        "areas/index.html",
        "ko/areas/index.html",
    ):
        assert rel in files, rel


def test_two_builds_are_byte_identical(example_site: TmpSite, tmp_path: Path) -> None:
    example_site.build()
    first = tree(example_site.public)
    shutil.rmtree(example_site.public)
    example_site.build()
    assert tree(example_site.public) == first


def test_the_report_names_the_heaviest_page(example_site: TmpSite) -> None:
    """A build reports the page largest after brotli (computed on threads while the state is
    made), and a build with nothing to do reports it again from the state."""
    from sitegen.build import build_bundle, largest_page

    bundle, _, _ = build_bundle(example_site.config, NOW)
    expected = largest_page(bundle)
    assert expected[1] > 0
    assert example_site.build().largest_page == expected
    assert example_site.build().largest_page == expected  # nothing to do


def test_a_later_clock_with_no_content_change_changes_nothing(example_site: TmpSite) -> None:
    """'Last updated' and feed dates come from content, so re-publishing uploads nothing."""
    example_site.build(NOW)
    first = tree(example_site.public)
    example_site.build(NOW.replace(hour=13))
    assert tree(example_site.public) == first


def test_manifest_lists_every_file_with_hash_and_headers(built_site: TmpSite) -> None:
    manifest = json.loads((built_site.public / ".sitegen/manifest.json").read_text())
    files = tree(built_site.public)
    del files[".sitegen/manifest.json"]
    assert sorted(manifest["files"]) == sorted(files)
    for rel, entry in manifest["files"].items():
        assert entry["sha256"] == hashlib.sha256(files[rel]).hexdigest()
        assert entry["size"] == len(files[rel])
        assert entry["cache_class"] == "alert"
        assert entry["cache_control"].startswith("public, max-age=60")
    assert manifest["files"]["index.html"]["content_type"] == "text/html; charset=utf-8"
    assert manifest["files"]["feed.atom"]["content_type"].startswith("application/atom+xml")


def test_failed_build_leaves_previous_bundle_intact(example_site: TmpSite) -> None:
    example_site.build()
    before = tree(example_site.public)
    (example_site.root / "templates" / "alert.html").write_text("{{ no_such_variable }}")
    with pytest.raises(
        BuildError, match=r"templates/alert.html:1: 'no_such_variable' is undefined"
    ):
        example_site.build()
    assert tree(example_site.public) == before


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ("{{ alert.titel }}", "'sitegen.model.Alert object' has no attribute 'titel'"),
        ("{{ alert.title + 1 }}", 'can only concatenate str (not "int") to str'),
        ("{{ alert.title|localtime }}", "AttributeError in what this line calls: 'str' object"),
    ],
)
def test_a_template_mistake_names_its_file_and_line(
    example_site: TmpSite, mistake: str, message: str
) -> None:
    """A template author's mistake is theirs to fix, at a line: not "internal error: a bug in
    sitegen" (TypeError), nor a template name without the line (a misspelt attribute)."""
    base = example_site.root / "templates" / "base.html"
    lines = base.read_text("utf-8").split("\n")
    row = next(i for i, text in enumerate(lines) if "<main" in text) + 1
    lines.insert(row, f"{{% if alert is defined %}}{mistake}{{% endif %}}")
    base.write_text("\n".join(lines), "utf-8")
    with pytest.raises(BuildError) as caught:
        example_site.build()
    assert caught.value.format_message().startswith(f"templates/base.html:{row + 1}: {message}")
    assert "(while rendering /alerts/" in caught.value.format_message()


def test_invalid_content_fails_the_build_with_every_problem(example_site: TmpSite) -> None:
    example_site.build()
    before = tree(example_site.public)
    example_site.add("broken.md", alert_text(severity="Awful").replace("Expected", "Soon"))
    with pytest.raises(ContentError) as caught:
        example_site.build()
    assert len(caught.value.problems) == 2
    assert tree(example_site.public) == before


def test_template_syntax_error_names_template_and_line(example_site: TmpSite) -> None:
    (example_site.root / "templates" / "404.html").write_text("ok\n{% if %}\n")
    with pytest.raises(BuildError, match=r"templates/404.html:2: "):
        example_site.build()


HOSTILE_BODY = """\
<script>alert('body')</script>
<img src=x onerror="alert('img')">
[click](javascript:alert('link')) [data](data:text/html,<script>alert(1)</script>)
[tab](java\tscript:alert(1)) <a href="javascript:alert(2)">raw link</a>
{{ config.sender }} {% raw %}x{% endraw %}
![pic](https://evil.example/track.png)

## What to do

- [ok](https://example.org/help)
"""


class Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


def test_hostile_markdown_never_reaches_the_page(tmp_site: TmpSite) -> None:
    text = alert_text(title="'\"><script>alert(1)</script>'").split("---\n")
    tmp_site.add("evil.md", "---\n" + text[1] + "---\n" + HOSTILE_BODY)
    tmp_site.build()
    page = (tmp_site.public / "alerts/evil/index.html").read_text()
    tags = Tags()
    tags.feed(page)
    assert not {"script", "img", "iframe", "object"} & {tag for tag, _ in tags.seen}
    for tag, attrs in tags.seen:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert not (value or "").lower().startswith(("javascript:", "data:text")), (tag, value)
    assert "evil.example" not in page and "alerts@test.invalid" not in page
    assert "&lt;script&gt;alert(&#39;body&#39;)" in page  # shown as text, not run
    assert "{{ config.sender }}" in page  # Jinja syntax in content is text, not a template
    assert '<a href="https://example.org/help" rel="nofollow noopener noreferrer">ok</a>' in page


def test_drafts_are_checked_but_never_built(tmp_site: TmpSite) -> None:
    tmp_site.add("draft.md", alert_text(status="Draft"))
    tmp_site.build()
    assert not (tmp_site.public / "alerts/draft").exists()
    assert "draft" not in (tmp_site.public / "index.html").read_text()


def test_home_lists_active_alerts_most_severe_first(tmp_site: TmpSite) -> None:
    tmp_site.add("minor.md", alert_text(title="Minor one", severity="Minor"))
    tmp_site.add("extreme.md", alert_text(title="Extreme one", severity="Extreme"))
    tmp_site.add("old.md", alert_text(title="Old one", expires="2026-11-25T08:00:00+09:00"))
    tmp_site.build()
    home = (tmp_site.public / "index.html").read_text()
    assert home.index("Extreme one") < home.index("Minor one")
    assert "Old one" not in home
    assert "Old one" in (tmp_site.public / "archive/index.html").read_text()


def test_empty_site_says_no_active_alerts(tmp_site: TmpSite) -> None:
    tmp_site.build()
    assert "No alerts are in force right now." in (tmp_site.public / "index.html").read_text()


def test_update_replaces_and_cancel_archives(tmp_site: TmpSite) -> None:
    tmp_site.add("a.md", alert_text(title="First"))
    tmp_site.add(
        "b.md",
        alert_text(
            title="Second", msg_type="Update", references="[a]", sent="2026-11-25T08:00:00+09:00"
        ),
    )
    tmp_site.build()
    home = (tmp_site.public / "index.html").read_text()
    assert "Second" in home and "First" not in home
    tmp_site.add(
        "c.md",
        alert_text(
            title="Called off",
            msg_type="Cancel",
            references="[b]",
            sent="2026-11-25T09:00:00+09:00",
        ),
    )
    tmp_site.build()
    assert "Second" not in (tmp_site.public / "index.html").read_text()
    first = (tmp_site.public / "alerts/a/index.html").read_text()
    assert "Cancelled" in first and 'href="/alerts/c/"' in first


def test_translation_pages_link_each_other_with_hreflang(built_site: TmpSite) -> None:
    ko = (built_site.public / "alerts/2026-09-12-gyeongju-earthquake/index.html").read_text()
    en = (built_site.public / "alerts/2026-09-12-gyeongju-earthquake/en/index.html").read_text()
    assert '<html lang="ko"' in ko and '<html lang="en"' in en
    url = "https://alerts.example.gov/alerts/2026-09-12-gyeongju-earthquake/"
    for page in (ko, en):
        assert f'hreflang="ko" href="{url}"' in page
        assert f'hreflang="en" href="{url}en/"' in page


def test_every_page_is_one_request_and_under_budget(built_site: TmpSite) -> None:
    for path in built_site.public.rglob("*.html"):
        html = path.read_text()
        assert '<link rel="icon" href="data:,">' in html
        assert "<script" not in html and 'rel="stylesheet"' not in html and "<img" not in html
        assert '<meta name="viewport"' in html and '<html lang="' in html
        assert compressed_size(path.read_bytes()) <= 14_000, path


def test_output_dir_cannot_escape_the_site(tmp_site: TmpSite) -> None:
    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("sender =", 'output_dir = "../elsewhere"\nsender ='))
    with pytest.raises(Exception, match="output_dir must be a folder inside the site"):
        build_site(tmp_site.config, NOW)


def test_cancel_sent_in_the_future_cancels_nothing_yet(tmp_site: TmpSite) -> None:
    tmp_site.add("a.md", alert_text(title="Still on"))
    tmp_site.add(
        "c.md",
        alert_text(
            title="Called off",
            msg_type="Cancel",
            references="[a]",
            sent="2026-11-25T20:00:00+09:00",
        ),
    )
    tmp_site.build()
    assert "Still on" in (tmp_site.public / "index.html").read_text()
    page = (tmp_site.public / "alerts/a/index.html").read_text()
    assert "Cancelled" not in page


_GC_PROBE = """
import gc, sys
from sitegen.build import build_site
from sitegen.config import load_config
from pathlib import Path
from datetime import datetime
build_site(load_config(Path(sys.argv[1])), datetime.fromisoformat(sys.argv[2]),
           linger=sys.argv[3] == "linger")
print(gc.isenabled(), gc.get_count()[0], gc.get_freeze_count())
"""


@pytest.mark.parametrize("linger", ["linger", "return"])
def test_the_collector_is_back_on_after_a_build(example_site: TmpSite, linger: str) -> None:
    """The CLI's build (linger) freezes what it made before turning the collector back on, so
    its first collection does not walk every object of the build (~20 ms of a one-alert
    rebuild at 10,000 alerts); a library caller's objects are never frozen (they must stay
    collectable in a long-running process such as `sitegen serve`)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _GC_PROBE,
            str(example_site.root / "site.toml"),
            NOW.isoformat(),
            linger,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    enabled, young, frozen = done.stdout.split()
    assert enabled == "True"
    if linger == "linger":
        assert int(frozen) > 10_000 and int(young) < 1_000
    else:
        assert int(frozen) == 0


def test_compiled_templates_cover_every_template_a_site_renders(example_site: TmpSite) -> None:
    """A build compiles the templates once before forking render workers (render.
    compile_templates); a template it left out would be compiled again in every worker."""
    from sitegen.content import require_site
    from sitegen.render import SiteView, compile_templates, make_environment, site_units

    config = example_site.config
    site, _ = require_site(config, NOW)
    environments = {lang: make_environment(config, lang) for lang in config.languages}
    compile_templates(environments)
    loads: list[str] = []
    for env in environments.values():
        loader = env.loader
        assert loader is not None

        def get_source(env: object, name: str, loader: object = loader) -> object:
            loads.append(name)
            return type(loader).get_source(loader, env, name)  # type: ignore[arg-type]

        loader.get_source = get_source  # type: ignore[method-assign]
    units = site_units(SiteView(site, config), environments)
    files = [path for unit in units for path, _ in unit.render()]
    assert any(path.endswith("cap.xml") for path in files) and "feed.atom" in files
    assert {p.rsplit("/", 1)[-1] for p in files} >= {"index.html", "404.html", "sitemap.xml"}
    assert loads == []


def test_the_sitemap_gives_each_page_its_last_change(built_site: TmpSite) -> None:
    """One <lastmod> per URL, from content: the site's `updated` for listing pages (their
    footer shows it) and each alert's own last change (here an expiry) for its pages."""
    import re
    from datetime import datetime

    sitemap = (built_site.public / "sitemap.xml").read_text("utf-8")
    rows = re.findall(r"<url><loc>([^<]+)</loc><lastmod>([^<]+)</lastmod></url>", sitemap)
    assert len(rows) == sitemap.count("<url>") > 20
    updated = json.loads((built_site.public / ".sitegen/manifest.json").read_text())["updated"]
    lastmod = {loc.removeprefix("https://alerts.example.gov"): when for loc, when in rows}
    assert lastmod["/"] == lastmod["/ko/archive/"] == updated
    heat = "/alerts/2026-08-03-seoul-heat-advisory/"
    assert lastmod[heat] == "2026-08-06T18:00:00+09:00"  # expired then, well after it was sent
    for when in lastmod.values():
        assert datetime.fromisoformat(when) <= datetime.fromisoformat(updated)
    for url in lastmod:
        assert (built_site.public / url.lstrip("/") / "index.html").is_file(), url


def test_the_areas_index_lists_every_area_by_name(built_site: TmpSite) -> None:
    """/areas/ in every language: each area once, by its name in that language, with its
    area page's count of alerts in force; linked from the home page and every footer, and
    in the sitemap."""
    import re

    public = built_site.public
    sitemap = (public / "sitemap.xml").read_text("utf-8")
    for prefix in ("", "ko/"):
        html = (public / prefix / "areas" / "index.html").read_text("utf-8")
        rows = re.findall(r'<li><a href="/([^"]*)">([^<]+)</a>\n<p class="meta">([^<]+)</p>', html)
        slugs = sorted(p.name for p in (public / prefix / "areas").iterdir() if p.is_dir())
        assert sorted(url.rsplit("/", 2)[-2] for url, _, _ in rows) == slugs
        names = [name for _, name, _ in rows]
        assert names == sorted(names, key=str.casefold)
        for url, name, count in rows:
            area = (public / url / "index.html").read_text("utf-8")
            assert f"<h1>{name}</h1>" in area
            shown = area.count('<span class="sev ')
            assert re.match(rf"(발효 중인 경보 )?{shown}( alerts? in force|건)$", count), count
        home = (public / prefix / "index.html").read_text("utf-8")
        assert f'<a href="/{prefix}areas/">' in home
        assert f"<loc>https://alerts.example.gov/{prefix}areas/</loc>" in sitemap
    korean = (public / "ko" / "areas" / "index.html").read_text("utf-8")
    assert ">경상북도</a>" in korean and "<h1>지역</h1>" in korean
    assert "<title>지역 · " in korean
    archive = (public / "archive" / "index.html").read_text("utf-8")
    assert '<a href="/areas/">Areas</a>' in archive.split("<footer>", 1)[1]


def test_the_areas_index_is_paginated(tmp_site: TmpSite, monkeypatch: pytest.MonkeyPatch) -> None:
    from sitegen import render

    monkeypatch.setattr(render, "LIST_PAGE_SIZE", 2)
    for name, code in (("Seoul", "KR-11"), ("Busan", "KR-26"), ("Ulsan", "KR-31")):
        text = alert_text(title=f"Flood in {name}").replace("Seoul", name).replace("KR-11", code)
        tmp_site.add(f"{code.lower()}.md", text)
    tmp_site.build()
    first = (tmp_site.public / "areas" / "index.html").read_text("utf-8")
    second = (tmp_site.public / "areas" / "page" / "2" / "index.html").read_text("utf-8")
    assert first.index(">Busan<") < first.index(">Seoul<") and ">Ulsan<" not in first
    assert ">Ulsan<" in second and 'href="/areas/" rel="prev"' in second


def test_listing_titles_are_in_the_page_language(built_site: TmpSite) -> None:
    """A title Python puts on a page is translated as the page's own text is."""
    korean = (built_site.public / "ko" / "archive" / "index.html").read_text("utf-8")
    assert "<title>지난 경보 · 국가 재난 안전 경보</title>" in korean


def test_a_base_url_with_a_path_prefixes_every_link(tmp_site: TmpSite) -> None:
    """base_url https://www.example.gov/emergency/: the bundle's files are where they are
    for any base (the folder is what is served at /emergency/), and every link, absolute URL,
    feed, sitemap entry and the 404 page's links carry the path, so the site works there."""
    import re

    toml = tmp_site.root / "site.toml"
    base = "https://www.example.gov/emergency/"
    toml.write_text(toml.read_text().replace("https://alerts.test/", base))
    tmp_site.add("flood.md", alert_text())
    tmp_site.add("later.md", alert_text(title="Later", expires="2026-11-25T09:00:00+09:00"))
    tmp_site.build()
    files = tree(tmp_site.public)
    assert "alerts/flood/index.html" in files and "areas/index.html" in files
    for rel, data in files.items():
        text = data.decode("utf-8", "replace")
        for href in re.findall(r'(?:href|src)="([^"#][^"]*)"', text):
            if href.startswith("data:"):
                continue
            if href.startswith("/"):
                assert href.startswith("/emergency/"), (rel, href)
                target = href.removeprefix("/emergency/")
                assert target in files or target + "index.html" in files, (rel, href)
            else:
                assert href.startswith(base), (rel, href)
        for url in re.findall(r"<(?:loc|id)>([^<]+)</", text):
            assert url.startswith(base), (rel, url)
    not_found = files["404.html"].decode()
    assert 'href="/emergency/"' in not_found
    robots = files["robots.txt"].decode()
    assert "Allow: /emergency/\n" in robots and "https://www.example.gov/robots.txt" in robots
    assert f"Sitemap: {base}sitemap.xml" in robots
    cap = files["alerts/flood/cap.xml"].decode()
    assert f"<web>{base}alerts/flood/</web>" in cap


@pytest.mark.parametrize(
    "base_url", ["https://x.gov/emergency/?lang=en", "https://x.gov/#top", "https://x.gov/a?"]
)
def test_a_base_url_with_a_query_or_fragment_is_refused(tmp_site: TmpSite, base_url: str) -> None:
    from sitegen.errors import ConfigError

    toml = tmp_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("https://alerts.test/", base_url))
    with pytest.raises(ConfigError, match="no query or fragment"):
        tmp_site.config  # noqa: B018 - loading it is the test


def test_summary_counts_read_as_english() -> None:
    report = BuildReport(1, 2048, 1, 0.5, (), ("index.html", 900), pages=1, rendered=1)
    assert report.summary().startswith("built 1 page, 1 file (2 KiB) in 0.50 s: 1 written,")
    many = BuildReport(22_667, 2**25, 0, 0.2, (), ("index.html", 900), pages=12_345)
    assert many.summary().startswith("built 12,345 pages, 22,667 files (32.0 MiB) in 0.20 s:")


def test_a_template_the_site_lacks_comes_from_sitegen_s_theme(example_site: TmpSite) -> None:
    """A site made by an older `sitegen init` has no templates/areas.html nor
    sitemap-index.xml: it builds as if it had sitegen's, and stays byte-identical."""
    example_site.build()
    before = tree(example_site.public)
    (example_site.root / "templates" / "areas.html").unlink()
    (example_site.root / "templates" / "sitemap-index.xml").unlink()
    report = example_site.build()
    assert tree(example_site.public) == before and report.written == 0


def test_a_mistake_met_in_sitegen_s_theme_says_where_it_is(
    example_site: TmpSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen import render

    theme = tmp_path / "theme"
    shutil.copytree(REPO / "templates", theme)
    (theme / "areas.html").write_text(
        "{% extends 'base.html' %}\n{% block main %}{{ 1 + '' }}{% endblock %}\n", "utf-8"
    )
    monkeypatch.setattr(render, "DEFAULT_TEMPLATES", theme)
    (example_site.root / "templates" / "areas.html").unlink()
    with pytest.raises(BuildError) as caught:
        example_site.build()
    assert caught.value.format_message().startswith(
        "templates/areas.html:2: in sitegen's own theme (your templates/ has no such file): "
        "unsupported operand type"
    )


def test_an_empty_templates_folder_builds_with_sitegen_s_theme(example_site: TmpSite) -> None:
    example_site.build()
    before = tree(example_site.public)
    shutil.rmtree(example_site.root / "templates")
    with pytest.raises(BuildError, match=r"templates folder not found; create it \(it may stay"):
        example_site.build()
    (example_site.root / "templates").mkdir()
    example_site.build()
    assert tree(example_site.public) == before
