"""Safety of the publisher against a wrong target and a damaged one, on both targets: objects
sitegen did not put there are never deleted nor silently overwritten; a bundle without alerts
does not take every alert offline; --verify repairs bytes edited in place; the lock survives a
lost answer and a read-only folder, and an unreadable lock is aged by its store."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from bundles import site_files
from faults import FAST_RETRY, FaultProxy, fail_first, never
from state import expected
from test_publish_flow import run

from publish.lock import acquire, lock_body
from publish.targets.base import LOCK_PATH, Target, TargetError
from publish.targets.folder import FolderTarget
from publish.targets.s3 import S3Target
from sitegen.errors import PublishError
from sitegen_fixtures import file_size_limit

Bundle = Callable[..., Path]
NewTarget = Callable[[], Target]
FOREIGN = {"backups/db-2026-11-01.sql.gz": b"\x1f\x8b backup", "other-team/report.pdf": b"%PDF"}


def put_foreign(
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    path: str,
    data: bytes,
    **metadata: str,
) -> None:
    """Put an object the way another tool would: no sitegen sidecar / no sha256 metadata."""
    if kind == "folder":
        file = tmp_path / "_published" / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        return
    bucket = request.getfixturevalue("bucket")
    boto3.client("s3").put_object(Bucket=bucket, Key=f"site/{path}", Body=data, Metadata=metadata)


def test_objects_sitegen_did_not_publish_are_never_deleted(
    bundle: Bundle,
    new_target: NewTarget,
    snapshot: Callable[[], Any],
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """A first publish into a prefix or folder that holds something else (a wrong --target)
    lists it: what has no sha256 of ours is left alone, and said so in the plan."""
    for path, data in FOREIGN.items():
        put_foreign(kind, request, tmp_path, path, data)
    files = site_files(3)
    dry = run(bundle(files), new_target(), dry_run=True).plan
    assert dry.deletes == () and dry.foreign_kept == tuple(sorted(FOREIGN))
    assert "left alone: 2 objects sitegen did not publish" in str(dry)
    outcome = run(bundle(files), new_target())
    assert outcome.deleted == 0 and outcome.plan.refusals == ()
    held = snapshot()
    assert set(FOREIGN) <= set(held) and all(held[p][3] == "" for p in FOREIGN)
    del files["alerts/a2/index.html"], files["alerts/a2/cap.xml"]
    assert run(bundle(files), new_target(), verify=True).deleted == 2  # ours only
    assert set(FOREIGN) <= set(snapshot())


def test_overwriting_what_sitegen_did_not_publish_needs_force(
    bundle: Bundle,
    new_target: NewTarget,
    snapshot: Callable[[], Any],
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    put_foreign(kind, request, tmp_path, "index.html", b"<h1>another site</h1>")
    public = bundle()
    before = snapshot()
    with pytest.raises(PublishError, match=r"holds 1 objects? this publish would overwrite"):
        run(public, new_target())
    assert snapshot() == before  # refused before any write; lock released
    outcome = run(public, new_target(), force=True)
    assert {u.path: u.reason for u in outcome.plan.uploads}["index.html"] == "changed"
    assert snapshot() == expected(public)


def test_a_bundle_without_alerts_does_not_take_every_alert_offline(
    bundle: Bundle, new_target: NewTarget, snapshot: Callable[[], Any]
) -> None:
    """A missing or emptied content folder builds index pages only: fewer deletes than
    --max-deletes on a small site, so that limit alone would let it through."""
    run(bundle(site_files(3)), new_target())
    before = snapshot()
    empty = bundle(site_files(0))
    with pytest.raises(PublishError, match="no alert pages, and 6 alert files are published"):
        run(empty, new_target())
    assert snapshot() == before
    forced = run(empty, new_target(), force=True)
    assert forced.deleted == 6  # it says what it lifted
    assert any(
        n.startswith("--force let this through: the bundle has no alert") for n in forced.notes
    )
    assert "FORCED (--force): the bundle has no alert pages" in str(forced.plan)


def test_verify_repairs_bytes_changed_behind_the_publishers_back(
    bundle: Bundle,
    new_target: NewTarget,
    snapshot: Callable[[], Any],
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """The folder: a file edited in place (same size) keeps its sidecar. S3: an object copied
    over with our metadata kept (another size). The manifest still says all is well;
    --verify finds both."""
    public = bundle()
    run(public, new_target())
    good = (public / "index.html").read_bytes()
    sha = hashlib.sha256(good).hexdigest()
    if kind == "folder":  # same size: only the bytes tell
        (tmp_path / "_published/index.html").write_bytes(good.replace(b"Alerts", b"Hacked"))
    else:
        put_foreign(kind, request, tmp_path, "index.html", good + b"hacked", sha256=sha)
    assert run(public, new_target()).plan.is_noop  # the manifest cannot know
    repaired = run(public, new_target(), verify=True)
    assert [(u.path, u.reason) for u in repaired.plan.uploads] == [("index.html", "changed")]
    assert snapshot() == expected(public)


def test_a_lost_answer_to_the_lock_write_is_recognised_as_our_own(
    bucket: str, bundle: Bundle, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 took the lock, the answer never came back, the retry met the lock: it is ours (same
    body, random nonce), not "another publish holds the lock" naming this very process."""
    host, _, port = aws.removeprefix("http://").partition(":")
    public = bundle()
    with FaultProxy(host, int(port), never, lose_answer=fail_first(1, "PUT", LOCK_PATH)) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        outcome = run(public, S3Target(bucket, "site", retry=FAST_RETRY, botocore_attempts=1))
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    assert proxy.log.count(0) == 1  # the lost answer happened
    assert outcome.uploaded == len(site_files())
    from state import snapshot_s3

    assert snapshot_s3(bucket) == expected(public)  # lock released at the end


