"""Each site language's page feed (/feed.atom, /ko/feed.atom) is served as Atom in the alert
cache class, goes up with the other feeds before the home page, and is invalidated when an
alert it lists changes."""

from __future__ import annotations

from pathlib import Path

from bundles import ALERT_CC
from test_publish_flow import run

from publish.apply import upload_batches
from publish.local import read_local
from publish.plan import Limits, group_of, make_plan
from publish.remote import read_remote
from publish.targets.folder import FolderTarget
from sitegen_fixtures import TmpSite, alert_text

FEEDS = ("feed.atom", "ko/feed.atom")


def test_each_language_feed_is_published_as_atom_and_invalidated(tmp_path: Path) -> None:
    site = TmpSite(tmp_path / "site")
    site.add("flood.md", alert_text(title="Flood"))
    site.add("flood.ko.md", alert_text(title="홍수"))
    site.build()
    local = read_local(site.public)
    for path in FEEDS:
        entry = local.files[path]
        assert entry.content_type == "application/atom+xml; charset=utf-8"
        assert (entry.cache_class, entry.cache_control) == ("alert", ALERT_CC)
        assert group_of(path) == 2  # other pages and files
    target = FolderTarget(tmp_path / "bucket")
    plan = make_plan(local, read_remote(target), Limits())
    batches = {u.path: n for n, (_, batch) in enumerate(upload_batches(plan)) for u in batch}
    assert all(batches[p] < batches["index.html"] for p in FEEDS)  # the home page goes last
    run(site.public, target)
    for path in FEEDS:
        assert (tmp_path / "bucket" / path).read_bytes() == (site.public / path).read_bytes()

    # the Korean text changes: the Korean feed shows it, the English one does not
    site.add("flood.ko.md", alert_text(title="홍수 경보"))
    site.build()
    plan = make_plan(read_local(site.public), read_remote(target), Limits())
    changed = {u.path for u in plan.uploads}
    assert "ko/feed.atom" in changed and "feed.atom" not in changed
    assert "/ko/feed.atom" in plan.invalidations
    run(site.public, target)
    assert "홍수 경보".encode() in (tmp_path / "bucket" / "ko" / "feed.atom").read_bytes()
