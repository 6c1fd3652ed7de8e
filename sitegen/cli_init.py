"""`sitegen init`: click wiring for starting a new site (the work is in sitegen.new_site)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from shlex import quote

import click

from sitegen.new_site import create_site
from sitegen.stopping import if_stopped


@click.command("init")
@click.argument(
    "folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
def init_command(folder: Path) -> None:
    """Start a new site in FOLDER (default: here): site.toml, the default theme in
    templates/, one example alert in content/alerts/, and a .gitignore for what sitegen
    writes (public/, .sitegen/, _published/). The new site builds at once.

    \b
    Nothing is overwritten: it refuses if site.toml, templates/ or content/ exist.
    Example:
      sitegen init alerts && cd alerts && sitegen serve
    """
    paths = create_site(folder, datetime.now().astimezone())
    if_stopped("the new site was created")
    for path in paths:
        click.echo(f"created {path}{'/' if path.is_dir() else ''}")
    go = "" if folder.resolve() == Path.cwd().resolve() else f"`cd {quote(str(folder))}`, then "
    click.echo(
        f"next: {go}edit site.toml (title, base_url, sender), write alerts with `sitegen new`, "
        "preview with `sitegen serve`"
    )
