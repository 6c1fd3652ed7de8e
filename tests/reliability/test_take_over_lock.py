"""Taking over a stopped run's lock is asked for by name (--take-over-lock) and lifts no safety
limit; --force lifts the limits and no longer takes a lock. Real `sitegen` subprocesses on the
folder target, the lock left by a real process that has ended (as a killed publish leaves it).
Before 2026-12 the advice a stopped publish printed was `sitegen publish --force`, which also
let through a bundle deleting past the limit: following it published the deletes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bundles import SITE_TOML, site_files, write_bundle
from reliability_support import SITEGEN, run_sitegen
from state import snapshot_folder

from publish.targets.base import LOCK_PATH

pytestmark = pytest.mark.slow

LIMITED_SITE_TOML = SITE_TOML + "max_deletes = 2\n"  # deletes limit 2, from site.toml
# what a publish that died while taking the lock leaves: its lock, its process gone
_DIE_HOLDING_THE_LOCK = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from publish.lock import lock_body
from publish.targets.folder import FolderTarget
assert FolderTarget(Path(sys.argv[1])).lock(lock_body(datetime.now(UTC), tool=sys.argv[2])) is None
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """10 alerts published to folder:out, then a bundle of 3 (14 deletes, limit 2) whose
    publish finds the lock of a publish that died."""
    (tmp_path / "site.toml").write_text(LIMITED_SITE_TOML)
    write_bundle(tmp_path / "public", site_files(10))
    assert sitegen(tmp_path, "publish", "--no-build", "-q").returncode == 0
    write_bundle(tmp_path / "public", site_files(3))
    _die_holding_the_lock(tmp_path / "out")
    return tmp_path


def sitegen(site: Path, command: str, *args: str) -> subprocess.CompletedProcess[str]:
    site_toml = str(site / "site.toml")
    return run_sitegen([SITEGEN, command, "--site", site_toml, *args], dict(os.environ))


def _die_holding_the_lock(out: Path, tool: str = "sitegen publish") -> None:
    died = subprocess.run([sys.executable, "-c", _DIE_HOLDING_THE_LOCK, str(out), tool])
    assert died.returncode == 0


def _advice(stderr: str) -> list[str]:
    """The command the message tells the operator to run, as words."""
    found = re.search(r"Run `sitegen (publish|rollback)([^`]*)`", stderr)
    assert found is not None, stderr
    return [found[1], *found[2].split()]


def test_following_the_advice_takes_the_lock_and_still_refuses_deletes_over_the_limit(
    site: Path,
) -> None:
    before = snapshot_folder(site / "out")
    held = sitegen(site, "publish", "--no-build")
    assert held.returncode == 1, held.stderr
    assert "no longer running on this machine" in held.stderr, held.stderr
    command, *args = _advice(held.stderr)
    assert args == ["--take-over-lock"], held.stderr
    followed = sitegen(site, command, *args, "--no-build")
    assert followed.returncode == 4, followed.stderr  # was 0: 14 files deleted
    assert "would delete 14 objects, more than the limit of 2" in followed.stderr
    assert "broke a stale lock" not in followed.stdout
    after = snapshot_folder(site / "out")
    assert after == {p: v for p, v in before.items() if p != LOCK_PATH}  # the lock let go of
    meant = sitegen(site, "publish", "--no-build", "--max-deletes", "14")
    assert meant.returncode == 0, meant.stderr


def test_force_alone_no_longer_takes_the_lock_and_says_what_to_use(site: Path) -> None:
    """An old invocation (a script, a runbook) is refused, never let do more than asked."""
    before = snapshot_folder(site / "out")
    forced = sitegen(site, "publish", "--no-build", "--force")
    assert forced.returncode == 1, forced.stderr
    assert "--force does not take over a lock" in forced.stderr, forced.stderr
    assert "Use --take-over-lock for the lock" in forced.stderr
    assert snapshot_folder(site / "out") == before  # the lock as it was, nothing deleted
    both = sitegen(site, "publish", "--no-build", "--take-over-lock", "--force")
    assert both.returncode == 0, both.stderr
    assert "broke a stale lock" in both.stdout
    assert "--force let this through: this would delete 14 objects" in both.stdout


def test_a_rollback_s_lock_is_taken_over_by_name_too(site: Path) -> None:
    forced = sitegen(site, "publish", "--no-build", "--take-over-lock", "--force", "-q")
    assert forced.returncode == 0, forced.stderr
    _die_holding_the_lock(site / "out", tool="sitegen rollback")
    held = sitegen(site, "rollback", "--previous", "--force")
    assert held.returncode == 1, held.stderr
    assert "A rollback (sitegen rollback) holds the lock" in held.stderr
    assert "--force does not take over a lock" in held.stderr
    command, *args = _advice(held.stderr)
    assert command == "rollback" and args[-1] == "--take-over-lock", held.stderr
    followed = sitegen(site, command, *args)  # back to the 10 alerts: no delete
    assert followed.returncode == 0, followed.stderr
    assert "broke a stale lock" in followed.stdout


@pytest.mark.parametrize("command", ["publish", "rollback"])
def test_help_tells_taking_over_the_lock_from_lifting_the_limits(command: str) -> None:
    shown = run_sitegen([SITEGEN, command, "--help"], dict(os.environ))
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert "--take-over-lock Take over the lock of a run that died or was stopped" in text
    assert "Lifts no safety limit; a lock of a run still going is never taken." in text
    assert "Does not take over a lock: see --take-over-lock." in text


def test_a_rollback_whose_stop_was_not_recorded_is_told_to_run_again(tmp_path: Path) -> None:
    """A rollback stopped on a stuck network (its record not written) advised `sitegen
    publish --verify --take-over-lock`: that publishes content/, undoing the rollback. Run
    again, the rollback re-sends every file it changes (the manifest online is still the one
    before it); a publish keeps its own advice."""
    from publish.apply import PublishOptions, _unrecorded
    from publish.targets.folder import FolderTarget

    target = FolderTarget(tmp_path / "out")
    again = "sitegen rollback --to 0123456789ab"
    rollback = PublishOptions(again=again, rollback=True)
    said = _unrecorded(target, None, "Publish stopped waiting.", rollback)
    assert f"run `{again} --take-over-lock` again" in said and "publish --verify" not in said
    said = _unrecorded(target, None, "Publish stopped waiting.", PublishOptions())
    assert "`sitegen publish --verify --take-over-lock` checks every file online" in said
