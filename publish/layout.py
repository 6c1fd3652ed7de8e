"""Whether the target puts the site where its viewers' addresses lead, and whether an old
copy of it is still online: one rule each, for `sitegen publish`'s notes and `sitegen
doctor`'s checks.

A CDN asks the bucket for <origin path><the viewer's URI>, and a site under the base path
/emergency/ is asked for /emergency/alerts/x/: its objects must be keyed <the origin path's
keys>/emergency/… (`sitegen.infra.origin_path`). Without the CDN's settings, only a target
whose prefix does not end with the base path is known to be wrong (a note, not a refusal:
a CDN may rewrite paths). With a CloudFront distribution's origins, a target that none of
the bucket's origins reaches is wrong too, whatever the base path: base_url
https://x.gov/ with target s3://b/emergency is read from s3://b/emergency only through the
origin path /emergency.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from publish.manifest import MANIFEST_PATH, Manifest, ManifestError, parse_manifest
from publish.targets.base import Target, TargetError
from sitegen import urls
from sitegen.errors import PublishError, plural
from sitegen.infra import origin_path, site_prefix, site_target

if TYPE_CHECKING:
    from publish.cdn.base import Invalidator
    from publish.cdn.cloudfront import Origin
    from publish.targets.s3 import S3Target


@dataclass(frozen=True, slots=True)
class LayoutProblem:
    detail: str  # what is wrong, naming the settings
    fix: str  # what to change

    def note(self) -> str:
        return f"{self.detail}. To fix: {self.fix}"


def layout_problem(
    target: S3Target, base_url: str, dist: str = "", origins: Sequence[Origin] | None = None
) -> LayoutProblem | None:
    """What keeps viewers of ``base_url`` from the objects ``target`` publishes; with
    ``origins``, those of CloudFront distribution ``dist``. None: nothing known to."""
    base_path = urls.split_base(base_url)[0]
    wanted = origin_path(target.prefix, base_path)
    if wanted is None:
        return LayoutProblem(
            f"[publish] target {target.name} does not end with {base_path}, the path of "
            f"[site] base_url {base_url}: a CDN serving the host asks the bucket for "
            f"<origin path>{base_path}…, where this target publishes nothing",
            f"publish to {site_target(target.bucket, target.prefix, base_path)} ([publish] "
            f"target) and keep the origin path {origin_path(target.prefix, '/') or '(empty)'}; "
            "or a [site] base_url without a path (unless your CDN rewrites paths)",
        )
    if origins is None or serving_origin(origins, target.bucket, wanted) is not None:
        return None
    seen = ", ".join(f"{o.domain}{o.path}" for o in origins) or "none"
    return LayoutProblem(
        f"no origin of CloudFront {dist} is the bucket {target.bucket} with the origin path "
        f"{wanted or '(empty)'}, where [publish] target {target.name} puts the site of [site] "
        f"base_url {base_url}: its viewers would not see what is published (origins: {seen})",
        _origin_fix(target, base_path, dist, origins, wanted),
    )


def serving_origin(origins: Sequence[Origin], bucket: str, path: str) -> Origin | None:
    """The origin that reads ``bucket`` at the origin path ``path``, if there is one."""
    for origin in origins:
        if _is_bucket(origin, bucket) and origin.path == path:
            return origin
    return None


def _is_bucket(origin: Origin, bucket: str) -> bool:
    return origin.domain.startswith(f"{bucket}.s3.")


def point_an_origin(bucket: str, dist: str, wanted: str) -> str:
    """The fix on the distribution's side: an origin reading the bucket at ``wanted``."""
    return (
        f"point an origin of {dist} at {bucket}.s3.<region>.amazonaws.com with origin "
        f"path {wanted or '(empty)'} (sitegen infra cloudformation does)"
    )


def _origin_fix(
    target: S3Target, base_path: str, dist: str, origins: Sequence[Origin], wanted: str
) -> str:
    point = point_an_origin(target.bucket, dist, wanted)
    for origin in origins:
        if _is_bucket(origin, target.bucket):
            keys = origin.path.strip("/") + "/" if origin.path.strip("/") else ""
            moved = site_target(target.bucket, keys, base_path)
            return (
                f"publish to {moved} ([publish] target), the folder its origin {origin.id!r} "
                f"reads (origin path {origin.path or '(empty)'}); or {point}"
            )
    return point


class PassedChecks:
    """The checks publish asks the cloud for (a distribution's origins, the root's manifest)
    that found nothing for these very settings before, kept in the site's
    `.sitegen/publish-checks`: each costs a request on every publish otherwise, ~0.1-0.3 s
    on AWS while an alert waits, for a mistake made when the settings change. A check that
    found something (or could not be made) is made again next time; `sitegen doctor` makes
    them all, always. Deleting the file only makes the next publish check again."""

    def __init__(self, site_root: Path) -> None:
        self.path = site_root / ".sitegen" / "publish-checks"
        try:
            self.keys = set(self.path.read_text(encoding="ascii").split())
        except (OSError, UnicodeDecodeError):
            self.keys = set()

    @staticmethod
    def key(*settings: str) -> str:
        return hashlib.sha256("\n".join(settings).encode()).hexdigest()[:32]

    def remember(self, key: str) -> None:
        if key in self.keys:
            return
        self.keys.add(key)
        try:  # best effort: a site folder we cannot write to only means checking again
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("".join(f"{k}\n" for k in sorted(self.keys)), "ascii")
        except OSError:
            pass


