"""``sitegen doctor``: check a configured target and its CDNs without changing anything.

Each check is a read: credentials resolve (never printed) and AWS accepts them, the target's
prefix can be listed (ListObjectsV2, whose answer, unlike HeadBucket's, says why it failed),
GetBucketVersioning, HeadObject on index.html (Cache-Control equals site.toml's alert class),
GetDistributionConfig (an origin reads the bucket where the target puts the site:
publish.layout, the rule publish's notes follow too), GetFunction of its viewer-request
function (the live code is what `sitegen infra cloudformation` prints: CloudFront runs the
old code until the stack is deployed again), the .edgerc section parses
and Fast Purge accepts its signature (a purge of an empty list: refused as invalid, after
authentication, purging nothing), that no publish stopped half-way (GetObject of the lock,
whose owed work a stopped publish leaves there), and for a folder target that it is
writable. Reads cannot show write permissions: ``write_test`` puts one object
(``.sitegen/doctor-probe``, only if absent) and deletes that same object. Checks that
cannot run because an earlier one failed are skipped, and say so. AWS failures are named by
``publish.aws.diagnose``, as publish does.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from publish.aws import (
    CREDENTIALS_ADVICE,
    client_config,
    describe,
    diagnose,
    error_code,
    explain,
    http_status,
    make_client,
)
from publish.cdn.cloudfront import (
    has_lambda_at_edge,
    origins_of,
    read_config,
    read_live_code,
    viewer_request_function,
)
from publish.layout import layout_problem, old_copies, point_an_origin, read_root_site
from publish.lock import parse_holder, parse_owed
from publish.manifest import MANIFEST_PATH, ManifestError, parse_manifest
from publish.remote import Pending
from publish.retry import RetryPolicy
from publish.targets.base import LOCK_PATH, Target, TargetError
from publish.targets.folder import META_DIR, FolderTarget
from publish.targets.s3 import S3Target
from sitegen import urls
from sitegen.config import PublishConfig, SiteConfig
from sitegen.errors import SitegenError, plural
from sitegen.infra import index_function_code, origin_path

Status = Literal["ok", "warn", "fail", "skip"]  # warn: publish works, something needs a person
SAMPLE = "index.html"
PROBE = ".sitegen/doctor-probe"  # what --write-test puts and deletes (publish never lists it)
# Causes that are about the credentials themselves, whatever the request was.
_CREDENTIAL_CAUSES = frozenset(
    {"no_credentials", "unknown_key", "bad_secret", "expired_credentials", "clock_skew"}
)
_MARK = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "–"}
# A check waits this long for an endpoint (one retry for AWS): a dropped connection fails its
# check in seconds, where publish's (60 s a read, 4 tries: botocore retries 3 times) held
# doctor for minutes.
CONNECT_S, READ_S = 5.0, 10.0


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the checklist; ``fix`` says what to do when it failed or was skipped."""

    name: str
    status: Status
    detail: str
    fix: str = ""
    cause: str = ""  # publish.aws.diagnose's kind, for an AWS failure it recognised


@dataclass(frozen=True, slots=True)
class DoctorReport:
    target: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def failed(self) -> str:
        """The failed checks, named in one line."""
        names = [c.name for c in self.checks if c.status == "fail"]
        return f"{plural(len(names), 'check')} failed: {', '.join(names)}."

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "checks": [
                {
                    "name": c.name,
                    "status": c.status,
                    "detail": c.detail,
                    "fix": c.fix,
                    "cause": c.cause or None,
                }
                for c in self.checks
            ],
        }

    def __str__(self) -> str:
        lines = [f"sitegen doctor: {self.target}"]
        for c in self.checks:
            lines.append(f"  {_MARK[c.status]} {c.name}: {c.detail}")
            if c.fix and c.status != "ok":
                lines.append(f"      fix: {c.fix}")
        warned = sum(c.status == "warn" for c in self.checks)
        skipped = sum(c.status == "skip" for c in self.checks)
        notes = [plural(warned, "warning")] if warned else []
        notes += [f"{skipped} not checked"] if skipped else []
        said = f" ({', '.join(notes)}: see above)" if notes else ""
        lines.append(f"All checks passed{said}." if self.ok else self.failed())
        return "\n".join(lines)