def test_two_lock_bodies_of_one_process_in_one_second_differ() -> None:
    now = datetime.now(UTC)
    first, second = json.loads(lock_body(now)), json.loads(lock_body(now))
    assert first["holder"] == second["holder"] and first["nonce"] != second["nonce"]


def test_a_folder_where_the_lock_cannot_be_made_is_a_clear_error(
    bundle: Bundle, tmp_path: Path
) -> None:
    """Read-only or foreign-owned folders fail the lock with OSError (root ignores modes, so
    a file standing where the .sitegen folder must go makes it fail alike)."""
    root = tmp_path / "_published"
    root.mkdir()
    (root / ".sitegen").write_text("not a folder")
    with pytest.raises(TargetError, match="cannot create the lock"):
        FolderTarget(root).lock(b"{}")
    with pytest.raises(PublishError, match=r"Could not take the publish lock: .*cannot create"):
        run(bundle(), FolderTarget(root))


_LOCK_ON_A_FULL_DISK = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from publish.lock import lock_body
from publish.remote import Pending
from publish.targets.base import TargetError
from publish.targets.folder import FolderTarget
owed = Pending("0" * 64, (), tuple(f"alerts/a{i}/index.html" for i in range(500)))
try:
    FolderTarget(Path(sys.argv[1])).lock(lock_body(datetime.now(UTC), owed))
except TargetError as exc:
    print(exc)
