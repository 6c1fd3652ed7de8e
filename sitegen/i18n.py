"""Message catalogs for the fixed text on pages, and locale-aware date formatting.

Catalogs are JSON files (`sitegen/locales/<lang>.json`) mapping the English text to the
translation. English is the source language; a missing entry falls back to English and
`missing_messages` lets `check` warn about it.
"""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

# beside this module (package data); not importlib.resources, whose import costs ~10 ms of
# every command, a no-change build's included
LOCALES = Path(__file__).parent / "locales"


@cache
def catalog(language: str) -> dict[str, str]:
    """The catalog for `language`; empty (English fallback) when none ships."""
    try:
        text = (LOCALES / f"{language}.json").read_text("utf-8")
    except FileNotFoundError:
        return {}
    data = json.loads(text)
    return {str(k): str(v) for k, v in data.items() if not k.startswith("_")}


def translator(language: str) -> tuple[object, object]:
    """gettext and ngettext callables for Jinja's i18n extension."""
    messages = catalog(language)

    def gettext(message: str) -> str:
        return messages.get(message) or message

    def ngettext(singular: str, plural: str, n: int) -> str:
        key = singular if n == 1 else plural
        return messages.get(key) or key

    return gettext, ngettext


def ui_language(language: str) -> str:
    """The language of sitegen's own text on a page in `language`: `language` when a catalog
    ships for it (English needs none), else English, which every fixed text falls back to."""
    return language if language == "en" or catalog(language) else "en"


def missing_messages(language: str, msgids: set[str]) -> set[str]:
    """Fixed texts with no translation in `language` (English needs none)."""
    if language == "en":
        return set()
    messages = catalog(language)
    return {m for m in msgids if not messages.get(m)}


def local_time(value: datetime, language: str) -> str:
    """Date and time in the alert's own timezone, formatted for the reader's locale: the long
    date, a 24-hour clock (no AM/PM ambiguity in a crisis) and the UTC offset. ~60,000 of
    them in a 10,000-alert build: the clock is formatted from its fields (strftime's
    "%H:%M" costs 1.5 µs) and each offset's text is made once."""
    offset = value.utcoffset()
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES[offset] = _zone(offset)
    return f"{_long_date(value.date(), language)} {value.hour:02d}:{value.minute:02d} ({zone})"


def _zone(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


_ZONES: dict[timedelta | None, str] = {}


# Long dates by (proleptic ordinal, language). Babel's locale formatting costs ~30 µs a call,
# and importing it and loading two locales ~30 ms: a build keeps what it formatted (see
# remember_dates / new_dates) so that a one-alert rebuild usually needs no Babel at all.
_DATES: dict[tuple[int, str], str] = {}
_NEW_DATES: dict[tuple[int, str], str] = {}


def _long_date(day: date, language: str) -> str:
    key = (day.toordinal(), language)
    text = _DATES.get(key)
    if text is None:
        from babel.dates import format_date  # only when a date is not known yet

        text = _DATES[key] = _NEW_DATES[key] = str(format_date(day, "long", locale=language))
    return text


def load_locales(languages: tuple[str, ...]) -> None:
    """Import Babel and load its data for `languages` (~25 ms a language) without formatting
    anything for a page: a build does it once before forking render workers that would each
    do it again. A language Babel does not know is left for the page that needs it."""
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    for language in languages:
        with contextlib.suppress(UnknownLocaleError, ValueError):
            format_date(date(2000, 1, 1), "long", locale=language)


def remember_dates(dates: dict[tuple[int, str], str]) -> None:
    """Long dates formatted by an earlier run of the same sitegen and Babel."""
    _DATES.update(dates)


def known_dates() -> dict[tuple[int, str], str]:
    """Every long date this process has formatted or been given."""
    return dict(_DATES)


def new_dates() -> dict[tuple[int, str], str]:
    """The long dates formatted since the last call (by Babel, in this process)."""
    found = dict(_NEW_DATES)
    _NEW_DATES.clear()
    return found
