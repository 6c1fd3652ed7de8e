"""A publish that stopped part way, resumed by the next one: only what is not known to be online
is sent again (the uploads the target acknowledged are recorded in the lock), and each CDN is
sent only what it did not accept. Over real HTTP: moto in server mode behind a FaultProxy,
the Fast Purge fake, `sitegen publish` as a process."""

from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
import pytest
from ops_support import FastPurgeServer, FaultProxy, Site, invalidated_paths, site_files
from state import expected, snapshot_folder, snapshot_s3
from test_publish_flow import RecordingCDN

from publish.apply import publish
from publish.local import read_local
from publish.lock import parse_owed
from publish.manifest import MANIFEST_PATH
from publish.targets.base import LOCK_PATH, ObjectMeta, TargetError
from publish.targets.folder import FolderTarget
from sitegen.errors import PublishError

ALERTS = 40
STUCK = "alerts/a20/index.html"  # S3 refuses every PUT of it, past the retries
CLOUDFRONT_DENIED = (
    b'<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>'
    b"<Message>User is not authorized to perform cloudfront:CreateInvalidation</Message>"
    b"</Error></ErrorResponse>"
)


def _puts(proxy: FaultProxy) -> list[str]:
    """The site files a run sent (the paths of its PUTs, without the lock and manifest)."""
    return sorted(
        path.split("/site/", 1)[1]
        for method, path, _ in proxy.log.seen
        if method == "PUT" and "/site/" in path and "/.sitegen/" not in path
    )


def _proxy(aws: str, rule: object = None, **kw: object) -> FaultProxy:
    host, _, port = aws.removeprefix("http://").partition(":")
    return FaultProxy(host, int(port), rule or (lambda method, path: False), **kw)  # type: ignore[arg-type]


