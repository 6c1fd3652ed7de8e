"""`sitegen check` warnings for fixed page text that has no translation in a site language.

The texts are found where they are written: every `_()`/`gettext()`/`ngettext()` call in the
site's templates, plus the CAP words templates translate from data (`_(alert.severity.value)`),
which no extractor can see. A missing entry is not an error: the page falls back to English,
and the warning tells the official which text and which catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import jinja2

from sitegen import i18n
from sitegen.config import SiteConfig
from sitegen.errors import Problem
from sitegen.i18n import missing_messages
from sitegen.model import Certainty, MsgType, Phase, Severity, Status, Urgency
from sitegen.render import LANGUAGE_NAMES

# Enums whose values templates pass through `_()`; Phase is shown capitalised ("Expired").
_DATA_ENUMS: tuple[type[Enum], ...] = (Severity, Urgency, Certainty, Status, MsgType)
_TEMPLATE_SUFFIXES = (".html", ".atom", ".xml", ".txt")


@dataclass(frozen=True, slots=True)
class Msgid:
    """One fixed text and where it was first found (for the warning's file:line)."""

    text: str
    path: str
    line: int


def template_msgids(config: SiteConfig) -> Iterator[Msgid]:
    """Every literal text passed to gettext/ngettext in the site's templates."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    root = config.templates_path
    if not root.is_dir():
        return
    for path in sorted(p for p in root.rglob("*") if p.suffix in _TEMPLATE_SUFFIXES):
        rel = path.relative_to(config.root).as_posix()
        try:
            source = path.read_text("utf-8")
            found = list(env.extract_translations(source))  # type: ignore[attr-defined]
        except (jinja2.TemplateSyntaxError, UnicodeDecodeError, OSError):
            continue  # the build reports broken (or unreadable) templates; not our job here
        for line, _function, message in found:
            texts = message if isinstance(message, tuple) else (message,)
            for text in texts:
                if isinstance(text, str):
                    yield Msgid(text, rel, line)


def data_msgids() -> Iterator[Msgid]:
    """CAP vocabulary and lifecycle words that templates translate from alert data."""
    for enum in _DATA_ENUMS:
        for member in enum:
            yield Msgid(str(member.value), "", 0)
    for phase in Phase:
        yield Msgid(phase.value.capitalize(), "", 0)


def translation_problems(config: SiteConfig) -> list[Problem]:
    """A warning per (language, text) with no translation; English needs none."""
    first: dict[str, Msgid] = {}
    for msgid in (*template_msgids(config), *data_msgids()):
        first.setdefault(msgid.text, msgid)
    problems = []
    for language in config.languages:
        name = LANGUAGE_NAMES.get(language, language)
        catalog = f"sitegen/locales/{language}.json"
        if language != "en" and not i18n.catalog(language):
            # One line, not one per text: the whole catalog is missing.
            problems.append(
                Problem(
                    "site.toml",
                    0,
                    f"no message catalog for {name} ({language}): add {catalog}; "
                    "until then its pages show the fixed texts in English",
                    "warning",
                )
            )
            continue
        for text in sorted(missing_messages(language, set(first))):
            where = first[text]
            problems.append(
                Problem(
                    where.path or catalog,
                    where.line,
                    f"no {name} ({language}) translation for {text!r} in {catalog}; "
                    "pages show the English text instead",
                    "warning",
                )
            )
    return problems