def checked_layout_notes(
    target: Target, base_url: str, cdns: Sequence[Invalidator], passed: PassedChecks
) -> list[str]:
    """`layout_notes`, reading the distributions' origins only for settings not found
    fine before (`PassedChecks`); the rule needing no request is applied every time."""
    from publish.cdn.cloudfront import CloudFrontInvalidator

    dists = sorted(c.distribution_id for c in cdns if isinstance(c, CloudFrontInvalidator))
    key = passed.key("origins", target.name, base_url, *dists)
    if key in passed.keys:
        return layout_notes(target, base_url)
    notes = layout_notes(target, base_url, cdns)
    if not notes:
        passed.remember(key)
    return notes


def layout_notes(target: Target, base_url: str, cdns: Sequence[Invalidator] = ()) -> list[str]:
    """`layout_problem` as notes publish prints before it writes, reading the origins of
    each CloudFront distribution (one GetDistributionConfig each; a failure to read them is
    a note too, not a failed publish, but for a distribution that does not exist: then
    PublishError, before any write, as its invalidation would fail after the uploads)."""
    from publish.targets.s3 import S3Target

    if not isinstance(target, S3Target):
        return []
    if (problem := layout_problem(target, base_url)) is not None:
        return [problem.note()]
    from botocore.exceptions import BotoCoreError, ClientError

    from publish.aws import error_code, explain
    from publish.cdn.cloudfront import CloudFrontInvalidator

    notes = []
    for cdn in cdns:
        if not isinstance(cdn, CloudFrontInvalidator):
            continue
        dist = cdn.distribution_id
        try:
            origins = cdn.origins()
        except (ClientError, BotoCoreError) as exc:
            why = explain(exc, action="cloudfront:GetDistributionConfig", distribution=dist)
            if error_code(exc) == "NoSuchDistribution":  # known now, not after the uploads
                raise PublishError(
                    f"{why.rstrip()}\nNothing was changed: publishing would have put the "
                    "files online and then failed to invalidate them on this distribution."
                ) from exc
            notes.append(
                f"could not read where CloudFront {dist} reads the site from, to check that it "
                f"reaches {target.name}: {why.rstrip('. ')}. `sitegen doctor` checks it"
            )
            continue
        if (problem := layout_problem(target, base_url, dist, origins)) is not None:
            notes.append(problem.note())
    return notes


# --- a site moved from the host's root to a path ----------------------------------------------
# Published at s3://b/site while base_url was https://x.gov/, then under /emergency/ at
# s3://b/site/emergency: the root copies stay (sitegen never deletes what lies outside its
# target), and where the host's root is served from s3://b/site viewers still read them, an
# alert cancelled since still in force. Found cheaply: one GET of the root's manifest.


@dataclass(frozen=True, slots=True)
class RootSite:
    """The sitegen manifest at the host's root of the bucket, beside a site under a path."""

    url: str  # s3://bucket/site, where the host's root is read from
    below: str  # the site's own folder in it: "emergency/"
    manifest: Manifest | None  # None: no sitegen site there (or not a manifest we can read)


def read_root_site(target: Target, base_url: str) -> RootSite | None:
    """For a site under a path published to S3, the manifest of the host's root in the same
    bucket (one GET; TargetError when it cannot be read); None when there is nothing to check
    (a folder target, a site at the root, a target whose layout is wrong already)."""
    from publish.targets.s3 import S3Target

    base_path = urls.split_base(base_url)[0]
    below = site_prefix(base_path)
    if not isinstance(target, S3Target) or not below:
        return None
    if (origin := origin_path(target.prefix, base_path)) is None:
        return None
    keys = origin.strip("/") + "/" if origin else ""
    url = f"s3://{target.bucket}/{keys}".rstrip("/")
    stored = target.read_key(keys + MANIFEST_PATH)
    try:
        manifest = parse_manifest(stored.body) if stored is not None else None
    except ManifestError:
        manifest = None
    return RootSite(url, below, manifest)


def old_copies(root: RootSite, base_url: str, site_paths: Iterable[str]) -> LayoutProblem | None:
    """The root's sitegen site is this site's old copy when they publish alert pages in
    common (alert ids are dated names: another site does not share them)."""
    if root.manifest is None:
        return None
    alerts = {p for p in root.manifest.files if p.startswith("alerts/")}
    common = alerts.intersection(site_paths)
    if not common:
        return None
    base_path = urls.split_base(base_url)[0]
    command = (
        f"aws s3 rm {shlex.quote(root.url + '/')} --recursive "
        f"--exclude {shlex.quote(root.below + '*')}"
    )
    return LayoutProblem(
        f"{root.url} still holds this site as published before [site] base_url had the path "
        f"{base_path} ({plural(len(root.manifest.files), 'file')}, "
        f"{plural(len(common), 'alert file')} in common with it; its manifest is "
        f"{root.url}/{MANIFEST_PATH}): where the host's root is served from there, viewers "
        "still read those old pages, and an alert cancelled or updated since still shows as "
        "it was",
        f"delete them by hand once the site under {base_path} is online (sitegen never "
        f"deletes outside its target): {command} (first with --dryrun: it removes everything "
        f"there but {root.below}), then invalidate /* once (docs/operations.md, moving a site)",
    )


def old_copies_notes(
    target: Target, base_url: str, site_paths: Iterable[str], passed: PassedChecks
) -> list[str]:
    """`old_copies` as a note publish prints, until a publish finds none for these settings
    (`PassedChecks`: the move that leaves them is a change of base_url). Reading the root's
    manifest is best effort: a failure (a policy without that one key) says nothing here and
    is tried again next time; `sitegen doctor` says why."""
    key = passed.key("root copies", target.name, base_url)
    if key in passed.keys:
        return []
    try:
        root = read_root_site(target, base_url)
    except TargetError:
        return []
    problem = old_copies(root, base_url, site_paths) if root is not None else None
    if problem is None:
        passed.remember(key)
        return []
    return [problem.note()]
