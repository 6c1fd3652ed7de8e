"""The debouncer turns a burst of saves into one rebuild; the watcher feeds it from watchdog."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sitegen.watch import Debouncer, Watcher


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_saves_is_one_batch_after_a_quiet_spell() -> None:
    clock = Clock()
    d: Debouncer[str] = Debouncer(quiet=0.05, longest=1.0, clock=clock)
    assert d.wait_time() is None and d.take() == []
    for name in ["a.md", "a.md~", "a.md", "b.md"]:
        d.add(name)
        clock.now += 0.01
    assert d.take() == []  # 10 ms since the last save: still in the burst
    assert d.wait_time() == pytest.approx(0.04)
    clock.now += 0.04
    assert d.take() == ["a.md", "a.md~", "b.md"]  # once each, in order of first save
    assert d.wait_time() is None and d.take() == []


def test_continuous_writes_still_give_a_batch_after_the_longest_wait() -> None:
    clock = Clock()
    d: Debouncer[int] = Debouncer(quiet=0.05, longest=0.2, clock=clock)
    batches = []
    for i in range(100):  # a save every 20 ms for 2 s: never quiet for 50 ms
        d.add(i)
        clock.now += 0.02
        if batch := d.take():
            batches.append(batch)
    assert 8 <= len(batches) <= 11
    assert all(len(b) <= 11 for b in batches)


def test_nonsense_timings_are_refused() -> None:
    with pytest.raises(ValueError):
        Debouncer(quiet=0)
    with pytest.raises(ValueError):
        Debouncer(quiet=0.5, longest=0.1)


def test_watcher_calls_back_once_for_an_editor_style_save(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    batches: list[list[Path]] = []
    errors: list[BaseException] = []
    called = threading.Event()

    def on_change(paths: list[Path]) -> None:
        batches.append(paths)
        called.set()

    watcher = Watcher(tmp_path, [content], on_change, errors.append, Debouncer(0.15, 1.0))
    watcher.start()
    try:
        target = content / "flood.md"
        for i in range(5):  # write a temp file, rename it over the target: five times quickly
            tmp = content / f".flood.md.tmp{i}"
            tmp.write_text(f"version {i}")
            tmp.replace(target)
        assert called.wait(3)
        time.sleep(0.4)
    finally:
        watcher.stop()
    assert len(batches) == 1, batches
    assert target in batches[0]
    assert errors == []


def test_watcher_survives_a_failing_callback(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    calls: list[list[Path]] = []

    def on_change(paths: list[Path]) -> None:
        calls.append(paths)
        if len(calls) == 1:
            raise RuntimeError("boom")

    watcher = Watcher(
        tmp_path, [], on_change, errors.append, Debouncer(0.05, 0.5), files=[tmp_path / "site.toml"]
    )
    watcher.start()
    try:
        (tmp_path / "site.toml").write_text("one")
        deadline = time.monotonic() + 3
        while not errors and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        (tmp_path / "site.toml").write_text("two")
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        watcher.stop()
    assert [str(e) for e in errors] == ["boom"]
    assert len(calls) == 2


def test_only_site_toml_counts_at_the_top_of_the_site(tmp_path: Path) -> None:
    # A log file beside site.toml (`sitegen serve 2> serve.log`) must not cause rebuilds,
    # or every rebuild's message would trigger the next one.
    calls: list[list[Path]] = []
    site_toml = tmp_path / "site.toml"
    watcher = Watcher(
        tmp_path, [], calls.append, lambda e: None, Debouncer(0.05, 0.5), files=[site_toml]
    )
    watcher.start()
    try:
        (tmp_path / "serve.log").write_text("rebuilt in 3 ms")
        time.sleep(0.3)
        assert calls == []
        site_toml.write_text("[site]")
        deadline = time.monotonic() + 3
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        watcher.stop()
    assert [site_toml] in calls or any(site_toml in c for c in calls)


def test_editors_temporary_files_cause_no_rebuild(tmp_path: Path) -> None:
    """vim rewrites its swap file while one types, emacs its auto-save and lock files:
    each of those writes rebuilt the whole site for nothing (0.3-0.5 s of CPU at 3,000
    alerts, delaying the save that followed). A save through temporary names still counts,
    by the name it ends under."""
    content = tmp_path / "content"
    content.mkdir()
    target = content / "flood.md"
    target.write_text("v0")
    batches: list[list[Path]] = []
    watcher = Watcher(tmp_path, [content], batches.append, lambda e: None, Debouncer(0.05, 0.5))
    watcher.start()
    try:
        time.sleep(0.1)
        temporary = [".flood.md.swp", ".flood.md.swx", "flood.md~", "4913", "#flood.md#"]
        temporary += [".goutputstream-AB12", "flood.md___jb_tmp___", ".flood.md.kate-swp"]
        for name in temporary:
            (content / name).write_text("typing")
            (content / name).unlink()
        (content / ".#flood.md").symlink_to("user@host.1234:1700000000")
        (content / ".#flood.md").unlink()
        time.sleep(0.4)
        assert batches == []
        staged = content / "flood.md___jb_tmp___"  # JetBrains' safe write
        staged.write_text("v1")
        target.rename(content / "flood.md___jb_old___")
        staged.rename(target)
        (content / "flood.md___jb_old___").unlink()
        deadline = time.monotonic() + 3
        while not batches and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
    finally:
        watcher.stop()
    assert batches == [[target]]
