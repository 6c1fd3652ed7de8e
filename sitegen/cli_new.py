"""`sitegen new`: flags for scripts, prompts for people at a terminal."""

from __future__ import annotations

import math
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from sitegen.config import SiteConfig
from sitegen.content import area_slug, hidden_direction, with_drafts
from sitegen.follow_up import Chain, UnknownAlertError, carried_languages, find_chain
from sitegen.model import Alert, Area, Category, Certainty, MsgType, Severity, Site, Urgency
from sitegen.options import load, site_option
from sitegen.salvage import load_valid
from sitegen.scaffold import (
    DEFAULT_HOURS,
    area_slugs_by_name,
    default_times,
    follow_up,
    follow_up_id,
    follow_up_sent,
    fresh_id,
    known_areas,
    later,
    mark_untranslated_areas,
    new_alert,
    taken_ids,
    to_translate,
    write_alerts,
)
from sitegen.stopping import if_stopped

E = TypeVar("E", bound=Enum)

TODO_AREA = "TODO: area name"  # a new alert given no area


@dataclass(frozen=True, slots=True)
class Answers:
    """What the official gave for a new alert, by option or at a prompt (None: not yet)."""

    title: str | None
    event: str | None
    severity: str | None
    urgency: str | None
    certainty: str | None
    category: str | None
    areas: tuple[str, ...]
    language: str | None
    expires_in: float | None


MIN_HOURS, MAX_HOURS = 0.25, 30 * 24.0  # a quarter of an hour; 30 days


# "24", "1.5", "90m", "6 h", "3d", "2 days": a number, then a unit (hours when none)
_DURATION = re.compile(r"(.+?)\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?)?")
_UNIT_HOURS = {"m": 1 / 60, "h": 1.0, "d": 24.0}


def _hours(text: str) -> float | None:
    """The hours `text` says ("90m" → 1.5), or None when it is no length of time."""
    written = _DURATION.fullmatch(text.strip().lower())
    if written is None:
        return None
    try:
        return float(written[1]) * _UNIT_HOURS[(written[2] or "h")[0]]
    except ValueError:
        return None


class Hours(click.ParamType):  # type: ignore[type-arg]
    """Hours until expiry, as an option or at the prompt: a finite number from 0.25 (15
    minutes) to 720 (30 days; a longer alert is rather a new one, or updates, and a typo such
    as 1e9 must not become a date far beyond any calendar)."""

    name = "HOURS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            number = value
        elif (hours := _hours(str(value))) is not None:
            number = hours
        else:
            number = math.nan
        if not math.isfinite(number):
            self.fail(
                f"{value!r} is not a length of time: give hours (24, 1.5), or minutes, "
                "hours or days with their letter (90m, 6h, 3d)",
                param,
                ctx,
            )
        if not MIN_HOURS <= number <= MAX_HOURS:
            self.fail(
                f"{value!r} is {'less than 15 minutes' if number < MIN_HOURS else 'over 30 days'}"
                f": an alert expires from 15 minutes to 30 days ({MAX_HOURS:g} hours) after it "
                "is sent",
                param,
                ctx,
            )
        return number


