"""`sitegen new`: write a valid alert skeleton an official only has to fill in.

A new alert, or an Update/Cancel of an existing one with its fields carried over. Bodies
carry `TODO:` lines, which `sitegen check` refuses, so an unfilled skeleton is never published.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path

from sitegen.alert_file import alert_file_text, instruction_heading
from sitegen.config import SiteConfig
from sitegen.content import new_file_problems, split_stem
from sitegen.errors import SitegenError, write_failed
from sitegen.i18n import LOCALES, catalog
from sitegen.model import (
    Alert,
    Area,
    Category,
    Certainty,
    MsgType,
    Severity,
    Site,
    Status,
    Urgency,
)

TODO = "TODO:"
DEFAULT_HOURS = 24.0


def slugify(text: str) -> str:
    """ASCII slug for a file name; empty when the title has no Latin letters or digits."""
    return re.sub(r"[^a-z0-9]+", "-", latin_letters(text).lower()).strip("-")[:60].strip("-")


def latin_letters(text: str) -> str:
    """`text` in ASCII, each accented Latin letter as its base letter (`ñandú` → `nandu`,
    `ﬁ` → `fi`); characters with no ASCII base (Hangul, `ß`) are left out."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def letters_lost(text: str) -> bool:
    """Whether `latin_letters(text)` leaves out a letter or digit (not just an accent)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return sum(c.isalnum() for c in decomposed) != sum(
        c.isalnum() and c.isascii() for c in decomposed
    )


def default_times(
    now: datetime, hours: float, zone: tzinfo | None = None
) -> tuple[datetime, datetime]:
    """Sent now (to the minute, in `zone`: the site's timezone, else the machine's) and
    expiring `hours` later."""
    sent = now.astimezone(zone).replace(second=0, microsecond=0)
    return sent, later(sent, hours)


def follow_up_sent(now: datetime, previous: datetime, zone: tzinfo | None = None) -> datetime:
    """When a follow-up of a message sent at `previous` is sent: now to the minute, as
    `default_times` writes it, but strictly after `previous`. Within the minute of the message
    it follows it keeps its seconds: both had the same `sent`, so CAP receivers could not tell
    which came last and the site ordered them by id (`update-10` before `update-9`). Not a
    minute later: a follow-up published at once would not be shown until then."""
    sent, _ = default_times(now, 0, zone)
    if sent > previous:
        return sent
    return max(now.astimezone(zone).replace(microsecond=0), later(previous, 1 / 3600))


def later(start: datetime, hours: float) -> datetime:
    """`hours` of real time after `start`, on the clocks of `start`'s timezone. Python adds
    a timedelta to a zoned time on the wall clock, so across a daylight-saving change it
    would be an hour off, and `sent` in the repeated hour + 30 minutes even before `sent`."""
    return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(start.tzinfo)


def new_body(language: str) -> str:
    return (
        f"{TODO} say in two or three sentences what is happening, where, and since when.\n\n"
        f"## {instruction_heading(language)}\n\n"
        f"- {TODO} the first thing people must do now.\n"
        f"- {TODO} what to do next, and where to find help.\n"
    )


def new_alert(
    title: str,
    *,
    event: str,
    severity: Severity,
    urgency: Urgency = Urgency.EXPECTED,
    certainty: Certainty = Certainty.LIKELY,
    category: Category = Category.OTHER,
    areas: tuple[Area, ...],
    language: str,
    sent: datetime,
    expires: datetime,
) -> Alert:
    """A fresh Alert (msg_type Alert) whose body asks for the official's words."""
    return Alert(
        id="", language=language, source="", title=title, event=event, category=category,
        severity=severity, urgency=urgency, certainty=certainty, status=Status.ACTUAL,
        msg_type=MsgType.ALERT, sent=sent, expires=expires, effective=None, areas=areas,
        references=(), body=new_body(language),
    )  # fmt: skip


# Follow-up titles: the catalog (sitegen/locales/<lang>.json) translates these. A Cancel
# keeps the alert's title: the site says "Cancelled" wherever it shows one (banner, feed and
# share titles, archive, home page), and a mark of its own read "Cancelled · …(cancelled)".
# CANCEL_TITLE is what sitegen wrote before session 23: still taken off, never written.
UPDATE_TITLE = "%(title)s (update)"
NTH_UPDATE_TITLE = "%(title)s (update %(number)d)"  # the second Update of an alert on
CANCEL_TITLE = "%(title)s (cancelled)"
FOLLOW_UP_TITLES = (UPDATE_TITLE, NTH_UPDATE_TITLE, CANCEL_TITLE)