def run_doctor(
    config: SiteConfig,
    settings: PublishConfig,
    target: Target,
    *,
    probe_akamai: bool = True,
    write_test: bool = False,
) -> DoctorReport:
    """Every check for this target and the CDNs in ``settings``."""
    checks: list[Check] = []
    if isinstance(target, S3Target):
        target = S3Target(
            target.bucket, target.prefix, retry=RetryPolicy(attempts=1), client=_client("s3")
        )
        checks.extend(s3_checks(target, config.cache.for_class("alert"), write_test))
    elif isinstance(target, FolderTarget):
        checks.extend(folder_checks(target, config.cache.for_class("alert"), write_test))
    aws_ok = not checks or checks[0].status == "ok"
    for dist in settings.cloudfront:
        checks.extend(cloudfront_checks(dist, target, aws_ok, config))
    if aws_ok and (moved := old_copies_check(target, config)) is not None:
        checks.append(moved)
    if aws_ok:
        checks.append(last_publish_check(target))
    for spec in settings.akamai:
        checks.append(akamai_check(spec, settings.edgerc, config.base_url, probe_akamai))
    return DoctorReport(target.name, tuple(checks))


# --- S3 -----------------------------------------------------------------------------------------


def s3_checks(target: S3Target, cache_control: str, write_test: bool = False) -> Iterator[Check]:
    later = ["bucket reachable", "bucket versioning", f"Cache-Control of {SAMPLE}"]
    later += ["write test"] if write_test else []
    creds = credentials_check()
    if creds.status != "ok":
        yield creds
        yield from _skipped(later, "not checked without credentials", creds.fix)
        return
    # The first signed request is where AWS says whether it knows the credentials: a key it
    # refuses is the credentials' failure, not the bucket's.
    reach = _aws("bucket reachable", lambda: _list(target), "", "s3:ListBucket", target.bucket)
    if reach.cause in _CREDENTIAL_CAUSES:
        yield replace(reach, name=creds.name, detail=f"{creds.detail}, but {reach.detail}")
        yield from _skipped(later, "not checked: AWS refused the credentials", reach.fix)
        return
    yield creds
    yield reach
    if reach.status != "ok":
        return
    yield _aws(
        "bucket versioning",
        lambda: _versioning(target),
        _VERSIONING_FIX.format(bucket=target.bucket),
        "s3:GetBucketVersioning",
        target.bucket,
    )
    yield _aws(
        f"Cache-Control of {SAMPLE}",
        lambda: _s3_cache_control(target, cache_control),
        "run `sitegen publish` (it re-uploads objects whose headers differ)",
        "s3:GetObject",
        target.bucket,
    )
    if write_test:
        yield s3_write_test(target)


def _client(service: str) -> Any:
    """An AWS client that gives up on a silent endpoint within seconds (CONNECT_S, READ_S)."""
    config = client_config(max_pool=2, botocore_attempts=1, connect_s=CONNECT_S, read_s=READ_S)
    return make_client(service, config)


def credentials_check() -> Check:
    """boto3's chain resolves credentials; only where they came from is shown."""
    try:
        found = boto3.session.Session().get_credentials()
    except BotoCoreError as exc:
        return Check(
            "AWS credentials", "fail", f"cannot be read: {explain(exc)}", _credentials_fix(exc)
        )
    if found is None:
        return Check("AWS credentials", "fail", "none found", CREDENTIALS_ADVICE)
    return Check("AWS credentials", "ok", f"found (source: {found.method})")