class CapChoice(click.ParamType):  # type: ignore[type-arg]
    """One word of a CAP vocabulary, matched in any case and shown as CAP writes it
    (`Severe`, as in alert files and the docs, not click's lowercased `severe`)."""

    def __init__(self, enum: type[Enum]) -> None:
        self.values = tuple(str(m.value) for m in enum)
        self.name = enum.__name__.lower()

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.values) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        wanted = str(value).strip()
        for known in self.values:
            if known.lower() == wanted.lower():
                return known
        self.fail(f"{value!r} is not one of {', '.join(self.values)}", param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return [CompletionItem(v) for v in self.values if v.lower().startswith(incomplete.lower())]


def _choice(enum: type[Enum]) -> CapChoice:
    return CapChoice(enum)


def _member(enum: type[E], value: str) -> E:
    return next(m for m in enum if m.value.lower() == value.lower())


@click.command()
@click.argument("title", required=False)
@site_option
@click.option("--event", default=None, help="The kind of event, e.g. Flood (default: the title).")
@click.option("--severity", type=_choice(Severity), default=None, help="CAP severity.")
@click.option("--urgency", type=_choice(Urgency), default=None, help="CAP urgency.")
@click.option("--certainty", type=_choice(Certainty), default=None, help="CAP certainty.")
@click.option("--category", type=_choice(Category), default=None, help="CAP category.")
@click.option(
    "--area",
    "areas",
    multiple=True,
    help="An affected area; repeat for several. With --update, every area of the Update: "
    "the ones not given are left out.",
)
@click.option("--lang", "language", default=None, help="Language code (default: the site's).")
@click.option(
    "--expires-in",
    type=Hours(),
    default=None,
    help=f"How long until the alert expires: hours (6, 1.5) or with a unit (90m, 6h, 3d), "
    f"from 15 minutes to 30 days; default {DEFAULT_HOURS:g} hours.",
)
@click.option(
    "--update",
    "update_id",
    metavar="ID",
    default=None,
    help="Write an Update of alert ID: the fields of its latest message, changed by --severity, "
    "--urgency, --certainty, --event, --area, --expires-in when given.",
)
@click.option(
    "--cancel",
    "cancel_id",
    metavar="ID",
    default=None,
    help="Write a Cancel of alert ID (--expires-in: how long receivers keep the Cancel).",
)
@click.option("--edit", is_flag=True, help="Open the new file in $EDITOR.")
@click.option(
    "--interactive/--no-input",
    default=None,
    help="Ask for what is missing (default: only when run at a terminal).",
)
def new(
    site_file: Path,
    title: str | None,
    event: str | None,
    severity: str | None,
    urgency: str | None,
    certainty: str | None,
    category: str | None,
    areas: tuple[str, ...],
    language: str | None,
    expires_in: float | None,
    update_id: str | None,
    cancel_id: str | None,
    edit: bool,
    interactive: bool | None,
) -> None:
    """Create a new alert file in content/alerts/ to fill in.

    \b
    At a terminal it asks for what you did not give (areas are offered from the ones the
    site already uses); in scripts pass everything as options. The file passes
    `sitegen check` once its TODO lines are replaced with your words.
    Examples:
      sitegen new                                   # asks step by step
      sitegen new "Heavy rain warning for Seoul" --severity Severe --area Seoul --area Incheon
      sitegen new --update 2026-11-25-han-river-flood-watch --edit
      sitegen new --cancel 2026-11-25-han-river-flood-watch
    """
    config = load(site_file)
    ask = sys.stdin.isatty() if interactive is None else interactive
    if update_id and cancel_id:
        raise click.UsageError("give --update or --cancel, not both")
    given = Answers(
        title, event, severity, urgency, certainty, category, areas, language, expires_in
    )
    if update_id or cancel_id:
        alerts = _follow_up(config, update_id, cancel_id, given, ask, interactive is True)
    else:
        answers = _ask(config, given) if ask else given
        alert = _fresh(config, answers)
        if answers.areas:  # `--lang ko --area Seoul`: an area the site names in English only
            alert = _mark_areas(config, alert, answers.areas)
        if not ask:
            _note_defaults(answers)
        alerts = (
            replace(
                alert,
                id=fresh_id(alert, taken_ids(config)),
                translation_of_default=alert.language != config.default_language,
            ),
        )
    paths = write_alerts(alerts, config)
    shown = ", ".join(str(p.relative_to(config.root)) for p in paths)
    if_stopped(f"{shown} {'was' if len(paths) == 1 else 'were'} created")
    click.echo(f"created {shown}: fill in the TODO lines, then run `sitegen check`")
    if edit:
        click.edit(filename=str(paths[0]))


# What a follow-up may change, by option name: an Update can say the danger grew or moved;
# a Cancel ends the whole alert (to end it in some areas only, write an Update).
FOLLOW_UP_OPTIONS = {
    MsgType.UPDATE: {"title", "event", "severity", "urgency", "certainty", "areas", "expires_in"},
    MsgType.CANCEL: {"title", "expires_in"},
}
OPTION_NAMES = {"areas": "--area", "language": "--lang", "expires_in": "--expires-in"}
REFUSED_WHY = {
    "language": "a follow-up is written in the languages of the alert it follows",
    "category": "a follow-up keeps the alert's category (a different kind of event is a new alert)",
}


def _follow_up(
    config: SiteConfig,
    update_id: str | None,
    cancel_id: str | None,
    given: Answers,
    ask: bool = False,
    asked_to: bool = False,
) -> tuple[Alert, ...]:
    """The files of an Update or Cancel; `ask`: at a terminal (or --interactive, `asked_to`),
    an Update asks what it changes, and a Cancel, which asks nothing, says so when asked to."""
    target = update_id or cancel_id or ""
    option = "--update" if update_id else "--cancel"
    kind = MsgType.UPDATE if update_id else MsgType.CANCEL
    _refuse_options(kind, option, given)
    try:
        chain = find_chain(config, target, datetime.now().astimezone())
    except UnknownAlertError as exc:
        raise click.BadParameter(exc.format_message(), param_hint=f"'{option}'") from exc
    _loaded[:] = [(config, chain.site)]
    if chain.unrelated_errors:
        files = ", ".join(sorted({p.path for p in chain.unrelated_errors}))
        click.echo(
            f"warning: the problems in {files} do not affect this {option[2:]}, but "
            "`sitegen build` and `sitegen publish` refuse until they are fixed "
            "(or the files moved out of content/)",
            err=True,
        )
    areas_asked = ask and kind is MsgType.UPDATE and not given.areas
    if ask and kind is MsgType.UPDATE:
        given = _ask_update(config, given, chain.latest.primary)
    elif asked_to and kind is MsgType.CANCEL:
        click.echo(_CANCEL_ASKS_NOTHING, err=True)
    sent = follow_up_sent(datetime.now(), chain.latest.primary.sent, config.zone)
    if chain.latest.primary.expires <= sent and given.expires_in is None:
        click.echo(_expired_note(target, chain.latest.primary, kind, sent), err=True)
    new_id = follow_up_id(chain.messages[0].id, kind, taken_ids(config))
    carried = carried_languages(chain, config.default_language)
    if carried:
        click.echo(_carried_note(chain, carried), err=True)
    # which Update of the alert this one is (its title says so from the second on)
    number = 1 + sum(g.primary.msg_type is MsgType.UPDATE for g in chain.messages)
    # one file per language of the chain, so no translation is left behind
    alerts = [
        _with_given(
            config,
            replace(
                follow_up(
                    version, kind, sent, chain.ids, earlier=_earlier(chain, version), number=number
                ),
                id=new_id,
            ),
            given if index == 0 else _to_translate(given, version.language),
        )
        for index, version in enumerate((*chain.latest.versions, *carried))
    ]
    if given.areas:
        left_out = _areas_left_out(chain.latest.primary, alerts[0])
        if left_out:
            note = _left_out_note(target, chain.latest.primary, left_out, alerts[0], areas_asked)
            click.echo(note, err=True)
    if not (carried or given.areas):
        return tuple(alerts)
    return tuple(
        _mark_areas(config, alert, given.areas if index == 0 else ())
        for index, alert in enumerate(alerts)
    )


def _earlier(chain: Chain, version: Alert) -> tuple[Alert, ...]:
    """The messages of `chain` before `version`'s, in its language, oldest first."""
    before = chain.messages[: chain.ids.index(version.id)]
    return tuple(v for g in before if (v := g.version(version.language)) is not None)


def _mark_areas(config: SiteConfig, alert: Alert, typed: tuple[str, ...]) -> Alert:
    """`alert` with each area the site names only in other languages marked to translate,
    not published as it is; `typed`: names the official gave for this file, of which those
    the site does not know are kept as written (sitegen cannot tell a new name's language)."""
    site = _valid_site(config)
    slugs = area_slugs_by_name(site)
    new = frozenset(area_slug("", (), n) for n in typed if n.lower() not in slugs)
    return mark_untranslated_areas(alert, site, new)


def _to_translate(given: Answers, language: str) -> Answers:
    """What the official gave, for a file in another language: the words (title, event)
    marked to be written in `language`."""
    return replace(
        given,
        title=None if given.title is None else to_translate(given.title, language),
        event=None if given.event is None else to_translate(given.event, language),
    )


def _carried_note(chain: Chain, carried: tuple[Alert, ...]) -> str:
    """Which languages the latest message lacks and where their text was taken from."""
    latest = chain.latest.primary
    sources = ", ".join(f"{a.language} from {a.source}" for a in carried)
    return (
        f"note: the latest message ({latest.source}) has no version in "
        f"{', '.join(a.language for a in carried)}, but earlier messages of this alert do, "
        f"so the new files carry those languages too ({sources}, the latest message in each), "
        "with the latest message's severity, areas and times: check that their words say "
        "what the latest message says, or delete a file to leave its language out"
    )


def _areas_left_out(latest: Alert, update: Alert) -> tuple[str, ...]:
    """The names of the latest message's areas that the Update's `--area` list leaves out."""
    kept = {area.slug for area in update.areas}
    return tuple(area.name for area in latest.areas if area.slug not in kept)


def _left_out_note(
    target: str, latest: Alert, left_out: tuple[str, ...], update: Alert, asked: bool = False
) -> str:
    """Areas an Update's `--area` dropped: an official adding an area (`--area Seongdong`)
    took every other area off the alert, and their pages would show none once it was sent.
    `asked`: the areas were the answer at the prompt, and the note says so in those terms
    (it spoke of --area, which the official had not given)."""
    names = {area.slug: area.name for area in (*latest.areas, *update.areas)}
    every = " ".join(f"--area {shlex.quote(name)}" for name in names.values())
    command = f"sitegen new --update {shlex.quote(target)}"
    if asked:
        given = ", ".join(area.name for area in update.areas)
        how = f"the areas you answered ({given}) are all this Update's areas"
        again = (
            f"run `{command} --interactive` again and answer every area "
            f"({', '.join(names.values())}), or give them: `{command} {every}`"
        )
    else:
        how = "--area gives this Update all its areas"
        again = f"give every area: `{command} {every}` (with your other options)"
    return (
        f"note: {how}, so {', '.join(left_out)} (in the latest message, {latest.source}) "
        f"{'is' if len(left_out) == 1 else 'are'} left out: once it is sent, the pages of "
        "those areas show no alert for it. If they are still at risk, add them to the new "
        f"file's areas, or delete it and {again}"
    )


def _expired_note(alert_id: str, latest: Alert, kind: MsgType, sent: datetime) -> str:
    """What following up an alert that has expired means, said before the file is written."""
    over = (
        f"note: alert {alert_id!r} expired at {latest.expires.isoformat()} ({latest.source}), "
        "so it is no longer in force"
    )
    if kind is MsgType.CANCEL:
        return (
            f"{over}; a Cancel only tells receivers it is over (it is kept 1 hour): if that "
            "is not needed, delete the new file"
        )
    return (
        f"{over}; this Update puts it in force again for {DEFAULT_HOURS:g} hours, until "
        f"{later(sent, DEFAULT_HOURS).isoformat()}: change 'expires' in the file, or pass "
        "--expires-in"
    )


def _refuse_options(kind: MsgType, option: str, given: Answers) -> None:
    allowed = FOLLOW_UP_OPTIONS[kind]
    for name in ("event", "severity", "urgency", "certainty", "category", "areas", "language"):
        if getattr(given, name) and name not in allowed:
            flag = OPTION_NAMES.get(name, f"--{name}")
            why = REFUSED_WHY.get(
                name, "a Cancel ends the whole alert; to change it, write an --update instead"
            )
            raise click.UsageError(f"{flag} cannot be used with {option}: {why}")


def _with_given(config: SiteConfig, alert: Alert, given: Answers) -> Alert:
    """The follow-up with what the official gave as options instead of the carried values."""
    changes: dict[str, object] = {
        name: value for name in ("title", "event") if (value := getattr(given, name)) is not None
    }
    for name, enum in (("severity", Severity), ("urgency", Urgency), ("certainty", Certainty)):
        if (value := getattr(given, name)) is not None:
            changes[name] = _member(enum, value)
    if given.areas:
        changes["areas"] = _areas(config, given.areas, alert.language)
    if given.expires_in is not None:
        changes["expires"] = later(alert.sent, given.expires_in)
    return replace(alert, **changes)  # type: ignore[arg-type]


# What a new alert gets when the official gives nothing (said at the prompt, and noted
# when no prompt is shown).
DEFAULTS = {
    "category": "Other",
    "severity": "Moderate",
    "urgency": "Expected",
    "certainty": "Likely",
}
ENUMS: dict[str, type[Enum]] = {
    "category": Category,
    "severity": Severity,
    "urgency": Urgency,
    "certainty": Certainty,
}


def _ask(config: SiteConfig, given: Answers) -> Answers:
    """Prompt for every answer not given as an option; each prompt shows its default."""
    title = given.title or click.prompt(
        "Title (what citizens read first)", value_proc=_plain_text("title")
    )
    language = given.language or (
        click.prompt(
            "Language", type=click.Choice(config.languages), default=config.default_language
        )
        if len(config.languages) > 1
        else config.default_language
    )
    event = given.event or click.prompt(
        "Event (e.g. Flood, Earthquake)", default=title, value_proc=_plain_text("event")
    )
    words = {name: getattr(given, name) or _ask_word(name) for name in DEFAULTS}
    return Answers(
        title=title,
        event=event,
        severity=words["severity"],
        urgency=words["urgency"],
        certainty=words["certainty"],
        category=words["category"],
        areas=given.areas or _ask_areas(config, language),
        expires_in=given.expires_in
        or click.prompt(
            "Expires in how long (hours, or e.g. 90m, 3d; 15 minutes to 30 days)",
            type=Hours(),
            default=f"{DEFAULT_HOURS:g}",
        ),
        language=language,
    )


_CANCEL_ASKS_NOTHING = (
    "note: a Cancel asks nothing: it ends the whole alert, with its fields as they are "
    "(to change them, write an --update). Write in the file why it is cancelled and what "
    "people may do again; --expires-in sets how long receivers keep the Cancel."
)


def _ask_update(config: SiteConfig, given: Answers, latest: Alert) -> Answers:
    """Prompt for what an Update may change and was not given as an option, each answer's
    default the latest message's (Enter keeps it): as `_ask` does for a new alert."""
    words = {
        name: getattr(given, name)
        or click.prompt(
            f"{name.title()} ({', '.join(str(m.value) for m in ENUMS[name])})",
            type=CapChoice(ENUMS[name]),
            default=getattr(latest, name).value,
        )
        for name in ("severity", "urgency", "certainty")
    }
    now = ", ".join(area.name for area in latest.areas)
    areas = given.areas or _ask_areas(
        config,
        latest.language,
        f"Areas (numbers or names, separated by commas, for all of them; Enter keeps {now})",
    )
    expires_in = given.expires_in or click.prompt(
        f"Expires in how long from now (Enter keeps {latest.expires.isoformat()})",
        default="",
        show_default=False,
        value_proc=lambda answer: Hours().convert(answer, None, None) if answer else None,
    )
    return replace(given, **words, areas=areas, expires_in=expires_in)


def _plain_text(key: str) -> Callable[[str], str]:
    """A prompt's check of a text `key`: one check refuses is asked again at once (the whole
    file is checked before it is written, see scaffold.write_alerts, but only after every
    other question)."""

    def check(value: str) -> str:
        if (refused := hidden_direction(key, value)) is not None:
            raise click.UsageError(refused)
        return value

    return check


def _ask_word(name: str) -> str:
    enum = ENUMS[name]
    words = ", ".join(str(m.value) for m in enum)
    answer: str = click.prompt(
        f"{name.title()} ({words})", type=CapChoice(enum), default=DEFAULTS[name]
    )
    return answer


def _note_defaults(given: Answers) -> None:
    """Without prompts, say which values were not given and were written as defaults."""
    missing = [name for name in DEFAULTS if not getattr(given, name)]
    used = [f"{name} {DEFAULTS[name]}" for name in missing]
    options = [f"--{name}" for name in missing]
    if given.expires_in is None:
        used.append(f"expires in {DEFAULT_HOURS:g} hours")
        options.append("--expires-in")
    if used:
        click.echo(
            f"note: not given, so written as {', '.join(used)}; change "
            f"{'them' if len(used) > 1 else 'it'} in the file "
            f"(or pass {', '.join(options)})",
            err=True,
        )


def _fresh(config: SiteConfig, answers: Answers) -> Alert:
    if answers.title is None:
        raise click.UsageError("give the alert's TITLE (or run at a terminal to be asked)")
    lang = answers.language or config.default_language
    if lang not in config.languages:
        raise click.BadParameter(
            f"{lang!r} is not one of {', '.join(config.languages)}", param_hint="'--lang'"
        )
    sent, expires = default_times(datetime.now(), answers.expires_in or DEFAULT_HOURS, config.zone)
    return new_alert(
        answers.title,
        event=answers.event or answers.title,
        severity=_member(Severity, answers.severity or DEFAULTS["severity"]),
        urgency=_member(Urgency, answers.urgency or DEFAULTS["urgency"]),
        certainty=_member(Certainty, answers.certainty or DEFAULTS["certainty"]),
        category=_member(Category, answers.category or DEFAULTS["category"]),
        areas=_areas(config, answers.areas, lang)
        or (Area(TODO_AREA, area_slug("", (), TODO_AREA)),),
        language=lang,
        sent=sent,
        expires=expires,
    )


def _site_areas(config: SiteConfig, language: str) -> tuple[Area, ...]:
    """The areas the site's valid alerts use, named in `language` where possible."""
    return known_areas(_valid_site(config), language)


def _valid_site(config: SiteConfig) -> Site:
    """The valid part of the site, drafts included (a 'TODO:' left is no error here: the
    areas an official drafted an alert for are offered too), loaded once a command: at
    10,000 alerts a load takes ~2 s, and `new --update ID --area NAME` loaded it to find the
    chain, again for each language's areas and once more to mark names in another language
    (4 loads, 8.9 s)."""
    if not _loaded or _loaded[0][0] is not config:
        from sitegen.build import stored_reader

        read = with_drafts(stored_reader(config))
        _loaded[:] = [(config, load_valid(config, datetime.now().astimezone(), read).site)]
    return _loaded[0][1]


_loaded: list[tuple[SiteConfig, Site]] = []  # (config, its valid site) of this command


def _ask_areas(config: SiteConfig, language: str, keep: str = "") -> tuple[str, ...]:
    """The areas the official picks from the site's, or names; `keep`: the prompt of an
    Update, where Enter alone keeps the areas it has (an empty answer)."""
    known = _site_areas(config, language)
    if known:
        click.echo("Areas already used in this site:")
        for number, area in enumerate(known, 1):
            click.echo(f"  {number}. {area.name}")
    picked: tuple[str, ...] = click.prompt(
        keep or "Areas (numbers or names, separated by commas)",
        default="",  # so that Enter alone is answered, not asked again without a word
        show_default=False,
        value_proc=lambda answer: _picked_areas(answer, known, bool(keep)),
    )
    return picked


def _picked_areas(answer: str, known: tuple[Area, ...], none: bool = False) -> tuple[str, ...]:
    """The areas an answer names, by number in the list shown or by name (`none`: an empty
    answer allowed). A number not in the list was written as an area named "3", and
    published so."""
    picked = []
    for part in (p.strip() for p in answer.split(",")):
        if part.isdigit():
            if not 1 <= int(part) <= len(known):
                listed = f"the list goes from 1 to {len(known)}" if known else "no list is shown"
                raise click.BadParameter(
                    f"there is no area number {part} ({listed}); give a number from the list "
                    "or an area's name"
                )
            picked.append(known[int(part) - 1].name)
        elif part:
            picked.append(part)
    if not picked and not none:
        how = "a number from the list or an area's name" if known else "an area's name"
        raise click.BadParameter(f"give at least one area: {how}")
    return tuple(picked)


def _areas(config: SiteConfig, names: tuple[str, ...], language: str) -> tuple[Area, ...]:
    """Names → Areas. A name the site already uses, in any language, becomes that area as
    alerts in `language` name it, geocodes included."""
    if not names:
        return ()
    site = _valid_site(config)
    slugs = area_slugs_by_name(site)
    by_slug = {a.slug: a for a in known_areas(site, language)}
    return tuple(
        by_slug.get(slugs.get(n.lower(), "")) or Area(n, area_slug("", (), n)) for n in names
    )