def follow_up(
    original: Alert,
    kind: MsgType,
    sent: datetime,
    references: tuple[str, ...] = (),
    *,
    earlier: tuple[Alert, ...] = (),
    number: int = 1,
) -> Alert:
    """An Update or Cancel of `original` (the latest message of its chain): its fields carried
    over, `references` the whole chain as `sitegen check` asks (default: `original`'s own
    references, then it). `earlier`: the chain's messages before `original` in its language,
    oldest first, so that an Update starts from the text still true (`still_true`); `number`:
    which Update of the alert this is (its title says so from the second on)."""
    if kind is MsgType.ALERT:
        raise ValueError("follow_up makes an Update or a Cancel")
    # over already: an Update issues it again for a new alert's hours, a Cancel says it is over
    again = DEFAULT_HOURS if kind is MsgType.UPDATE else 1
    expires = original.expires if original.expires > sent else later(sent, again)
    heading = instruction_heading(original.language)
    if kind is MsgType.CANCEL:
        body = (
            f"{TODO} say why the alert is cancelled and that the danger has passed.\n\n"
            f"## {heading}\n\n- {TODO} what people may do again now.\n"
        )
        urgency = Urgency.PAST
    else:
        carried = still_true((*earlier, original))
        body = f"{TODO} say what has changed since the last message.\n\n{carried}\n"
        urgency = original.urgency
    return replace(
        original,
        id="",
        source="",
        title=follow_up_title(original.title, kind, original.language, number),
        msg_type=kind,
        sent=sent,
        effective=None,
        expires=expires,
        urgency=urgency,
        body=body,
        references=references or tuple(dict.fromkeys((*original.references, original.id))),
        field_lines={},
    )


def still_true(messages: tuple[Alert, ...]) -> str:
    """The text of an alert's last message without what an Update of it said had changed
    (what `new --update` asked to write above the text it carried): an Update of an Update
    starts from that carried text, so the "what changed" paragraphs do not pile up over a
    chain. A text the official rewrote, so that the carried text is no longer found in it,
    is kept whole. `messages`: one language's messages of the chain, oldest first."""
    carried = ""
    for alert in messages:
        body = alert.body.strip()
        if alert.msg_type is MsgType.UPDATE and carried:
            first = carried.split("\n\n", 1)[0]
            at = body.find(f"\n\n{first}")
            body = body if body.startswith(first) or at < 0 else body[at + 2 :]
        carried = body
    return carried


def follow_up_title(title: str, kind: MsgType, language: str, number: int = 1) -> str:
    """The title of a follow-up in the alert's language, without the marks earlier follow-ups
    added (no `... (update) (update 2)`): a Cancel the alert's own, the first Update `Title
    (update)`, the `number`th `Title (update NUMBER)`, so that a chain's Updates differ."""
    base = base_title(title)
    if kind is MsgType.CANCEL:
        return base
    template = UPDATE_TITLE if number == 1 else NTH_UPDATE_TITLE
    localized = catalog(language).get(template) or template
    return localized.replace("%(title)s", base).replace("%(number)d", str(number))


def base_title(title: str) -> str:
    """The title without any follow-up mark, in any language sitegen has a catalog for."""
    marks = _title_marks()
    stripped = True
    while stripped:
        stripped = False
        for mark in marks:
            if found := mark.fullmatch(title):
                title, stripped = found.group("title").strip(), True
    return title


@cache
def _title_marks() -> tuple[re.Pattern[str], ...]:
    """Each catalog's follow-up title as a pattern (made once: the archive asks of many rows)."""
    return tuple(
        re.compile(
            re.escape(text)
            .replace(re.escape("%(title)s"), "(?P<title>.*\\S.*)")
            .replace(re.escape("%(number)d"), "[0-9]+"),
            re.S,
        )
        for language in ("en", *sorted(path.stem for path in LOCALES.glob("*.json")))
        for key in FOLLOW_UP_TITLES
        if "%(title)s" in (text := catalog(language).get(key) or key)
    )


def known_areas(site: Site | None, language: str) -> tuple[Area, ...]:
    """Every area already used in the site, one per slug, named in `language` where an
    alert in that language names it, in name order (for prompts); not a draft's 'TODO:'."""
    if site is None:
        return ()
    seen: dict[str, Area] = {}
    for group in site.groups:
        version = group.version(language) or group.primary
        for area in version.areas:
            if TODO in area.name:
                continue
            if version.language == language or area.slug not in seen:
                seen[area.slug] = area
    return tuple(sorted(seen.values(), key=lambda a: a.name.lower()))


def to_translate(text: str, language: str) -> str:
    """`text` an official gave in another language, marked for writing in `language`: a
    TODO, so `sitegen check` refuses the file until it is."""
    return text if TODO in text else f"{TODO} {text} (write this in {language})"


def mark_untranslated_areas(alert: Alert, site: Site | None, typed: frozenset[str]) -> Alert:
    """`alert` with each area no alert in its language names marked to translate: a follow-up
    carries a language the latest message lacks, or is given an --area the site knows only
    in other languages, and the name came in another language. `typed`: the slugs of names
    the official gave that the site does not know, kept as written."""
    if site is None:
        return alert
    named = {
        area.slug
        for group in site.groups
        for version in group.versions
        if version.language == alert.language
        for area in version.areas
    }
    return replace(
        alert,
        areas=tuple(
            a
            if a.slug in named or a.slug in typed
            else replace(a, name=to_translate(a.name, alert.language))
            for a in alert.areas
        ),
    )


