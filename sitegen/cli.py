"""The `sitegen` command. Thin: parse options, call the library, print."""

from __future__ import annotations

import contextlib
import importlib
import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from sitegen import __version__
from sitegen.errors import BuildInterrupted, ConfigError, ContentError, Problem, plural
from sitegen.json_report import JsonCommand, dumps, problem_counts, problems_json
from sitegen.options import load, now_option, resolve_now, site_option

if TYPE_CHECKING:
    from sitegen.build import BuildReport
    from sitegen.content import Loaded
    from sitegen.lifecycle import AlertCount


class LazyGroup(click.Group):
    """Commands from other modules are imported only when run (or listed by --help): a
    no-change `sitegen build` must not pay for boto3, watchdog and the publisher."""

    lazy = {
        "doctor": "publish.cli_doctor:doctor_command",
        "import-cap": "sitegen.cli_cap:import_cap_command",
        "infra": "sitegen.cli_infra:infra",
        "init": "sitegen.cli_init:init_command",
        "new": "sitegen.cli_new:new",
        "publish": "publish.cli:publish_command",
        "rollback": "publish.cli_rollback:rollback_command",
        "serve": "sitegen.cli_serve:serve_command",
        "status": "sitegen.cli_cap:status_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attr = self.lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        """Every command stopped by Ctrl-C or SIGTERM says so in one line and exits with 130
        (`sitegen.stopping`), where click said "Aborted!" with 1, or SIGTERM just killed it."""
        from sitegen.stopping import stopped

        with sigterm_interrupts():
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt:
                raise stopped(ctx, ctx.invoked_subcommand or "") from None
            except click.Abort:  # Ctrl-C (or the input's end) at a question: click's word for it
                click.echo(err=True)  # the question left the cursor on its line
                raise stopped(ctx, ctx.invoked_subcommand or "") from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's first sentence in full, wrapped: click cut them at the width left
        beside the names ("Build the whole static site into the output folder (public/...")."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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


def _check_failure_keys(params: object) -> dict[str, int]:
    # nothing was checked
    return {"alerts": 0, "messages": 0, "alert_files": 0, "errors": 1, "warnings": 0}


def _check_counts(problems: Sequence[Problem], valid: AlertCount) -> dict[str, int]:
    """check's counts in --json (a failure listing no problem keeps _check_failure_keys'):
    `alerts`, `messages` and `alert_files` are the text's "1 alert (2 messages, 4 files)",
    of the alerts without errors (a file with one is not counted, nor the other versions of
    its message)."""
    return valid.as_json() | problem_counts(problems)


@cli.command(cls=JsonCommand, failure_keys=_check_failure_keys)
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
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def check(site_file: Path, now: datetime | None, output_format: str, as_json: bool) -> None:
    """Check every alert and report every mistake at once, with file and line.

    \b
    Exit code 0 when the site can be built (warnings may still be shown), 1 otherwise, 2 for
    a mistake in the command line.
    Example:
      sitegen check
      content/alerts/quake.md:4: severity 'Severe!' is not one of Extreme, Severe, ...
    """
    from sitegen.lifecycle import AlertCount

    try:  # stopped (Ctrl-C, SIGTERM): its rendering workers end in order, and sitegen.stopping
        loaded, valid = _check(site_file, now)
    except ConfigError as exc:  # site.toml: count each of its mistakes, not one
        if exc.problems:
            exc.document = {**_check_counts(exc.problems, AlertCount(0, 0, 0)), **exc.document}
        raise
    errors = len(loaded.errors)
    # what was checked, as `ok: …` says it: "alerts": 1 for two files, one invalid, read as
    # one alert checked
    more = f" Checked without errors: {valid}; files with errors are not counted."
    more = more if valid.alerts else ""
    if output_format == "json" or as_json:  # --json: as status, publish and doctor spell it
        counts = _check_counts(loaded.problems, valid)
        if errors:
            raise ContentError.summary_only(loaded.problems, document=counts, more=more)
        click.echo(dumps({**counts, "ok": True, "problems": problems_json(loaded.problems)}))
        return
    for problem in loaded.problems:
        click.echo(str(problem), err=True)
    if errors:
        raise ContentError.summary_only(loaded.problems, more=more)
    warned = f", {plural(len(loaded.problems), 'warning')}" if loaded.problems else ""
    click.echo(f"ok: {valid}, no errors{warned}")


def _check(site_file: Path, now: datetime | None) -> tuple[Loaded, AlertCount]:
    """Every problem `sitegen check` reports, and how many alerts, messages and files are
    valid (an alert's updates are its messages, their translations its files)."""
    from sitegen.advice import advice
    from sitegen.build import StoredReads, stored_reader
    from sitegen.content import Loaded
    from sitegen.lifecycle import count_alerts
    from sitegen.page_check import with_page_problems
    from sitegen.salvage import load_valid

    config = load(site_file)
    stored = StoredReads()  # what was read from the last build's cache
    salvaged = load_valid(config, resolve_now(now, config), stored_reader(config, stored))
    # advice on the valid part too while another file has an error: the warnings that became
    # advice (so that builds patch) were given beside the errors as build warnings; looked
    # for while the pages render
    advised: list[Problem] = []
    loaded = with_page_problems(
        config,
        salvaged.loaded,
        stored=stored,
        meanwhile=lambda: advised.extend(advice(salvaged.site)),
    )
    loaded = Loaded(loaded.site, (*loaded.problems, *advised))
    return loaded, count_alerts(salvaged.site)


@cli.command(cls=JsonCommand)
@site_option
@now_option
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the result (or the failure, with every problem) as one JSON document.",
)
def build(site_file: Path, now: datetime | None, quiet: bool, as_json: bool) -> None:
    """Build the whole static site into the output folder (public/ by default).

    \b
    The build is deterministic: the same content and --now give byte-identical files.
    It is incremental: only files whose bytes changed are written (.sitegen/cache/ remembers
    the last build; deleting it is always safe). Every changed file is rendered before the
    first one is written, so a failed build leaves the previous one intact.
    Examples:
      sitegen build
      sitegen build --now 2026-09-13T08:00:00+09:00   # as the site will look then
      sitegen build --json > build.json                # for CI: counts, warnings as data
    """
    from sitegen.build import Progress, build_site

    config = load(site_file)
    quiet = quiet or as_json
    progress = Progress(sys.stderr if sys.stderr.isatty() and not quiet else None)
    try:
        with sigterm_interrupts():  # as Ctrl-C: what was staged is removed, public/ left as is
            report = build_site(config, resolve_now(now, config), progress, linger=True)
    except KeyboardInterrupt:
        raise BuildInterrupted(
            "interrupted: the build stopped and removed the files it had staged; run "
            f"`sitegen build` again before publishing {config.output_path}"
        ) from None
    if as_json:
        click.echo(dumps(_build_json(report, config.output_path)))
        may_exit_quickly()
        return
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    if not quiet:
        click.echo(report.summary() + f" → {config.output_path}")
    may_exit_quickly()