def _credentials_fix(exc: BotoCoreError) -> str:
    found = diagnose(exc)
    return found.advice if found is not None else CREDENTIALS_ADVICE


def _skipped(names: list[str], why: str, fix: str) -> Iterator[Check]:
    for name in names:
        yield Check(name, "skip", why, fix)


class _Failed(Exception):
    """A check's own failure: the message is the detail line."""


class _NotYet(Exception):
    """A check that has nothing to look at before the first publish: skipped, not failed, so
    `sitegen doctor && sitegen publish` can gate a new site's first publish."""


def _not_published(where: str) -> str:
    return f"not checked: {where} is not published yet"


_AFTER_PUBLISH = "run `sitegen publish`, then `sitegen doctor` again"


def _aws(
    name: str,
    probe: Callable[[], str],
    fix: str,
    action: str = "",
    bucket: str = "",
    distribution: str = "",
) -> Check:
    """Run one read; a failure AWS explains (publish.aws.diagnose) gets that cause's fix,
    anything else the check's own ``fix``."""
    try:
        return Check(name, "ok", probe())
    except _NotYet as exc:
        return Check(name, "skip", str(exc), _AFTER_PUBLISH)
    except _Failed as exc:
        return Check(name, "fail", str(exc), fix)
    except (ClientError, BotoCoreError) as exc:
        found = diagnose(exc, action=action, bucket=bucket, distribution=distribution)
        if found is None:
            return Check(name, "fail", describe(exc), fix)
        detail = f"{found.summary} ({describe(exc).rstrip('. ')})"
        return Check(name, "fail", detail, found.advice, found.kind)


def _list(target: S3Target) -> str:
    target.client.list_objects_v2(Bucket=target.bucket, Prefix=target.prefix, MaxKeys=1)
    return f"{target.name} can be listed (s3:ListBucket)"


def _versioning(target: S3Target) -> str:
    status = target.client.get_bucket_versioning(Bucket=target.bucket).get("Status", "")
    if status != "Enabled":
        raise _Failed(f"{status or 'never enabled'}: a bad publish could not be rolled back")
    return "Enabled (every publish can be rolled back)"


def _s3_cache_control(target: S3Target, wanted: str) -> str:
    try:
        head = target.client.head_object(Bucket=target.bucket, Key=target.prefix + SAMPLE)
    except ClientError as exc:
        if http_status(exc) == 404:
            raise _NotYet(_not_published(f"{target.name}/{SAMPLE}")) from exc
        raise
    return _compare_cache_control(str(head.get("CacheControl", "")), wanted)


def _compare_cache_control(got: str, wanted: str) -> str:
    if got != wanted:
        raise _Failed(f"{got or 'none'!r}, but site.toml's alert class is {wanted!r}")
    return repr(got)


def s3_write_test(target: S3Target) -> Check:
    """Put PROBE only if absent, then delete that same object (If-Match), as the lock is taken
    and released: never overwrites or deletes anything else. With versioning on, a delete
    marker and a noncurrent version stay behind, as after any publish."""
    name, key, where = "write test", target.prefix + PROBE, f"{target.name}/{PROBE}"
    client = target.client
    try:
        etag = client.put_object(
            Bucket=target.bucket,
            Key=key,
            Body=b"sitegen doctor --write-test: safe to delete\n",
            IfNoneMatch="*",
            ContentType="text/plain; charset=utf-8",
            CacheControl="no-store",
        )["ETag"]
    except ClientError as exc:
        if error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
            return Check(
                name,
                "fail",
                f"{where} is already there (an interrupted doctor left it)",
                f"delete it (aws s3 rm {_s3_url(target, key)}), then run doctor again",
            )
        return _aws(name, _raise(exc), "", "s3:PutObject", target.bucket)
    except BotoCoreError as exc:
        return _aws(name, _raise(exc), "", "s3:PutObject", target.bucket)
    try:
        client.delete_object(Bucket=target.bucket, Key=key, IfMatch=etag)
    except (ClientError, BotoCoreError) as exc:
        failed = _aws(name, _raise(exc), "", "s3:DeleteObject", target.bucket)
        return replace(
            failed,
            detail=f"s3:PutObject works, but {failed.detail}; {where} was left behind",
            fix=f"{failed.fix} Then delete {_s3_url(target, key)}.".strip(),
        )
    return Check(name, "ok", f"put and deleted {where} (s3:PutObject, s3:DeleteObject)")


