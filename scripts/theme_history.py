"""Write sitegen/default_site/theme_history.json: the sha256 of every earlier version of each
file of sitegen's theme, from git history.

    python scripts/theme_history.py           # rewrite the file
    python scripts/theme_history.py --check   # exit 1 when it is out of date (the test suite)

`sitegen init` copies the theme into a new site's templates/, and a site's copy wins over
sitegen's own. A copy nobody edited stays the version of the day it was made, without every
fix since (accessibility, feeds, escaping). `sitegen check` tells such a file by its bytes
(`template_check.stale_theme_warnings`). A theme file's earlier versions are every version
git has of it, under sitegen/default_site/templates/ or the templates/ it started in, other
than the file as it is now. Run this after changing a theme file, and commit both.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
THEME = REPO / "sitegen" / "default_site" / "templates"
HISTORY = REPO / "sitegen" / "default_site" / "theme_history.json"
PLACES = ("sitegen/default_site/templates", "templates")  # where theme files have lived


def git(*args: str) -> bytes:
    """What a git command on this repository prints."""
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True).stdout


def earlier_versions() -> dict[str, list[str]]:
    """name → sorted sha256 of each version git has of theme file `name`, but the current."""
    history: dict[str, list[str]] = {}
    for path in sorted(THEME.iterdir()):
        current = hashlib.sha256(path.read_bytes()).hexdigest()
        found: set[str] = set()
        for place in PLACES:
            where = f"{place}/{path.name}"
            commits = git("log", "--format=%H", "--", where).decode().split()
            for commit in commits:
                listed = git("ls-tree", commit, "--", where).decode().split()
                if len(listed) == 4 and listed[1] == "blob":  # not the link templates/ became
                    found.add(hashlib.sha256(git("cat-file", "blob", listed[2])).hexdigest())
        found.discard(current)
        if found:
            history[path.name] = sorted(found)
    return history


def render(history: dict[str, list[str]]) -> str:
    return json.dumps(history, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog="Run it after changing a theme file, and commit both.",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 when the file is out of date"
    )
    args = parser.parse_args()
    text = render(earlier_versions())
    if args.check:
        if HISTORY.read_text("utf-8") != text:
            print(f"{HISTORY.relative_to(REPO)} is out of date: run scripts/theme_history.py")
            return 1
        return 0
    HISTORY.write_text(text, "utf-8")
    print(
        f"wrote {HISTORY.relative_to(REPO)} ({sum(map(len, json.loads(text).values()))} versions)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
