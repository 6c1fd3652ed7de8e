"""A site whose content folder is missing is an error, not an empty site: built, it would be
index pages only, and published, it would take every alert offline."""

from __future__ import annotations

import shutil
import subprocess
import sys

from sitegen_fixtures import TmpSite


def test_a_missing_content_folder_stops_check_and_build(example_site: TmpSite) -> None:
    shutil.move(example_site.root / "content", example_site.root / "content-moved")
    for command in ("check", "build"):
        result = subprocess.run(
            [sys.executable, "-c", "from sitegen.cli import main; main()", command],
            cwd=example_site.root,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, result.stdout
        assert "content/: the content folder is missing" in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    assert not (example_site.root / "public/index.html").exists()


def test_an_empty_content_folder_is_an_empty_site(example_site: TmpSite) -> None:
    shutil.rmtree(example_site.root / "content")
    (example_site.root / "content").mkdir()
    result = subprocess.run(
        [sys.executable, "-c", "from sitegen.cli import main; main()", "build", "-q"],
        cwd=example_site.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