def area_slugs_by_name(site: Site | None) -> dict[str, str]:
    """Every area name used in the site, in any language (lowercase), → its slug."""
    if site is None:
        return {}
    return {
        area.name.lower(): area.slug
        for group in site.groups
        for version in group.versions
        for area in version.areas
    }


MAX_ID = 100  # content.ID_RE


def fresh_id(alert: Alert, taken: set[str]) -> str:
    """`DATE-SLUG` for a new alert, unique among `taken`: the slug of the title, else of the
    event, else of the first area with a Latin name or a geocode, else "alert"; `-2`, `-3`...
    when taken (so a new alert never shares an id, nor becomes a translation by accident)."""
    area_slugs = (a.slug for a in alert.areas if not a.slug.startswith(("area-", "todo")))
    slug = slugify(alert.title) or slugify(alert.event) or next(area_slugs, "") or "alert"
    return _unique(f"{alert.sent:%Y-%m-%d}-{slug}", taken)


def follow_up_id(original_id: str, kind: MsgType, taken: set[str]) -> str:
    """`<original-id>-update` (then `-update-2`, ...) or `<original-id>-cancel`: named after
    the first message of the chain, whatever language its title is in."""
    return _unique(f"{original_id}-{'cancel' if kind is MsgType.CANCEL else 'update'}", taken)


def _unique(wanted: str, taken: set[str]) -> str:
    number = 1
    while True:
        suffix = "" if number == 1 else f"-{number}"
        candidate = wanted[: MAX_ID - len(suffix)].rstrip("-_") + suffix
        if candidate not in taken:
            return candidate
        number += 1


def taken_ids(config: SiteConfig) -> set[str]:
    """Every alert id in use: from each file's name (any language) and any `id:` field."""
    folder = config.content_path / "alerts"
    taken: set[str] = set()
    for path in folder.rglob("*.md") if folder.is_dir() else ():
        taken.add(split_stem(path.name[:-3], config.languages)[0])
        try:
            head = path.read_bytes()[:4096].decode("utf-8", "replace")
        except OSError:
            continue
        if match := _ID_FIELD.search(head.split("\n---", 1)[0]):
            taken.add(match[1].strip("\"'"))
    return taken


_ID_FIELD = re.compile(r"^id:[ \t]*(\S+)", re.MULTILINE)


def alert_filename(alert: Alert) -> str:
    """`ID.md`, or `ID.LANG.md` for an alert (or a follow-up of one) written that way."""
    suffix = f".{alert.language}" if alert.translation_of_default else ""
    return f"{alert.id}{suffix}.md"


def write_alert(alert: Alert, config: SiteConfig) -> Path:
    """Create the file under content/alerts/, never overwriting an existing one."""
    return write_alerts((alert,), config)[0]


def write_alerts(alerts: tuple[Alert, ...], config: SiteConfig) -> list[Path]:
    """Create one file per alert (an alert and its translations) under content/alerts/: none
    when any exists already, and never overwriting one."""
    folder = config.content_path / "alerts"
    paths = [folder / alert_filename(alert) for alert in alerts]
    for path in paths:
        if path.exists():
            raise SitegenError(
                f"{path.relative_to(config.root)}: already exists; choose another title or "
                "edit that file"
            )
    texts = [alert_file_text(alert) for alert in alerts]
    _refuse_mistakes(paths, texts, config)
    written: list[Path] = []
    try:
        for path, text in zip(paths, texts, strict=True):
            _write_new(_created(folder) / path.name, text, config)
            written.append(path)
    except BaseException:  # a failure or a stop (Ctrl-C, SIGTERM) part way: none, not some
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return paths


def _refuse_mistakes(paths: list[Path], texts: list[str], config: SiteConfig) -> None:
    """Check the files as `check` will, before writing any: a value typed that check refuses
    (a title with a hidden text-direction character, say) is said now, with nothing written,
    rather than in a file the official must then mend by hand. Warnings are printed, and the
    file written."""
    errors: list[str] = []
    for path, text in zip(paths, texts, strict=True):
        rel = path.relative_to(config.root).as_posix()
        for problem in new_file_problems(path, rel, text, config):
            if problem.severity == "error":
                errors.append(problem.message)
            else:
                print(f"warning: {problem.message}", file=sys.stderr)
    if errors:
        shown = "\n".join(f"  {message}" for message in dict.fromkeys(errors))
        raise SitegenError(f"nothing was created: `sitegen check` would refuse it:\n{shown}")


def _write_new(path: Path, text: str, config: SiteConfig) -> None:
    """Create ``path``, whole or not at all: its name is taken first (never overwriting a
    file), the text written beside it, then renamed onto it; stopped part way, neither is
    left (a half-written alert would be read as one)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # not *.md: never read as one
    try:
        path.open("x").close()
    except FileExistsError as exc:  # created since the check above, by someone else
        raise SitegenError(f"{path.relative_to(config.root)}: already exists") from exc
    except OSError as exc:
        raise write_failed(exc, path) from exc
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise write_failed(exc, path) from exc
        raise


def _created(folder: Path) -> Path:
    """``folder``, made if missing; a file in its way is the system's answer, said plainly."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(exc, folder) from exc
    return folder
