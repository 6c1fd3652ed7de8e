"""Build time of one long update chain (issue 7: the build must not grow with the archive).

    /tmp/venv/bin/python bench/long_chain.py --messages 240,1000 [--runs 2] [--keep DIR]

A site holding one alert updated hourly: an Alert, then N-1 Updates, each referencing the
one before (two languages' settings, English files). For each N and run it measures, with
sitegen's CLI in a subprocess (Python start-up included):

    clean        no output folder, no .sitegen/cache
    +1 message   one more Update written, rebuilt with the cache (a new file: a full build
                 that reuses the unchanged units' keys)
    title edit   a middle message's title edited (a patch build)

and prints wall time and CPU (user + sys of the command and the workers it waited for:
the machine may be shared, and CPU moves less than wall when it is).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TOML = """[site]
title = "Long chain"
base_url = "https://alerts.test/"
default_language = "en"
languages = ["en", "ko"]
sender = "alerts@test.invalid"
"""


def message(i: int, count: int, title: str | None = None) -> str:
    """Message i of a chain whose last of `count` messages is sent an hour before NOW."""
    sent = NOW - timedelta(hours=count - i)
    kind = "Alert" if i == 0 else "Update"
    refs = "[]" if i == 0 else f"[h{i - 1:05d}]"
    return (
        f"---\ntitle: {title or f'Hurricane watch for the south coast, message {i + 1}'}\n"
        "event: Hurricane\nseverity: Severe\nurgency: Expected\ncertainty: Likely\n"
        f"status: Actual\nmsg_type: {kind}\nsent: {sent.isoformat()}\n"
        f"expires: {(NOW + timedelta(days=2)).isoformat()}\nareas:\n"
        f"  - name: Busan\n    geocodes: {{ISO3166-2: KR-26}}\nreferences: {refs}\n---\n"
        "The storm is moving north.\n\n## What to do\n\n- Stay inside.\n"
    )


def make(root: Path, count: int) -> None:
    alerts = root / "content" / "alerts"
    alerts.mkdir(parents=True)
    (root / "site.toml").write_text(TOML)
    (root / "templates").mkdir()
    for i in range(count):
        (alerts / f"h{i:05d}.md").write_text(message(i, count))
    past = time.time() - 10  # older than any racy window: the next build trusts the stat
    for path in alerts.iterdir():
        os.utime(path, (past, past))


def build(root: Path, now: datetime) -> tuple[float, float]:
    """(wall, user + sys CPU) of one `sitegen build`."""
    code = "from sitegen.cli import main; main()"
    args = [sys.executable, "-c", code, "build", "--site", "site.toml", "--now", now.isoformat()]
    args.append("--quiet")
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    if done.returncode != 0:
        raise SystemExit(f"build failed in {root}:\n{done.stderr}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def run(count: int, keep: Path | None) -> dict[str, tuple[float, float]]:
    root = Path(tempfile.mkdtemp(prefix=f"chain{count}-", dir=keep))
    try:
        make(root, count)
        found = {"clean": build(root, NOW)}
        alerts = root / "content" / "alerts"
        (alerts / f"h{count:05d}.md").write_text(
            message(count, count + 1).replace(
                # sent an hour after the last, before the clock the build is given
                (NOW - timedelta(hours=1)).isoformat(),
                (NOW - timedelta(minutes=1)).isoformat(),
            )
        )
        time.sleep(2.1)  # past the racy window: the build compares stats
        found["+1 message"] = build(root, NOW)
        middle = alerts / f"h{count // 2:05d}.md"
        text = middle.read_text().replace("south coast", "south and east coast", 1)
        middle.write_text(text)
        time.sleep(2.1)
        found["title edit"] = build(root, NOW)
        return found
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", default="240,1000", help="chain lengths, comma-separated")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="make the sites in this folder and keep them")
    options = parser.parse_args()
    for count in map(int, options.messages.split(",")):
        for number in range(1, options.runs + 1):
            found = run(count, options.keep)
            cells = "  ".join(f"{k} {w:6.2f} s wall {c:6.2f} s CPU" for k, (w, c) in found.items())
            print(f"N={count:5d} run {number}: {cells}", flush=True)


if __name__ == "__main__":
    main()
