"""The `sitegen` command. Thin: parse options, call the library, print."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from sitegen import __version__
from sitegen.advice import advice, problems_json
from sitegen.build import Progress, build_site
from sitegen.cli_infra import infra
from sitegen.cli_new import new
from sitegen.content import Loaded, load_site
from sitegen.errors import ContentError
from sitegen.options import load, now_option, resolve_now, site_option
from sitegen.page_check import with_page_warnings


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
    It is incremental: only files whose bytes changed are written (.sitegen/cache/ remembers
    the last build; deleting it is always safe). Every changed file is rendered before the
    first one is written, so a failed build leaves the previous one intact.
    Examples:
      sitegen build
      sitegen build --now 2026-09-13T08:00:00+09:00   # as the site will look then
    """
    config = load(site_file)
    progress = Progress(sys.stderr if sys.stderr.isatty() and not quiet else None)
    report = build_site(config, resolve_now(now), progress)
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    if not quiet:
        click.echo(report.summary() + f" → {config.output_path}")


def _add_publish() -> None:
    try:
        from publish.cli import publish_command  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # pragma: no cover - only while the publisher is being written
        return
    cli.add_command(publish_command)
    from publish.cli_doctor import doctor_command
    from publish.cli_rollback import rollback_command

    cli.add_command(rollback_command)
    cli.add_command(doctor_command)


_add_publish()

from sitegen.cli_serve import serve_command  # noqa: E402 - registered like publish, at the end

cli.add_command(serve_command)

from sitegen.cli_cap import import_cap_command, status_command  # noqa: E402 - like serve

cli.add_command(status_command)
cli.add_command(import_cap_command)
cli.add_command(infra)
cli.add_command(new)


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
