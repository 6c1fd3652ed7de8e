"""A build finds content/'s files without listing it when none of its folders changed since
the last build's scan (`build._Build._scan`); every change must still be seen, as a build
that lists content/ sees it (docs/architecture.md, "Incremental builds")."""

from __future__ import annotations

import contextlib
import gc
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sitegen import build as build_module
from sitegen import content as content_module
from sitegen.cache import BuildState
from sitegen.cli import cli
from sitegen_fixtures import NOW, TmpSite, alert_text, assert_no_other_thread


def _build(root: Path) -> str:
    """`sitegen build` of the site at `root`, as a user runs it; its warnings."""
    result = CliRunner().invoke(
        cli, ["build", "--site", str(root / "site.toml"), "--now", NOW.isoformat()]
    )
    assert result.exit_code == 0, result.output
    return result.stderr


def _listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The content folders listed from now on."""
    listed: list[str] = []
    real = content_module._walk

    def walk(folder: Path | str, *args: Any) -> None:
        listed.append(str(folder))
        real(folder, *args)

    monkeypatch.setattr(content_module, "_walk", walk)
    return listed


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _assert_as_clean_build(site: TmpSite, warnings: str, tmp_path: Path) -> None:
    """The output and warnings of a build of a copy of the site without its cache."""
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    for name in ("content", "templates"):
        shutil.copytree(site.root / name, clean / name, symlinks=True)
    shutil.copy(site.root / "site.toml", clean / "site.toml")
    assert _build(clean) == warnings
    assert _files(site.public) == _files(clean / "public")


@pytest.fixture
def site(tmp_path: Path) -> TmpSite:
    site = TmpSite(tmp_path / "site")
    for i in range(6):
        site.add(f"2026-11-25-flood-{i}.md", alert_text(title=f"Flood watch {i}"))
    site.add("older/2026-11-20-smoke.md", alert_text(title="Smoke watch"))
    _build(site.root)
    _build(site.root)  # scanned when no folder of content/ is racy any more
    time.sleep(0.05)  # past the file system's clock tick: a change gets a new mtime
    return site


def test_a_no_change_build_does_not_list_content(
    site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = _listings(monkeypatch)
    assert _build(site.root) == ""
    assert listed == []
    assert len(BuildState.load(site.root).scanned) == 7


def edit(site: TmpSite) -> None:  # same size, same folder: only the file's own stat shows it
    path = site.root / "content/alerts/2026-11-25-flood-1.md"
    path.write_text(path.read_text("utf-8").replace("Flood watch 1", "Flood watch 9"), "utf-8")


def add(site: TmpSite) -> None:
    site.add("2026-11-25-flood-7.md", alert_text(title="Flood watch 7"))


def add_deep(site: TmpSite) -> None:  # in a new folder: its parent's mtime shows it
    site.add("older/2025/2025-11-25-heat.md", alert_text(title="Heat watch"))


def remove(site: TmpSite) -> None:
    (site.root / "content/alerts/older/2026-11-20-smoke.md").unlink()


def rename(site: TmpSite) -> None:
    folder = site.root / "content/alerts"
    (folder / "2026-11-25-flood-2.md").rename(folder / "older/2026-11-25-flood-2.md")


def misnamed(site: TmpSite) -> None:
    site.add("2026-11-25-storm.MD", alert_text(title="Storm watch"))


def pages(site: TmpSite) -> None:  # content/pages/ made: only content/'s mtime shows it
    (site.root / "content/pages").mkdir()
    (site.root / "content/pages/about.md").write_text("---\ntitle: About\n---\nUs.\n", "utf-8")


def swap_file(site: TmpSite) -> None:  # ignored by its name: nothing changes but the folder
    site.add(".2026-11-25-flood-1.md.swp", b"\0swap")


@pytest.mark.parametrize(
    "change", [edit, add, add_deep, remove, rename, misnamed, pages, swap_file]
)
def test_each_change_to_content_builds_as_a_clean_build(
    site: TmpSite, tmp_path: Path, change: Any
) -> None:
    change(site)
    _assert_as_clean_build(site, _build(site.root), tmp_path)
    _assert_as_clean_build(site, _build(site.root), tmp_path)  # and the build after it


def test_a_folder_changed_in_the_tick_of_the_scan_is_listed_again(
    site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change made in the timestamp tick the scan stat'ed a folder in can leave its
    signature as it was: such a folder is listed again, whatever its stat says."""
    folders = BuildState.load(site.root).scanned_folders
    newest = max(sig[0] for sig in folders.values())
    # the scan seen as made in the tick of the newest folder's mtime
    monkeypatch.setattr(build_module, "_fs_clock", lambda folder, cache_dir: newest)
    add(site)  # (a real change, so that this build records with that threshold)
    _build(site.root)
    monkeypatch.undo()
    listed = _listings(monkeypatch)
    _build(site.root)
    assert listed  # content/alerts/ was modified at or after that threshold


