"""Invalidations a stopped publish owed, when the next publish has no CDN configured: said
plainly, and kept owed (in a released lock) until a publish with a CDN sends them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from bundles import site_files, write_bundle
from click.testing import CliRunner
from test_publish_flow import RecordingCDN, run

from publish.cli import publish_command
from publish.lock import parse_owed
from publish.targets.base import LOCK_PATH, Target
from publish.targets.folder import FolderTarget
from sitegen.errors import PublishError

OWED = ["/alerts/a1/", "/alerts/a1/index.html"]


def stopped_after_the_manifest(public: Path, target: Callable[[], Target]) -> None:
    """v1 online, then v2 (alert a1 changed) whose CDN call failed: the paths are owed."""
    run(write_bundle(public, site_files()), target())
    files = site_files()
    files["alerts/a1/index.html"] = b"<h1>alert 1 changed</h1>"
    write_bundle(public, files)
    with pytest.raises(PublishError, match="recorded in the lock"):
        run(public, target(), [RecordingCDN(fail=1)])


def owed_in_lock(target: Target) -> list[str]:
    held = target.read(LOCK_PATH)
    assert held is not None, "no lock: nothing is owed"
    owed, released = parse_owed(held.body)
    assert released and owed is not None
    return sorted(owed.invalidate)


def test_owed_invalidations_stay_owed_until_a_publish_with_a_cdn(
    new_target: Callable[[], Target], tmp_path: Path
) -> None:
    public = tmp_path / "public"
    stopped_after_the_manifest(public, new_target)
    target = new_target()
    outcome = run(public, target)  # a publish without a CDN
    text = str(outcome)
    assert (
        "2 invalidations owed by a previous publish could not be sent: no CDN is configured "
        "for this publish" in text
    )
    assert "the 2 paths stay owed, recorded in .sitegen/lock" in text
    assert "changed paths were not invalidated" not in text  # nothing else changed
    assert owed_in_lock(new_target()) == OWED
    dry = str(run(public, new_target(), dry_run=True))
    assert "2 invalidations owed by a previous publish cannot be sent" in dry
    cdn = RecordingCDN()
    run(public, new_target(), [cdn])
    assert [sorted(paths) for paths, _ in cdn.calls] == [OWED]
    assert new_target().read(LOCK_PATH) is None  # sent: nothing owed any more


def test_the_cli_says_so_and_keeps_them(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(
        '[site]\ntitle = "T"\nbase_url = "https://alerts.test/"\ndefault_language = "en"\n'
        'sender = "a@test.invalid"\n[publish]\ntarget = "folder:out"\n'
    )
    stopped_after_the_manifest(tmp_path / "public", lambda: FolderTarget(tmp_path / "out"))
    args = ["--site", str(tmp_path / "site.toml"), "--no-build", "-q"]
    result = CliRunner().invoke(publish_command, args)
    assert result.exit_code == 0, result.output
    assert "2 invalidations owed by a previous publish could not be sent" in result.stdout
    assert "stay owed" in result.stdout and "finishes it" not in result.stdout
    assert owed_in_lock(FolderTarget(tmp_path / "out")) == OWED
