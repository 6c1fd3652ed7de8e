"""`sitegen check` reuses the last build's record of its units (`build.last_render`): after any
sequence of edits, built or not, it says exactly what a check of the same input says with
.sitegen/ removed, and it writes nothing.

The sites and edits are tests/perf/test_incremental.py's, with two more: a page over the
14,000-byte budget and a page feed that leaves out alerts in force.
"""

from __future__ import annotations

import random
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from test_incremental import (
    EDITS,
    Site,
    add_alert,
    always_fork,
    small_pages,  # noqa: F401 - autouse: many archive pages, short feeds
)

from sitegen import build as build_module
from sitegen.cache import BuildState
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


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.forks
def test_check_equals_a_check_without_cache_over_random_edits(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if seed == 2:  # rendered and keyed in forked workers, as on a large site
        monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)
        always_fork(monkeypatch)
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