def test_a_resumed_publish_sends_again_only_what_was_not_acknowledged(
    site: Site, bucket: str, distribution: str, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v2 changes every alert page; S3 refuses one of them and the publish stops before its
    manifest. The next publish sent again every file the stopped one had begun (the whole
    batch), though S3 had acknowledged all but one: 400 PUTs where 133 were missing on a site
    of 201 alerts. It sends the refused one and what was never begun, and still invalidates
    the pages the stopped run replaced (the CDN may hold their old form)."""
    site.configure(f'target = "s3://{bucket}/site"\ncloudfront = ["{distribution}"]')
    site.write(site_files(ALERTS))
    site.run("publish", "--no-build", "-q")
    v1 = site_files(ALERTS)
    v2 = site_files(ALERTS, version="v2")
    site.write(v2)
    stuck = _proxy(aws, lambda method, path: method == "PUT" and path.endswith(STUCK))
    with stuck:
        monkeypatch.setenv("AWS_ENDPOINT_URL", stuck.url)
        stopped = site.run("publish", "--no-build", "-q", ok=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    assert stopped.returncode == 1 and "stopped" in stopped.stderr, stopped.stderr
    lock = boto3.client("s3").get_object(Bucket=bucket, Key=f"site/{LOCK_PATH}")["Body"].read()
    work, released = parse_owed(lock)
    assert released and work is not None and STUCK in work.unsure
    resume = _proxy(aws)
    with resume:
        monkeypatch.setenv("AWS_ENDPOINT_URL", resume.url)
        done = site.run_json("publish", "--no-build")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    # all but a few of the begun (the refused one, any not started) had been acknowledged
    assert STUCK in _puts(resume) and len(_puts(resume)) < len(work.unsure) / 2
    assert work.put and STUCK not in work.put
    changed = {p for p, body in v2.items() if v1.get(p) != body}
    assert _puts(resume) == sorted(changed - set(work.put))  # each once, none acknowledged
    assert snapshot_s3(bucket) == expected(site.public)
    put_pages = {f"/{p}" for p in work.put if p.endswith("index.html") and p != "index.html"}
    assert put_pages and put_pages <= set(done["plan"]["invalidation_paths"])
    assert invalidated_paths(distribution)  # sent, collapsed: /alerts/*
    assert site.run_json("publish", "--no-build")["plan"]["write_manifest"] is False


def test_only_the_cdn_that_failed_is_sent_the_owed_paths_again(
    site: Site,
    bucket: str,
    distribution: str,
    edgerc: Path,
    fastpurge: FastPurgeServer,
    aws: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CloudFront refuses the invalidation, Akamai accepts its purge: the next publish sent
    both the owed paths again, purging Akamai a second time for nothing."""
    site.configure(
        f'target = "s3://{bucket}/site"\ncloudfront = ["{distribution}"]\n'
        f'akamai = ["alerts@production"]\nedgerc = "{edgerc}"'
    )
    site.write()
    site.run("publish", "--no-build", "-q")
    files = site_files()
    files["alerts/a1/index.html"] = b"<h1>alert 1 updated</h1>"
    site.write(files)
    denied = _proxy(
        aws,
        lambda method, path: method == "POST" and "/invalidation" in path,
        status=403,
        body=CLOUDFRONT_DENIED,
    )
    with denied:
        monkeypatch.setenv("AWS_ENDPOINT_URL", denied.url)
        failed = site.run("publish", "--no-build", "-q", ok=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    assert failed.returncode == 1 and "CreateInvalidation" in failed.stderr, failed.stderr
    [purge] = fastpurge.purges
    assert invalidated_paths(distribution) == []
    dry = site.run("publish", "--no-build", "--dry-run").stdout
    done = site.run_json("publish", "--no-build")
    assert len(fastpurge.purges) == 1  # not purged again
    took = "on akamai:alerts@production: it accepted the 2 paths from a previous publish"
    assert took in dry, dry
    assert [r["cdn"] for r in done["invalidations"]] == [f"cloudfront:{distribution}"]
    assert invalidated_paths(distribution) == [["/alerts/a1/", "/alerts/a1/index.html"]]
    assert snapshot_s3(bucket) == expected(site.public)


class AnswerLost(FolderTarget):
    """The PUT of ``path`` goes through, but its answer is lost: an error, bytes online
    (``written``; else it is refused, nothing written)."""

    def __init__(self, root: Path, path: str, *, written: bool = True) -> None:
        super().__init__(root)
        self.lost, self.written = path, written

    def put(self, path: str, body: bytes, meta: ObjectMeta) -> None:
        if path != self.lost or self.written:
            super().put(path, body, meta)
        if path == self.lost:
            raise TargetError(f"{self.name}: upload of {path} failed (answer lost)")


def test_a_publish_stopped_at_its_manifest_is_finished_without_sending_a_file_again(
    site: Site, tmp_path: Path
) -> None:
    """Every file acknowledged, the manifest refused: the next publish sends no file, but it
    must still put the manifest up (nothing else describes the new files) and invalidate
    the pages the stopped run replaced."""
    root = tmp_path / "_published"
    publish(read_local(site.write(site_files(6))), FolderTarget(root))
    v2 = site.write(site_files(6, version="v2"))
    with pytest.raises(PublishError, match="answer lost"):
        publish(read_local(v2), AnswerLost(root, MANIFEST_PATH, written=False))
    cdn = RecordingCDN()
    outcome = publish(read_local(v2), FolderTarget(root), [cdn])
    assert outcome.uploaded == 0 and outcome.plan.write_manifest
    assert snapshot_folder(root) == expected(v2)
    [(paths, _)] = cdn.calls
    assert {"/alerts/a0/", "/alerts/a0/index.html", "/feed.atom"} <= set(paths)


def _files(a0: str) -> dict[str, bytes]:
    """v2 of the site, with alert a0's page as ``a0`` says."""
    files = site_files(6, version="v2")
    files["alerts/a0/index.html"] = f"<h1>a0 {a0}</h1>".encode()
    return files


def test_a_second_stopped_run_never_vouches_for_a_file_it_began_sending(
    site: Site, tmp_path: Path
) -> None:
    """Run A (v2) stops at its feed, every alert page acknowledged. Run B (v3, with
    another a0) takes that over and stops at a0, whose bytes went online though S3's answer
    was lost. A's record of a0 (v2's bytes) must not survive B: run C, publishing v2 again,
    would leave v3's a0 online under a manifest saying v2."""
    root = tmp_path / "_published"
    publish(read_local(site.write(site_files(6))), FolderTarget(root))
    v2 = site.write(_files("v2"))
    with pytest.raises(PublishError, match="answer lost"):
        publish(read_local(v2), AnswerLost(root, "feed.atom"))
    a_work, _ = parse_owed((root / LOCK_PATH).read_bytes())
    assert a_work is not None and "alerts/a0/index.html" in a_work.put
    v3 = site.write(_files("v3"))
    with pytest.raises(PublishError, match="answer lost"):
        publish(read_local(v3), AnswerLost(root, "alerts/a0/index.html"))
    b_work, _ = parse_owed((root / LOCK_PATH).read_bytes())
    assert b_work is not None and "alerts/a0/index.html" not in b_work.put
    assert "alerts/a0/index.html" in b_work.unsure
    v2 = site.write(_files("v2"))
    publish(read_local(v2), FolderTarget(root))
    assert snapshot_folder(root) == expected(v2)


def test_a_record_made_against_another_manifest_is_not_trusted(site: Site, tmp_path: Path) -> None:
    """The uploads a stopped run recorded are trusted only while the manifest it read is the
    one online: if another manifest went up since (an older sitegen, a hand repair), the
    files it describes may be other bytes, so they are sent again."""
    root = tmp_path / "_published"
    publish(read_local(site.write(site_files(6))), FolderTarget(root))
    v2 = site.write(_files("v2"))
    with pytest.raises(PublishError, match="answer lost"):
        publish(read_local(v2), AnswerLost(root, "feed.atom"))
    # someone else's publish, not reading the record: a0 as v3, its manifest online
    other = FolderTarget(root)
    v3 = read_local(site.write(_files("v3")))
    body = v3.read("alerts/a0/index.html")
    entry = v3.files["alerts/a0/index.html"]
    other.put(
        "alerts/a0/index.html",
        body,
        ObjectMeta(entry.content_type, entry.cache_control, entry.sha256),
    )
    manifest = v3.manifest_bytes
    sha = hashlib.sha256(manifest).hexdigest()
    other.put(".sitegen/manifest.json", manifest, ObjectMeta("application/json", "no-store", sha))
    v2 = site.write(_files("v2"))
    outcome = publish(read_local(v2), FolderTarget(root))
    assert "alerts/a0/index.html" in {u.path for u in outcome.plan.uploads}
    assert snapshot_folder(root) == expected(v2)


def test_a_cloudfront_id_that_does_not_exist_stops_publish_before_any_upload(
    site: Site, bucket: str
) -> None:
    """Publish read "there is no distribution E…" before it wrote, yet uploaded everything and
    stopped at the invalidation, leaving the CDN serving the old pages and work owed."""
    site.configure(f'target = "s3://{bucket}/site"')
    site.write()
    site.run("publish", "--no-build", "-q")
    before = snapshot_s3(bucket)
    site.write(site_files(version="v2"))
    wrong = ("--cloudfront", "E2QWRUHAPOMQZL")
    for dry in ((), ("--dry-run",)):
        failed = site.run("publish", "--no-build", *dry, *wrong, ok=False)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "there is no distribution E2QWRUHAPOMQZL" in failed.stderr, failed.stderr
        assert "Nothing was changed" in failed.stderr and "Traceback" not in failed.stderr
    assert snapshot_s3(bucket) == before  # no upload, no lock left
