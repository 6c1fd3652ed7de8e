"""``sitegen publish``: thin click wrapper around ``publish.apply.publish``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from publish.apply import PublishOptions, publish
from publish.connect import (
    ignored_flags,
    open_invalidators,
    open_site_target,
    placeholder_notes,
    resolve_settings,
)
from publish.layout import PassedChecks, checked_layout_notes, old_copies_notes
from publish.local import read_local
from publish.plan import Limits
from publish.report import dry_run_refusal, make_progress, publish_failure_keys, refusal_said
from sitegen.cli import may_exit_quickly, sigterm_interrupts
from sitegen.errors import RefusedError
from sitegen.json_report import JsonCommand, dumps
from sitegen.options import (
    AKAMAI,
    DISTRIBUTION,
    TARGET,
    dry_run_option,
    edgerc_option,
    force_option,
    load,
    localize,
    max_deletes_option,
    now_option,
    progress_quiet_option,
    resolve_now,
    site_option,
    take_over_lock_option,
)
from sitegen.stopping import if_stopped

EXAMPLES = """\b
Examples:
  sitegen publish --dry-run                  # what would change, nothing is sent
  sitegen publish                            # to [publish] target in site.toml
                                             # (default folder:_published)
  sitegen publish --target s3://alerts-example-gov/site --cloudfront E2QWRUHEXAMPLE
  sitegen publish --akamai default@staging --akamai default@production --wait
  sitegen publish --no-build --json > publish-report.json   # also on failure
  sitegen publish --verify                   # ignore the remote manifest, list the bucket
  sitegen publish --max-deletes 200          # allow a big clean-up
  sitegen publish --take-over-lock           # after a publish that died or was stopped
  sitegen publish --put-back 2026-09-13-quake   # after a rollback: put back a right alert
