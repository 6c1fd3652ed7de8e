"""`sitegen infra`: print infrastructure templates for the origin and CDN."""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.core import ParameterSource

from sitegen import urls
from sitegen.errors import write_failed
from sitegen.infra import cloudformation_template, render_json
from sitegen.options import load, site_option


@click.group()
def infra() -> None:
    """Print infrastructure-as-code for hosting the site (S3 + CloudFront)."""


@infra.command("cloudformation")
@site_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the template to this file instead of printing it.",
)
def cloudformation(site_file: Path, out: Path | None) -> None:
    """An AWS CloudFormation template for the whole origin + CDN.

    \b
    Private versioned S3 bucket, CloudFront with Origin Access Control, HTTPS only,
    HTTP/2 and HTTP/3, compression, caching that honours sitegen's Cache-Control,
    security headers, the 404 page, and a least-privilege policy for the publisher.
    A base_url with a path (https://www.example.gov/emergency/) keys the site's objects
    under it: the PublishCommand output names the target (s3://BUCKET/emergency).
    With no site.toml here or in a parent folder, the template is for a site at its host's
    root (a --site naming no file is an error).
    Example:
      sitegen infra cloudformation --out stack.json
      aws cloudformation deploy --template-file stack.json --stack-name alerts \\
          --capabilities CAPABILITY_IAM --parameter-overrides DomainName=alerts.example.gov \\
          CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/abc
    """
    base_path = "/"
    named = click.get_current_context().get_parameter_source("site_file")
    if site_file.is_file() or named is not ParameterSource.DEFAULT:  # --site, SITEGEN_SITE
        base_path = urls.base_path(load(site_file))  # a file named but missing: an error
    else:
        click.echo(f"no {site_file}: the template is for a site at its host's root", err=True)
    text = render_json(cloudformation_template(base_path))
    if out is None:
        click.echo(text, nl=False)
    else:
        _write_whole(out, text)
        click.echo(f"wrote {out}")


def _write_whole(out: Path, text: str) -> None:
    """Write `out` whole or not at all: beside it first, then renamed onto it. Written in
    place, a full disk (or a stop) left a stack.json cut short where a good one had been.
    A folder missing on the way is an error, not made: a typo in --out would make one."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise write_failed(exc, out) from exc
        raise
