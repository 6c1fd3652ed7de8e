"""Write a built bundle (files + .sitegen/manifest.json) directly, in the format of
docs/architecture.md, so publisher tests do not depend on the renderer."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

ALERT_CC = "public, max-age=60, s-maxage=300, stale-if-error=86400"
IMMUTABLE_CC = "public, max-age=31536000, immutable"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}

Files = dict[str, bytes]
# a site whose bundle is written here (--no-build), published to folder:out
SITE_TOML = """[site]
title = "T"
base_url = "https://alerts.test/"
default_language = "en"
sender = "a@test.invalid"
[publish]
target = "folder:out"
"""


def site_files(alerts: int = 3, *, version: str = "v1") -> Files:
    """A small site: one asset, ``alerts`` alert pages with CAP, and the index pages."""
    files: Files = {"assets/site.0a1b2c3d.css": b"body{font-family:system-ui}"}
    for i in range(alerts):
        files[f"alerts/a{i}/index.html"] = f"<h1>alert {i} {version}</h1>".encode()
        files[f"alerts/a{i}/cap.xml"] = f"<alert><identifier>a{i}</identifier></alert>".encode()
    links = "".join(f'<a href="/alerts/a{i}/">a{i}</a>' for i in range(alerts))
    files["index.html"] = f"<h1>Alerts</h1>{links}".encode()
    files["feed.atom"] = f"<feed>{alerts} {version}</feed>".encode()
    files["sitemap.xml"] = f"<urlset>{alerts}</urlset>".encode()
    return files


def cache_class(path: str) -> str:
    return "immutable" if path.startswith("assets/") else "alert"


def write_bundle(
    root: Path,
    files: Files,
    *,
    cache_control: dict[str, str] | None = None,
    built_at: str = "2026-11-25T12:00:00+00:00",
) -> Path:
    """Replace ``root`` with exactly ``files`` plus their manifest; return ``root``."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    overrides = cache_control or {}
    entries = {}
    for path, data in sorted(files.items()):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
        klass = cache_class(path)
        default_cc = IMMUTABLE_CC if klass == "immutable" else ALERT_CC
        entries[path] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "content_type": TYPES.get(Path(path).suffix, "application/octet-stream"),
            "cache_class": klass,
            "cache_control": overrides.get(path, default_cc),
        }
    doc = {"format": 1, "generator": "tests", "built_at": built_at, "files": entries}
    manifest = root / ".sitegen" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    return root