def test_a_text_file_is_read_by_every_scan(
    site: TmpSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a `.txt` file is an alert saved by Notepad is told by its text, which can
    change without its folder's: a scan that met one records nothing, so each build lists."""
    note = site.add("notes.txt", "Call the river office first.\n")
    _build(site.root)
    assert BuildState.load(site.root).scanned_folders == {}
    text = note.read_text("utf-8")
    note.write_text(alert_text(title="Flood watch 8"), "utf-8")  # Notepad's flood.md.txt
    warnings = _build(site.root)
    assert "notes.txt" in warnings and "must end in '.md'" in warnings
    _assert_as_clean_build(site, warnings, tmp_path)
    note.write_text(text, "utf-8")
    listed = _listings(monkeypatch)
    _build(site.root)
    assert listed


def test_a_link_in_content_is_checked_by_every_scan(site: TmpSite) -> None:
    """A link's target can change without any listed folder changing: a scan that met a link
    records nothing, so a link whose target is turned into a link out of content/ is
    refused, as a full scan refuses it, rather than read."""
    shared = site.root / "content/shared"
    shared.mkdir()
    (shared / "flood.md").write_text(alert_text(title="Shared watch"), "utf-8")
    (site.root / "content/alerts/shared-flood.md").symlink_to("../shared/flood.md")
    _build(site.root)
    assert BuildState.load(site.root).scanned_folders == {}
    outside = site.root / "outside.md"
    outside.write_text(alert_text(title="Outside watch"), "utf-8")
    (shared / "flood.md").unlink()
    (shared / "flood.md").symlink_to(outside)
    result = CliRunner().invoke(
        cli, ["build", "--site", str(site.root / "site.toml"), "--now", NOW.isoformat()]
    )
    assert result.exit_code != 0 and "outside content/" in result.output


def test_a_folder_changed_with_no_content_change_is_recorded_anew(
    site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor's swap file that came and went changes its folder, not the site: the
    no-change build that lists content/ again records it, so the next one does not list."""
    swap = site.add(".2026-11-25-flood-1.md.swp", b"\0swap")
    swap.unlink()
    time.sleep(0.05)  # past the tick of that change
    listed = _listings(monkeypatch)
    _build(site.root)
    assert listed
    listed.clear()
    assert _build(site.root) == ""
    assert listed == []


@pytest.mark.forks
def test_render_workers_fork_from_a_parent_that_holds_no_scanned_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files' paths the scan found, kept until the state is written, held the memory
    pools of everything let go before the render workers fork (8 MiB at 10,000 alerts, in
    the parent and so in each worker's share: issue 7). At that fork nothing refers to
    them any more, no function waiting on the workers keeps bytes made from the scan (the
    stat signatures marshalled for the inputs' digest: 1.2 MB), and the state still
    records every path, in scan order."""
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)  # fork workers even for a small site
    assert_no_other_thread()  # marked `forks`: it runs before any server starts
    monkeypatch.setattr(build_module._Build, "_can_fork", lambda self: True)
    site = TmpSite(tmp_path / "site")
    for i in range(8):
        site.add(f"2026-11-25-flood-{i}.md", alert_text(title=f"Flood watch {i}"))
    paths: list[str] = []
    real_scan = build_module.scan_content

    def scan(*args: Any) -> Any:
        files, problems = real_scan(*args)
        paths.extend(f.rel for f in files)
        return files, problems

    holders: list[list[str]] = []  # at each fork: what refers to those paths
    blobs: list[str] = []  # and the bytes the functions waiting on it hold
    real_fork = build_module.fork_workers

    @contextlib.contextmanager
    def fork(*args: Any) -> Iterator[Any]:
        # by type name: holding the holders would keep the paths alive
        referrers = (h for p in paths for h in gc.get_referrers(p) if h is not paths)
        holders.append([type(h).__name__ for h in referrers])
        # the build's functions waiting on the render workers' fork (not before it: a frame
        # whose locals are read keeps a copy of them while it runs)
        frame = sys._getframe() if len(holders) == 2 else None
        while frame is not None:
            if Path(frame.f_code.co_filename).parent.name == "sitegen":
                locals_ = frame.f_locals.items()
                blobs.extend(f"{frame.f_code.co_name}: {k}" for k, v in locals_ if type(v) is bytes)
            frame = frame.f_back
        with real_fork(*args) as pool:
            yield pool

    monkeypatch.setattr(build_module, "scan_content", scan)
    monkeypatch.setattr(build_module, "fork_workers", fork)
    _build(site.root)
    assert len(holders) == 2  # the parse workers', then the render workers'
    assert "ContentFile" in holders[0]  # the files being parsed
    assert holders[1] == []  # rendering needs none of them
    assert blobs == []
    assert BuildState.load(site.root).scanned == tuple(paths)