def _raise(exc: BaseException) -> Callable[[], str]:
    """A probe that fails as ``exc`` did, to report it the way every other check is."""

    def probe() -> str:
        raise exc

    return probe


def _s3_url(target: S3Target, key: str) -> str:
    return f"s3://{target.bucket}/{key}"


# --- CloudFront ---------------------------------------------------------------------------------


def cloudfront_checks(dist: str, target: Target, aws_ok: bool, config: SiteConfig) -> list[Check]:
    """The distribution's origin and its viewer-request function, from one read of its
    settings; the function is not checked when the origin could not be."""
    origin, settings = cloudfront_check(dist, target, aws_ok, config)
    if origin.status == "skip":
        return [origin]
    if settings is None:
        why = "not checked: the distribution's settings were not read (see above)"
        return [origin, Check(f"CloudFront {dist} function", "skip", why)]
    return [origin, function_check(dist, settings, urls.base_path(config))]


def cloudfront_check(
    dist: str, target: Target, aws_ok: bool, config: SiteConfig
) -> tuple[Check, Any]:
    """The distribution reads the site where the target puts it (`publish.layout`, the rule
    publish's notes follow); with the distribution's settings when they were read."""
    name = f"CloudFront {dist} origin"
    if not aws_ok:
        return Check(name, "skip", "not checked: fix the checks above first"), None
    if not isinstance(target, S3Target):
        return Check(name, "skip", f"the target {target.name} is not an S3 bucket"), None
    if (problem := layout_problem(target, config.base_url)) is not None:
        return Check(name, "fail", problem.detail, problem.fix), None
    wanted = origin_path(target.prefix, urls.base_path(config)) or ""
    try:
        settings = read_config(_client("cloudfront"), dist)
    except (ClientError, BotoCoreError) as exc:
        fix = point_an_origin(target.bucket, dist, wanted)
        action = "cloudfront:GetDistributionConfig"
        return _aws(name, _raise(exc), fix, action, distribution=dist), None
    origins = origins_of(settings)
    if (problem := layout_problem(target, config.base_url, dist, origins)) is not None:
        return Check(name, "fail", problem.detail, problem.fix), settings
    detail = f"an origin reads {target.bucket} with the origin path {wanted or '(empty)'}"
    return Check(name, "ok", detail), settings


def function_check(dist: str, settings: Any, base_path: str) -> Check:
    """The viewer-request function runs the code `sitegen infra cloudformation` prints: a
    changed template reaches CloudFront only when the stack is deployed again."""
    name = f"CloudFront {dist} function"
    arn = viewer_request_function(settings)
    if arn is None and has_lambda_at_edge(settings):
        why = "no CloudFront Function on viewer requests; a Lambda@Edge function runs instead"
        return Check(name, "warn", f"{why} (not checked)", _REDEPLOY)
    if arn is None:
        return Check(name, "fail", _NO_FUNCTION, _REDEPLOY)
    function = arn.rsplit("/", 1)[-1]
    try:
        live = read_live_code(_client("cloudfront"), arn)
    except (ClientError, BotoCoreError) as exc:
        failed = _aws(name, _raise(exc), _REDEPLOY, "cloudfront:GetFunction", "", dist)
        if failed.cause == "access_denied":
            failed = replace(failed, fix=_GET_FUNCTION_FIX)
        return replace(failed, status="warn")  # publishing does not need it
    if _same_code(live, index_function_code(base_path)):
        return Check(name, "ok", f"{function} runs the code sitegen infra cloudformation prints")
    detail = (
        f"{function} runs other code than sitegen infra cloudformation prints for this site: "
        "CloudFront keeps the old code until the stack is deployed again"
    )
    return Check(name, "warn", detail, _REDEPLOY)


