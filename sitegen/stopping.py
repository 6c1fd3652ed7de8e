"""What every command says when Ctrl-C or SIGTERM stops it: one line naming the command and
what it had (not) changed, exit code 130 (`cli.LazyGroup.invoke`, for every command). Build,
check, publish and rollback say more from inside their work (`BuildInterrupted`,
`PublishInterrupted`); this covers every other command, and theirs before and after it."""

from __future__ import annotations

import click

from sitegen.errors import Interrupted

_SAID = "sitegen.stopping"  # in click's Context.meta, which a command shares with its group

# What each command has changed when stopped at any point not covered by its own words.
_UNCHANGED = "it changes no file, so nothing needs undoing"
_STATE = {
    "build": "the output folder is as it was, or fully built: run `sitegen build` to be sure",
    "check": f"{_UNCHANGED}. Run `sitegen check` again to see every problem",
    "doctor": (
        "it changed nothing, except that with --write-test its probe object "
        ".sitegen/doctor-probe may be left where it publishes (harmless: the next "
        "`sitegen doctor --write-test` removes it)"
    ),
    "import-cap": "no alert file was written",
    "infra": "nothing was changed (a file given with --out is written whole or not at all)",
    "init": "no site was created",
    "new": "no alert file was written",
    "publish": "nothing was published",
    "rollback": "nothing was changed where the site is published",
    "serve": "the preview was stopped before it began; nothing was written",
    "status": _UNCHANGED,
}


def if_stopped(state: str) -> None:
    """What the running command has (not) changed from now on, said if it is stopped."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # not run from Python without click
        ctx.meta[_SAID] = state


def stopped(ctx: click.Context, command: str) -> Interrupted:
    """The error for `sitegen COMMAND` stopped by Ctrl-C or SIGTERM (``ctx``: its own context
    or its group's)."""
    state = ctx.meta.get(_SAID) or _STATE.get(command, "it may have stopped part way")
    return Interrupted(f"interrupted: `sitegen {command}` was stopped; {state}.")
