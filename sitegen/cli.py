"""The `sitegen` command. Thin: parse options, call the library, print."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from sitegen import __version__
from sitegen.advice import advice, problems_json
from sitegen.build import build_site
from sitegen.cli_infra import infra
from sitegen.content import Loaded, load_site
from sitegen.errors import ContentError
from sitegen.model import Severity
from sitegen.options import load, now_option, resolve_now, site_option
from sitegen.page_check import with_page_warnings
from sitegen.scaffold import Skeleton, default_times, write_skeleton


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sitegen")
@click.option("--debug", is_flag=True, help="Show a full traceback when something breaks.")
def cli(debug: bool) -> None:
    """Write public emergency alerts in Markdown, build a tiny static site, publish it to a CDN.

    \b
    A typical session:
      sitegen new "Heavy rain warning" --severity Severe --area Seoul
      sitegen check          # every mistake, with file and line
      sitegen build          # the site, in public/
      sitegen publish        # upload what changed, purge the CDN

    Run `sitegen COMMAND --help` for each command's options and examples.
    """


@cli.command()
@site_option
@now_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one document on stdout, for editors and CI annotations.",
)
def check(site_file: Path, now: datetime | None, output_format: str) -> None:
    """Check every alert and report every mistake at once, with file and line.

    \b
    Exit code 0 when the site can be built (warnings may still be shown), 1 otherwise.
    Example:
      sitegen check
      content/alerts/quake.md:4: severity 'Severe!' is not one of Extreme, Severe, ...
    """
    config = load(site_file)
    loaded = with_page_warnings(config, load_site(config, resolve_now(now)))
    if loaded.site is not None:
        loaded = Loaded(loaded.site, (*loaded.problems, *advice(loaded.site)))
    if output_format == "json":
        click.echo(problems_json(loaded.problems, len(loaded.site.groups if loaded.site else ())))
        sys.exit(1 if loaded.errors else 0)
    for problem in loaded.problems:
        click.echo(str(problem), err=True)
    if loaded.errors:
        count = len(loaded.errors)
        raise ContentError.summary_only(count)
    groups = loaded.site.groups if loaded.site else ()
    files = sum(len(g.versions) for g in groups)
    warned = f", {len(loaded.problems)} warnings" if loaded.problems else ""
    click.echo(f"ok: {len(groups)} alerts in {files} files, no errors{warned}")


@cli.command()
@site_option
@now_option
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def build(site_file: Path, now: datetime | None, quiet: bool) -> None:
    """Build the whole static site into the output folder (public/ by default).

    \b
    The build is deterministic: the same content and --now give byte-identical files.
    It is written to a temporary folder and swapped in, so a failed build leaves the
    previous one intact.
    Examples:
      sitegen build
      sitegen build --now 2026-09-13T08:00:00+09:00   # as the site will look then
    """
    config = load(site_file)
    report = build_site(config, resolve_now(now))
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    if not quiet:
        click.echo(report.summary() + f" → {config.output_path}")


@cli.command()
@click.argument("title")
@site_option
@click.option("--event", default=None, help="The kind of event (default: the title).")
@click.option(
    "--severity",
    type=click.Choice([s.value for s in Severity], case_sensitive=False),
    default="Moderate",
    show_default=True,
    help="CAP severity.",
)
@click.option("--area", "areas", multiple=True, help="An affected area; repeat for several.")
@click.option("--lang", "language", default=None, help="Language code (default: the site's).")
@click.option(
    "--expires-in",
    type=click.FloatRange(min=0.25),
    default=24.0,
    show_default=True,
    help="Hours until the alert expires.",
)
def new(
    site_file: Path,
    title: str,
    event: str | None,
    severity: str,
    areas: tuple[str, ...],
    language: str | None,
    expires_in: float,
) -> None:
    """Create a new alert file in content/alerts/ to fill in.

    \b
    The file passes `sitegen check` once you replace its TODO lines with your words.
    Example:
      sitegen new "Heavy rain warning for Seoul" --severity Severe --area Seoul --area Incheon
    """
    config = load(site_file)
    sent, expires = default_times(datetime.now(), expires_in)
    chosen = next(s for s in Severity if s.value.lower() == severity.lower())
    lang = language or config.default_language
    if lang not in config.languages:
        raise click.BadParameter(
            f"{lang!r} is not one of {', '.join(config.languages)}", param_hint="--lang"
        )
    skeleton = Skeleton(
        title, event or title, chosen, areas or ("TODO: area name",), lang, sent, expires
    )
    path = write_skeleton(skeleton, config)
    click.echo(
        f"created {path.relative_to(config.root)}: fill in the TODO lines, then run `sitegen check`"
    )


def _add_publish() -> None:
    try:
        from publish.cli import publish_command  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # pragma: no cover - only while the publisher is being written
        return
    cli.add_command(publish_command)


_add_publish()

from sitegen.cli_serve import serve_command  # noqa: E402 - registered like publish, at the end

cli.add_command(serve_command)
cli.add_command(infra)


def main() -> None:
    """Console-script entry point: user mistakes exit cleanly, our bugs say so."""
    debug = "--debug" in sys.argv[1:]
    try:
        cli.main(prog_name="sitegen", standalone_mode=True)
    except Exception as exc:  # noqa: BLE001 - last line of defence for our own bugs
        if debug:
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in sitegen. Run again with --debug for the traceback "
            "and report it.",
            err=True,
        )
        sys.exit(3)