def _same_code(live: str, wanted: str) -> bool:
    """Equal but for line endings and blank space at either end (an editor's)."""
    return live.replace("\r\n", "\n").strip() == wanted.strip()


def old_copies_check(target: Target, config: SiteConfig) -> Check | None:
    """A site under a path whose old copy, from before base_url had the path, is still at the
    host's root of the bucket (`publish.layout.old_copies`, the rule of publish's note): a
    warning, since publishing works and only a person may delete it. None: not such a site."""
    name = "old copies at the host's root"
    try:
        root = read_root_site(target, config.base_url)
    except TargetError as exc:
        return Check(
            name,
            "warn",
            f"could not read the manifest of the host's root: {exc}",
            "give the publisher s3:GetObject on that one key (sitegen infra cloudformation's "
            "policy does) so that publish and doctor can tell whether old copies are online",
        )
    if root is None:
        return None
    if root.manifest is None:
        return Check(name, "ok", f"no sitegen site at {root.url}")
    try:
        published = target.read(MANIFEST_PATH)
        files = parse_manifest(published.body).files if published is not None else None
    except (TargetError, ManifestError) as exc:
        return Check(name, "skip", f"not checked: the target's manifest is unreadable ({exc})")
    if files is None:
        why = f"not checked: nothing is published at {target.name} yet"
        return Check(name, "skip", why, _AFTER_PUBLISH)
    if (problem := old_copies(root, config.base_url, files)) is not None:
        return Check(name, "warn", problem.detail, problem.fix)
    return Check(name, "ok", f"{root.url} holds another sitegen site (no alert in common)")


def last_publish_check(target: Target) -> Check:
    """Whether the last publish finished (one read of the lock): a stopped one leaves the site
    half changed (pages sent but no manifest, or invalidations and deletes owed) until the
    command is run again, which every other check would pass over."""
    name = "last publish"
    try:
        held = target.read(LOCK_PATH)
    except TargetError as exc:
        return Check(name, "skip", f"not checked: the lock could not be read ({exc})")
    if held is None:
        return Check(name, "ok", "no publish is running or left unfinished")
    holder = parse_holder(held.body)
    owed, released = parse_owed(held.body)
    rollback = holder is not None and holder.tool == "sitegen rollback"
    again = (
        "run `sitegen rollback --to ID` again, with the id of the state you chose (not "
        "`sitegen publish`, which puts your content back)"
        if rollback
        else "run `sitegen publish` again: it does only what is still missing"
    )
    command = "a rollback" if rollback else "a publish"
    if not released:
        who = f" ({holder.who})" if holder else ""
        return Check(
            name,
            "warn",
            f"{command}{who} holds the lock {target.name}/{LOCK_PATH}: it is running, or died",
            f"if it is no longer running, {again}; once the lock has gone unrenewed for "
            "lock_lease_s, add --take-over-lock to take it over",
        )
    return Check(name, "warn", f"{command} stopped before it finished: {_owed_words(owed)}", again)


def _owed_words(owed: Pending | None) -> str:
    if owed is None:
        return "the lock was left for the next run to take over"
    parts = [
        f"up to {plural(len(owed.unsure), 'file')} online in their new form, not yet in "
        "the manifest"
        if owed.unsure
        else "",
        f"{plural(len(owed.invalidate), 'path')} still to invalidate" if owed.invalidate else "",
        f"{plural(len(owed.delete), 'object')} still to delete" if owed.delete else "",
    ]
    return "; ".join(p for p in parts if p) or "nothing recorded as owed"


# --- Akamai -------------------------------------------------------------------------------------


