"""`sitegen check` reuses the last build's record of its units (`build.last_render`): after any
sequence of edits, built or not, it says exactly what a check of the same input says with
.sitegen/ removed, and it writes nothing.

The sites and edits are tests/perf/test_incremental.py's, with two more: a page over the
14,000-byte budget and a page feed that leaves out alerts in force. One seed makes the budget
so small that every page is over it: the warnings then say every page's size, so that a page
check took from the last build while what it shows changed would be seen.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_incremental import (
    EDITS,
    Site,
    add_alert,
    always_fork,
    front,
    small_pages,  # noqa: F401 - autouse: many archive pages, short feeds
)

from sitegen import build as build_module
from sitegen.cache import CACHE_DIR, BuildState
from sitegen.cli import _check
from sitegen.errors import Problem
from sitegen.lifecycle import AlertCount
from sitegen_fixtures import assert_no_other_thread

WORDS = 3700  # random 7-letter words: an alert page over the budget at brotli quality 11
FEED_PADDING = 460_000  # bytes per page-feed entry: one fits in the 900,000 a feed may have


def add_wordy_alert(site: Site) -> None:
    """An alert in force whose page is over the 14,000-byte budget."""
    rng = random.Random(site.rng.random())
    words = " ".join("".join(rng.choices("abcdefghij", k=7)) for _ in range(WORDS))
    add_alert(site)
    newest = max(site.files(), key=lambda p: p.stat().st_mtime_ns)
    newest.write_text(newest.read_text("utf-8") + f"\n{words}\n", "utf-8")


def break_feed(site: Site) -> None:
    """Page-feed entries so long that one fits, and two alerts in force: each language's page
    feed leaves out alerts in force (a warning)."""
    feed = site.root / "templates" / "feed.atom"
    text = feed.read_text("utf-8")
    if "padding" not in text:
        padding = f'<!-- padding {{{{ "x" * {FEED_PADDING} }}}} -->\n</entry>'
        feed.write_text(text.replace("</entry>", padding, 1), "utf-8")
    add_alert(site)
    add_alert(site)


CHECK_EDITS = [*EDITS, add_wordy_alert, break_feed]


def checked(site_file: Path, now: datetime) -> tuple[tuple[Problem, ...], AlertCount]:
    loaded, count = _check(site_file, now)
    return loaded.problems, count


def checked_without_cache(site: Site, where: Path) -> tuple[tuple[Problem, ...], AlertCount]:
    """check of a copy of the site's input: no .sitegen/, no output folder."""
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir()
    for name in ("content", "templates"):
        shutil.copytree(site.root / name, where / name)
    shutil.copy2(site.root / "site.toml", where / "site.toml")
    return checked(where / "site.toml", site.now)


