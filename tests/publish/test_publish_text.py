"""What publish prints, word for word where words went wrong: counts of one in the singular,
a CDN's name once in its failure, no '..', and progress bars that line up."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bundles import write_bundle
from test_publish_flow import RecordingCDN, run

from publish.apply import upload_batches
from publish.cdn.cloudfront import CloudFrontInvalidator
from publish.local import read_local
from publish.plan import Limits, make_plan
from publish.remote import read_remote
from publish.report import LABEL_WIDTH, bar_label
from publish.targets.folder import FolderTarget
from sitegen.errors import PublishError
from sitegen_fixtures import run_sitegen

ONE_OF_EACH = {"index.html": b"<h1>home</h1>", "gone.txt": b"bye"}


def test_counts_of_one_are_singular(tmp_path: Path) -> None:
    target = FolderTarget(tmp_path / "out")
    run(write_bundle(tmp_path / "public", ONE_OF_EACH), target)
    public = write_bundle(tmp_path / "public", {"index.html": b"<h1>home</h1>", "new.txt": b"hi"})
    dry = str(run(public, FolderTarget(tmp_path / "out"), [RecordingCDN()], dry_run=True))
    for line in ("upload 1 file,", "delete 1 object:", "unchanged: 1 file", "invalidate 1 path"):
        assert line in dry, dry
    assert "1 upload, " in dry and "1 delete batch)" in dry
    done = str(run(public, FolderTarget(tmp_path / "out"), [RecordingCDN()]))
    assert "fake:cdn: invalidation id1 for 1 path (1 request) ok" in done
    back = write_bundle(tmp_path / "public", {"index.html": b"<h1>home</h1>"})
    again = str(run(back, FolderTarget(tmp_path / "out")))
    assert "no CDN configured: 1 changed path was not invalidated" in again
    same = str(run(back, FolderTarget(tmp_path / "out")))
    assert "already matches the bundle (1 file; 3 requests, 0 uploads" in same


def test_a_cdn_failure_names_the_cdn_once_without_a_double_period(aws: str, tmp_path: Path) -> None:
    public = write_bundle(tmp_path / "public", ONE_OF_EACH)
    run(public, FolderTarget(tmp_path / "out"))
    changed = write_bundle(tmp_path / "public", {**ONE_OF_EACH, "index.html": b"<h1>new</h1>"})
    cdn = CloudFrontInvalidator("E0000NOSUCHDIST")
    with pytest.raises(PublishError) as failed:
        run(changed, FolderTarget(tmp_path / "out"), [cdn])
    message = failed.value.message
    assert message.count("cloudfront:E0000NOSUCHDIST: ") == 1, message
    assert "cloudfront:E0000NOSUCHDIST: CreateInvalidation failed: there is no distribution" in (
        message
    )
    assert ".." not in message and "Check the id in --cloudfront" in message


def test_progress_labels_fit_one_column(tmp_path: Path) -> None:
    files = {
        "assets/a.css": b"a",
        "alerts/x/index.html": b"x",
        "index.html": b"home",
        "feed.atom": b"feed",
    }
    target = FolderTarget(tmp_path / "out")
    run(write_bundle(tmp_path / "public", {p: b"old " + d for p, d in files.items()}), target)
    files.update({"assets/b.css": b"b", "alerts/y/index.html": b"y", "sitemap.xml": b"map"})
    local = read_local(write_bundle(tmp_path / "public", files))
    plan = make_plan(local, read_remote(target), Limits())
    titles = [title for title, _ in upload_batches(plan)] + ["deleting"]
    assert "changed other pages and files" in titles and "new immutable assets" in titles
    for title in titles:
        label = bar_label(title)
        assert len(label) == LABEL_WIDTH and label.rstrip() == title


def test_a_stopped_publish_names_the_target_once_and_counts_of_one_singular(
    tmp_path: Path,
) -> None:
    """A failed upload's TargetError starts with the target's name, which the "stopped" line
    already gives; the Done / Not done lists count one path and one delete in the singular."""
    from test_publish_faults import FailingTarget

    out = tmp_path / "out"
    run(write_bundle(tmp_path / "public", ONE_OF_EACH), FolderTarget(out))
    public = write_bundle(tmp_path / "public", {"index.html": b"<h1>home v2</h1>"})
    with pytest.raises(PublishError) as info:  # calls: lock, manifest read, the upload fails
        run(public, FailingTarget(FolderTarget(out), fail_at=3), [RecordingCDN()])
    message = info.value.message
    assert message.count(f"folder:{out.resolve()}") == 1, message
    assert "invalidation of 3 paths on fake:cdn" in message and "1 delete." in message, message


def test_publish_progress_names_each_file_once(tmp_path: Path) -> None:
    """A new site's first publish said `new indexes, feeds, sitemap: 9`, then `sitemap: 1`:
    the sitemap twice, as if it were in both steps. The steps' names do not overlap, and
    their counts add up to the files uploaded."""
    assert run_sitegen("init", "site", cwd=tmp_path).returncode == 0
    published = run_sitegen("publish", cwd=tmp_path / "site")
    assert published.returncode == 0, published.stderr
    said = published.stdout + published.stderr
    steps = dict(re.findall(r"^publish: (.+): (\d+)$", said, re.M))
    assert list(steps) == [
        "new alert pages and CAP",
        "new other pages and files",
        "sitemap",
        "home page",
    ], said
    for name in ("sitemap", "home page", "alert"):
        assert sum(name in step for step in steps) == 1, (name, steps)
    uploaded = re.search(r": (\d+) uploaded", said)
    assert uploaded and sum(map(int, steps.values())) == int(uploaded.group(1)), said


def test_the_json_plan_keeps_its_upload_keys(tmp_path: Path) -> None:
    """`publish --json`'s `plan.uploads` is keyed as the contract set it, whatever the titles
    the text prints: a script reading "indexes, feeds, sitemap" goes on finding it."""
    assert run_sitegen("init", "site", cwd=tmp_path).returncode == 0
    published = run_sitegen("publish", "--dry-run", "--json", cwd=tmp_path / "site")
    assert published.returncode == 0, published.stderr
    uploads = json.loads(published.stdout)["plan"]["uploads"]
    assert set(uploads) <= {"immutable assets", "alert pages and CAP", "indexes, feeds, sitemap"}
    assert uploads["indexes, feeds, sitemap"] and uploads["alert pages and CAP"]
