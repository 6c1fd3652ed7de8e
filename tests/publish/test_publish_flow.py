"""Publishing end to end, on both targets (local folder, and S3 in a moto server over HTTP)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bundles import site_files
from state import expected

from publish.apply import PublishOptions, publish
from publish.cdn.base import InvalidationReceipt
from publish.local import read_local
from publish.lock import lock_body
from publish.plan import Limits
from publish.report import Outcome
from publish.targets.base import LOCK_PATH, Target
from sitegen.errors import PublishError

Bundle = Callable[..., Path]
NewTarget = Callable[[], Target]


class RecordingCDN:
    """An Invalidator fake that records calls and can fail the first ``fail`` of them."""

    def __init__(self, name: str = "fake:cdn", fail: int = 0) -> None:
        self.name = name
        self.calls: list[tuple[tuple[str, ...], str]] = []
        self.fail = fail

    def to_send(self, paths: Sequence[str]) -> tuple[str, ...]:
        return tuple(paths)

    def invalidate(self, paths: Sequence[str], *, reference: str) -> InvalidationReceipt:
        self.calls.append((tuple(paths), reference))
        if self.fail:
            self.fail -= 1
            raise PublishError(f"{self.name}: purge refused (test)")
        return InvalidationReceipt(self.name, f"id{len(self.calls)}", len(paths), 1, "ok")


def run(public: Path, target: Target, cdns: Sequence[Any] = (), **options: Any) -> Outcome:
    limits = Limits(max_deletes=options.pop("max_deletes", 50), force=options.pop("force", False))
    options.setdefault("take_over_lock", limits.force)  # both, as --force did before 2026-12
    return publish(read_local(public), target, cdns, PublishOptions(limits=limits, **options))


def test_first_publish_puts_every_file_with_headers_and_sha(
    bundle: Bundle, new_target: NewTarget, snapshot: Callable[[], Any]
) -> None:
    public = bundle()
    outcome = run(public, new_target())
    assert outcome.uploaded == len(site_files())
    assert snapshot() == expected(public)  # object by object; lock released, nothing else


def test_second_publish_of_same_bundle_makes_no_writes(
    bundle: Bundle, new_target: NewTarget, kind: str
) -> None:
    public = bundle()
    run(public, new_target())
    bundle(built_at="2026-11-26T00:00:00+00:00")  # a fresh rebuild: new manifest bytes only
    cdn = RecordingCDN()
    target = new_target()
    outcome = run(public, target, [cdn])
    assert outcome.plan.is_noop
    assert (outcome.uploaded, outcome.deleted, cdn.calls) == (0, 0, [])
    assert outcome.requests == 3  # lock, manifest GET, unlock (a folder counts as S3 does)
    assert "Nothing to publish" in str(outcome)


def test_one_alert_changed_uploads_only_it_and_invalidates_its_paths(
    bundle: Bundle, new_target: NewTarget, snapshot: Callable[[], Any], kind: str
) -> None:
    files = site_files()
    run(bundle(files), new_target())
    files["alerts/a1/index.html"] = b"<h1>alert 1 UPDATED</h1>"
    files["index.html"] += b"<!-- a1 updated -->"
    public = bundle(files)
    cdn = RecordingCDN()
    outcome = run(public, new_target(), [cdn])
    assert sorted(u.path for u in outcome.plan.uploads) == ["alerts/a1/index.html", "index.html"]
    [(paths, reference)] = cdn.calls
    assert paths == ("/", "/alerts/a1/", "/alerts/a1/index.html", "/index.html")
    # the run's own reference, not the manifest id (test_publish_cdn_cli.py says why)
    assert len(reference) == 24 and not read_local(public).id.startswith(reference)
    if kind == "s3":
        # changed files + lock, GET, kept + live manifest, unlock; pending record put + delete
        assert outcome.requests <= 2 + 7
    assert snapshot() == expected(public)


def test_deleted_alert_is_removed_after_invalidation(
    bundle: Bundle, new_target: NewTarget, snapshot: Callable[[], Any]
) -> None:
    files = site_files()
    run(bundle(files), new_target())
    del files["alerts/a2/index.html"], files["alerts/a2/cap.xml"]
    public = bundle(files)
    cdn = RecordingCDN()
    outcome = run(public, new_target(), [cdn])
    assert outcome.deleted == 2
    assert set(cdn.calls[0][0]) == {"/alerts/a2/", "/alerts/a2/index.html", "/alerts/a2/cap.xml"}
    assert snapshot() == expected(public)


def test_header_only_change_is_detected(
    bundle: Bundle, new_target: NewTarget, snapshot: Callable[[], Any]
) -> None:
    run(bundle(), new_target())
    public = bundle(cache_control={"feed.atom": "public, max-age=30"})
    cdn = RecordingCDN()
    outcome = run(public, new_target(), [cdn])
    assert [(u.path, u.reason) for u in outcome.plan.uploads] == [("feed.atom", "headers")]
    assert cdn.calls[0][0] == ("/feed.atom",)
    assert snapshot()["feed.atom"][2] == "public, max-age=30"


def test_too_many_deletes_are_refused_unless_forced(
    bundle: Bundle, new_target: NewTarget, snapshot: Callable[[], Any]
) -> None:
    run(bundle(site_files(alerts=6)), new_target())
    before = snapshot()
    public = bundle(site_files(alerts=1))  # 10 files gone
    with pytest.raises(PublishError, match=r"delete 10 objects, more than --max-deletes 5"):
        run(public, new_target(), max_deletes=5)
    assert snapshot() == before
    assert run(public, new_target(), max_deletes=5, force=True).deleted == 10
    assert snapshot() == expected(public)


def test_empty_bundle_is_refused(
    bundle: Bundle, new_target: NewTarget, snapshot: Callable[[], Any]
) -> None:
    run(bundle(), new_target())
    before = snapshot()
    with pytest.raises(PublishError, match="the bundle is empty"):
        run(bundle({}), new_target(), max_deletes=1000)
    assert snapshot() == before


def test_dry_run_prints_the_plan_and_changes_nothing(
    bundle: Bundle, new_target: NewTarget, snapshot: Callable[[], Any]
) -> None:
    run(bundle(), new_target())
    files = site_files()
    files["alerts/a0/cap.xml"] = b"<alert>changed</alert>"
    before = snapshot()
    outcome = run(bundle(files), new_target(), [RecordingCDN()], dry_run=True)
    text = str(outcome)
    assert "changed  alerts/a0/cap.xml" in text and "/alerts/a0/cap.xml" in text
    assert "Dry run: nothing was changed." in text
    doc = json.loads(json.dumps(outcome.to_json()))
    assert doc["plan"]["invalidations"] == {"fake:cdn": ["/alerts/a0/cap.xml"]}
    assert snapshot() == before


def test_a_held_lock_stops_a_second_publish_naming_holder_and_age(
    bundle: Bundle, new_target: NewTarget
) -> None:
    public = bundle()
    holder = new_target()
    since = datetime.now(UTC) - timedelta(seconds=125)
    assert holder.lock(lock_body(since)) is None
    with pytest.raises(PublishError) as info:
        run(public, new_target())
    message = info.value.message
    assert "Another publish holds the lock" in message and " pid " in message
    assert re.search(r"for 2 min ([5-9]|1[0-9]) s", message), message  # 125 s + a slow run
    with pytest.raises(PublishError, match="becomes stale after 15 min"):
        run(public, new_target(), take_over_lock=True)  # a fresh lock is never broken


def test_a_stale_lock_is_broken_only_when_taken_over(
    bundle: Bundle, new_target: NewTarget, snapshot: Callable[[], Any]
) -> None:
    public = bundle()
    dead = new_target()
    assert dead.lock(lock_body(datetime.now(UTC) - timedelta(hours=2))) is None
    with pytest.raises(PublishError, match="Run `sitegen publish --take-over-lock` to take its"):
        run(public, new_target())
    with pytest.raises(PublishError, match="--force does not take over a lock"):
        run(public, new_target(), force=True, take_over_lock=False)
    outcome = run(public, new_target(), take_over_lock=True)
    assert any("broke a stale lock" in note for note in outcome.notes)
    assert LOCK_PATH not in snapshot()
    assert snapshot() == expected(public)


@pytest.mark.parametrize("step", ["first", "one changed", "one deleted", "nothing changed"])
def test_the_plan_counts_the_requests_the_publish_then_makes(
    bundle: Bundle, new_target: NewTarget, step: str
) -> None:
    """--dry-run shows the requests spent reading the remote state and how many more the
    publish makes (lock, uploads, state, deletes): together, exactly what the publish then
    reports, on S3 and on the folder target alike. A first publish reads the state by listing
    the store, which holds the lock by then: the lock is not listed (no metadata read)."""
    files = site_files(3)
    if step != "first":
        run(bundle(files), new_target())
    if step == "one changed":
        files["alerts/a1/index.html"] = b"<h1>alert 1, updated</h1>"
    elif step == "one deleted":
        files = {k: v for k, v in files.items() if not k.startswith("alerts/a2/")}
    public = bundle(files)
    plan = run(public, new_target(), [RecordingCDN()], dry_run=True).plan
    outcome = run(public, new_target(), [RecordingCDN()])
    assert outcome.plan.uploads == plan.uploads and outcome.plan.deletes == plan.deletes
    assert outcome.requests == plan.remote_requests + plan.estimate()["target_total"]
    text = str(plan)
    reads = "[1 request]" if plan.remote_requests == 1 else f"[{plan.remote_requests} requests]"
    assert reads in text
    assert f"requests: {plan.estimate()['target_total']} more to the target" in text
    calls = plan.estimate()["cdn_calls_each"]
    assert calls == (0 if step in ("first", "nothing changed") else 1)  # new paths: none
    assert f"; {calls} invalidation call{'' if calls == 1 else 's'} per CDN" in text
