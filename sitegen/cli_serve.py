"""`sitegen serve`: click wiring for the live preview (the work is in sitegen.serve)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sitegen.options import now_option, site_option
from sitegen.serve import serve


@click.command("serve")
@site_option
@now_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a browser.")
def serve_command(
    site_file: Path, now: datetime | None, host: str, port: int, open_browser: bool
) -> None:
    """Build the site and preview it, rebuilding and reloading as you save.

    \b
    Pages are served with the headers the publisher will use. Open tabs reload by
    themselves; while a file has a mistake, the last good build stays on screen with a
    box listing every problem as path:line: message.
    Examples:
      sitegen serve
      sitegen serve --port 8080 --open
    """
    try:
        serve(site_file, host, port, open_browser, now, lambda line: click.echo(line, err=True))
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror}); try another --port"
        ) from exc
