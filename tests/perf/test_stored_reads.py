"""check, status and new read unchanged content files from the build's source store
(`build.stored_reader`): what they report is what they report without the cache, files
changed since the build are parsed again exactly as a build parses them, and `.sitegen/` is
left byte for byte as it was."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sitegen import build as build_module
from sitegen import cache as cache_module
from sitegen import content as content_module
from sitegen.cache import CACHE_DIR
from sitegen.cli import cli
from sitegen_fixtures import NOW, TmpSite, alert_text

COMMANDS = (["check"], ["check", "--json"], ["status"], ["status", "--json"])


def _coarse(stat: os.stat_result) -> cache_module.Signature:
    """A stat as a file system without ctime or inode numbers gives it (FAT, some network
    shares): a same-size edit with the mtime put back keeps the signature."""
    return (stat.st_mtime_ns, stat.st_size, 0, 0)


def _site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TmpSite:
    """A built site with a warning, then edited: one file changed, one broken, one new, one
    deleted, and one changed in the build's racy window (same size, mtime put back)."""
    monkeypatch.setattr(cache_module, "signature", _coarse)
    # no file system clock: files written in the 2 s before the build are racy
    monkeypatch.setattr(build_module, "_fs_clock", lambda folder, cache_dir: None)
    site = TmpSite(tmp_path / "site")
    for i in range(6):
        site.add(f"2026-11-25-flood-{i}.md", alert_text(title=f"Flood watch {i}"))
    no_steps = alert_text(title="Flood watch 6").replace("## What to do", "## Notes")
    site.add("2026-11-25-flood-6.md", no_steps)  # a warning, kept in its source entry
    site.add("2026-11-25-racy.md", alert_text(title="Racy watch"))
    site.build()
    site.add("2026-11-25-flood-0.md", alert_text(title="Flood watch 0, river rising"))
    site.add("2026-11-25-flood-1.md", alert_text(title="Flood watch 1", severity="Severe!"))
    site.add("2026-11-25-flood-9.md", alert_text(title="Flood watch 9"))
    (site.root / "content/alerts/2026-11-25-flood-2.md").unlink()
    racy = site.root / "content/alerts/2026-11-25-racy.md"
    stat = racy.stat()
    racy.write_text(alert_text(title="Racy wat.h", severity="Minor!"), "utf-8")
    os.utime(racy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _coarse(racy.stat()) == _coarse(stat)
    return site


def _run(site: TmpSite, args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, [*args, "--site", str(site.root / "site.toml"), "--now", NOW.isoformat()]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The alert files parsed from now on."""
    parsed: list[str] = []
    real: Callable[..., Any] = content_module._load_alert

    def counting(fspath: str, rel: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(rel)
        return real(fspath, rel, *args, **kwargs)

    monkeypatch.setattr(content_module, "_load_alert", counting)
    return parsed


def test_check_and_status_say_what_they_say_without_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path, monkeypatch)
    cache_dir = site.root / CACHE_DIR
    before = _snapshot(site.root / ".sitegen")
    parsed = _parses(monkeypatch)
    with_cache = {tuple(args): _run(site, args) for args in COMMANDS}
    assert _snapshot(site.root / ".sitegen") == before  # nothing written, nothing left
    changed = {
        "content/alerts/2026-11-25-flood-0.md",
        "content/alerts/2026-11-25-flood-1.md",
        "content/alerts/2026-11-25-flood-9.md",
        "content/alerts/2026-11-25-racy.md",
    }
    assert set(parsed) == changed  # each command parsed only what changed since the build
    shutil.rmtree(cache_dir)
    without = {tuple(args): _run(site, args) for args in COMMANDS}
    assert with_cache == without
    assert not cache_dir.exists()  # a missing cache is not made
    code, _, err = with_cache[("check",)]
    assert code == 1
    assert "flood-1.md" in err and "racy.md" in err and "flood-6.md:" in err  # and the warning


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign"])
def test_a_damaged_cache_is_read_around(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    site = _site(tmp_path, monkeypatch)
    shards = sorted((site.root / CACHE_DIR).glob("sources-*.bin"))
    assert shards
    for shard in shards:
        data = shard.read_bytes()
        if damage == "garbage":
            shard.write_bytes(b"\x00garbage\n" * 20)
        elif damage == "truncated":
            shard.write_bytes(data[: len(data) // 2])
        else:  # another config: the store's parse key differs
            toml = site.root / "site.toml"
            toml.write_text(toml.read_text().replace("Test Alerts", "Alerts"), "utf-8")
            break
    before = _snapshot(site.root / ".sitegen")
    parsed = _parses(monkeypatch)
    damaged = {tuple(args): _run(site, args) for args in COMMANDS}
    assert _snapshot(site.root / ".sitegen") == before
    assert len(parsed) == len(COMMANDS) * len(list((site.root / "content/alerts").iterdir()))
    shutil.rmtree(site.root / CACHE_DIR)
    assert damaged == {tuple(args): _run(site, args) for args in COMMANDS}


def test_new_update_reads_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`new --update` finds the chain in what the last build parsed (only the edited file is
    parsed again) and leaves the cache as it was."""
    site = _site(tmp_path, monkeypatch)
    before = _snapshot(site.root / ".sitegen")
    parsed = _parses(monkeypatch)
    args = ["new", "--update", "2026-11-25-flood-3", "--site", str(site.root / "site.toml")]
    result = CliRunner().invoke(cli, args, input="\n" * 20)
    assert result.exit_code == 0, result.output
    assert _snapshot(site.root / ".sitegen") == before
    assert "content/alerts/2026-11-25-flood-3.md" not in parsed
    assert "content/alerts/2026-11-25-flood-0.md" in parsed  # changed since the build


def test_import_cap_reads_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`import-cap` checks the site with the imported files in it from what the last build
    parsed: its own files are parsed, the site's unchanged ones are not, the cache is left as
    it was, and what it says is what it says without the cache."""
    site = _site(tmp_path, monkeypatch)
    (site.root / "content/alerts/2026-11-25-flood-1.md").unlink()  # no error to hold it up
    xml = Path(__file__).parent.parent / "cap" / "fixtures" / "us-nws-tornado-warning.xml"
    folder = site.root / "content/alerts"
    there = set(folder.iterdir())

    def run() -> tuple[int, str, str]:
        args = ["import-cap", str(xml), "--site", str(site.root / "site.toml")]
        result = CliRunner().invoke(cli, args)
        for path in set(folder.iterdir()) - there:
            path.unlink()  # the same import again next time
        return result.exit_code, result.stdout, result.stderr

    before = _snapshot(site.root / ".sitegen")
    parsed = _parses(monkeypatch)
    with_cache = run()
    assert with_cache[0] == 0, with_cache
    assert _snapshot(site.root / ".sitegen") == before
    assert "content/alerts/2026-11-25-flood-3.md" not in parsed
    shutil.rmtree(site.root / CACHE_DIR)
    again = run()
    assert again == with_cache
