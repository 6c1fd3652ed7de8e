"""``sitegen doctor``: thin click wrapper around ``publish.doctor``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from publish.connect import open_site_target, resolve_settings
from publish.doctor import run_doctor
from sitegen.errors import DoctorError
from sitegen.json_report import JsonCommand, dumps
from sitegen.options import AKAMAI, DISTRIBUTION, TARGET, edgerc_option, load, site_option

EXAMPLES = """\b
Examples:
  sitegen doctor                             # the [publish] target and CDNs of site.toml
  sitegen doctor --target s3://alerts-example-gov/site --cloudfront E2QWRUHEXAMPLE
  sitegen doctor --akamai default@production --json
  sitegen doctor --write-test                # also prove that publish may write
\b
Nothing is changed: only reads (ListObjectsV2 of the prefix, GetBucketVersioning,
HeadObject, GetDistributionConfig, GetFunction of the viewer-request function, whose live
code must be what `sitegen infra cloudformation` prints; for a site under a path, the
manifest at the host's root, where an old copy of the site may still be online) and, for
Akamai, a signed purge of an empty list, which Fast Purge refuses after checking the
signature. Credentials are never
printed. Exit code 1 when a check fails; a warning (!) needs a person but not a fix to
publish, and exits 0; 2 for a malformed option (--target ftp://x).
\b
All ✓ proves that AWS accepts the credentials and that they may list and read the target,
read its versioning and the distribution's config. Reads cannot prove the rights publish
writes with (s3:PutObject, s3:DeleteObject, cloudfront:CreateInvalidation): --write-test
puts one object, .sitegen/doctor-probe (only if absent), and deletes that same object. No
invalidation is sent: CloudFront has no harmless one.
"""


@click.command("doctor", cls=JsonCommand, epilog=EXAMPLES)
@site_option
@click.option(
    "--target",
    type=TARGET,
    help="Target to check. Default: [publish] target in site.toml.",
)
@click.option(
    "--cloudfront",
    multiple=True,
    type=DISTRIBUTION,
    help="Check this CloudFront distribution (repeatable).",
)
@click.option(
    "--akamai",
    multiple=True,
    type=AKAMAI,
    help="Check these Fast Purge credentials (repeatable).",
)
@edgerc_option
@click.option(
    "--no-probe", is_flag=True, help="Only parse the .edgerc; send no request to Fast Purge."
)
@click.option(
    "--write-test",
    is_flag=True,
    help="Also put and delete one object (.sitegen/doctor-probe) to prove write access.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the checklist as JSON.")
def doctor_command(
    site_file: Path,
    target: str | None,
    cloudfront: tuple[str, ...],
    akamai: tuple[str, ...],
    edgerc: str | None,
    no_probe: bool,
    write_test: bool,
    as_json: bool,
) -> None:
    """Check that publishing will work: credentials, bucket, versioning, the CDN's origin,
    Cache-Control of a published page, Fast Purge credentials; a checklist with fixes."""
    config = load(site_file)
    settings = resolve_settings(
        config.publish, target=target, cloudfront=cloudfront, akamai=akamai, edgerc=edgerc
    )
    store = open_site_target(config, settings, site_file, target)
    report = run_doctor(config, settings, store, probe_akamai=not no_probe, write_test=write_test)
    if as_json:
        if not report.ok:  # the failure document, the checklist in it
            raise DoctorError(report.failed(), document=report.to_json())
        click.echo(dumps(report.to_json()))
        return
    click.echo(report)
    sys.exit(0 if report.ok else 1)
