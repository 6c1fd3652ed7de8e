"""Raw and brotli size of every page type of the example site, and of a 50-alert home page.

    python bench/pages.py            # builds into a temp folder; the repo is not touched

The budget is 14,000 bytes after brotli per HTML page (one request, first TCP round trips).
Compare with the peers in shared ANCHORS.md: GOV.UK emergency alerts ~95 KB over 7-8 requests.
"""

from __future__ import annotations

import random
import re
import shutil
import sys
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import brotli

from sitegen.build import PAGE_BUDGET_BYTES, build_site
from sitegen.config import load_config

REPO = Path(__file__).resolve().parent.parent
NOW = datetime.fromisoformat("2026-11-25T12:00:00+09:00")

FIFTY_TOML = """\
[site]
title = "National Emergency Alerts"
titles = { ko = "국가 재난 안전 경보" }
base_url = "https://alerts.example.gov/"
default_language = "en"
languages = ["en", "ko"]
sender = "alerts@safety.example.gov"
"""

ALERT = """\
---
title: {event} warning for {place} and the {river} valley
event: Flood
category: Met
severity: {severity}
urgency: Expected
certainty: Likely
status: Actual
msg_type: Alert
sent: 2026-11-25T{hour:02d}:{minute:02d}:00+09:00
expires: 2026-11-27T12:00:00+09:00
areas:
  - name: {place}, {district}
    geocodes: {{ISO3166-2: KR-{code}}}
references: []
---
Water is rising quickly in {place}.

## What to do

- Move to higher ground now.
"""


def page_type(rel: str) -> str:
    """A readable kind for a bundle path: home, alert, area, areas, archive, 404 (+ language)."""
    lang = ""
    match = re.match(r"^([a-z]{2})/", rel)
    if match:
        lang, rel = f" ({match.group(1)})", rel[3:]
    if rel == "index.html":
        return "home" + lang
    if rel == "404.html":
        return "404"
    if rel == "areas/index.html" or rel.startswith("areas/page/"):
        return "areas" + lang  # the list of every area
    if rel.startswith("alerts/"):
        parts = rel.split("/")
        return "alert" + (f" ({parts[2]})" if len(parts) == 4 else "")
    return rel.split("/", 1)[0].rstrip("s") + lang


def measure(public: Path) -> list[tuple[str, str, int, int]]:
    """(type, path, raw, brotli) of the largest page of each type."""
    largest: dict[str, tuple[int, int, str]] = defaultdict(lambda: (0, 0, ""))
    for path in sorted(public.rglob("*.html")):
        rel = path.relative_to(public).as_posix()
        data = path.read_bytes()
        packed = len(brotli.compress(data, quality=11))
        kind = page_type(rel)
        largest[kind] = max(largest[kind], (packed, len(data), rel))
    return [(kind, rel, raw, packed) for kind, (packed, raw, rel) in sorted(largest.items())]


def build_example(root: Path) -> Path:
    for name in ("content", "templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "site.toml", root / "site.toml")
    config = load_config(root / "site.toml")
    build_site(config, NOW)
    return config.output_path


EVENTS = ("Flash flood", "Landslide", "Storm surge", "Wildfire", "Heat", "Heavy snow", "Gale")


def made_up_name(rng: random.Random) -> str:
    """A pronounceable random place name: a pessimistic case for brotli (no repetition)."""
    letters = [rng.choice("bcdghjkmnprstw") + rng.choice("aeiou") for _ in range(rng.randint(2, 4))]
    return "".join(letters).capitalize()


def build_fifty(root: Path) -> Path:
    (root / "content" / "alerts").mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "site.toml").write_text(FIFTY_TOML, "utf-8")
    severities = ("Extreme", "Severe", "Moderate", "Minor")
    rng = random.Random(50)
    for i in range(50):
        text = ALERT.format(
            event=EVENTS[i % len(EVENTS)],
            place=made_up_name(rng),
            river=made_up_name(rng),
            district=made_up_name(rng) + "-gu",
            severity=severities[i % 4],
            hour=i % 12,
            minute=i,
            code=11 + i % 9,
        )
        (root / "content" / "alerts" / f"2026-11-25-flood-{i:02d}.md").write_text(text, "utf-8")
    config = load_config(root / "site.toml")
    build_site(config, NOW)
    return config.output_path


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sitegen-bench-") as tmp:
        rows = measure(build_example(Path(tmp) / "example"))
        fifty = build_fifty(Path(tmp) / "fifty")
        for rel in ("index.html", "ko/index.html"):
            data = (fifty / rel).read_bytes()
            label = "home, 50 active alerts" + (" (ko)" if rel.startswith("ko") else "")
            rows.append((label, rel, len(data), len(brotli.compress(data, quality=11))))
    print(f"{'page type':<26} {'raw B':>7} {'brotli B':>9} {'of budget':>9}  largest page")
    over = 0
    for kind, rel, raw, packed in rows:
        share = packed / PAGE_BUDGET_BYTES
        over += packed > PAGE_BUDGET_BYTES
        print(f"{kind:<26} {raw:>7,} {packed:>9,} {share:>9.0%}  {rel}")
    print(f"budget: {PAGE_BUDGET_BYTES:,} bytes brotli per page; pages over: {over}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