def snapshot(root: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*")}


def assert_check_equals_clean_check(site: Site, where: Path) -> None:
    before = snapshot(site.root)
    found = checked(site.root / "site.toml", site.now)
    assert snapshot(site.root) == before  # check wrote nothing
    assert found == checked_without_cache(site, where)


TINY_BUDGET = 1_000  # bytes of brotli: every page of the test sites is over it


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.forks
def test_check_equals_a_check_without_cache_over_random_edits(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if seed == 2:  # rendered and keyed in forked workers, as on a large site
        monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)
        always_fork(monkeypatch)
    if seed == 3:  # every page's size is said (and builds record every size)
        monkeypatch.setattr(build_module, "PAGE_BUDGET_BYTES", TINY_BUDGET)
    assert_no_other_thread()
    site = Site(tmp_path / "site", random.Random(seed))
    clean = tmp_path / "clean"
    site.build()
    assert_check_equals_clean_check(site, clean)
    edits = [site.rng.choice(CHECK_EDITS) for _ in range(12)]
    edits[site.rng.randrange(4)] = add_wordy_alert
    edits[site.rng.randrange(4, 8)] = break_feed
    said: set[str] = set()
    for edit in edits:
        edit(site)
        assert_check_equals_clean_check(site, clean)  # edited since the last build
        said.update(p.message for p in checked(site.root / "site.toml", site.now)[0])
        if site.rng.random() < 0.6:
            site.build()
            assert_check_equals_clean_check(site, clean)
    assert any("bytes as sent to readers" in m for m in said)  # a page over the budget
    assert any("left out of this feed" in m for m in said)


def test_check_takes_an_unchanged_unit_s_sizes_from_the_last_build(tmp_path: Path) -> None:
    """A unit whose key is the one recorded is not rendered: its pages' sizes are those the
    last build recorded (here made up, over the budget, to be seen); once its alert changes,
    it is rendered again."""
    site = Site(tmp_path / "site", random.Random(4))
    site.build()
    state = BuildState.load(site.root)
    alert_id = site.files()[0].stem
    page = f"alerts/{alert_id}/index.html"
    sha, sig, _ = state.outputs[page]
    state.outputs = {**state.outputs, page: (sha, sig, 20_000)}
    state.save(site.root)
    before = checked(site.root / "site.toml", site.now)[0]
    assert [p.message for p in before if page in p.message] == [
        f"the page of alert '{alert_id}' ({page}) is 20,000 bytes as sent to readers "
        "(compressed), over the 14,000 bytes a page should stay under to arrive at once: "
        "citizens on slow networks wait longer for it; shorten this alert's text; a long list "
        "of areas or a long chain of updates also adds to every page of the chain"
    ]
    path = site.files()[0]
    path.write_text(path.read_text("utf-8") + "\nMore news at 6.\n", "utf-8")
    after = checked(site.root / "site.toml", site.now)[0]
    assert not [p for p in after if page in p.message]


def test_check_renders_everything_for_another_config(tmp_path: Path) -> None:
    """A state made with another site.toml (its global key) is not used."""
    site = Site(tmp_path / "site", random.Random(5))
    site.build()
    state = BuildState.load(site.root)
    page = next(p for p in state.outputs if p.startswith("alerts/") and p.endswith(".html"))
    sha, sig, _ = state.outputs[page]
    state.outputs = {**state.outputs, page: (sha, sig, 20_000)}
    state.save(site.root)
    config = site.root / "site.toml"
    config.write_text(config.read_text("utf-8").replace("Test Alerts", "Other"), "utf-8")
    problems = checked(config, site.now)[0]
    assert not [p for p in problems if "bytes as sent to readers" in p.message]


def made_up_size(site: Site, alert_id: str, key: str | None = None) -> str:
    """Record 20,000 bytes for the page of `alert_id` (and `key` as its unit's key, when
    given); returns the page's path."""
    state = BuildState.load(site.root)
    page = f"alerts/{alert_id}/index.html"
    sha, sig, _ = state.outputs[page]
    state.outputs = {**state.outputs, page: (sha, sig, 20_000)}
    if key is not None:
        _, paths, groups, token = state.units[f"alert:{alert_id}"]
        state.units = {**state.units, f"alert:{alert_id}": (key, paths, groups, token)}
    state.save(site.root)
    return page


def said_of(site: Site, page: str) -> list[str]:
    return [p.message for p in checked(site.root / "site.toml", site.now)[0] if page in p.message]


def test_check_keeps_an_unchanged_unit_s_key_without_computing_it(tmp_path: Path) -> None:
    """A unit showing the same alerts as at the last build, none of whose files changed since,
    keeps its recorded key uncomputed, as a build keeps it (here a made-up key: a computed
    one would differ); not when the last build read one of its files as other bytes than
    the cache holds (a file modified in the build's clock tick is recorded by digest)."""
    site = Site(tmp_path / "site", random.Random(6))
    site.build()
    path = site.files()[0]
    page = made_up_size(site, path.stem, key="made up")
    assert [m for m in said_of(site, page) if "is 20,000 bytes" in m]
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert [m for m in said_of(site, page) if "is 20,000 bytes" in m]  # touched, the same bytes
    state = BuildState.load(site.root)
    state.racy = {**state.racy, path.relative_to(site.root).as_posix(): "0" * 32}
    state.save(site.root)
    assert not said_of(site, page)


def translation_deleted(site: Site) -> None:
    base = site.files()[0]
    text = base.read_text("utf-8").replace("\ntitle: ", "\ntitle: (ko) ", 1)
    translation = base.with_name(f"{base.stem}.ko.md")
    translation.write_text(text, "utf-8")
    site.build()
    translation.unlink()


def expiry_passed(site: Site) -> None:
    site.build()
    expiries = [datetime.fromisoformat(front(p)["expires"]) for p in site.files()]
    site.now = min(t for t in expiries if t > site.now) + timedelta(minutes=1)


def shards_older_than_the_state(site: Site) -> None:
    """The build state is saved before the source shards: a build killed in between leaves
    entries older than what the state records as read (here, the bytes a file has again)."""
    site.build()
    shards = {p: p.read_bytes() for p in (site.root / CACHE_DIR).glob("sources-*.bin")}
    for path in site.files()[:3]:
        path.write_text(path.read_text("utf-8").replace("title: ", "title: New ", 1), "utf-8")
        hour_ago = path.stat().st_mtime_ns - 3600 * 10**9  # not racy: known by its stat
        os.utime(path, ns=(hour_ago, hour_ago))
    site.build()
    for shard, data in shards.items():  # as SIGKILL leaves them after the state's save
        shard.write_bytes(data)
    for path in site.files()[:3]:
        path.write_text(path.read_text("utf-8").replace("title: New ", "title: ", 1), "utf-8")


@pytest.mark.parametrize("since", [translation_deleted, expiry_passed, shards_older_than_the_state])
def test_check_after_a_build_equals_a_check_without_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, since: Callable[[Site], None]
) -> None:
    """Changes that no file check reads shows: a file removed, the clock past an instant,
    cache entries older than what the last build read. check renders again what shows them
    (every page's size is said, over a tiny budget)."""
    monkeypatch.setattr(build_module, "PAGE_BUDGET_BYTES", TINY_BUDGET)
    site = Site(tmp_path / "site", random.Random(7))
    since(site)
    assert_check_equals_clean_check(site, tmp_path / "clean")