"""


def test_a_lock_that_does_not_fit_on_the_disk_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    """Neither the lock's temporary file nor, then, the lock can be written (here past a file
    size limit, which fails a write as a full disk does): the message of before, no lock, no
    temporary file."""
    out = tmp_path / "out"
    args = [sys.executable, "-c", _LOCK_ON_A_FULL_DISK, str(out)]
    said = subprocess.run(
        args, capture_output=True, text=True, timeout=60, preexec_fn=file_size_limit(1000)
    )
    assert said.returncode == 0, said.stderr
    assert f"folder:{out}: cannot write the lock .sitegen/lock: [Errno 27]" in said.stdout
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["lock.guard"]


def test_a_folder_where_the_lock_cannot_be_linked_takes_it_as_before(tmp_path: Path) -> None:
    """The lock is written to `.sitegen/tmp`, then linked to its name; where no hard link can
    be made (FAT, some SMB mounts: EPERM, EOPNOTSUPP; here EXDEV, the temporary folder on
    another file system) it is created empty and then written, as before fix/emptylock."""
    elsewhere = Path("/dev/shm")
    if not elsewhere.is_dir() or elsewhere.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on a file system other than the tests' temporary folder")
    tmp_dir = elsewhere / f"sitegen-{tmp_path.name}-{os.getpid()}"
    tmp_dir.mkdir()
    try:
        out = tmp_path / "out"
        (out / ".sitegen").mkdir(parents=True)
        (out / ".sitegen" / "tmp").symlink_to(tmp_dir)
        mine, theirs = lock_body(datetime.now(UTC)), lock_body(datetime.now(UTC))
        assert FolderTarget(out).lock(mine) is None
        held = FolderTarget(out).lock(theirs)
        assert held is not None and held.body == mine
        assert list(tmp_dir.iterdir()) == []  # the temporary file that could not be linked
    finally:
        shutil.rmtree(tmp_dir)


@pytest.mark.parametrize(
    "body",
    [
        b"garbage, not a lock",  # unreadable, written just now
        None,  # a "since" an hour ahead (the holder's clock), written just now
    ],
    ids=["unreadable", "since-in-the-future"],
)
def test_a_lock_without_a_believable_since_is_aged_by_when_it_was_written(
    new_target: NewTarget, body: bytes | None
) -> None:
    holder = new_target()
    now = datetime.now(UTC)
    assert holder.lock(body or lock_body(now + timedelta(hours=1))) is None
    with pytest.raises(PublishError, match="becomes stale after 15 min"):
        acquire(new_target(), now=now, timeout_s=900, take_over=True)
    later = now + timedelta(seconds=901)
    got = acquire(new_target(), now=later, timeout_s=900, take_over=True)
    assert "broke a stale lock" in got.note


@pytest.mark.parametrize(
    ("spec", "what"),
    [
        ("folder:public", "overlaps the build output"),
        ("folder:public/x", "overlaps the build output"),
        ("folder:content", "overlaps the site's own files"),
        ("folder:content/alerts/out", "overlaps the site's own files"),
        ("folder:templates", "overlaps the site's own files"),
        ("folder:.", "holds the site itself"),
        ("folder:..", "holds the site itself"),
    ],
)
def test_a_folder_target_may_not_overlap_the_site(tmp_path: Path, spec: str, what: str) -> None:
    """Publishing into content/ mixed the built site into the alert sources (nothing was
    deleted, but the sources folder then held 46 generated files)."""
    from publish.connect import open_target
    from sitegen.errors import ConfigError

    site = tmp_path / "site"
    sources = (site / "content", site / "templates")
    with pytest.raises(ConfigError, match=what):
        open_target(spec, site, site / "public", sources)
    assert open_target("folder:_published", site, site / "public", sources).name.endswith(
        "_published"
    )


def test_a_sitegen_site_below_the_target_is_never_deleted(
    bundle: Bundle,
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    snapshot: Callable[[], Any],
) -> None:
    """Moving a site from base path /emergency/ back to the host's root: the first publish at
    the root has no manifest there and lists the prefix, which holds the /emergency/ site,
    objects with our sha256 and its own manifest. They were 47 deletes under --max-deletes 50,
    the other site's manifest among them; now they are left alone, and the plan says why."""
    if kind == "folder":
        outer = lambda: FolderTarget(tmp_path / "_published")  # noqa: E731
        inner = FolderTarget(tmp_path / "_published" / "emergency")
    else:
        name = request.getfixturevalue("bucket")
        outer = lambda: S3Target(name, "site", retry=FAST_RETRY)  # noqa: E731
        inner = S3Target(name, "site/emergency", retry=FAST_RETRY)
    files = site_files(3)
    run(bundle(files), inner)
    held = {path for path in snapshot() if "emergency/" in path}
    dry = run(bundle(files), outer(), dry_run=True).plan
    assert dry.deletes == () and dry.other_sites == ("emergency/",)
    assert set(dry.foreign_kept) == held
    assert "another sitegen site's below this target (its own manifest: emergency/)" in str(dry)
    outcome = run(bundle(files), outer())
    assert outcome.deleted == 0
    assert {path for path in snapshot() if "emergency/" in path} == held
