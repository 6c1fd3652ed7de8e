"""`sitegen infra`: print infrastructure templates for the origin and CDN."""

from __future__ import annotations

from pathlib import Path

import click

from sitegen.infra import cloudformation_template, render_json


@click.group()
def infra() -> None:
    """Print infrastructure-as-code for hosting the site (S3 + CloudFront)."""


@infra.command("cloudformation")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the template to this file instead of printing it.",
)
def cloudformation(out: Path | None) -> None:
    """An AWS CloudFormation template for the whole origin + CDN.

    \b
    Private versioned S3 bucket, CloudFront with Origin Access Control, HTTPS only,
    HTTP/2 and HTTP/3, compression, caching that honours sitegen's Cache-Control,
    security headers, the 404 page, and a least-privilege policy for the publisher.
    Example:
      sitegen infra cloudformation --out stack.json
      aws cloudformation deploy --template-file stack.json --stack-name alerts \\
          --capabilities CAPABILITY_IAM --parameter-overrides DomainName=alerts.example.gov \\
          CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/abc
    """
    text = render_json(cloudformation_template())
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
