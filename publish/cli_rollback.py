"""``sitegen rollback``: thin click wrapper around ``publish.rollback``."""

from __future__ import annotations

from pathlib import Path

import click

from publish.apply import PublishOptions
from publish.connect import open_invalidators, open_site_target, resolve_settings
from publish.plan import Limits
from publish.report import dry_run_refusal, make_progress, publish_failure_keys, refusal_said
from publish.rollback import (
    alerts_changed,
    describe_state,
    list_states,
    next_publish_warning,
    rollback,
    states_json,
    states_text,
)
from sitegen.json_report import JsonCommand, dumps
from sitegen.options import (
    AKAMAI,
    DISTRIBUTION,
    MANIFEST_ID,
    TARGET,
    dry_run_option,
    edgerc_option,
    force_option,
    load,
    max_deletes_option,
    progress_quiet_option,
    site_option,
    take_over_lock_option,
)
from sitegen.stopping import if_stopped

EXAMPLES = """\b
Examples:
  sitegen rollback --list                    # kept states: id, time, alerts changed
  sitegen rollback --previous --dry-run      # what going back one publish would change
  sitegen rollback --previous                # undo the last publish (twice: redo it)
  sitegen rollback --to 3f9c2a71b0de --cloudfront E2QWRUHEXAMPLE
\b
What a publish leaves behind is what rollback restores. On S3 that is object versions: the
old manifests are the versions of .sitegen/manifest.json and the old bytes those of each
file, so bucket versioning must be on (sitegen infra cloudformation turns it on; a lifecycle
rule expiring old versions limits how far back you can go). A folder target keeps them in
.sitegen/manifests/ and .sitegen/objects/. A rollback that cannot find every byte is refused
before anything changes. The next `sitegen publish` publishes your content again, undoing
the rollback: fix the alerts it names first. Exit codes as for publish: 1 failed, 2 wrong
usage, 4 refused by --max-deletes (also with --dry-run), 75 another publish holds the lock,
130 interrupted. A rollback that died or was stopped leaves its lock: re-run it with
--take-over-lock (--force lifts --max-deletes only).
"""


@click.command("rollback", cls=JsonCommand, failure_keys=publish_failure_keys, epilog=EXAMPLES)
@site_option
@click.option(
    "--to",
    "to",
    type=MANIFEST_ID,
    help="Restore this kept state (an id or a unique prefix of 6+ characters, from --list).",
)
@click.option("--previous", is_flag=True, help="Restore the state live before the current one.")
@click.option("--list", "show_list", is_flag=True, help="List the kept states and exit.")
@click.option(
    "--target",
    type=TARGET,
    help="Where to roll back. Default: [publish] target in site.toml.",
)
@click.option(
    "--cloudfront",
    multiple=True,
    type=DISTRIBUTION,
    help="Invalidate what changed on this CloudFront distribution (repeatable).",
)
@click.option(
    "--akamai",
    multiple=True,
    type=AKAMAI,
    help="Purge what changed with Akamai Fast Purge (repeatable).",
)
@edgerc_option
@dry_run_option
@max_deletes_option
@force_option("Lift --max-deletes.")
@take_over_lock_option
@click.option("--json", "as_json", is_flag=True, help="Print the result (or list) as JSON.")
@progress_quiet_option
def rollback_command(
    site_file: Path,
    to: str | None,
    previous: bool,
    show_list: bool,
    target: str | None,
    cloudfront: tuple[str, ...],
    akamai: tuple[str, ...],
    edgerc: str | None,
    dry_run: bool,
    max_deletes: int | None,
    force: bool,
    take_over_lock: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Restore the published site to an earlier published state, in the safe publish order,
    then invalidate exactly what changed and delete what that state did not have."""
    if show_list + previous + (to is not None) != 1:
        raise click.UsageError("give exactly one of --to MANIFEST_ID, --previous or --list")
    config = load(site_file)
    settings = resolve_settings(
        config.publish,
        target=target,
        cloudfront=cloudfront,
        akamai=akamai,
        max_deletes=max_deletes,
        edgerc=edgerc,
    )
    store = open_site_target(config, settings, site_file, target)
    if show_list:
        states, remote, damaged = list_states(store)
        text = states_text(states, remote.manifest_id, store.name, config.zone, damaged)
        click.echo(dumps(states_json(states, remote.manifest_id)) if as_json else text)
        return
    echo = (lambda line: None) if quiet else (lambda line: click.echo(line, err=True))
    invalidators = open_invalidators(settings, config.base_url, wait=False, echo=echo)
    options = PublishOptions(
        Limits(settings.max_deletes, force, max_deletes_flag=max_deletes is not None),
        dry_run,
        lock_timeout_s=settings.lock_timeout_s,
        lock_lease_s=settings.lock_lease_s,
        zone=config.zone,
        take_over_lock=take_over_lock,
    )
    progress = make_progress(quiet=quiet or as_json)
    with refusal_said(quiet, as_json):
        kept, outcome = rollback(store, to, invalidators, options, progress=progress)
    if_stopped("the rollback was done (only its report was cut short)")
    if (refused := dry_run_refusal(outcome)) is not None:
        if not as_json:
            click.echo(outcome)
        raise refused
    alerts = alerts_changed(outcome.plan)
    warning = next_publish_warning(alerts, config.content_path)
    if as_json:
        doc = {**outcome.to_json(), "rolled_back_to": kept.id, "alerts_changed": list(alerts)}
        click.echo(dumps({**doc, "warning": warning}))
    else:
        said = outcome.said("Rolled back")
        click.echo(f"Rollback to {describe_state(kept, config.zone)}\n{said}\n{warning}")
