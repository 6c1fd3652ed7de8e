"""Rollback: back to any kept published state, on the folder target and on a versioned S3 bucket
(moto server over HTTP), through the same ordered publish; refused when bytes are gone."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from bundles import site_files
from click.testing import CliRunner
from ops_support import Site, invalidated_paths
from state import expected, snapshot_folder, snapshot_s3

from publish.apply import PublishOptions, publish
from publish.cdn.base import InvalidationReceipt
from publish.cli_rollback import rollback_command
from publish.history import KEPT_PREFIX, OBJECTS_PREFIX
from publish.local import read_local
from publish.lock import acquire
from publish.plan import Limits
from publish.remote import Pending
from publish.rollback import list_states, rollback
from publish.targets.base import Target
from publish.targets.folder import FolderTarget
from publish.targets.s3 import S3Target
from sitegen.errors import LockHeldError, PublishError, PublishInterrupted, RefusedError


class Recorder:
    """An Invalidator that records what it was asked to invalidate."""

    name = "fake:cdn"

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], str]] = []

    def to_send(self, paths: Sequence[str]) -> tuple[str, ...]:
        return tuple(paths)

    def invalidate(self, paths: Sequence[str], *, reference: str) -> InvalidationReceipt:
        self.calls.append((tuple(paths), reference))
        return InvalidationReceipt(self.name, "id", len(paths), 1, "ok")


def v2_files() -> dict[str, bytes]:
    """v1 with alert a1 changed, a2 removed, a3 added (and the index pages following)."""
    files = site_files(2, version="v2")
    files["alerts/a3/index.html"] = b"<h1>alert 3 new</h1>"
    files["alerts/a3/cap.xml"] = b"<alert><identifier>a3</identifier></alert>"
    files["alerts/a0/index.html"] = site_files()["alerts/a0/index.html"]  # unchanged
    return files


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Callable[[], Target], Any]:
    """(a factory of fresh targets on one store, a snapshot of the store read directly)."""
    if request.param == "folder":
        root = tmp_path / "_published"
        return (lambda: FolderTarget(root)), (lambda: snapshot_folder(root))
    name = request.getfixturevalue("bucket")
    return (lambda: S3Target(name, "site")), (lambda: snapshot_s3(name))


def run(site: Site, target: Target, files: dict[str, bytes] | None = None) -> str:
    """Publish ``files`` as a fresh build; return the expected snapshot of that state."""
    public = site.write(files)
    publish(read_local(public), target)
    return json.dumps(expected(public), sort_keys=True)


def test_previous_restores_bytes_headers_and_manifest_then_toggles(
    site: Site, store: tuple[Callable[[], Target], Any]
) -> None:
    new_target, snapshot = store
    v1 = run(site, new_target())
    v2 = run(site, new_target(), v2_files())
    cdn = Recorder()
    kept, outcome = rollback(new_target(), None, [cdn])
    assert json.dumps(snapshot(), sort_keys=True) == v1  # every object, byte and header
    assert sorted(u.path for u in outcome.plan.uploads) == [
        "alerts/a1/index.html",
        "alerts/a2/cap.xml",
        "alerts/a2/index.html",
        "feed.atom",
        "index.html",
        "sitemap.xml",
    ]
    assert outcome.plan.deletes == ("alerts/a3/cap.xml", "alerts/a3/index.html")
    # exactly what changed: changed pages and removed a3, not a2 (new again: never cached)
    assert cdn.calls[0][0] == (
        "/",
        "/alerts/a1/",
        "/alerts/a1/index.html",
        "/alerts/a3/",
        "/alerts/a3/cap.xml",
        "/alerts/a3/index.html",
        "/feed.atom",
        "/index.html",
        "/sitemap.xml",
    )
    assert cdn.calls[0][1] != kept.id  # a new CDN reference, not that state's own
    _, again = rollback(new_target(), None, [cdn])  # --previous twice: back to v2
    assert json.dumps(snapshot(), sort_keys=True) == v2
    assert again.plan.deletes == ("alerts/a2/cap.xml", "alerts/a2/index.html")


def test_to_an_older_state_by_id_prefix_and_list(
    site: Site, store: tuple[Callable[[], Target], Any]
) -> None:
    new_target, snapshot = store
    v1 = run(site, new_target())
    first_id = read_local(site.public).id
    run(site, new_target(), v2_files())
    run(site, new_target(), site_files(5, version="v3"))
    states, remote, _ = list_states(new_target())
    assert [len(s.manifest.files) for s in states] == [14, 10, 10]  # newest first
    assert states[0].id == remote.manifest_id and states[2].id == first_id
    kept, _ = rollback(new_target(), first_id[:8])
    assert kept.id == first_id
    assert json.dumps(snapshot(), sort_keys=True) == v1
    assert list_states(new_target())[0][0].id == first_id  # now the most recently published


def test_s3_rolls_back_to_a_manifest_an_older_sitegen_stored_plain(site: Site, bucket: str) -> None:
    """Kept manifests are object versions: older ones plain (sitegen before session 10),
    newer ones gzip-encoded. Both are listed with the id of their decoded bytes."""
    v1 = run(site, S3Target(bucket, "site"))
    first = read_local(site.public)
    key = "site/.sitegen/manifest.json"
    s3 = boto3.client("s3")
    assert s3.get_object(Bucket=bucket, Key=key)["ContentEncoding"] == "gzip"
    s3.put_object(  # as an older sitegen stored it: plain, same bytes, same metadata
        Bucket=bucket,
        Key=key,
        Body=first.manifest_bytes,
        ContentType="application/json; charset=utf-8",
        CacheControl="no-store",
        Metadata={"sha256": first.id},
    )
    run(site, S3Target(bucket, "site"), v2_files())
    states, remote, _ = list_states(S3Target(bucket, "site"))
    assert states[0].id == remote.manifest_id != first.id
    assert first.id in {s.id for s in states}
    kept, _ = rollback(S3Target(bucket, "site"), first.id[:10])
    assert kept.id == first.id
    assert json.dumps(snapshot_s3(bucket), sort_keys=True) == v1


def test_unchanged_rollback_target_is_refused(site: Site, tmp_path: Path) -> None:
    run(site, FolderTarget(tmp_path / "out"))
    current = read_local(site.public).id
    with pytest.raises(PublishError, match="nothing to roll back to"):
        rollback(FolderTarget(tmp_path / "out"), None)
    with pytest.raises(PublishError, match="the one published now"):
        rollback(FolderTarget(tmp_path / "out"), current[:12])
    with pytest.raises(PublishError, match="matches no kept state"):
        rollback(FolderTarget(tmp_path / "out"), "abcdef0123")


def test_unversioned_bucket_is_refused_before_any_change(site: Site, plain_bucket: str) -> None:
    run(site, S3Target(plain_bucket, "site"))
    run(site, S3Target(plain_bucket, "site"), v2_files())
    before = snapshot_s3(plain_bucket)
    with pytest.raises(PublishError) as raised:
        rollback(S3Target(plain_bucket, "site"), None)
    message = raised.value.message
    # Without versioning S3 keeps neither old manifests nor old bytes: nothing to choose from.
    assert "nothing to roll back to" in message and "Nothing was changed" in message
    assert "Versioning is off" in message and "put-bucket-versioning" in message
    assert snapshot_s3(plain_bucket) == before
    lock = boto3.client("s3").list_objects_v2(Bucket=plain_bucket, Prefix="site/.sitegen/lock")
    assert lock.get("KeyCount") == 0


def test_folder_with_cleaned_history_is_refused(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "out"
    run(site, FolderTarget(root))
    run(site, FolderTarget(root), v2_files())
    for kept in (root / OBJECTS_PREFIX).iterdir():
        kept.unlink()
    with pytest.raises(PublishError, match=r"6 of its files are no longer stored"):
        rollback(FolderTarget(root), None)


def test_folder_keeps_versions_as_hard_links(site: Site, tmp_path: Path) -> None:
    root = tmp_path / "out"
    run(site, FolderTarget(root))
    page = root / "alerts/a1/index.html"
    sha = hashlib.sha256(page.read_bytes()).hexdigest()
    assert (root / OBJECTS_PREFIX / sha).stat().st_ino == page.stat().st_ino
    run(site, FolderTarget(root), v2_files())
    assert hashlib.sha256((root / OBJECTS_PREFIX / sha).read_bytes()).hexdigest() == sha
    manifests = sorted(p.name for p in (root / KEPT_PREFIX).iterdir())
    assert len(manifests) == 2 and all(len(n) == len("0" * 64 + ".json") for n in manifests)


def test_max_deletes_and_dry_run_apply_to_rollback(
    site: Site, store: tuple[Callable[[], Target], Any]
) -> None:
    new_target, snapshot = store
    run(site, new_target(), site_files(1))
    v2 = run(site, new_target(), site_files(4))
    with pytest.raises(PublishError, match="more than --max-deletes 2"):
        rollback(new_target(), None, options=PublishOptions(limits=Limits(max_deletes=2)))
    _, dry = rollback(new_target(), None, options=PublishOptions(dry_run=True))
    assert dry.dry_run and len(dry.plan.deletes) == 6
    assert json.dumps(snapshot(), sort_keys=True) == v2


def test_cli_list_dry_run_and_previous_with_cloudfront(
    site: Site, bucket: str, distribution: str
) -> None:
    site.configure(f'target = "s3://{bucket}/site"\ncloudfront = ["{distribution}"]')
    site.write()
    site.run("publish", "--no-build", "-q")
    v1 = expected(site.public)
    site.write(v2_files())
    site.run("publish", "--no-build", "-q")
    states = site.run_json("rollback", "--list")
    assert [s["files"] for s in states] == [10, 10] and states[0]["current"]
    assert "← live now" in site.run("rollback", "--list").stdout
    dry = site.run("rollback", "--previous", "--dry-run").stdout
    assert "Dry run: nothing was changed" in dry and states[1]["id"][:12] in dry
    done = site.run_json("rollback", "--to", states[1]["id"][:10], "-q")
    assert done["rolled_back_to"] == states[1]["id"] and done["deleted"] == 2
    assert snapshot_s3(bucket) == v1
    last = invalidated_paths(distribution)[-1]
    assert "/alerts/a3/*" in last or "/alerts/a3/" in last
    assert "/alerts/a1/index.html" in last or "/alerts/a1/*" in last
    refused = site.run("rollback", "--previous", "--to", "3f9c2a71b0de", ok=False)
    assert refused.returncode == 2 and "exactly one of" in refused.stderr


@pytest.mark.parametrize("args", [(), ("--previous", "--list")])
def test_cli_without_exactly_one_choice_is_wrong_usage_exit_2_as_documented(
    site: Site, args: tuple[str, ...]
) -> None:
    """`rollback --help`: exit codes as for publish, where 2 is wrong usage (as `new --update X
    --cancel Y` exits 2); 1 means a rollback failed, which a script reports to a person."""
    result = CliRunner().invoke(rollback_command, [*args, "--site", str(site.toml)])
    assert result.exit_code == 2, result.output
    assert "exactly one of --to MANIFEST_ID, --previous or --list" in result.stderr
    assert "Usage: rollback [OPTIONS]" in result.stderr


def test_previous_on_a_target_never_published_says_nothing_was_published(site: Site) -> None:
    """Not "these were published before sitegen kept versions": nothing was published."""
    result = CliRunner().invoke(rollback_command, ["--previous", "--site", str(site.toml)])
    assert result.exit_code == 1, result.output
    target = f"folder:{(site.root / '_published').resolve()}"
    assert f"Nothing has been published to {target} yet" in result.stderr
    assert "before sitegen kept versions" not in result.stderr


def test_cli_json_failure_is_one_json_object(site: Site) -> None:
    site.write()
    site.run("publish", "--no-build", "-q")
    done = site.run("rollback", "--previous", "--json", ok=False)
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["ok"] is False and doc["error"]["kind"] == "publish"
    assert "nothing to roll back to" in doc["error"]["message"]


def test_cli_previous_after_the_first_publish_says_there_is_none_yet(site: Site) -> None:
    """The first operator to try `rollback --previous` after one publish was told the earlier
    versions were lost ("published before sitegen kept versions, or that folder was
    cleaned"): there never was an earlier state."""
    site.write()
    site.run("publish", "--no-build", "-q")
    live = site.run_json("rollback", "--list")[0]["id"]
    done = site.run("rollback", "--previous", ok=False)
    assert done.returncode == 1
    said = " ".join(done.stderr.split())
    assert f"The only state kept is the one live now ({live[:12]})" in said
    assert "after a target's first publish there is no earlier one yet" in said
    assert "Nothing was changed." in said


def test_cli_dry_run_of_a_refused_rollback_exits_4(site: Site) -> None:
    site.write(site_files(1))
    site.run("publish", "--no-build", "-q")
    site.write(site_files(4))
    site.run("publish", "--no-build", "-q")
    dry = site.run("rollback", "--previous", "--dry-run", "--max-deletes", "2", ok=False)
    assert dry.returncode == 4, dry.stderr
    assert "REFUSED: this would delete 6 objects" in dry.stdout
    assert "but the real run would be refused" in dry.stderr


def test_help_says_where_each_target_keeps_old_states() -> None:
    text = " ".join(CliRunner().invoke(rollback_command, ["--help"]).stdout.split())
    assert "versions of .sitegen/manifest.json" in text and "bucket versioning must be on" in text
    assert "A folder target keeps them in .sitegen/manifests/ and .sitegen/objects/" in text
    assert "Every publish keeps its manifest (.sitegen/manifests/)" not in text


class CtrlCAtDelete(FolderTarget):
    """A folder target where Ctrl-C comes while the rollback deletes (after its manifest)."""

    def delete(self, paths: Sequence[str]) -> None:
        raise KeyboardInterrupt


def test_interrupted_rollback_names_the_rollback_to_rerun_and_that_rerun_finishes(
    site: Site, tmp_path: Path
) -> None:
    """Not "Run `sitegen publish` again": that publishes the content rolled back from. And not
    `--previous` again: with the kept state already live, it would go back to the bad one."""
    root = tmp_path / "out"
    v1 = run(site, FolderTarget(root))
    good = read_local(site.public).id
    run(site, FolderTarget(root), v2_files())
    with pytest.raises(PublishInterrupted) as stopped:
        rollback(CtrlCAtDelete(root), None)
    message = stopped.value.message
    assert "sitegen publish" not in message
    assert f"Run `sitegen rollback --to {good[:12]}` again to finish" in message
    with pytest.raises(PublishError, match=f"rollback --to {good[:12]}"):
        rollback(FolderTarget(root), None)  # --previous would pick the state rolled back from
    kept, _ = rollback(FolderTarget(root), good[:12])
    assert kept.id == good
    assert json.dumps(snapshot_folder(root), sort_keys=True) == v1
    with pytest.raises(PublishError, match="the one published now"):
        rollback(FolderTarget(root), good[:12])  # finished: nothing owed any more


def test_rollback_waiting_for_the_lock_says_to_rerun_the_rollback(
    site: Site, tmp_path: Path
) -> None:
    root = tmp_path / "out"
    run(site, FolderTarget(root))
    good = read_local(site.public).id
    run(site, FolderTarget(root), v2_files())
    holder = FolderTarget(root)
    assert (
        holder.lock(b'{"holder": "ann@desk pid 1", "since": "2999-01-01T00:00:00+00:00"}') is None
    )
    with pytest.raises(LockHeldError) as held:
        rollback(FolderTarget(root), None)
    assert "publish again" not in held.value.message
    assert f"run `sitegen rollback --to {good[:12]}` again" in held.value.message


def test_cli_rollback_warns_that_the_next_publish_brings_the_content_back(site: Site) -> None:
    """In an emergency the next publish (by hand or by a scheduler) must not silently put the
    wrong alert back: the rollback says so and names the alert files to fix first."""
    site.write()
    site.run("publish", "--no-build", "-q")
    site.write(v2_files())  # a1 changed, a2 removed, a3 added
    site.run("publish", "--no-build", "-q")
    alerts = site.root / "content" / "alerts"
    alerts.mkdir(parents=True)
    (alerts / "a1.md").write_text("---\n---\n")
    (alerts / "a3.ko.md").write_text("---\n---\n")
    for args in (("--dry-run",), ()):
        out = " ".join(site.run("rollback", "--previous", *args).stdout.split())
        assert "the next `sitegen publish` (by hand, CI or a scheduler) would publish them" in out
        assert "a publish that puts back what it removed is refused" in out
        assert "a1: content/alerts/a1.md" in out and "a3: content/alerts/a3.ko.md" in out
        assert "a2: no file in content/alerts/" in out
        assert "alerts/a0" not in out.split("Warning:")[1]  # unchanged: not named
    done = site.run_json("rollback", "--previous")
    assert done["alerts_changed"] == ["a1", "a2", "a3"]
    assert "sitegen publish" in done["warning"]


def test_cli_rollback_says_it_rolled_back_not_that_it_published(site: Site) -> None:
    """Its summary said "Published to folder:…", under "Rollback to …": an operator read it as
    a publish of content/, the very thing the warning below says not to do yet."""
    site.write()
    site.run("publish", "--no-build", "-q")
    site.write(v2_files())
    site.run("publish", "--no-build", "-q")
    lines = site.run("rollback", "--previous").stdout.splitlines()
    assert lines[0].startswith("Rollback to ")
    assert lines[1].startswith(f"Rolled back folder:{(site.root / '_published').resolve()} in ")
    assert not any(line.startswith("Published") for line in lines)
    published = site.run("publish", "--no-build", "--force").stdout
    assert published.startswith("Published to folder:")


def test_cli_list_shows_times_in_the_site_timezone_and_what_changed_in_each(site: Site) -> None:
    """An official looking for "the state before the wrong alert" reads local times and the
    alerts each publish changed, not UTC and file counts only."""
    site.toml.write_text(
        site.toml.read_text().replace("[site]\n", '[site]\ntimezone = "Asia/Seoul"\n', 1)
    )
    site.write()
    site.run("publish", "--no-build", "-q")
    site.write(v2_files())  # a1 changed, a2 removed, a3 added
    site.run("publish", "--no-build", "-q")
    listed = site.run("rollback", "--list").stdout
    assert "KST" in listed and "UTC" not in listed, listed
    lines = listed.splitlines()
    assert "← live now" in lines[1]
    assert lines[2].split() == ["alerts:", "new", "a3;", "changed", "a1;", "removed", "a2"]
    assert lines[4].split()[:2] == ["alerts:", "a0,"]  # the oldest kept: what it holds
    states = site.run_json("rollback", "--list")
    assert states[0]["alerts"] == {"new": ["a3"], "changed": ["a1"], "removed": ["a2"]}


def test_cli_list_names_at_most_ten_alerts_a_state_changed(site: Site) -> None:
    """A publish of 200 alerts listed all 200 ids on one line of --list, pushing the states
    an official looks for off the screen; --json still lists every one."""
    site.write(site_files(1))
    site.run("publish", "--no-build", "-q")
    site.write(site_files(25))
    site.run("publish", "--no-build", "-q")
    lines = site.run("rollback", "--list").stdout.splitlines()
    assert lines[2].startswith("      alerts: new a1, a10, a11,"), lines[2]
    assert lines[2].endswith(", … and 14 more (--json lists all)"), lines[2]
    assert lines[2].count(", a") == 9
    assert len(site.run_json("rollback", "--list")[0]["alerts"]["new"]) == 24


def test_the_next_publish_refuses_to_undo_a_rollback_until_forced(
    site: Site, store: tuple[Callable[[], Target], Any]
) -> None:
    """A publish (or a scheduled one) from unchanged content would put the wrong alert back:
    after a rollback it is refused (exit 4, nothing changed) until --force says the content
    was fixed. Publishing exactly what is online is not refused; after --force, all is as
    usual."""
    new_target, snapshot = store
    v1 = run(site, new_target())
    run(site, new_target(), v2_files())
    rollback(new_target(), None)
    with pytest.raises(RefusedError, match="rolled back") as refused:
        run(site, new_target(), v2_files())
    assert "--force" in refused.value.message
    assert json.dumps(snapshot(), sort_keys=True) == v1
    assert run(site, new_target(), site_files()) == v1  # nothing to change: not refused
    public = site.write(v2_files())
    publish(read_local(public), new_target(), options=PublishOptions(Limits(force=True)))
    run(site, new_target(), site_files(4))  # the rollback was replaced: publishes as usual


def test_after_a_rollback_a_fixed_alert_publishes_and_only_the_rolled_back_bytes_refuse(
    site: Site, store: tuple[Callable[[], Target], Any]
) -> None:
    """The refusal is about what the rollback took away, not about any change: once the
    official fixed the wrong alert, the publish goes through without --force (which would
    also lift --max-deletes); the wrong bytes again are refused, naming their alerts."""
    new_target, snapshot = store
    run(site, new_target())
    run(site, new_target(), v2_files())
    rollback(new_target(), None)
    with pytest.raises(RefusedError) as refused:
        run(site, new_target(), v2_files())
    assert (
        "put back alerts a1, a3 exactly as the rollback removed them and take alert a2 "
        "offline again, which the rollback restored"
    ) in str(refused.value.message)
    fixed = site_files()
    fixed["alerts/a1/index.html"] = b"<h1>alert 1, the right area</h1>"
    assert run(site, new_target(), fixed) == json.dumps(snapshot(), sort_keys=True)


def test_without_the_rollbacks_record_every_change_is_refused(site: Site, tmp_path: Path) -> None:
    """A rollback record lost or from another rollback: what it replaced is unknown, so any
    change may bring it back and is refused, as before the record existed."""
    root = tmp_path / "_published"
    run(site, FolderTarget(root))
    run(site, FolderTarget(root), v2_files())
    rollback(FolderTarget(root), None)
    (root / ".sitegen" / "rolled-back.json").write_text('{"to": "another", "undone": {}}')
    fixed = site_files()
    fixed["alerts/a1/index.html"] = b"<h1>alert 1, the right area</h1>"
    with pytest.raises(RefusedError, match="if content/ still holds what was rolled back"):
        run(site, FolderTarget(root), fixed)


def test_a_lock_held_by_a_rollback_is_called_a_rollback(site: Site, tmp_path: Path) -> None:
    """An official whose publish waits for a colleague's rollback was told "Another publish
    holds the lock": the lock now says which command holds it, for the waiting one to know
    that the site online is being rolled back."""
    root = tmp_path / "_published"
    run(site, FolderTarget(root))
    run(site, FolderTarget(root), v2_files())
    held: list[bytes] = []

    class Watching(FolderTarget):
        def put(self, path: str, body: bytes, meta: Any) -> None:
            if path == ".sitegen/manifest.json":  # mid-rollback: read the lock it holds
                held.append((root / ".sitegen" / "lock").read_bytes())
            super().put(path, body, meta)

    rollback(Watching(root), None)
    assert json.loads(held[0])["tool"] == "sitegen rollback"
    assert FolderTarget(root).lock(held[0]) is None  # as if the rollback still ran
    with pytest.raises(PublishError, match="A rollback .sitegen rollback. holds the lock"):
        run(site, FolderTarget(root), site_files())


def test_cli_publish_after_rollback_is_refused_with_exit_4_and_dry_run_says_so(
    site: Site,
) -> None:
    site.write()
    site.run("publish", "--no-build", "-q")
    site.write(v2_files())
    site.run("publish", "--no-build", "-q")
    site.run("rollback", "--previous", "-q")
    dry = site.run("publish", "--no-build", "--dry-run", ok=False)
    assert dry.returncode == 4 and "REFUSED: the site online was rolled back" in dry.stdout
    done = site.run("publish", "--no-build", ok=False)
    assert done.returncode == 4 and "Refused, nothing was changed" in done.stderr
    site.run("publish", "--no-build", "--force", "-q")


def test_cli_json_of_a_refused_run_has_the_refusal_as_message_and_the_plan_as_data(
    site: Site,
) -> None:
    """`error.message` of a refused publish (or rollback) was the plan's text with the refusal
    said twice, where a dry run's was the refusal alone; the plan is the document's `plan`."""
    site.write()
    site.run("publish", "--no-build", "-q")
    site.write(v2_files())
    site.run("publish", "--no-build", "-q")
    refused = site.run("rollback", "--previous", "--max-deletes", "1", "--json", ok=False)
    site.run("rollback", "--previous", "-q")
    for done in (refused, site.run("publish", "--no-build", "--json", ok=False)):
        assert done.returncode == 4, done.stderr
        doc = json.loads(done.stdout)
        message = doc["error"]["message"]
        assert doc["error"]["kind"] == "refused" and doc["plan"] is not None
        assert message.startswith("Refused, nothing was changed: "), message
        assert "Publish plan" not in message and message.count("REFUSED") == 0
        assert done.stderr == f"Error: {message}\n"


def test_cli_rollback_refused_under_quiet_says_the_refusal_not_the_plan(site: Site) -> None:
    site.write()
    site.run("publish", "--no-build", "-q")
    site.write(v2_files())
    site.run("publish", "--no-build", "-q")
    done = site.run("rollback", "--previous", "-q", "--max-deletes", "1", ok=False)
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith("Error: Refused, nothing was changed: this would delete 2 ")
    assert "plan" not in done.stderr.lower().replace("the plan is shown", "")


def test_a_damaged_kept_state_is_reported_not_silently_left_out(site: Site) -> None:
    """A kept manifest that no longer parses cannot be restored; --list and --to say one is
    damaged instead of leaving the official hunting for a state that "matches nothing"."""
    site.write(site_files(1))
    site.run("publish", "--no-build", "-q")
    first = read_local(site.public).id
    site.write(site_files(2))
    site.run("publish", "--no-build", "-q")
    site.write(site_files(3))
    site.run("publish", "--no-build", "-q")
    (site.root / "_published" / KEPT_PREFIX / f"{first}.json").write_bytes(b"garbage")
    listed = site.run("rollback", "--list").stdout
    assert "1 kept state is damaged and cannot be restored" in listed
    refused = site.run("rollback", "--to", first[:12], ok=False)
    assert refused.returncode == 1
    assert "matches no kept state" in refused.stderr
    assert "1 kept state is damaged and cannot be restored" in refused.stderr


class FailingCdn(Recorder):
    def invalidate(self, paths: Sequence[str], *, reference: str) -> InvalidationReceipt:
        raise PublishError("fake:cdn is down")


def test_a_rollback_stopped_after_its_manifest_leaves_a_lock_naming_the_rollback(
    site: Site, tmp_path: Path
) -> None:
    """The lock taken by a rollback names it (tool) and what it publishes; the lock object
    carries both, so the rewrite that records the owed work keeps them too."""
    root = tmp_path / "_published"
    run(site, FolderTarget(root))
    run(site, FolderTarget(root), v2_files())
    with pytest.raises(PublishError, match="fake:cdn is down"):
        rollback(FolderTarget(root), None, [FailingCdn()])
    left = json.loads((root / ".sitegen" / "lock").read_bytes())
    assert left["tool"] == "sitegen rollback" and left["released"] is True
    now = datetime.now(UTC)
    lock = acquire(
        FolderTarget(tmp_path / "new"),
        now=now,
        timeout_s=900,
        take_over=False,
        publishing="abc",
        tool="sitegen rollback",
    )
    doc = json.loads(lock.body(Pending("abc", ("/x",), ()), released=True))
    assert (doc["tool"], doc["publishing"], doc["released"]) == ("sitegen rollback", "abc", True)
    assert doc["since"] == now.isoformat(timespec="seconds")


class KilledAtDelete(FolderTarget):
    """The process dies as the rollback starts its deletes (after its manifest): nothing after
    that runs, the lock included, which stays behind as a killed holder's."""

    def delete(self, paths: Sequence[str]) -> None:
        raise Killed

    def unlock(self) -> bool:
        return True  # a dead process releases nothing


class Killed(BaseException):
    pass


def test_a_rollback_killed_before_its_deletes_leaves_them_to_the_next_publish(
    site: Site, tmp_path: Path
) -> None:
    """The deletes a killed rollback owed (the alert it takes offline) ride in its manifest's
    metadata; the next publish breaking its lock must find them, as after a killed publish.
    The lock named the rollback's CDN reference instead of its manifest, so they were lost: the
    manifest no longer lists a3, and a3's pages stayed online for good."""
    root = tmp_path / "_published"
    v1 = run(site, FolderTarget(root))
    run(site, FolderTarget(root), v2_files())
    with pytest.raises(Killed):
        rollback(KilledAtDelete(root), None)
    assert (root / "alerts/a3/index.html").exists() and (root / ".sitegen/lock").exists()
    later = datetime.now(UTC) + timedelta(hours=1)
    public = site.write()  # content/ as v1, what is live now
    done = publish(
        read_local(public),
        FolderTarget(root),
        options=PublishOptions(Limits(force=True), take_over_lock=True),
        now=later,
    )
    assert done.plan.deletes == ("alerts/a3/cap.xml", "alerts/a3/index.html")
    assert json.dumps(snapshot_folder(root), sort_keys=True) == v1


def test_the_refusal_after_a_rollback_gives_its_time_in_the_site_timezone(site: Site) -> None:
    """As `rollback --list` does: an official in Seoul reads 19:00 KST, not 10:00+00:00."""
    site.toml.write_text(
        site.toml.read_text().replace("[site]\n", '[site]\ntimezone = "Asia/Seoul"\n', 1)
    )
    site.write()
    site.run("publish", "--no-build", "-q")
    site.write(v2_files())
    site.run("publish", "--no-build", "-q")
    site.run("rollback", "--previous", "-q")
    listed = site.run("rollback", "--list").stdout.splitlines()[1].split()
    live = f"{listed[1]} {listed[2]} KST"  # the rolled-back state's time, as --list gives it
    refused = site.run("publish", "--no-build", ok=False)
    assert refused.returncode == 4
    message = " ".join(refused.stderr.split())
    assert f"rolled back (sitegen rollback at {live})" in message, message
    assert "+00:00" not in message


def test_an_alert_that_was_right_is_put_back_by_name_without_force(site: Site) -> None:
    """v2 changed a1 wrongly and added a3 rightly; the rollback removed both. The official
    fixes a1 and wants a3 back as it was: the refusal names a3 and the command that puts it
    back alone (--put-back a3), which lifts neither --max-deletes nor the refusal for an alert
    not named, as --force would."""
    site.write()
    site.run("publish", "--no-build", "-q")
    v2 = v2_files()
    site.write(v2)
    site.run("publish", "--no-build", "-q")
    site.run("rollback", "--previous", "-q")
    fixed = {**v2, "alerts/a1/index.html": b"<h1>alert 1, the right area</h1>"}
    site.write(fixed)
    refused = site.run("publish", "--no-build", ok=False)
    message = " ".join(refused.stderr.split())
    assert refused.returncode == 4
    assert "put back alert a3 exactly as the rollback removed it" in message, message
    assert "take alert a2 offline again, which the rollback restored" in message, message
    assert "sitegen publish --put-back a3" in message, message
    site.write(v2)  # a1 still wrong: naming a3 (and a2) does not let a1 through
    still = site.run("publish", "--no-build", "--put-back", "a3", "--put-back", "a2", ok=False)
    assert still.returncode == 4 and "put back alert a1 exactly" in still.stderr
    site.write(fixed)
    limited = site.run(
        "publish",
        "--no-build",
        "--put-back",
        "a3",
        "--put-back",
        "a2",
        "--max-deletes",
        "1",
        ok=False,
    )
    assert limited.returncode == 4 and "more than --max-deletes 1" in limited.stderr
    done = site.run_json(
        "publish", "--no-build", "--put-back", "a3", "--put-back", "a2", "--put-back", "a9"
    )
    assert done["plan"]["put_back"] == ["a2", "a3"] and done["plan"]["refusals"] == []
    notes = " ".join(done["notes"])
    assert "--put-back let through alerts a2, a3" in notes
    # a name that holds nothing back (a typo) is said, not silently ignored
    assert done["plan"]["put_back_unused"] == ["a9"]
    assert "--put-back a9: no file of this alert is held back by a rollback" in notes
    published = (site.root / "_published/.sitegen/manifest.json").read_bytes()
    assert hashlib.sha256(published).hexdigest() == read_local(site.public).id


def test_a_damaged_manifest_after_a_rollback_still_refuses_to_undo_it(
    site: Site, tmp_path: Path
) -> None:
    """The rollback's mark is in its manifest's metadata, which a damaged body keeps: the
    publish that lists the objects instead must still refuse to put the wrong alert back."""
    root = tmp_path / "_published"
    v1 = run(site, FolderTarget(root))
    run(site, FolderTarget(root), v2_files())
    rollback(FolderTarget(root), None)
    (root / ".sitegen" / "manifest.json").write_bytes(b"\x00 damaged")
    with pytest.raises(RefusedError, match="if content/ still holds what was rolled back"):
        run(site, FolderTarget(root), v2_files())
    assert json.dumps(snapshot_folder(root), sort_keys=True) != v1  # the manifest: damaged
    assert (root / "alerts/a2/index.html").exists() and not (root / "alerts/a3").exists()


def test_a_rollback_stopped_half_way_on_s3_is_finished_by_the_next_publish(
    site: Site, bucket: str, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 fails the rollback's last PUT (the home page): v1's pages, a2 and the feed are back
    online, the manifest still says v2. The official fixes a1 and publishes: every file the
    stopped run put up must end as the bundle has it, not as the stale manifest says it is
    (the feed listed a2 beside a3; a2, which v2 had removed, stayed online)."""
    from faults import FAST_RETRY, FaultProxy, fail_first

    run(site, S3Target(bucket, "site"))
    run(site, S3Target(bucket, "site"), v2_files())
    host, _, port = aws.removeprefix("http://").partition(":")
    with FaultProxy(host, int(port), fail_first(20, "PUT", "/site/index.html")) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        with pytest.raises(PublishError, match="stopped") as stopped:
            rollback(S3Target(bucket, "site", retry=FAST_RETRY, botocore_attempts=1), None)
    assert "The files already sent" in stopped.value.message
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    fixed = {**v2_files(), "alerts/a1/index.html": b"<h1>alert 1, the right area</h1>"}
    public = site.write(fixed)
    publish(read_local(public), S3Target(bucket, "site"))
    assert snapshot_s3(bucket) == expected(public)


def test_owed_work_taken_over_survives_a_publish_refused_before_its_manifest(
    site: Site, tmp_path: Path
) -> None:
    """A publish took over the invalidations a stopped one owed, then was refused (here by
    --max-deletes): it released the lock and they were lost, the CDN serving the old pages."""
    root = tmp_path / "_published"
    run(site, FolderTarget(root))
    public = site.write(v2_files())
    with pytest.raises(PublishError, match="fake:cdn is down"):
        publish(read_local(public), FolderTarget(root), [FailingCdn()])
    owed = json.loads((root / ".sitegen" / "lock").read_bytes())["owed"]["invalidate"]
    public = site.write(site_files(1))  # deletes a1 and a3: more than --max-deletes 1
    with pytest.raises(RefusedError, match="max-deletes"):
        publish(read_local(public), FolderTarget(root), options=PublishOptions(Limits(1)))
    cdn = Recorder()
    publish(read_local(site.write(v2_files())), FolderTarget(root), [cdn])
    assert set(owed) <= set(cdn.calls[0][0])


def test_a_rollback_dry_run_shows_the_work_a_stopped_one_owes_as_publish_does(
    site: Site,
) -> None:
    """An operator checking `rollback --to ID --dry-run` before finishing a stopped rollback
    was shown nothing to do (0 deletes, 0 invalidations), where `publish --dry-run` showed the
    work owed, and the rollback then did it."""
    root = site.root / "_published"
    v1 = run(site, FolderTarget(root))
    good = read_local(site.public).id[:12]
    run(site, FolderTarget(root), v2_files())
    with pytest.raises(PublishError, match="fake:cdn is down"):
        rollback(FolderTarget(root), None, [FailingCdn()])
    dry = site.run_json("rollback", "--to", good, "--dry-run")["plan"]
    site.write()  # public/ as v1, what is live now
    as_publish = site.run_json("publish", "--no-build", "--dry-run")["plan"]
    for key in ("deletes", "invalidation_paths", "uploads", "write_manifest", "remote"):
        assert dry[key] == as_publish[key], key
    assert dry["deletes"] == ["alerts/a3/cap.xml", "alerts/a3/index.html"]
    assert "an earlier run stopped with work left to finish" in dry["remote"]["note"]
    assert "delete 2 objects:" in site.run("rollback", "--to", good, "--dry-run").stdout
    cdn = Recorder()
    _, done = rollback(FolderTarget(root), good, [cdn])  # does what its dry run said
    assert list(done.plan.deletes) == dry["deletes"]
    assert [list(paths) for paths, _ in cdn.calls] == [dry["invalidation_paths"]]
    assert json.dumps(snapshot_folder(root), sort_keys=True) == v1


def test_a_rollback_finishing_a_stopped_one_sends_that_ones_cdn_reference_and_only_it(
    site: Site,
) -> None:
    """The run finishing a stopped rollback's invalidations sends them under that run's
    reference, as a publish resuming one of the same manifest does (CloudFront answers a call
    that had got through with the invalidation it made); it sent a new one, so CloudFront made
    it twice. Every other rollback, to the same state too, still has a reference of its own."""
    root = site.root / "_published"
    run(site, FolderTarget(root))
    good = read_local(site.public).id[:12]
    run(site, FolderTarget(root), v2_files())
    with pytest.raises(PublishError, match="fake:cdn is down"):
        rollback(FolderTarget(root), None, [FailingCdn()])
    stopped = json.loads((root / ".sitegen" / "lock").read_bytes())["owed"]["reference"]
    cdn = Recorder()
    rollback(FolderTarget(root), good, [cdn])  # finishes the stopped one
    rollback(FolderTarget(root), None, [cdn])  # back to v2
    rollback(FolderTarget(root), good, [cdn])  # and to v1 again: a rollback of its own
    references = [reference for _, reference in cdn.calls]
    assert references[0] == stopped and len(set(references)) == 3, references
