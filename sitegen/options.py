"""Command-line options shared by several commands (and by publish/cli.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from sitegen.config import SiteConfig, find_site_file, load_config

F = TypeVar("F", bound=Callable[..., Any])


class InstantType(click.ParamType):  # type: ignore[type-arg]
    """An ISO 8601 date and time with a timezone, e.g. 2026-09-13T08:00:00+09:00."""

    name = "DATETIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not a date and time like 2026-09-13T08:00:00+09:00", param, ctx
            )
        if parsed.tzinfo is None:
            self.fail(f"{value!r} has no timezone; add one such as +09:00 or Z", param, ctx)
        return parsed


def site_option(func: F) -> F:
    return click.option(
        "--site",
        "site_file",
        type=click.Path(path_type=Path),
        default="site.toml",
        show_default=True,
        envvar="SITEGEN_SITE",
        callback=_find_site,
        help="The site's configuration file (or its folder), whose folder holds content/ and "
        "templates/. Default: site.toml here, else in the nearest parent folder.",
    )(func)


def _find_site(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    found = find_site_file(value)
    if found != value and not value.is_dir():  # found in a parent folder: say which
        click.echo(f"using {found}", err=True)
    return found


def now_option(func: F) -> F:
    return click.option(
        "--now",
        type=InstantType(),
        default=None,
        help="Build as if it were this instant (decides which alerts are active). "
        "Default: the current time.",
    )(func)


# Options the publishing commands (publish, rollback, doctor) share.
edgerc_option = click.option(
    "--edgerc", metavar="PATH", help="Akamai credentials file. Default: ~/.edgerc."
)
dry_run_option = click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
max_deletes_option = click.option(
    "--max-deletes",
    type=click.IntRange(min=0),
    metavar="N",
    help="Refuse to delete more than N objects (default 50).",
)
progress_quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress output.")


def resolve_now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC).replace(microsecond=0)


def load(site_file: Path) -> SiteConfig:
    return load_config(site_file)
