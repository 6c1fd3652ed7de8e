"""Save → served latency of `sitegen serve` on a site of 1,000 alerts.

Builds a throwaway site, starts the preview server (real watchdog, real HTTP), then edits one
alert at a time the way an editor saves (write the whole file) and polls the alert's page until
the new text is served. Prints the median, p90 and worst latency; the target is a median of
at most 300 ms (issue 5).

    /tmp/venv/bin/python bench/serve.py [--alerts 1000] [--saves 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from sitegen.serve import PreviewServer

REPO = Path(__file__).resolve().parent.parent
NOW = datetime.fromisoformat("2026-11-15T12:00:00+09:00")
AREAS = [
    ("Seoul", "KR-11"),
    ("Busan", "KR-26"),
    ("Daegu", "KR-27"),
    ("Incheon", "KR-28"),
    ("Gwangju", "KR-29"),
    ("Daejeon", "KR-30"),
    ("Ulsan", "KR-31"),
    ("Gyeonggi-do", "KR-41"),
]
SEVERITIES = ["Extreme", "Severe", "Moderate", "Minor"]


def alert(i: int, marker: str = "") -> str:
    name, code = AREAS[i % len(AREAS)]
    day = 1 + i % 14  # sent before NOW (the 15th): a message not yet sent has no page
    return f"""---
title: Flood watch number {i}
event: Flood
category: Met
severity: {SEVERITIES[i % 4]}
urgency: Expected
certainty: Likely
status: Actual
msg_type: Alert
sent: 2026-11-{day:02d}T07:00:00+09:00
expires: 2026-11-{day:02d}T19:00:00+09:00
areas:
  - name: {name}
    geocodes: {{ISO3166-2: {code}}}
references: []
---
The river is rising near point {i}. {marker}

## What to do

- Keep away from the river.
- Move cars out of underground car parks.
"""


def make_site(root: Path, count: int) -> Path:
    """A site with `count` alerts and the repo's templates; returns its site.toml."""
    (root / "content" / "alerts").mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "site.toml", root / "site.toml")
    for i in range(count):
        (root / "content" / "alerts" / f"a{i:04d}.md").write_text(alert(i), encoding="utf-8")
    return root / "site.toml"


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        data: bytes = response.read()
        return data


def measure(server: PreviewServer, root: Path, count: int, saves: int) -> list[float]:
    latencies = []
    for n in range(saves):
        i = (n * 37) % count
        marker = f"bench-marker-{n}"
        url = f"{server.url}alerts/a{i:04d}/"
        started = time.perf_counter()
        (root / "content" / "alerts" / f"a{i:04d}.md").write_text(alert(i, marker), "utf-8")
        while marker.encode() not in fetch(url):
            if time.perf_counter() - started > 10:
                raise SystemExit(f"save {n}: page not updated after 10 s")
            time.sleep(0.002)
        latencies.append(time.perf_counter() - started)
        time.sleep(0.2)  # an official does not save 5 times a second
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--saves", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sitegen-bench-serve-") as tmp:
        root = Path(tmp)
        site_file = make_site(root, args.alerts)
        lines: list[str] = []
        server = PreviewServer(site_file, port=0, now=NOW, echo=lines.append)
        started = time.perf_counter()
        server.start()
        print(
            f"site: {args.alerts} alerts; "
            f"first build + write: {time.perf_counter() - started:.2f} s"
        )
        try:
            latencies = sorted(measure(server, root, args.alerts, args.saves))
        finally:
            server.stop()
    rebuilds = [line for line in lines if line.startswith("rebuilt")]
    median = statistics.median(latencies) * 1000
    p90 = latencies[int(len(latencies) * 0.9) - 1] * 1000
    print(
        f"saves: {len(latencies)}; save → served: median {median:.0f} ms, "
        f"p90 {p90:.0f} ms, max {latencies[-1] * 1000:.0f} ms (target: median ≤ 300 ms)"
    )
    print(f"last rebuild: {rebuilds[-1] if rebuilds else '?'}")
    sys.exit(0 if median <= 300 else 1)


if __name__ == "__main__":
    main()
