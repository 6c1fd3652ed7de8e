"""Pure parts (plan, CloudFront path shaping) table-driven; CloudFront, remote-state fallbacks
and the CLI against the moto server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import boto3
import pytest
from bundles import SITE_TOML, site_files, write_bundle
from click.testing import CliRunner
from faults import FAST_RETRY, TOO_MANY_INVALIDATIONS, FaultProxy, fail_first, never
from test_publish_flow import RecordingCDN, run

from publish.cdn.cloudfront import CloudFrontInvalidator, caller_reference, cloudfront_paths
from publish.cli import publish_command
from publish.local import read_local
from publish.manifest import MANIFEST_PATH, Entry, Manifest, ManifestError, parse_manifest
from publish.plan import Limits, make_plan, url_paths
from publish.remote import RemoteState
from publish.targets.base import ObjectMeta
from publish.targets.folder import FolderTarget
from publish.targets.s3 import S3Target
from sitegen.errors import PublishError

CC = "public, max-age=60, s-maxage=300, stale-if-error=86400"


@pytest.mark.parametrize(
    ("path", "urls"),
    [
        ("index.html", ("/", "/index.html")),
        ("alerts/x/index.html", ("/alerts/x/", "/alerts/x/index.html")),
        ("alerts/x/cap.xml", ("/alerts/x/cap.xml",)),
        ("feed.atom", ("/feed.atom",)),
    ],
)
def test_url_paths(path: str, urls: tuple[str, ...]) -> None:
    assert url_paths(path) == urls


def remote(files: dict[str, Entry], **kw: object) -> RemoteState:
    base: dict[str, object] = dict(
        target="t",
        files=MappingProxyType(files),
        source="manifest",
        note="n",
        manifest_id="m",
        pending=None,
        requests=1,
    )
    base.update(kw)
    return RemoteState(**base)  # type: ignore[arg-type]


def entry(data: bytes, cc: str = CC, ct: str = "text/html; charset=utf-8") -> Entry:
    import hashlib

    return Entry(hashlib.sha256(data).hexdigest(), len(data), ct, cc)


@pytest.mark.parametrize(
    ("remote_files", "reasons", "deletes", "paths"),
    [
        ({}, {"index.html": "new", "alerts/x/index.html": "new"}, (), ()),
        ({"index.html": entry(b"home"), "alerts/x/index.html": entry(b"x")}, {}, (), ()),
        (
            {"index.html": entry(b"old"), "alerts/x/index.html": entry(b"x")},
            {"index.html": "changed"},
            (),
            ("/", "/index.html"),
        ),
        (
            {"index.html": entry(b"home", cc="no-cache"), "alerts/x/index.html": entry(b"x")},
            {"index.html": "headers"},
            (),
            ("/", "/index.html"),
        ),
        (
            {"index.html": entry(b"home", ct="text/plain"), "alerts/x/index.html": entry(b"x")},
            {"index.html": "headers"},
            (),
            ("/", "/index.html"),
        ),
        (
            {
                "index.html": entry(b"home"),
                "alerts/x/index.html": entry(b"x"),
                "alerts/y/index.html": entry(b"y"),
                "assets/a.1.css": entry(b"a", cc="immutable"),
            },
            {},
            ("alerts/y/index.html", "assets/a.1.css"),
            ("/alerts/y/", "/alerts/y/index.html"),
        ),
    ],
)
def test_plan_cases(
    tmp_path: Path,
    remote_files: dict[str, Entry],
    reasons: dict[str, str],
    deletes: tuple[str, ...],
    paths: tuple[str, ...],
) -> None:
    local = read_local(
        write_bundle(tmp_path / "b", {"index.html": b"home", "alerts/x/index.html": b"x"})
    )
    plan = make_plan(local, remote(remote_files), Limits(), [RecordingCDN()])
    assert {u.path: u.reason for u in plan.uploads} == reasons
    assert (plan.deletes, plan.invalidations) == (deletes, paths)
    assert plan.write_manifest == bool(reasons or deletes)


def test_a_bundle_that_does_not_match_its_manifest_is_refused_by_name(tmp_path: Path) -> None:
    files = site_files(8)
    public = write_bundle(tmp_path / "public", files)
    (public / "alerts/a1/index.html").unlink()
    (public / "alerts/a2/cap.xml").write_bytes(b"longer than it was when listed")
    with pytest.raises(PublishError) as refused:
        read_local(public)
    message = str(refused.value)
    assert "alerts/a1/index.html: listed in the manifest but missing" in message
    size = len(files["alerts/a2/cap.xml"])
    assert f"alerts/a2/cap.xml: 30 bytes on disk, {size} in the manifest" in message
    assert "Rebuild the site before publishing." in message
    for i in range(3, 8):
        (public / f"alerts/a{i}/index.html").unlink()
        (public / f"alerts/a{i}/cap.xml").unlink()
    with pytest.raises(PublishError, match=r"\(and 2 more\)"):
        read_local(public)  # 12 problems: the first 10 named


def test_just_built_skips_the_stat_of_every_file_not_the_upload_check(tmp_path: Path) -> None:
    """After a build in the same process (which stat'ed every output file), read_local does not
    stat them again; a file that changes anyway is still caught when it is uploaded."""
    files = site_files(2)
    public = write_bundle(tmp_path / "public", files)
    (public / "alerts/a0/index.html").write_bytes(b"changed after the build")
    local = read_local(public, just_built=True)
    assert set(local.files) == set(files)
    with pytest.raises(PublishError, match="changed since the manifest was written"):
        local.read("alerts/a0/index.html")
    with pytest.raises(PublishError, match="bytes on disk"):
        read_local(public)


def test_plan_groups_follow_the_publish_order(tmp_path: Path) -> None:
    local = read_local(write_bundle(tmp_path / "b", site_files(2)))
    plan = make_plan(local, remote({}), Limits())
    assert [sorted(u.path for u in g) for g in plan.groups] == [
        ["assets/site.0a1b2c3d.css"],
        ["alerts/a0/cap.xml", "alerts/a0/index.html", "alerts/a1/cap.xml", "alerts/a1/index.html"],
        ["feed.atom", "index.html", "sitemap.xml"],
    ]
    assert plan.estimate()["target_total"] == 2 + 8 + 1  # lock + unlock, uploads, manifest


@pytest.mark.parametrize(
    ("paths", "sent"),
    [
        (["/alerts/x/", "/alerts/x/index.html"], ("/alerts/x/", "/alerts/x/index.html")),
        (["/alerts/x/", "/alerts/x/index.html", "/alerts/x/cap.xml", "/"], ("/", "/alerts/x/*")),
        (["/areas/서울/"], ("/areas/%EC%84%9C%EC%9A%B8/",)),
        (
            [f"/alerts/a{i}/{f}" for i in range(20) for f in ("", "index.html", "cap.xml")],
            tuple(
                f"/alerts/a{i}/{f}"
                for i in sorted(range(20), key=str)[15:]
                for f in ("", "cap.xml", "index.html")
            )
            + tuple(sorted(f"/alerts/a{i}/*" for i in sorted(range(20), key=str)[:15])),
        ),
        ([f"/p{i}" for i in range(3001)], ("/*",)),
    ],
)
def test_cloudfront_paths(paths: list[str], sent: tuple[str, ...]) -> None:
    got = cloudfront_paths(paths)
    assert sum(p.endswith("*") for p in got) <= 15 and len(got) <= 3000
    assert got == sent


def test_cloudfront_invalidation_has_exact_paths_and_the_reference_of_its_run(
    bucket: str, distribution: str, bundle: Callable[..., Path]
) -> None:
    from publish.targets.s3 import S3Target

    files = site_files(alerts=3)
    run(bundle(files), S3Target(bucket, "site"))
    files["alerts/a1/index.html"] = b"<h1>changed</h1>"
    public = bundle(files)
    outcome = run(public, S3Target(bucket, "site"), [CloudFrontInvalidator(distribution)])
    (receipt,) = outcome.receipts
    assert (receipt.cdn, receipt.paths, receipt.requests) == (f"cloudfront:{distribution}", 2, 1)
    got = boto3.client("cloudfront").get_invalidation(DistributionId=distribution, Id=receipt.id)
    batch = got["Invalidation"]["InvalidationBatch"]
    assert batch["Paths"]["Items"] == ["/alerts/a1/", "/alerts/a1/index.html"]
    # sitegen-<the run's reference>-<sha of the paths>: not the manifest id, which comes back
    # when a state is published again (test_publish_cdn_cli.py)
    _, run_reference, _ = batch["CallerReference"].split("-")
    assert len(run_reference) == 24 and not read_local(public).id.startswith(run_reference)
    assert batch["CallerReference"] == caller_reference(run_reference, batch["Paths"]["Items"])


@pytest.fixture
def proxied(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FaultProxy]]:
    host, _, port = aws.removeprefix("http://").partition(":")
    opened: list[FaultProxy] = []

    def start(rule: object, **kw: object) -> FaultProxy:
        proxy = FaultProxy(host, int(port), rule, **kw).__enter__()  # type: ignore[arg-type]
        opened.append(proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        return proxy

    yield start
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    for proxy in opened:
        proxy.__exit__()


def test_cloudfront_waits_out_too_many_invalidations(
    distribution: str, proxied: Callable[..., FaultProxy]
) -> None:
    proxy = proxied(fail_first(2, "POST", "/invalidation"), status=400, body=TOO_MANY_INVALIDATIONS)
    lines: list[str] = []
    cdn = CloudFrontInvalidator(
        distribution, echo=lines.append, poll_s=0.01, sleep=lambda s: None, wait=True
    )
    receipt = cdn.invalidate(["/a"], reference="f" * 64)
    assert proxy.log.count(400) == 2 and receipt.id
    assert sum("too many invalidations in progress" in line for line in lines) == 2


def test_cloudfront_wait_polls_until_completed(
    distribution: str, proxied: Callable[..., FaultProxy]
) -> None:
    """moto completes invalidations at once; the proxy reports the first two answers about it
    (the create and one poll) as still in progress, as CloudFront does for minutes."""
    left = [2]

    def in_progress(method: str, path: str, body: bytes) -> bytes:
        if "/invalidation" in path and left[0] > 0 and b"<Status>" in body:
            left[0] -= 1
            return re.sub(rb"<Status>\w+</Status>", b"<Status>InProgress</Status>", body)
        return body

    proxy = proxied(never, rewrite=in_progress)
    lines: list[str] = []
    naps: list[float] = []
    cdn = CloudFrontInvalidator(
        distribution, echo=lines.append, poll_s=7.0, sleep=naps.append, wait=True
    )
    receipt = cdn.invalidate(["/a", "/b"], reference="e" * 64)
    polls = [path for method, path, _ in proxy.log.seen if method == "GET"]
    assert len(polls) == 2 and all(p.endswith(f"/invalidation/{receipt.id}") for p in polls)
    assert naps == [7.0]  # slept between the two polls, not a blind 10-minute waiter
    # CloudFront answers "Completed"; moto 5.2.6 does too, earlier 5.x said "COMPLETED"
    assert [line.split()[3].lower() for line in lines] == ["inprogress", "completed"]
    assert receipt.detail.lower().startswith("completed") and receipt.requests == 3


def test_cloudfront_wait_gives_up_after_its_limit_saying_so(
    distribution: str, proxied: Callable[..., FaultProxy]
) -> None:
    def always_in_progress(method: str, path: str, body: bytes) -> bytes:
        return re.sub(rb"<Status>\w+</Status>", b"<Status>InProgress</Status>", body)

    proxied(never, rewrite=always_in_progress)
    clock = [0.0]

    def nap(seconds: float) -> None:
        clock[0] += seconds

    cdn = CloudFrontInvalidator(
        distribution, poll_s=5.0, max_wait_s=12.0, sleep=nap, wait=True, clock=lambda: clock[0]
    )
    receipt = cdn.invalidate(["/a"], reference="d" * 64)
    assert "stopped waiting" in receipt.detail and clock[0] == 15.0


def test_a_retried_invalidation_sends_the_same_caller_reference(
    distribution: str, proxied: Callable[..., FaultProxy]
) -> None:
    """CloudFront acts on a CreateInvalidation whose answer is lost; the retry must carry the
    same CallerReference (CloudFront then returns the first invalidation instead of making a
    second; moto does not dedupe, so the check is on what we send)."""
    proxy = proxied(never, lose_answer=fail_first(1, "POST", "/invalidation"))
    cdn = CloudFrontInvalidator(distribution, retry=FAST_RETRY, sleep=lambda s: None)
    receipt = cdn.invalidate(["/a", "/b"], reference="c" * 64)
    posts = [
        body
        for method, path, body in proxy.log.bodies
        if method == "POST" and path.endswith("/invalidation")
    ]
    references = [re.search(rb"<CallerReference>(.*?)</CallerReference>", b) for b in posts]
    assert len(posts) == 2 and proxy.log.count(0) == 1 and receipt.id
    assert references[0] and references[1]
    assert references[0].group(1) == references[1].group(1)
    assert references[0].group(1).decode() == caller_reference("c" * 64, ["/a", "/b"])


def test_remote_fallbacks(tmp_path: Path, bundle: Callable[..., Path]) -> None:
    store = FolderTarget(tmp_path / "pub")
    public = bundle()
    run(public, store)
    meta = ObjectMeta("application/json", "no-store", "")
    store.put(MANIFEST_PATH, b"{not json", meta)
    plan = run(public, FolderTarget(tmp_path / "pub"), dry_run=True).plan
    assert plan.remote_source == "listing" and "corrupt" in plan.remote_note
    assert plan.uploads == () and plan.write_manifest  # objects are right; manifest repaired
    store.put(MANIFEST_PATH, json.dumps({"format": 2, "files": {}}).encode(), meta)
    with pytest.raises(PublishError, match="newer sitegen"):
        run(public, FolderTarget(tmp_path / "pub"))
    assert run(public, FolderTarget(tmp_path / "pub"), verify=True).uploaded == 0
    assert run(public, FolderTarget(tmp_path / "pub"), [RecordingCDN()]).plan.is_noop


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (None, None),  # every row as in the local manifest
        ("size", 1.0),  # == 1, but not an integer
        ("size", True),  # == 1, but a boolean
        ("sha256", "A" * 64),  # another digest, and not lower-case hex
        ("cache_class", 5),
    ],
)
def test_remote_rows_equal_to_local_ones_are_its_entries_and_checked_alike(
    tmp_path: Path, field: str | None, value: object
) -> None:
    """The remote manifest is parsed knowing the local entries (apply.publish): a row equal
    to its local entry is that entry; any other row is checked as without them."""
    public = write_bundle(tmp_path / "public", {**site_files(), "robots.txt": b"x"})
    raw = (public / MANIFEST_PATH).read_bytes()
    local = parse_manifest(raw)
    doc = json.loads(raw)
    if field is not None:
        doc["files"]["robots.txt"][field] = value
    remote = json.dumps(doc).encode()
    try:
        alone: Manifest | str = parse_manifest(remote)
    except ManifestError as exc:
        alone = str(exc)
    try:
        knowing: Manifest | str = parse_manifest(remote, local.files)
    except ManifestError as exc:
        knowing = str(exc)
    assert knowing == alone
    if field is None:
        assert isinstance(knowing, Manifest)
        assert all(knowing.files[p] is e for p, e in local.files.items())
    elif field == "cache_class":
        assert isinstance(knowing, Manifest)  # kept as text, as always
        assert knowing.files["robots.txt"].cache_class == "5"
        assert knowing.files["robots.txt"] is not local.files["robots.txt"]
    else:
        assert isinstance(knowing, str) and "robots.txt" in knowing


def test_cli_dry_run_json_and_publish(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(SITE_TOML)
    write_bundle(tmp_path / "public", site_files(1))
    runner = CliRunner()
    args = ["--site", str(tmp_path / "site.toml"), "--no-build"]
    result = runner.invoke(publish_command, [*args, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dry_run"] and len(doc["plan"]["uploads"]["alert pages and CAP"]) == 2
    assert not (tmp_path / "out").exists()
    result = runner.invoke(publish_command, [*args, "-q"])
    assert result.exit_code == 0, result.output
    assert "Published to folder:" in result.stdout and (tmp_path / "out/index.html").exists()
    result = runner.invoke(publish_command, [*args, "--target", "s3://x"])  # a usage error
    assert result.exit_code == 2 and "not an S3 bucket name" in result.output


def test_small_uploads_skip_the_100_continue_round_trip_large_ones_keep_it(bucket: str) -> None:
    target = S3Target(bucket)
    seen: dict[str, str | None] = {}

    def record(request: Any, **_: Any) -> None:
        seen[request.url.rsplit("/", 1)[1]] = request.headers.get("Expect")

    target.client.meta.events.register("before-send.s3.PutObject", record)
    meta = ObjectMeta("text/html; charset=utf-8", "max-age=60", "0" * 64)
    target.put("small.html", b"<p>hi</p>" * 1000, meta)
    target.put("large.bin", b"x" * (1024 * 1024 + 1), meta)
    assert seen == {"small.html": None, "large.bin": b"100-continue"}
    assert target.read("small.html") is not None  # the upload without the header still landed


class _StubCloudFront:
    """Records CreateInvalidation batches; enough of a botocore client for the invalidator."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        events = type("Events", (), {"register": lambda *args, **kwargs: None})()
        self.meta = type("Meta", (), {"events": events})()

    def create_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        self.batches.append(kwargs["InvalidationBatch"]["Paths"]["Items"])
        return {"Invalidation": {"Id": "I1", "Status": "InProgress"}}


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://alerts.example.gov/", ["/", "/index.html", "/alerts/x/*"]),
        (
            "https://www.example.gov/emergency/",
            ["/emergency/", "/emergency/index.html", "/emergency/alerts/x/*"],
        ),
    ],
)
def test_cloudfront_invalidates_the_paths_viewers_ask_for(
    base_url: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site under a base path is asked for under it: /emergency/alerts/x/, not /alerts/x/."""
    from publish.connect import open_invalidators
    from sitegen.config import PublishConfig

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = PublishConfig(cloudfront=("E2QWRUHEXAMPLE",))
    (cdn,) = open_invalidators(settings, base_url, wait=False, echo=lambda line: None)
    assert isinstance(cdn, CloudFrontInvalidator)
    stub = _StubCloudFront()
    cdn._client = stub  # type: ignore[assignment]
    paths = ["/", "/index.html", "/alerts/x/", "/alerts/x/index.html", "/alerts/x/cap.xml"]
    cdn.invalidate(paths, reference="a" * 64)
    assert stub.batches == [expected]