def _build_json(report: BuildReport, output: Path) -> dict[str, object]:
    """`build --json`'s document: the summary line's figures, and the warnings as data."""
    path, size = report.largest_page
    return {
        "ok": True,
        "output": str(output),
        "pages": report.pages,
        "files": report.files,
        "bytes": report.bytes,
        "written": report.written,
        "removed": report.removed,
        "rendered": report.rendered,
        "reused": report.reused,
        "seconds": round(report.seconds, 3),
        "largest_page": {"path": path, "brotli_bytes": size},
        "problems": problems_json(report.warnings),
        **problem_counts(report.warnings),
    }


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, a service stopped) stops a build or a publish as Ctrl-C
    does, so it ends cleanly: staged files removed (sitegen/build.py); for a publish, owed work
    recorded, lock released, what was done said (publish/apply.py)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (an embedding program): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def may_exit_quickly() -> None:
    """For a command that has written everything it writes and started nothing that runs on:
    when it returns successfully, the process ends without tearing the interpreter down (see
    _exit_quickly). A command that fails still exits the usual way."""
    _QUICK_EXIT.append(True)


_QUICK_EXIT: list[bool] = []  # set by may_exit_quickly


def _exit_quickly() -> NoReturn:
    """End the process now: after a build, Python's own exit frees the build's ~1,000,000
    cached objects one by one and unloads every module (~40 ms of a 0.5 s one-alert rebuild)
    for memory the system takes back at once anyway. Output is flushed first."""
    code = 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`sitegen build | head -1`)
            code = 1 if stream is sys.stdout else code
    os._exit(code)


def main() -> None:
    """Console-script entry point: user mistakes exit cleanly, our bugs say so."""
    args = debug_first(sys.argv[1:])
    debug = args[:1] == ["--debug"]
    _QUICK_EXIT.clear()  # only this run's command may set it (not one run in-process before)
    try:
        cli.main(args=args, prog_name="sitegen", standalone_mode=True)
    except SystemExit as done:
        if done.code in (None, 0) and _QUICK_EXIT and threading.active_count() == 1:
            _exit_quickly()
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence for our own bugs
        if debug:
            raise
        again = shlex.join(["sitegen", "--debug", *args])
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            f"This is a bug in sitegen. Run it again with --debug for the traceback:\n"
            f"  {again}\nand report it.",
            err=True,
        )
        sys.exit(3)


def debug_first(args: list[str]) -> list[str]:
    """`--debug` is an option of `sitegen` itself, yet people add it anywhere
    (`sitegen new --debug`): move it before the command (never past a `--`)."""
    end = args.index("--") if "--" in args else len(args)
    if "--debug" not in args[:end]:
        return args
    rest = [a for i, a in enumerate(args) if not (i < end and a == "--debug")]
    return ["--debug", *rest]