def akamai_check(spec: str, edgerc: str, base_url: str, probe: bool) -> Check:
    from publish.cdn.akamai import AkamaiInvalidator, parse_akamai_spec

    name = f"Akamai {spec}"
    try:
        section, network = parse_akamai_spec(spec)
        # from_edgerc checks the file and the scheme exactly as publish will, and names the URL
        akamai = AkamaiInvalidator.from_edgerc(
            Path(edgerc).expanduser(), section, network, base_url
        )
    except SitegenError as exc:
        return Check(name, "fail", exc.message, "fix the .edgerc file (docs/akamai.md)")
    if not probe:
        return Check(name, "ok", f"[{section}] in {edgerc} parses (not sent: --no-probe)")
    refused = akamai.probe((CONNECT_S, READ_S))
    if refused is not None:
        return Check(name, "fail", *refused)
    detail = (
        f"credentials accepted by {akamai.endpoint} (an empty purge was refused as expected; "
        "nothing purged)"
    )
    return Check(name, "ok", detail)


# --- folder -------------------------------------------------------------------------------------


def folder_checks(
    target: FolderTarget, cache_control: str, write_test: bool = False
) -> Iterator[Check]:
    yield (writable := _folder_writable(target.root))
    if write_test:
        yield (
            _folder_write_test(target.root)
            if writable.status == "ok"
            else Check("write test", "skip", "not tried: the folder is not writable", writable.fix)
        )
    meta = target.root / META_DIR / f"{SAMPLE}.json"
    name = f"Cache-Control of {SAMPLE}"
    try:
        got = str(json.loads(meta.read_bytes()).get("cache_control", ""))
        yield Check(name, "ok", _compare_cache_control(got, cache_control))
    except (FileNotFoundError, NotADirectoryError):
        yield Check(name, "skip", _not_published(str(target.root / SAMPLE)), _AFTER_PUBLISH)
    except (_Failed, OSError, ValueError) as exc:
        yield Check(name, "fail", str(exc), "run `sitegen publish` (it rewrites the headers)")


def _folder_writable(root: Path) -> Check:
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    name = "folder writable"
    if not existing.is_dir():
        return Check(name, "fail", f"{existing} is not a folder", "choose another folder:PATH")
    if not os.access(existing, os.W_OK | os.X_OK):
        return Check(
            name,
            "fail",
            f"{existing} is not writable by this user",
            f"chown/chmod {existing}, or publish as its owner",
        )
    created = "" if existing == root else f" (will be created in {existing})"
    return Check(name, "ok", f"{root}{created}")


def _folder_write_test(root: Path) -> Check:
    """Create and remove one file in the folder (or the parent it will be created in)."""
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".sitegen-doctor-probe-"):
            pass
    except OSError as exc:
        return Check(
            "write test",
            "fail",
            f"cannot create a file in {existing}: {exc}",
            f"chown/chmod {existing}, or publish as its owner",
        )
    return Check("write test", "ok", f"created and removed a file in {existing}")


_VERSIONING_FIX = (
    "aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration "
    "Status=Enabled (sitegen infra cloudformation turns it on)"
)
_NO_FUNCTION = (
    "no CloudFront Function runs on viewer requests, so /alerts/x/ is not mapped to "
    "/alerts/x/index.html: every page but the home page answers 404"
)
_REDEPLOY = (
    "sitegen infra cloudformation --out stack.json, then aws cloudformation deploy "
    "--template-file stack.json --stack-name YOUR-STACK --capabilities CAPABILITY_IAM "
    "(its IndexFunction is published on deploy); without the stack, put that code in the "
    "function (aws cloudfront update-function, then publish-function) and associate it with "
    "the default behaviour on viewer request"
)
_GET_FUNCTION_FIX = (
    "give the publisher cloudfront:GetFunction on the distribution's function (sitegen infra "
    "cloudformation's policy does) so that doctor can compare its code"
)
