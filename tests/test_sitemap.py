"""The sitemap within sitemaps.org's limits (50,000 URLs and 50 MB a file): past them,
/sitemap.xml is a sitemap index of /sitemaps/1.xml, /sitemaps/2.xml, … Tests lower the limits."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from sitegen import render
from sitegen.config import SiteConfig
from sitegen.errors import BuildError
from sitegen_fixtures import REPO, TmpSite

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "https://alerts.example.gov/"
GOLDEN = REPO / "tests" / "golden" / "example" / "sitemap.xml"


def urls_of(path: Path) -> list[tuple[str, str]]:
    """(loc, lastmod) of every <url> of a urlset, in order; the file must be one."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{NS}urlset"
    rows = [(u.findtext(f"{NS}loc", ""), u.findtext(f"{NS}lastmod", "")) for u in root]
    assert all(u.tag == f"{NS}url" for u in root) and all(loc and when for loc, when in rows)
    return rows


def index_of(path: Path) -> list[tuple[str, str]]:
    """(loc, lastmod) of every <sitemap> of a sitemap index."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{NS}sitemapindex"
    assert all(s.tag == f"{NS}sitemap" for s in root)
    return [(s.findtext(f"{NS}loc", ""), s.findtext(f"{NS}lastmod", "")) for s in root]


def newest(rows: list[tuple[str, str]]) -> str:
    return max((when for _, when in rows), key=datetime.fromisoformat)


def test_past_the_limit_the_sitemap_is_an_index_of_its_parts(
    example_site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every URL exactly once, in URL order across parts of at most the limit; each part
    listed with its newest lastmod; served as XML; robots.txt still names /sitemap.xml."""
    whole = urls_of(GOLDEN)
    assert len(whole) == 31  # the example site: parts of 5 make 7, the last of 1
    monkeypatch.setattr(render, "SITEMAP_MAX_URLS", 5)
    example_site.build()
    public = example_site.public
    listed = index_of(public / "sitemap.xml")
    assert [loc for loc, _ in listed] == [f"{BASE}sitemaps/{n}.xml" for n in range(1, 8)]
    assert sorted(p.name for p in (public / "sitemaps").iterdir()) == sorted(
        f"{n}.xml" for n in range(1, 8)
    )
    seen: list[tuple[str, str]] = []
    for loc, lastmod in listed:
        rows = urls_of(public / loc.removeprefix(BASE))
        assert 1 <= len(rows) <= 5 and lastmod == newest(rows)
        seen += rows
    assert seen == whole  # each URL once, with the lastmod it had in the single sitemap
    assert [len(urls_of(public / f"sitemaps/{n}.xml")) for n in range(1, 8)] == [5] * 6 + [1]
    assert f"Sitemap: {BASE}sitemap.xml" in (public / "robots.txt").read_text("utf-8")
    manifest = json.loads((public / ".sitegen/manifest.json").read_text("utf-8"))["files"]
    for path in ["sitemap.xml", *(f"sitemaps/{n}.xml" for n in range(1, 8))]:
        assert manifest[path]["content_type"] == "application/xml; charset=utf-8"
        assert manifest[path]["cache_class"] == "alert"


@pytest.mark.parametrize(("limit", "parts"), [(31, 0), (50_000, 0), (30, 2), (16, 2), (15, 3)])
def test_the_sitemap_is_one_file_up_to_the_limit(
    example_site: TmpSite, monkeypatch: pytest.MonkeyPatch, limit: int, parts: int
) -> None:
    """At the limit and under it the sitemap is the urlset it always was, byte for byte."""
    monkeypatch.setattr(render, "SITEMAP_MAX_URLS", limit)
    example_site.build()
    sitemap = example_site.public / "sitemap.xml"
    if not parts:
        assert sitemap.read_bytes() == GOLDEN.read_bytes()
        assert not (example_site.public / "sitemaps").exists()
    else:
        assert len(index_of(sitemap)) == parts


def test_parts_keep_under_the_byte_limit(
    example_site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long URLs fill a part's bytes before its count: it ends there."""
    monkeypatch.setattr(render, "SITEMAP_MAX_BYTES", 2_000)
    example_site.build()
    public = example_site.public
    listed = index_of(public / "sitemap.xml")
    assert len(listed) > 2
    seen: list[tuple[str, str]] = []
    for loc, _ in listed:
        part = public / loc.removeprefix(BASE)
        assert part.stat().st_size <= 2_000
        seen += urls_of(part)
    assert seen == urls_of(GOLDEN)


def test_parts_cut_by_count_alone_are_those_counted_byte_by_byte(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While no part can reach the byte limit (bounded from the longest URL) the URLs are cut
    by count alone, without counting each one's bytes: the same parts as counting them."""
    entries = [(loc.removeprefix(BASE[:-1]), when) for loc, when in urls_of(GOLDEN)]
    config = cast(SiteConfig, SimpleNamespace(base_url=BASE))
    monkeypatch.setattr(render, "SITEMAP_MAX_URLS", 5)
    by_count = render._sitemap_parts(config, entries)
    assert by_count == [entries[i : i + 5] for i in range(0, 31, 5)]
    # room for 5 rows of up to 140 bytes (the longest is 139), not for the bound's 5 x ~500
    monkeypatch.setattr(render, "SITEMAP_MAX_BYTES", render._SITEMAP_FRAME + 5 * 140)
    assert render._sitemap_parts(config, entries) == by_count
    monkeypatch.setattr(render, "SITEMAP_MAX_BYTES", render._SITEMAP_FRAME + 5 * 130)
    assert render._sitemap_parts(config, entries) != by_count  # the bytes were counted


def test_a_template_that_overflows_a_sitemap_is_refused(
    example_site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The split counts the bytes sitegen's template writes a URL; a template that writes far
    more fails the build, naming the file, instead of publishing a sitemap crawlers drop."""
    monkeypatch.setattr(render, "SITEMAP_MAX_BYTES", 4_000)
    template = example_site.root / "templates" / "sitemap.xml"
    template.unlink()  # a copy, not the repo's link target
    text = (REPO / "templates" / "sitemap.xml").read_text("utf-8")
    template.write_text(text.replace("</url>", "<!-- {{ 'x' * 200 }} --></url>"), "utf-8")
    with pytest.raises(
        BuildError, match=r"templates/sitemap\.xml: /sitemaps/1\.xml would be [0-9,]+ bytes"
    ):
        example_site.build()


@pytest.mark.parametrize(
    ("lastmods", "expected"),
    [
        (["2026-11-25T07:00:00+09:00", "2026-11-24T23:00:00+00:00"], "2026-11-24T23:00:00+00:00"),
        (["2026-11-25T07:00:00+09:00", "2026-11-24T21:00:00+00:00"], "2026-11-25T07:00:00+09:00"),
        (["2026-11-24T22:00:00+00:00", "2026-11-25T07:00:00+09:00"], "2026-11-24T22:00:00+00:00"),
    ],
)
def test_a_part_is_as_new_as_its_newest_page(lastmods: list[str], expected: str) -> None:
    """Compared as instants, not as text; of two equal instants, the first URL's."""
    assert render._newest([(f"/{i}/", when) for i, when in enumerate(lastmods)]) == expected
