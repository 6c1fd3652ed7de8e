"""`sitegen status` and `sitegen import-cap`. Thin: options in, library call, text out."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from sitegen.bundle import commit_staged, discard_staged, stage_file, staging_dir
from sitegen.cap_import import MAX_INPUT_BYTES, ImportedFile, import_all, other_message
from sitegen.config import SiteConfig
from sitegen.errors import (
    ContentError,
    SitegenError,
    cannot_read,
    plural,
    write_failed,
)
from sitegen.json_report import JsonCommand, dumps, problems_json
from sitegen.options import load, now_option, resolve_now, site_option
from sitegen.salvage import Salvaged, load_valid
from sitegen.status import format_status, site_status


@click.command("status", cls=JsonCommand)
@site_option
@now_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and schedulers.")
def status_command(site_file: Path, now: datetime | None, as_json: bool) -> None:
    """List every alert by where it stands (active, upcoming, expired, cancelled, superseded,
    drafts), and when the site next changes.

    \b
    The published site only changes when an alert is sent, takes effect or expires, so a
    scheduler can run `sitegen publish` at exactly the printed `next change` instant.
    It reads content/, not the site online: after `sitegen rollback` the two differ.
    A file with a mistake does not stop it: every valid alert is listed, the problems are
    named, and it exits 1.
    Examples:
      sitegen status
      sitegen status --json | jq -r .next_change.at
    """
    config = load(site_file)
    salvaged = load_valid(config, resolve_now(now, config))
    status = site_status(salvaged.site, config)
    if as_json:  # one document: the status of what is valid, and every problem found
        if salvaged.errors:
            raise ContentError(
                salvaged.problems, _left_out_note(salvaged), document=status.as_json()
            )
        document = {**status.as_json(), "ok": True, "problems": problems_json(salvaged.problems)}
        click.echo(dumps(document))
        return
    for problem in salvaged.problems:
        click.echo(str(problem), err=True)
    click.echo(format_status(status, config.content_dir))
    if salvaged.errors:
        raise ContentError(salvaged.problems, _left_out_note(salvaged))


def _left_out_note(salvaged: Salvaged) -> str:
    errors = len(salvaged.errors)
    ids = sorted(set(salvaged.left_out.values()))
    shown = ", ".join(ids) if ids else "none"
    return (
        f"{plural(errors, 'problem')} found; the lists above leave out the alerts they affect "
        f"({shown})."
    )


@click.command("import-cap")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@site_option
@click.option("--force", is_flag=True, help="Overwrite alert files that already exist.")
def import_cap_command(files: tuple[str, ...], site_file: Path, force: bool) -> None:
    """Turn CAP 1.2 XML messages into alert files in content/alerts/ (one per language).

    \b
    Elements sitegen's alert format cannot hold are listed as warnings. Nothing is written
    unless every message imports cleanly.
    Examples:
      sitegen import-cap warning.xml update.xml
      curl -s https://example.gov/cap/123.xml | sitegen import-cap -
    """
    inputs = [("<stdin>" if n == "-" else n, _read(n)) for n in files]  # a wrong name: exit 2
    config = load(site_file)
    result = import_all(inputs, config)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if not result.ok:
        raise ContentError.summary_only(result.problems)
    for path in write_imported(list(result.files), config, force):
        click.echo(f"wrote {path.relative_to(config.root)}")
    click.echo("run `sitegen check`, then `sitegen build`")


def _read(name: str) -> bytes:
    """The file's bytes, never more than one over the limit (`- < /dev/zero` would never end).
    A name that is no file is a usage error (exit 2); a file the system will not let us read
    is the machine's answer (exit 1), as for site.toml."""
    try:
        if name == "-":
            return sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        with open(name, "rb") as file:
            return file.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError as exc:
        raise click.BadParameter(f"{name}: {cannot_read(exc)}", param_hint="'FILES...'") from exc
    except OSError as exc:
        raise SitegenError(f"{name}: {cannot_read(exc)}") from exc


def write_imported(files: list[ImportedFile], config: SiteConfig, force: bool) -> list[Path]:
    """Write imported alert files, all or none: refuses to overwrite any unless forced, and
    stages them beside content/alerts/ first, so a full disk leaves none half-imported
    (renaming them in then needs no space)."""
    folder = config.content_path / "alerts"
    paths = [folder / f.name for f in files]
    clashes = [str(p.relative_to(config.root)) for p in paths if p.exists()]
    if clashes and not force:
        raise SitegenError(
            f"{', '.join(clashes)}: already {'exists' if len(clashes) == 1 else 'exist'}; "
            f"nothing was written. Use --force to replace {'it' if len(clashes) == 1 else 'them'}."
        )
    _refuse_other_messages(files, paths, config)
    staging: Path | None = None
    try:
        staging = staging_dir(folder)
        for file in files:
            stage_file(staging, file.name, file.text.encode("utf-8"))
    except OSError as exc:
        if staging is not None:
            discard_staged(staging)
        exc.filename = _unstaged(exc.filename, staging, folder)
        raise SitegenError(f"{write_failed(exc, folder).message} Nothing was written.") from exc
    try:
        commit_staged(staging, folder, [f.name for f in files], [], None)
    except OSError as exc:  # a rename refused (rights changed meanwhile): some are in place
        exc.filename = _unstaged(exc.filename, staging, folder)
        raise SitegenError(
            f"{write_failed(exc, folder).message} Some files may have been written: run the "
            "same command with --force once it is fixed."
        ) from exc
    return paths


def _refuse_other_messages(
    files: list[ImportedFile], paths: list[Path], config: SiteConfig
) -> None:
    """--force replaces a file imported from the same message, never one from another message
    whose identifier makes the same file name (`a/b`, `a:b`)."""
    found = []
    for file, path in zip(files, paths, strict=True):
        try:
            existing = path.read_text(encoding="utf-8", errors="replace")
        except OSError:  # missing (the usual case), or unreadable: then writing fails too
            continue
        if (other := other_message(file, existing)) is not None:
            rel = path.relative_to(config.root)
            found.append(
                f"{rel}: holds the CAP message {other}, not {file.identifier}, whose file "
                "name it would also be"
            )
    if found:
        raise SitegenError(
            "\n".join(found) + "\nNothing was written, --force or not. To keep both messages, "
            "rename the file that is there (its alert id and web address change with it, so "
            "fix the references to it); if the new message replaces it, delete it first."
        )


def _unstaged(filename: object, staging: Path | None, folder: Path) -> object:
    """A staged file's name as where it was going (`content/alerts/x.md`), not the temp folder."""
    if staging is not None and isinstance(filename, str) and Path(filename).is_relative_to(staging):
        return str(folder / Path(filename).relative_to(staging))
    return filename
