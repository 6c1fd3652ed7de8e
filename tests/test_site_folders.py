"""A site whose content folder is missing is an error, not an empty site: built, it would be
index pages only, and published, it would take every alert offline."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from sitegen_fixtures import TmpSite, run_sitegen, unprivileged


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


def test_files_named_almost_like_alerts_are_warned_about(example_site: TmpSite) -> None:
    """`x.MD` and Notepad's `x.md.txt` were skipped without a word and check said ok; so was
    an alert Notepad saved as `flood.txt` (a .txt of notes, not starting '---', is left alone)."""
    alerts = example_site.root / "content/alerts"
    text = next(alerts.glob("*.md")).read_text(encoding="utf-8")
    for name in ("x.MD", "y.md.txt", "z.markdown", "flood.txt"):
        (alerts / name).write_text(text, encoding="utf-8")
    (alerts / "notes.txt").write_text("Call the duty officer first.\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", "from sitegen.cli import main; main()", "check"],
        cwd=example_site.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr  # warnings: the site still builds
    output = result.stdout + result.stderr
    for name in ("x.MD", "y.md.txt", "z.markdown", "flood.txt"):
        assert f"content/alerts/{name}: warning: this file is not read" in output, output
    assert "notes.txt" not in output


@pytest.mark.parametrize(
    ("mode", "named", "problem"),
    [
        (0o000, "content/alerts/more", "cannot read the folder: Permission denied"),
        (0o311, "content/alerts/more", "cannot read the folder: Permission denied"),
        # listed but not opened: each file found and unread. It was skipped without a word,
        # and the build removed its pages.
        (0o644, "content/alerts/more/moved.md", "cannot read the file: Permission denied"),
    ],
)
def test_a_content_folder_sitegen_may_not_read_stops_check_and_build(
    example_site: TmpSite, enforced_permissions: None, mode: int, named: str, problem: str
) -> None:
    alerts = example_site.root / "content" / "alerts"
    (alerts / "more").mkdir()
    shutil.move(next(alerts.glob("*.md")), alerts / "more" / "moved.md")
    assert run_sitegen("build", cwd=example_site.root, preexec_fn=unprivileged).returncode == 0
    public = example_site.root / "public"
    before = {p: p.read_bytes() for p in public.rglob("*") if p.is_file()}
    (alerts / "more").chmod(mode)
    try:
        results = [
            run_sitegen(command, cwd=example_site.root, preexec_fn=unprivileged)
            for command in ("check", "build")
        ]
    finally:
        (alerts / "more").chmod(0o755)
    for result in results:
        assert result.returncode == 1, result.stdout
        assert f"{named}: {problem}" in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in public.rglob("*") if p.is_file()} == before
