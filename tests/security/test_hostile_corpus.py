"""Every hostile file is refused with a located error or renders inertly (issue 8 §4)."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hostile_corpus import CORPUS, Inert, Rejected

from sitegen.content import load_site
from sitegen_fixtures import NOW, TmpSite

INERT = [(name, data) for name, data, expect in CORPUS if isinstance(expect, Inert)]


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 30
    assert len({name for name, _, _ in CORPUS}) == len(CORPUS)
    # docs/reliability.md says how many there are (it said 42 when there were 49)
    reliability_md = Path(__file__).parents[2] / "docs" / "reliability.md"
    assert f"≥ 30 hostile files ({len(CORPUS)})" in reliability_md.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [(n, d, e.words) for n, d, e in CORPUS if isinstance(e, Rejected)],
    ids=[n for n, _, e in CORPUS if isinstance(e, Rejected)],
)
def test_rejected_with_file_line_and_reason(
    tmp_site: TmpSite, name: str, data: bytes, words: str
) -> None:
    tmp_site.add(name, data)
    errors = load_site(tmp_site.config, NOW).errors
    mine = [p for p in errors if p.path == f"content/alerts/{name}"]
    assert mine, f"{name} was accepted"
    assert any(words in p.message for p in mine), [str(p) for p in mine]
    assert all(str(p).startswith(f"content/alerts/{name}") for p in mine)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def active_content(page: str) -> list[str]:
    """Anything in the page's markup that could run, load or redirect."""
    parser = Tags()
    parser.feed(page)
    found = []
    for tag, attrs in parser.tags:
        if tag in {"script", "iframe", "object", "embed", "img", "svg", "base", "form", "input"}:
            found.append(tag)
        if tag == "meta" and "http-equiv" in attrs:
            found.append("meta http-equiv")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"{tag} {name}")
            if name in {"href", "src", "action"} and (value or "").lower().lstrip().startswith(
                ("javascript", "data:text", "vbscript")
            ):
                found.append(f"{tag} {name}={value}")
    return found


def test_inert_files_build_and_nothing_active_reaches_any_page(tmp_site: TmpSite) -> None:
    for name, data in INERT:
        tmp_site.add(name, data)
    report = tmp_site.build()
    assert report.files > len(INERT)
    for path in sorted(tmp_site.public.rglob("*")):
        if path.suffix in {".html", ".atom", ".xml", ".txt"}:
            text = path.read_text("utf-8")
            if path.suffix == ".html":
                assert active_content(text) == [], path
            assert "<script" not in text, path


def test_build_never_writes_outside_its_output_folder(tmp_site: TmpSite, tmp_path: Path) -> None:
    for name, data in INERT:
        tmp_site.add(name, data)

    def outside_output() -> set[Path]:
        # .sitegen/ beside site.toml is the build cache: the one other place a build writes.
        return {
            p for p in tmp_path.rglob("*") if "public" not in p.parts and ".sitegen" not in p.parts
        }

    before = outside_output()
    tmp_site.build()
    assert outside_output() == before


def test_symlink_out_of_content_is_refused(tmp_site: TmpSite, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_bytes(INERT[0][1])
    os.symlink(outside, tmp_site.root / "content" / "alerts" / "link.md")
    errors = load_site(tmp_site.config, NOW).errors
    assert [(p.path, "outside content/" in p.message) for p in errors] == [
        ("content/alerts/link.md", True)
    ]


def test_symlinked_folder_out_of_content_is_refused(tmp_site: TmpSite, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "leak.md").write_bytes(INERT[0][1])
    os.symlink(folder, tmp_site.root / "content" / "alerts" / "linked")
    errors = load_site(tmp_site.config, NOW).errors
    assert errors and all("outside content/" in p.message for p in errors)
