"""`sitegen serve`: click wiring for the live preview (the work is in sitegen.serve)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sitegen.cli import sigterm_interrupts
from sitegen.options import load, localize, now_option, site_option
from sitegen.serve import serve


@click.command("serve")
@site_option
@now_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. 127.0.0.1: only this computer can open the preview; "
    "0.0.0.0: anyone on the network can, drafts included.",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a browser.")
def serve_command(
    site_file: Path, now: datetime | None, host: str, port: int, open_browser: bool
) -> None:
    """Build the site and preview it, rebuilding and reloading as you save.

    \b
    Pages are served with the Content-Type the publisher will use (its Cache-Control
    in X-Published-Cache-Control: the browser keeps no page). Open tabs reload by
    themselves; while a file has a mistake, the last good build stays on screen with a
    box listing every problem as path:line: message.
    Examples:
      sitegen serve
      sitegen serve --port 8080 --open
    """
    config = load(site_file)  # no site.toml, or a wrong one: fail as every command does
    localize(now, config)  # a --now the site's clocks repeat or skip: refused before serving
    with sigterm_interrupts():  # a service stopped ends the preview as Ctrl-C does
        serve(
            site_file,
            host,
            port,
            open_browser,
            now,  # as written: each rebuild reads it in site.toml's timezone of the moment
            lambda line: click.echo(line, err=True),
        )
