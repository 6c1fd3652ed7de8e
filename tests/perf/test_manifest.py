"""The manifest written without json's slow indenting encoder is exactly json.dumps's."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sitegen import __version__
from sitegen.bundle import (
    MANIFEST_FORMAT,
    make_file,
    manifest_bytes,
    manifest_from_entries,
    patch_manifest,
)
from sitegen.config import CachePolicy


def reference(bundle: dict, cache: CachePolicy, updated: datetime) -> bytes:
    files = {
        path: {
            "sha256": hashlib.sha256(f.data).hexdigest(),
            "size": len(f.data),
            "content_type": f.content_type,
            "cache_class": f.cache_class,
            "cache_control": cache.for_class(f.cache_class),
        }
        for path, f in sorted(bundle.items())
    }
    document = {
        "format": MANIFEST_FORMAT,
        "generator": f"sitegen {__version__}",
        "updated": updated.isoformat(),
        "files": files,
    }
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def test_manifest_equals_json_dumps() -> None:
    paths = [
        "index.html",
        "alerts/서울-홍수/index.html",
        'odd "quote"\\path.txt',
        "assets/a.1234.css",
        "feed.atom",
        "alerts/x/cap.xml",
        "sitemap.xml",
        "robots.txt",
        "img.png",
        "noext",
    ]
    bundle = {p: make_file(p, p.encode() * 3) for p in paths}
    cache = CachePolicy(alert='public, "max-age"=60')
    updated = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert manifest_bytes(bundle, cache, updated) == reference(bundle, cache, updated)


def test_empty_manifest_equals_json_dumps() -> None:
    updated = datetime(2000, 1, 1, tzinfo=UTC)
    assert manifest_bytes({}, CachePolicy(), updated) == reference({}, CachePolicy(), updated)


def test_patched_manifest_equals_a_new_one() -> None:
    paths = ["index.html", "alerts/서울-홍수/index.html", 'odd "quote"\\path.txt', "a/b.xml"]
    cache = CachePolicy()
    updated = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    before = {p: ("0" * 64, 10) for p in paths}
    old = manifest_from_entries(before, cache, updated)
    for changed in ([], paths[:1], paths[1:3], paths):
        changes = {p: (hashlib.sha256(p.encode()).hexdigest(), len(p) * 1000) for p in changed}
        expected = manifest_from_entries({**before, **changes}, cache, updated)
        assert patch_manifest(old, changes, updated) == expected
    # a path it does not list, or another `updated`: no patch, the caller makes a new one
    assert patch_manifest(old, {"new.html": ("1" * 64, 1)}, updated) is None
    assert patch_manifest(old, {}, datetime(2026, 11, 26, tzinfo=UTC)) is None
