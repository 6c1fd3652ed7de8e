"""Settings (site.toml ``[publish]`` overridden by flags) → the Target and CDN clients they name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from publish.cdn.base import Invalidator
from publish.targets.base import Target
from sitegen.config import (
    PublishConfig,
    SiteConfig,
    distribution_problem,
    located,
    target_problem,
)
from sitegen.errors import ConfigError, PublishError

T = TypeVar("T")


def resolve_settings(
    config: PublishConfig,
    *,
    target: str | None = None,
    cloudfront: Sequence[str] = (),
    akamai: Sequence[str] = (),
    max_deletes: int | None = None,
    edgerc: str | None = None,
) -> PublishConfig:
    """Flags win over site.toml: each one given replaces the matching ``[publish]`` key."""
    changes: dict[str, object] = {}
    if target:
        changes["target"] = target
    if cloudfront:
        changes["cloudfront"] = tuple(cloudfront)
    if akamai:
        changes["akamai"] = tuple(akamai)
    if max_deletes is not None:
        changes["max_deletes"] = max_deletes
    if edgerc:
        changes["edgerc"] = edgerc
    return replace(config, **changes)  # type: ignore[arg-type]


def ignored_flags(settings: PublishConfig, *, wait: bool) -> list[str]:
    """Flags these settings leave without effect: said, rather than silently ignored."""
    if wait and not settings.cloudfront:
        cdns = "only Akamai is configured" if settings.akamai else "no CDN is configured"
        return [f"--wait has no effect: it waits for CloudFront invalidations, and {cdns}"]
    return []


# Domains reserved for examples (RFC 2606): `sitegen init` writes alerts.example.org.
_EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")


def placeholder_notes(config: SiteConfig, settings: PublishConfig) -> list[str]:
    """A site published for real (to S3, or purged on a CDN) whose site.toml still has the
    example address `sitegen init` wrote: its feeds, sitemap, CAP files and Akamai purges
    would point there. Said before anything is sent; a local folder alone is a trial."""
    if settings.target.startswith("folder:") and not (settings.cloudfront or settings.akamai):
        return []
    host = (urlsplit(config.base_url).hostname or "").lower()
    if not any(host == d or host.endswith(f".{d}") for d in _EXAMPLE_DOMAINS):
        return []
    return [
        f"[site] base_url in site.toml is still {config.base_url}, an example address: the "
        "links in the feeds, the sitemap and the CAP files (and the addresses Akamai is asked "
        "to purge) point there, not at your site. Set base_url to the site's public address "
        "(and sender to your office's), then publish again"
    ]


def open_target(
    spec: str, site_root: Path, bundle_dir: Path, sources: Sequence[Path] = ()
) -> Target:
    """``s3://BUCKET[/PREFIX]`` or ``folder:PATH`` (relative to the site's folder; ``~`` is
    the user's home, as for ``edgerc``). A folder may not overlap the build output or the
    site's ``sources`` (content, templates), nor hold the site itself. site.toml's target was
    checked when it was read, so a wrong shape here is the --target flag's."""
    if (problem := target_problem(spec)) is not None:
        raise ConfigError(f"--target {spec!r}: {problem}")
    if spec.startswith("s3://"):
        from publish.targets.s3 import S3Target, parse_s3_url

        bucket, prefix = parse_s3_url(spec)
        return _aws_client(spec, lambda: S3Target(bucket, prefix))
    from publish.targets.folder import FolderTarget  # the other shape target_problem allows

    folder = folder_path(spec, site_root)
    if (problem := _folder_problem(folder, site_root, bundle_dir, sources)) is not None:
        raise ConfigError(f"publish target {spec}: {problem}")
    return FolderTarget(folder)


def folder_path(spec: str, site_root: Path) -> Path:
    """The folder a ``folder:PATH`` target names."""
    return (site_root / Path(spec.removeprefix("folder:")).expanduser()).resolve()


def open_site_target(
    config: SiteConfig, settings: PublishConfig, site_file: Path, flag: str | None
) -> Target:
    """`open_target` for a command: a target site.toml names (no --target `flag`) that does
    not fit the site is a site.toml mistake, at its line."""
    said = f"publish target {settings.target}: "  # open_target's words for the folder
    try:
        return open_target(settings.target, config.root, config.output_path, config.source_paths)
    except ConfigError as exc:
        if flag is not None or not exc.message.startswith(said):
            raise
        why = f"target {settings.target!r}: {exc.message.removeprefix(said)}"
        raise located(site_file, "publish", "target", why) from exc


def _folder_problem(
    folder: Path, site_root: Path, bundle_dir: Path, sources: Sequence[Path]
) -> str | None:
    """Why a folder target would publish into the site itself, if it would."""
    bundle = bundle_dir.resolve()
    if site_root.resolve().is_relative_to(folder):
        return (
            f"{folder} holds the site itself ({site_root.resolve()}); "
            "publish to a folder of its own (e.g. folder:_published)"
        )
    if folder.is_relative_to(bundle) or bundle.is_relative_to(folder):
        return f"{folder} overlaps the build output {bundle}; publish to a folder outside it"
    for source in (s.resolve() for s in sources):
        if folder.is_relative_to(source) or source.is_relative_to(folder):
            return (
                f"{folder} overlaps the site's own files {source}; "
                "publish to a folder of its own (e.g. folder:_published)"
            )
    return None


def open_invalidators(
    settings: PublishConfig, base_url: str, *, wait: bool, echo: Callable[[str], None]
) -> list[Invalidator]:
    """One invalidator per ``--cloudfront`` and ``--akamai``; all get the same paths."""
    invalidators: list[Invalidator] = []
    for dist in settings.cloudfront:
        if (problem := distribution_problem(dist)) is not None:
            raise ConfigError(f"--cloudfront {dist!r}: {problem}")  # site.toml's were checked
        from publish.cdn.cloudfront import CloudFrontInvalidator

        base_path = urlsplit(base_url).path or "/"  # the site's place on its host
        make = partial(CloudFrontInvalidator, dist, wait=wait, echo=echo, base_path=base_path)
        invalidators.append(_aws_client(f"cloudfront:{dist}", make))
    for spec in settings.akamai:
        from publish.cdn.akamai import AkamaiInvalidator, parse_akamai_spec

        section, network = parse_akamai_spec(spec)
        edgerc = Path(settings.edgerc).expanduser()
        invalidators.append(AkamaiInvalidator.from_edgerc(edgerc, section, network, base_url))
    return invalidators


def _aws_client(name: str, make: Callable[[], T]) -> T:
    """Create an AWS client, which reads the AWS configuration: a missing profile or an
    unreadable config file is the user's to fix, not a crash."""
    from botocore.exceptions import BotoCoreError

    from publish.aws import explain

    try:
        return make()
    except BotoCoreError as exc:
        raise PublishError(f"{name}: could not set up the AWS client: {explain(exc)}") from exc
