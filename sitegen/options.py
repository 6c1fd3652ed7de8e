"""Command-line options shared by several commands (and by publish/cli.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from sitegen.config import (
    SiteConfig,
    akamai_problem,
    distribution_problem,
    find_site_file,
    load_config,
    target_problem,
)

F = TypeVar("F", bound=Callable[..., Any])


class InstantType(click.ParamType):  # type: ignore[type-arg]
    """An ISO 8601 date and time, e.g. 2026-09-13T08:00:00+09:00; without a timezone it is
    left naive here and read in the site's timezone by `localize` (the site is not loaded
    yet when options are parsed)."""

    name = "DATETIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not a date and time like 2026-09-13T08:00:00+09:00 (without "
                "+09:00 or Z, the site's timezone is meant)",
                param,
                ctx,
            )
        return parsed


class CheckedText(click.ParamType):  # type: ignore[type-arg]
    """A value whose shape one function checks (the same one that checks site.toml's, for a
    [publish] value): a wrong one is a usage error, exit code 2, before anything is read."""

    def __init__(self, name: str, problem: Callable[[str], str | None]) -> None:
        self.name = name
        self.problem = problem

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return self.name  # as written: click upper-cases names (S3://BUCKET|FOLDER:PATH)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if (problem := self.problem(str(value))) is not None:
            self.fail(f"{str(value)!r}: {problem}", param, ctx)
        return value


def manifest_id_problem(value: str) -> str | None:
    """What is wrong with a published state's id given to `rollback --to`, if anything (a
    well-formed id that matches no kept state is found out later, from the target)."""
    text = value.strip().lower()
    if text and not all(c in "0123456789abcdef" for c in text):
        return (
            "not the id of a published state: ids are made of 0-9 and a-f, as `sitegen "
            "rollback --list` shows them (e.g. 3f9c2a71b0de)"
        )
    if len(text) < 6:
        return "give 6 or more characters of an id, as `sitegen rollback --list` shows them"
    return None


TARGET = CheckedText("s3://BUCKET[/PREFIX]|folder:PATH", target_problem)
DISTRIBUTION = CheckedText("DIST_ID", distribution_problem)
AKAMAI = CheckedText("SECTION[@staging|@production]", akamai_problem)
MANIFEST_ID = CheckedText("MANIFEST_ID", manifest_id_problem)


def site_option(func: F) -> F:
    return click.option(
        "--site",
        "site_file",
        type=click.Path(path_type=Path, readable=False),  # load_config says why it cannot
        default="site.toml",  # the help says where else it looks: no "[default: ...]"
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
        help="Act as if it were this instant (decides which alerts are active), e.g. "
        "2026-09-13T08:00:00+09:00; without a timezone, in the site's ([site] timezone in "
        "site.toml, else this machine's). Default: the current time.",
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
    help="Refuse to delete more than N objects. Default: [publish] max_deletes in site.toml, "
    "else 50.",
)
progress_quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress output.")
# Taking over a lock and lifting a safety refusal are asked for separately: the advice after
# a stopped publish is to take its lock over, and following it must not also let a bundle
# that deletes half the site through (before 2026-12, --force did both).
take_over_lock_option = click.option(
    "--take-over-lock",
    is_flag=True,
    help="Take over the lock of a run that died or was stopped (its process gone from this "
    "machine, or its lock not renewed for lock_lease_s) and finish the work it left. Lifts no "
    "safety limit; a lock of a run still going is never taken.",
)


def force_option(lifts: str) -> Callable[[F], F]:
    """--force, lifting the refusals ``lifts`` names, and never the lock."""
    return click.option(
        "--force", is_flag=True, help=f"{lifts} Does not take over a lock: see --take-over-lock."
    )


def resolve_now(now: datetime | None, config: SiteConfig) -> datetime:
    """--now as an aware instant, else the current time."""
    return localize(now, config) or datetime.now(UTC).replace(microsecond=0)


def localize(now: datetime | None, config: SiteConfig) -> datetime | None:
    """A --now written without a timezone is the site's local time, as `sitegen new` writes
    times: the timezone in site.toml, else this machine's."""
    if now is None or now.tzinfo is not None:
        return now
    zone = config.zone
    if zone is not None:
        first, second = now.replace(tzinfo=zone, fold=0), now.replace(tzinfo=zone, fold=1)
    else:
        first, second = now.replace(fold=0).astimezone(), now.replace(fold=1).astimezone()
    if first.utcoffset() != second.utcoffset():  # a clock change: twice, or never
        where = zone or "this machine's timezone"
        wall = [
            t.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0) for t in (first, second)
        ]
        if wall == [now.replace(fold=0)] * 2:  # both are that wall time: the clocks went back
            said = f"happens twice in {where}: add the offset meant, {_offset(first)} (the "
            said += f"first) or {_offset(second)}"
        else:  # clocks went forward over it
            said = f"never happens in {where} (the clocks skip it): write the time after the "
            said += "change, or an offset"
        raise click.BadParameter(f"{now.isoformat()} {said}", param_hint="'--now'")
    return first


def _offset(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds")[19:] or "Z"


def load(site_file: Path) -> SiteConfig:
    return load_config(site_file)
