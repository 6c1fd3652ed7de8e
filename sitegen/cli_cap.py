"""`sitegen status` and `sitegen import-cap`. Thin: options in, library call, text out."""

from __future__ import annotations

import shlex
import sys
from datetime import datetime
from pathlib import Path

import click

from sitegen.bundle import commit_staged, discard_staged, stage_file, staging_dir
from sitegen.cap_import import MAX_INPUT_BYTES, ImportedFile, import_all, imported_from, is_from
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
from sitegen.stopping import if_stopped


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
    possible = _rollback_possible(config)
    status = site_status(salvaged.site, config, possible)
    if as_json:  # one document: the status of what is valid, and every problem found
        if salvaged.errors:
            raise ContentError(
                salvaged.problems,
                _left_out_note(salvaged, "the status leaves"),
                document=status.as_json(),
            )
        document = {**status.as_json(), "ok": True, "problems": problems_json(salvaged.problems)}
        click.echo(dumps(document))
        return
    for problem in salvaged.problems:
        click.echo(str(problem), err=True)
    rollback = _rollback_command() if possible else None
    click.echo(format_status(status, config.content_dir, config.zone, rollback))
    if salvaged.errors:
        raise ContentError(salvaged.problems, _left_out_note(salvaged, "the lists above leave"))


def _rollback_possible(config: SiteConfig) -> bool | None:
    """Whether the site's publish target keeps a state for `sitegen rollback --previous`;
    None when it is not a folder: status asks no bucket (a network request, the AWS client's
    import, credentials)."""
    spec = config.publish.target
    if not spec.startswith("folder:"):
        return None
    from publish.connect import folder_path
    from publish.manifest import folder_keeps_an_earlier_state

    return folder_keeps_an_earlier_state(folder_path(spec, config.root))


def _rollback_command() -> str:
    """`sitegen rollback` with this command's --site, when given."""
    ctx = click.get_current_context()
    given = ctx.get_parameter_source("site_file") is click.core.ParameterSource.COMMANDLINE
    site = ["--site", str(ctx.params["site_file"])] if given else []
    return shlex.join(["sitegen", "rollback", *site])


def _left_out_note(salvaged: Salvaged, shown_in: str) -> str:
    """What the status leaves out for the problems found (`shown_in`: "the lists above
    leave" on a terminal; in JSON, which has no "above", "the status leaves")."""
    errors = len(salvaged.errors)
    ids = sorted(set(salvaged.left_out.values()))
    shown = ", ".join(ids) if ids else "none"
    return f"{plural(errors, 'problem')} found; {shown_in} out the alerts they affect ({shown})."


@click.command("import-cap")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@site_option
@click.option(
    "--force",
    is_flag=True,
    help="Replace alert files imported before from the same messages (a corrected copy); "
    "a file written by hand or from another message is never replaced.",
)
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
    """Write imported alert files, all or none: refuses to overwrite any unless forced (and
    some even then: `_refuse_replacing`), and stages them beside content/alerts/ first, so a
    full disk leaves none half-imported (renaming them in then needs no space)."""
    folder = config.content_path / "alerts"
    paths = [folder / f.name for f in files]
    _refuse_outside(folder, config)
    _refuse_replacing(files, paths, config)  # first: its advice is not --force
    clashes = [str(p.relative_to(config.root)) for p in paths if p.exists()]
    if clashes and not force:
        raise SitegenError(
            f"{', '.join(clashes)}: already {'exists' if len(clashes) == 1 else 'exist'}; "
            f"nothing was written. Use --force to replace {'it' if len(clashes) == 1 else 'them'}."
        )
    staging: Path | None = None
    try:
        staging = staging_dir(folder)
        for file in files:
            stage_file(staging, file.name, file.text.encode("utf-8"))
    except BaseException as exc:  # a full disk, or a stop (Ctrl-C, SIGTERM): nothing written
        if staging is not None:
            discard_staged(staging)
        if not isinstance(exc, OSError):
            raise
        exc.filename = _unstaged(exc.filename, staging, folder)
        raise SitegenError(f"{write_failed(exc, folder).message} Nothing was written.") from exc
    if_stopped("some alert files may have been written: run the same command with --force")
    try:
        commit_staged(staging, folder, [f.name for f in files], [], None)
    except OSError as exc:  # a rename refused (rights changed meanwhile): some are in place
        exc.filename = _unstaged(exc.filename, staging, folder)
        raise SitegenError(
            f"{write_failed(exc, folder).message} Some files may have been written: run the "
            "same command with --force once it is fixed."
        ) from exc
    if_stopped("every alert file was written")
    return paths


def _refuse_outside(folder: Path, config: SiteConfig) -> None:
    """content/alerts/ as a link to a folder outside content/ would have the files written
    there, where the build does not read them (`content.scan_content` refuses such links)."""
    target = folder.resolve()
    if not target.is_relative_to(config.content_path.resolve()):
        raise SitegenError(
            f"{folder.relative_to(config.root)}: is a link to {target}, a folder outside "
            "content/, so nothing was written: sitegen writes and reads alerts only inside "
            "content/. Replace the link with a real folder (copy the files in), then import "
            "again."
        )


def _refuse_replacing(files: list[ImportedFile], paths: list[Path], config: SiteConfig) -> None:
    """--force replaces a file imported from the same message (a corrected copy), never one
    written by hand, one from another message whose identifier makes the same file name
    (`a/b`, `a:b`), or one whose name differs only in case (`abc.md` for `ABC.md`: one file
    on Windows and macOS, two on Linux, and a copy of the site then breaks)."""
    try:
        there = sorted(p.name for p in paths[0].parent.iterdir()) if paths else []
    except OSError:  # no content/alerts/ yet, or unreadable: then writing fails too
        there = []
    found = []
    for file, path in zip(files, paths, strict=True):
        rel = path.relative_to(config.root)
        twins = [n for n in there if n.lower() == file.name.lower() and n != file.name]
        if twins:
            found.append(
                f"{rel}: {rel.parent / twins[0]} is there already, a name that differs only in "
                "case: on Windows and macOS they are one file"
            )
            continue
        try:
            existing = path.read_text(encoding="utf-8", errors="replace")
        except OSError:  # missing (the usual case), or unreadable: then writing fails too
            continue
        other = imported_from(existing)
        if other is None:
            found.append(
                f"{rel}: was not imported from a CAP message (its front matter has no line "
                "'# imported from the CAP message ...'), so it is not replaced"
            )
        elif not is_from(file, other):
            found.append(
                f"{rel}: holds the CAP message {other}, not {file.identifier}, whose file "
                "name it would also be"
            )
    if found:
        raise SitegenError(
            "\n".join(found) + "\nNothing was written, --force or not. To keep both, rename "
            "the file that is there (its alert id and web address change with it, so fix the "
            "references to it); if the new message replaces it, delete it first."
        )


def _unstaged(filename: object, staging: Path | None, folder: Path) -> object:
    """A staged file's name as where it was going (`content/alerts/x.md`), not the temp folder."""
    if staging is not None and isinstance(filename, str) and Path(filename).is_relative_to(staging):
        return str(folder / Path(filename).relative_to(staging))
    return filename