\b
Re-running publish after any failure finishes the job: it only sends what is missing.
Credentials: AWS from the usual chain (env, profile, role; AWS_ENDPOINT_URL is honoured),
Akamai from the .edgerc section. They never appear in output.
\b
Exit codes:
  0   published (with --dry-run: the publish would go through)
  1   failed; the message says what was done and what to run (a lock whose holder
      died also exits 1: it needs a person to decide on --take-over-lock)
  2   wrong usage, before anything is built: an unknown option, a malformed value
      (--max-deletes x, --now tomorrow, --target ftp://x, --cloudfront abc); the same
      mistake in site.toml exits 1
  4   refused by a safety limit (--max-deletes, an empty bundle, a --now far from the
      clock, putting back what a rollback removed: fix those alerts); nothing was
      changed; --dry-run exits 4 too when the publish would be refused
  75  another publish holds the lock: nothing was changed, try again later
  130 interrupted (Ctrl-C, SIGTERM); the message says what was done
With --json, stdout holds one JSON object whatever happens: "ok": true with the result, or
"ok": false with "error": {"kind", "exit_code", "message", "cause"}, "problems" and the
"plan" when one was made (docs/operations.md, JSON output).
"""


@click.command("publish", cls=JsonCommand, failure_keys=publish_failure_keys, epilog=EXAMPLES)
@site_option
@click.option(
    "--target",
    type=TARGET,
    help="Where to publish. Default: [publish] target in site.toml, else folder:_published.",
)
@click.option(
    "--cloudfront",
    multiple=True,
    type=DISTRIBUTION,
    help="Invalidate changed paths on this CloudFront distribution (repeatable).",
)
@click.option(
    "--akamai",
    multiple=True,
    type=AKAMAI,
    help="Purge changed URLs with Akamai Fast Purge using this .edgerc section "
    "(repeatable; network defaults to production).",
)
@edgerc_option
@dry_run_option
@max_deletes_option
@force_option("Lift --max-deletes, the empty-bundle, --now and after-rollback refusals.")
@take_over_lock_option
@click.option(
    "--put-back",
    "put_back",
    multiple=True,
    metavar="ALERT",
    help="After a rollback: publish this alert (its id, e.g. 2026-09-13-quake) even as the "
    "rollback removed it, for an alert that was right; repeatable. Lifts nothing else.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result (or plan) as JSON.")
@click.option("--no-build", is_flag=True, help="Publish public/ as it is, without building.")
@click.option(
    "--verify",
    is_flag=True,
    help="Do not trust the remote manifest: list every object and its sha256.",
)
@click.option(
    "--wait",
    is_flag=True,
    help="Wait until CloudFront reports the invalidation done (CloudFront only; Akamai's "
    "receipt gives its estimate).",
)
@progress_quiet_option
@now_option
def publish_command(
    site_file: Path,
    target: str | None,
    cloudfront: tuple[str, ...],
    akamai: tuple[str, ...],
    edgerc: str | None,
    dry_run: bool,
    max_deletes: int | None,
    force: bool,
    take_over_lock: bool,
    put_back: tuple[str, ...],
    as_json: bool,
    no_build: bool,
    verify: bool,
    wait: bool,
    quiet: bool,
    now: datetime | None,
) -> None:
    """Upload what changed to S3 or a folder, in an order that never breaks a page, then
    invalidate exactly the changed paths on CloudFront and/or Akamai, then delete what was
    removed. Builds the site first unless --no-build."""
    config = load(site_file)
    at = localize(now, config)  # --now as an instant (None: the clock's, at the build)
    if at is not None and not force:
        _refuse_another_now(at)
    settings = resolve_settings(
        config.publish,
        target=target,
        cloudfront=cloudfront,
        akamai=akamai,
        max_deletes=max_deletes,
        edgerc=edgerc,
    )
    for note in ignored_flags(settings, wait=wait):
        click.echo(f"note: {note}", err=True)
    placeholder = placeholder_notes(config, settings)
    for note in placeholder:
        click.echo(f"note: {note}", err=True)
    # Every setting is checked (and the clients made) before a build that may take a while.
    store = open_site_target(config, settings, site_file, target)
    echo = (lambda line: None) if quiet else (lambda line: click.echo(line, err=True))
    invalidators = open_invalidators(settings, config.base_url, wait=wait, echo=echo)
    passed = PassedChecks(config.root)  # asks the cloud only for settings not seen fine
    layout = checked_layout_notes(store, config.base_url, invalidators, passed)
    for note in layout:
        click.echo(f"note: {note}", err=True)
    if not no_build:
        from sitegen.build import build_site

        # linger: the build's ~1,000,000 cached objects are not freed one by one on return
        # (~30 ms at 10,000 alerts); with the quick exit below, a one-alert `sitegen
        # publish` at 10,000 alerts took ~0.15 s less (A/B of 14 pairs, 1.27 -> 1.12 s)
        with sigterm_interrupts():
            report = build_site(config, resolve_now(at, config), linger=True)
        if not (quiet or as_json):
            click.echo(report.summary(), err=True)
    local = read_local(config.output_path, just_built=not no_build)
    moved = old_copies_notes(store, config.base_url, local.files, passed)  # root → path
    for note in moved:
        click.echo(f"note: {note}", err=True)
    options = PublishOptions(
        Limits(
            settings.max_deletes,
            force,
            put_back=frozenset(put_back),
            max_deletes_flag=max_deletes is not None,
        ),
        dry_run,
        verify,
        settings.lock_timeout_s,
        settings.lock_lease_s,
        zone=config.zone,
        take_over_lock=take_over_lock,
    )
    progress = make_progress(quiet=quiet or as_json)
    with sigterm_interrupts(), refusal_said(quiet, as_json):
        outcome = publish(local, store, invalidators, options, progress=progress)
    if_stopped("the publish was done (only its report was cut short)")
    outcome = dataclasses.replace(outcome, notes=(*placeholder, *layout, *moved, *outcome.notes))
    if (refused := dry_run_refusal(outcome)) is not None:
        if not as_json:
            click.echo(outcome)
        raise refused
    click.echo(dumps(outcome.to_json()) if as_json else outcome)
    may_exit_quickly()  # everything is sent; botocore and the build need no teardown


# Clocks of the machines that publish drift by seconds, not minutes.
NOW_SLACK = timedelta(minutes=5)


def _refuse_another_now(now: datetime) -> None:
    """A site built as at another instant, once published, is what citizens read NOW: from a
    later instant, alerts not sent yet (a scheduled message out early); from an earlier one,
    expired or cancelled alerts shown in force. `build --now` previews; --force publishes."""
    real = datetime.now(UTC)
    if abs(now - real) <= NOW_SLACK:
        return
    later = now > real
    shows = "alerts not sent yet" if later else "expired or cancelled alerts shown in force"
    raise RefusedError(
        f"--now {now.isoformat()} is {_span(abs(now - real))} {'later' if later else 'earlier'}"
        f" than this machine's clock ({real.replace(microsecond=0).isoformat()}): citizens "
        f"would read the site as it is at that instant ({shows}). Preview it with `sitegen "
        "build --now`; publish it anyway with --force. Nothing was changed."
    )


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.0f} days"
