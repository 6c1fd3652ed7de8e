"""A sitemap past its limit is an index of sitemaps/N.xml: the parts are served as XML in the
alert cache class, with the indexes and feeds, and each goes up before the index listing it;
parts the site no longer has are deleted after the index stops listing them."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from bundles import ALERT_CC
from test_publish_flow import run

from publish.apply import upload_batches
from publish.local import read_local
from publish.plan import Limits, Plan, group_of, make_plan
from publish.remote import read_remote
from publish.targets.folder import FolderTarget
from sitegen import render
from sitegen.cache import CACHE_DIR
from sitegen_fixtures import TmpSite, alert_text


def batch_of(plan: Plan) -> dict[str, int]:
    """Each uploaded path → the number of its batch (batches go up one after the other)."""
    return {u.path: n for n, (_, batch) in enumerate(upload_batches(plan)) for u in batch}


def parts(paths: Iterable[str]) -> list[str]:
    return sorted(p for p in paths if p.startswith("sitemaps/"))


def test_sitemap_parts_are_xml_and_go_up_before_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "SITEMAP_MAX_URLS", 5)
    site = TmpSite(tmp_path / "site")
    for n in range(4):
        site.add(f"flood-{n}.md", alert_text(title=f"Flood {n}"))
    site.build()
    target = FolderTarget(tmp_path / "bucket")
    local = read_local(site.public)
    first = parts(local.files)
    assert len(first) >= 2
    for path in ["sitemap.xml", *first]:
        entry = local.files[path]
        assert entry.content_type == "application/xml; charset=utf-8"
        assert (entry.cache_class, entry.cache_control) == ("alert", ALERT_CC)
        assert group_of(path) == 2  # other pages and files
    plan = make_plan(local, read_remote(target), Limits())
    batches = batch_of(plan)
    assert all(batches[p] < batches["sitemap.xml"] < batches["index.html"] for p in first)
    run(site.public, target)

    # more alerts: a new part, changed ones and a changed index; the index still goes last
    for n in range(4, 10):
        site.add(f"flood-{n}.md", alert_text(title=f"Flood {n}", sent="2026-11-25T08:00:00+09:00"))
    site.build()
    plan = make_plan(read_local(site.public), read_remote(target), Limits())
    batches = batch_of(plan)
    grown = parts(batches)
    assert len(grown) > len(first) and "sitemap.xml" in batches
    assert all(batches[p] < batches["sitemap.xml"] for p in grown)
    run(site.public, target)

    # under the limit: the index becomes the one sitemap, the parts are deleted after it (the
    # limit is code, and new code rebuilds everything: so does a build without its cache)
    monkeypatch.setattr(render, "SITEMAP_MAX_URLS", 50_000)
    shutil.rmtree(site.root / CACHE_DIR)
    site.build()
    plan = make_plan(read_local(site.public), read_remote(target), Limits())
    assert "sitemap.xml" in batch_of(plan) and parts(plan.deletes) == grown
    run(site.public, target)
    bucket = tmp_path / "bucket"
    assert parts(p.relative_to(bucket).as_posix() for p in bucket.rglob("*")) == []
