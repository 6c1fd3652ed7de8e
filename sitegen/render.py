"""Site → Bundle through Jinja templates. Pure: same site and templates, same bytes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import traceback
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property, partial
from operator import itemgetter
from pathlib import Path
from types import CodeType, FunctionType
from typing import Any, TypeVar, cast

import jinja2
import jinja2.ext
import jinja2.lexer
import jinja2.runtime
from markupsafe import Markup, escape

from sitegen import urls
from sitegen.body import render_body
from sitegen.bundle import Bundle, make_file, url_to_path
from sitegen.cap import cap_files, cap_index, cap_xml, feed_standings, fit_feed, newest_first
from sitegen.config import KNOWN_LANGUAGES, SiteConfig
from sitegen.errors import BuildError, Problem, TemplateError, cannot_read
from sitegen.i18n import catalog, local_time, translator, ui_language
from sitegen.lifecycle import (
    Standing,
    is_cancel_in_force,
    is_listed_on_home,
    issued,
    shown_phase,
    site_updated,
    standings,
)
from sitegen.model import Alert, AlertGroup, MsgType, Phase, Site
from sitegen.scaffold import base_title

LANGUAGE_NAMES = {
    "ar": "العربية",
    "de": "Deutsch",
    "en": "English",
    "es": "Español",
    "fa": "فارسی",
    "fr": "Français",
    "he": "עברית",
    "ja": "日本語",
    "ko": "한국어",
    "pt": "Português",
    "ur": "اردو",
    "vi": "Tiếng Việt",
    "zh": "中文",
}
FEED_ENTRIES = 100
T = TypeVar("T")
# sitemaps.org: one sitemap file lists at most 50,000 URLs in at most 50 MB (52,428,800 bytes,
# uncompressed). A site with more makes /sitemap.xml an index of parts (SITEMAP_PARTS + "1.xml",
# …), which robots.txt may name as it names a sitemap. Tests lower SITEMAP_MAX_URLS.
SITEMAP_MAX_URLS = 50_000
SITEMAP_MAX_BYTES = 52_428_800
SITEMAP_PARTS = "/sitemaps/"
# Archive and area pages list this many alerts each, so no page grows with the archive.
LIST_PAGE_SIZE = 50
# An alert page lists at most HISTORY_SHOWN messages of its update chain (issue 7: no page
# grows without bound); a longer chain's are all at /alerts/<first>/history/, LIST_PAGE_SIZE
# a page. See history_positions.
HISTORY_SHOWN = 12
HISTORY_AROUND = 2  # messages listed either side of the one being read
HISTORY_LATEST = 4  # newest messages listed


@dataclass(frozen=True, slots=True)
class PageSpec:
    """One page to render: where it goes, with which template, in which language, with what."""

    url: str
    template: str
    language: str
    context: dict[str, Any] = field(hash=False)


@dataclass(frozen=True, slots=True)
class Item:
    """An alert as listed on an index page, in the reader's language where possible."""

    group: AlertGroup
    alert: Alert
    standing: Standing
    url: str
    shown_phase: Phase  # lifecycle.shown_phase: what the feeds and the archive call its phase


def named_in_row(item: Item) -> int | None:
    """Which message of a cancelled alert an archive row is, when nothing else in the row says
    it: 0 the alert, N its Nth Update (as `new` numbers them); None for the Cancel (its badge
    says "Cancelled"), a message of an alert not cancelled, or a title that carries its mark."""
    alert = item.alert
    if alert.msg_type is MsgType.CANCEL or item.shown_phase is not Phase.CANCELLED:
        return None
    if base_title(alert.title) != alert.title:
        return None
    if alert.msg_type is not MsgType.UPDATE:
        return 0
    return _update_numbers(item.standing.history)[id(item.group)]


# The last chain numbered: a chain's rows are listed together, so each chain is numbered once
# (69 ms of CPU for the 1,000 rows of a 1,000-message chain when each row counted its own).
_numbered: tuple[tuple[AlertGroup, ...], dict[int, int]] | None = None


def _update_numbers(chain: tuple[AlertGroup, ...]) -> dict[int, int]:
    """id of each message of `chain` → how many of its Updates were sent up to it."""
    global _numbered
    memo = _numbered
    if memo is None or memo[0] is not chain:
        count, numbers = 0, {}
        for group in chain:
            count += group.primary.msg_type is MsgType.UPDATE
            numbers[id(group)] = count
        memo = _numbered = (chain, numbers)
    return memo[1]


@dataclass(frozen=True, slots=True)
class Updated:
    """The message an Update updates, as the Update's feed entry names and links it: plain
    values, so a feed unit's token (the repr of its context) changes when they do."""

    title: str
    url: str
    language: str
    sent: datetime


class _ConstantGettext(jinja2.ext.Extension):
    """Translates `_("a literal")` once, when a template is compiled, instead of on every page,
    and turns `_(one value)` into a filter.

    Each environment serves one language, so a literal's translation is known at compile time:
    the call becomes the translated literal marked safe, which is exactly what the i18n
    extension returns at run time (newstyle gettext with autoescape: the translation as Markup,
    `%`-formatted with no variables). Literals whose translation contains "%" keep the call
    (formatting would change them), as do calls with variables. Jinja folds the constant into
    the template's static text: ~30 calls a page saved.

    `_(x)` with one argument and no variables becomes `((x)|_sitegen_gettext)`: the same
    function as the `_` global (`_direct_gettext`), but Jinja calls a filter directly, where a
    call goes through `Context.call` (~1.5 µs, ~7 a page). Like the folding above, this takes
    `_` to be sitegen's; a template that rebinds `_` keeps only calls with variables."""

    def filter_stream(self, stream: jinja2.lexer.TokenStream) -> Iterator[jinja2.lexer.Token]:
        found = self.environment.globals.get("_sitegen_gettext")
        gettext = cast(Callable[[str], str] | None, found)
        tokens = list(stream)
        closing: dict[int, int] = {}  # index of a rewritten call's ")" → its line
        i = 0
        while i < len(tokens):
            window = tokens[i : i + 4]
            if (
                gettext is not None
                and len(window) == 4
                and window[0].test("name:_")
                and window[1].type == "lparen"
                and window[2].type == "string"
                and window[3].type == "rparen"
            ):
                translated = str(gettext(window[2].value))
                if "%" not in translated:
                    line = window[0].lineno
                    yield jinja2.lexer.Token(line, "lparen", "(")
                    yield jinja2.lexer.Token(line, "string", translated)
                    yield jinja2.lexer.Token(line, "pipe", "|")
                    yield jinja2.lexer.Token(line, "name", "safe")
                    yield jinja2.lexer.Token(line, "rparen", ")")
                    i += 4
                    continue
            end = _single_argument_call(tokens, i) if gettext is not None else None
            if end is not None:
                line = tokens[i].lineno
                yield jinja2.lexer.Token(line, "lparen", "(")
                yield jinja2.lexer.Token(line, "lparen", "(")
                closing[end] = line
                i += 2
                continue
            if i in closing:
                line = closing.pop(i)
                yield jinja2.lexer.Token(line, "rparen", ")")
                yield jinja2.lexer.Token(line, "pipe", "|")
                yield jinja2.lexer.Token(line, "name", "_sitegen_gettext")
                yield jinja2.lexer.Token(line, "rparen", ")")
                i += 1
                continue
            yield tokens[i]
            i += 1


_OPENING = {"lparen", "lbracket", "lbrace"}
_CLOSING = {"rparen", "rbracket", "rbrace"}


def _single_argument_call(tokens: list[jinja2.lexer.Token], i: int) -> int | None:
    """For `_(` at tokens[i] (not an attribute `x._(`): the index of its `)` when the call has
    exactly one argument and no keywords, else None."""
    if not (
        tokens[i].test("name:_")
        and i + 1 < len(tokens)
        and tokens[i + 1].type == "lparen"
        and not (i > 0 and tokens[i - 1].type == "dot")
    ):
        return None
    depth = 0
    for j in range(i + 2, len(tokens)):
        kind = tokens[j].type
        if kind in _OPENING:
            depth += 1
        elif kind in _CLOSING:
            if depth == 0:
                return j if j > i + 2 else None  # `_()` stays a call (and fails as one)
            depth -= 1
        elif kind in ("variable_end", "block_end") or (depth == 0 and kind in ("comma", "assign")):
            return None  # the tag ended, or a second argument or a keyword
    return None


def install_gettext(env: jinja2.Environment, gettext: Callable[[str], str]) -> None:
    """`_` for templates (see _direct_gettext) and what _ConstantGettext compiles it to."""
    env.globals["_sitegen_gettext"] = gettext  # for _ConstantGettext, at compile time
    env.globals["_"] = _direct_gettext(gettext)
    env.filters["_sitegen_gettext"] = _gettext_filter(gettext)


class _StaticInclude(jinja2.ext.Extension):
    """`{% include "style.css" %}` of a file with no template syntax becomes that file's text
    when the including template is compiled, as if written there: what the include renders
    to anyway, without a template lookup and a copy of the context per page (~11 µs of
    ~0.12 ms an alert page). A file that could render differently (template syntax, a CR
    that Jinja would normalise) or is missing keeps the include, and its run-time behaviour.
    Jinja checks a compiled template against its own source only: the build keeps compiled
    templates per global key (every template file's bytes), and `serve` makes new
    environments when any template changes, so an edit to the included file is always seen."""

    def filter_stream(self, stream: jinja2.lexer.TokenStream) -> Iterator[jinja2.lexer.Token]:
        tokens = list(stream)
        i = 0
        while i < len(tokens):
            window = tokens[i : i + 4]
            if (
                len(window) == 4
                and window[0].type == "block_begin"
                and window[1].test("name:include")
                and window[2].type == "string"
                and window[3].type == "block_end"
            ):
                text = self._static_text(window[2].value)
                if text is not None:
                    yield jinja2.lexer.Token(window[0].lineno, "data", text)
                    i += 4
                    continue
            yield tokens[i]
            i += 1

    def _static_text(self, name: str) -> str | None:
        env = self.environment
        if env.loader is None or env.line_statement_prefix or env.line_comment_prefix:
            return None
        try:
            source, _, _ = env.loader.get_source(env, name)
        except (jinja2.TemplateNotFound, UnicodeDecodeError):  # reported as the include's
            return None
        markers = (env.block_start_string, env.variable_start_string, env.comment_start_string)
        if "\r" in source or any(marker in source for marker in markers):
            return None
        if not env.keep_trailing_newline and source.endswith("\n"):
            source = source[:-1]
        return source


def _direct_gettext(translate: Callable[[str], str]) -> Callable[..., str]:
    """`_()` for templates, with the i18n extension's newstyle meaning (the translation is
    Markup under autoescape and is always %-formatted with the keyword arguments, which are
    escaped) but called directly: the extension's `_` resolves `gettext` in the context and
    calls through two context layers for every dynamic `_(alert.severity.value)`. Formatting
    is skipped only when it cannot change anything (no "%" in the translation).

    One deliberate difference: a message with no translation is escaped, not trusted. Jinja
    marks any `_(x)` safe, so `_(alert.title)` in a template would let content write HTML;
    here only our catalogs' text is trusted. (Literal `_("…")` without variables never get
    here: _ConstantGettext folds them, trusted, as Jinja would.)"""

    @jinja2.pass_context
    def gettext(context: jinja2.runtime.Context, message: str, **variables: Any) -> str:
        return _translated(translate, context.eval_ctx.autoescape, message, variables)

    return gettext


def _gettext_filter(translate: Callable[[str], str]) -> Callable[..., str]:
    """`_(message)` without variables as a filter (see _ConstantGettext): _direct_gettext's
    meaning, with the eval context Jinja hands a filter directly."""

    # ~170,000 calls at 10,000 alerts for a few dozen messages (severities, phases…): each
    # str message's result is kept (it is the same Markup every time), ~0.5 µs a call less
    known: dict[tuple[str, bool], str] = {}

    @jinja2.pass_eval_context
    def gettext(eval_ctx: jinja2.nodes.EvalContext, message: str) -> str:
        if type(message) is not str:  # Markup('a') == 'a', but it is escaped differently
            return _translated(translate, eval_ctx.autoescape, message, {})
        key = (message, eval_ctx.autoescape)
        text = known.get(key)
        if text is None:
            text = _translated(translate, eval_ctx.autoescape, message, {})
            if len(known) < _KNOWN_MAX:
                known[key] = text
        return text

    return gettext


# How many results the memo of one environment's filter keeps (`_`, the time filters): a
# template translating something different on every page (an alert's title), or a long
# `serve` session's rebuilds, do not grow it for ever.
_KNOWN_MAX = 50_000


def _translated(
    translate: Callable[[str], str], autoescape: bool, message: str, variables: dict[str, Any]
) -> str:
    """What `_` means in our templates, as a call or as a filter (see _direct_gettext)."""
    text = translate(message)
    if autoescape:
        # our own message catalogs are trusted, like Jinja's i18n trusts them
        text = Markup(text) if text != message else escape(message)  # noqa: S704
    return text % variables if variables or "%" in text else text


def _escape_output(value: object) -> str:
    """markupsafe.escape for what a template outputs (compiled `{{ x }}`): a str with nothing
    to escape is returned as it is rather than as a new Markup (~0.25 µs less a value, ~60
    values an alert page), and a Markup as it is (markupsafe would copy it). Only output uses
    it, and output is joined into one string, so the type does not matter there; anything
    else goes through markupsafe."""
    if type(value) is str:
        if not ("&" in value or "<" in value or ">" in value or "'" in value or '"' in value):
            return value
    elif type(value) is Markup:
        return value
    return escape(value)


class _Template(jinja2.Template):
    """Templates whose output escaping is `_escape_output` (the compiled code calls the name
    `escape` of its module, which Jinja binds to markupsafe's)."""

    @classmethod
    def from_code(
        cls,
        environment: jinja2.Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__["escape"] = _escape_output
        return template


class _Context(jinja2.runtime.Context):
    """Context.call without Jinja's checks for a plain function (every global make_environment
    sets: urls, absolute) or a template's macro: only functions marked with pass_context & co.
    want an argument injected, and looking for that mark costs ~0.7 µs a call, ~10 calls an
    alert page and 50 macro calls a listing page (Jinja's Macro.__call__ carries no mark)."""

    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        kind = type(__obj)
        if (kind is not FunctionType and kind is not _Macro) or "jinja_pass_arg" in __obj.__dict__:
            return super().call(__obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Jinja's
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


_Macro = jinja2.runtime.Macro


class _Environment(jinja2.Environment):
    """Templates' globals as a plain dict. Jinja makes them a ChainMap over the environment's
    globals (so that globals set after a template is loaded reach it) and copies that key by
    key into every render's context: ~20 lookups per template per page (~8 % of an alert
    unit). make_environment sets every global before any template is loaded."""

    template_class = _Template
    context_class = _Context
    # name → syntax tree of each template compiled while set (template_check, which would
    # otherwise parse every template a second time: ~25 ms a build where templates changed)
    kept_trees: dict[str, jinja2.nodes.Template] | None = None

    def _parse(self, source: str, name: str | None, filename: str | None) -> jinja2.nodes.Template:
        tree = super()._parse(source, name, filename)
        if self.kept_trees is not None and name is not None:
            self.kept_trees[name] = tree
        return tree

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}

    def get_template(
        self,
        name: str | jinja2.Template,
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        """A loaded template from a plain dict when templates are not reloaded: Jinja's cache
        is an LRU behind a lock, looked up ~3 times an alert page (extends, import, render)."""
        if type(name) is not str or globals or self.auto_reload:
            return super().get_template(name, parent, globals)
        if parent is not None:
            name = self.join_path(name, parent)
        key = (self.loader, name)
        template = self._loaded.get(key)
        if template is None:
            template = self._loaded[key] = super().get_template(name)
        return template

    @cached_property
    def _loaded(self) -> dict[tuple[object, str], jinja2.Template]:
        return {}


# sitegen's own theme, which `sitegen init` copies into a new site (package data).
DEFAULT_TEMPLATES = Path(__file__).resolve().parent / "default_site" / "templates"
# Every template a page, feed or sitemap is rendered with (template_check starts from these).
PAGE_TEMPLATES = (
    "404.html",
    "alert.html",
    "archive.html",
    "area.html",
    "areas.html",
    "cap.atom",
    "feed.atom",
    "index.html",
    "history.html",
    "page.html",
    "robots.txt",
    "sitemap-index.xml",
    "sitemap.xml",
)


def template_loader(folder: Path) -> jinja2.FileSystemLoader:
    """The site's templates/ first, then sitegen's theme for a template the site does not
    have: a site made by an older `sitegen init` keeps building when a newer sitegen adds a
    page type (areas.html, sitemap-index.xml), and a site changes only what it copies in.
    The theme is part of code_key, so a cached page never outlives a theme change."""
    return jinja2.FileSystemLoader([folder, DEFAULT_TEMPLATES])


def make_environment(config: SiteConfig, language: str) -> jinja2.Environment:
    """Jinja environment for one page language: autoescape, StrictUndefined, i18n."""
    missing = templates_folder_problem(config)
    if missing is not None:
        raise BuildError(str(missing))
    env = _Environment(
        loader=template_loader(config.templates_path),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n", _ConstantGettext, _StaticInclude],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one build, fixed templates: no stat() per page (serve makes new ones)
    )
    gettext, ngettext = translator(language)
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    install_gettext(env, cast(Callable[[str], str], gettext))
    # dates are sitegen's words too: in the catalog's language, English when none ships
    ui = ui_language(language)
    env.filters["localtime"] = _per_instant(lambda value: local_time(value, ui))
    env.filters["isotime"] = _per_instant(lambda value: value.isoformat())
    env.filters["link"] = urls.linker(config)  # a site URL as a page links it (a base path)
    env.globals.update(
        alert_url=urls.alert_url,
        cap_url=urls.cap_url,
        area_url=lambda slug, lang=language: urls.area_url(config, slug, lang),
        areas_url=lambda lang=language: urls.areas_url(config, lang),
        home_url=lambda lang=language: urls.home_url(config, lang),
        archive_url=lambda lang=language: urls.archive_url(config, lang),
        feed_url=lambda lang=language: urls.feed_url(config, lang),
        absolute=lambda url: urls.absolute(config, url),
        named_in_row=named_in_row,
        config=config,
        language_names=LANGUAGE_NAMES,
        # `_` of another language, for the one page all languages share (404.html)
        gettext_in=lambda lang: _direct_gettext(cast(Callable[[str], str], translator(lang)[0])),
    )
    return env


def _per_instant(format: Callable[[datetime], str]) -> Callable[[datetime], str]:
    """A time filter that formats each datetime object once: an alert's instants are shown on
    its pages, in its history and in the listings (~130,000 calls at 10,000 alerts, half of
    them for an instant shown before). Known by identity, not equality: equal instants in two
    timezones format differently; the memo holds the datetime, so its id is not reused."""
    known: dict[int, tuple[datetime, str]] = {}

    def formatted(value: datetime) -> str:
        found = known.get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        text = format(value)
        if type(value) is datetime and len(known) < _KNOWN_MAX:
            known[id(value)] = (value, text)
        return text

    return formatted


def templates_folder_problem(config: SiteConfig) -> Problem | None:
    """The site's templates/ folder, when it is missing or cannot be read (which must stop
    the build: the theme would silently stand in for every template it holds)."""
    if config.templates_path.is_dir():
        try:
            with os.scandir(config.templates_path) as entries:
                next(entries, None)
        except OSError as exc:
            return Problem(str(config.templates_path), 0, cannot_read(exc, "folder"))
        return None
    return Problem(
        str(config.templates_path),
        0,
        "templates folder not found; create it (it may stay empty: a template it lacks "
        "comes from sitegen's own theme)",
    )


def compile_templates(environments: dict[str, jinja2.Environment]) -> None:
    """Load (compile, or read from the bytecode cache) every file of the templates folder in
    every language, so that forked render workers inherit them instead of each compiling its
    own (~30 ms a language): the page templates, and those they extend, import and include at
    run time. A file that is not a template, or a broken one, is left for the page that needs
    it to report, with its file and line."""
    for env in environments.values():
        for name in env.list_templates():
            with contextlib.suppress(jinja2.TemplateError, UnicodeDecodeError, OSError):
                env.get_template(name)


class SiteView:
    """Everything the templates need about a site, computed once per build."""

    def __init__(self, site: Site, config: SiteConfig) -> None:
        site = issued(site)  # what is not sent yet is not shown anywhere
        self.site = site
        self.config = config
        self.standings = standings(site)
        self.updated = site_updated(site)

    @cached_property
    def areas(self) -> dict[str, dict[str, str]]:
        """Area slug → {language: display name}, from every published alert."""
        names: dict[str, dict[str, str]] = {}
        for standing in self.standings.values():
            for version in standing.group.versions:
                for area in version.areas:
                    names.setdefault(area.slug, {}).setdefault(version.language, area.name)
        return dict(sorted(names.items()))

    @cached_property
    def _items(self) -> dict[tuple[str, str], Item]:
        return {}

    @cached_property
    def _places(self) -> dict[int, tuple[tuple[AlertGroup, ...], dict[str, int]]]:
        return {}

    def place(self, standing: Standing) -> int:
        """Where the alert is in its update chain, from 0 (each chain indexed once: a chain's
        messages share it, and `index` on each would be N² for N messages)."""
        chain = standing.history
        found = self._places.get(id(chain))
        if found is None or found[0] is not chain:
            found = (chain, {g.id: i for i, g in enumerate(chain)})
            self._places[id(chain)] = found
        return found[1][standing.group.id]

    @cached_property
    def _chain_digests(self) -> dict[int, tuple[tuple[AlertGroup, ...], str]]:
        return {}

    def chain_digest(self, standing: Standing) -> str:
        """Of an update chain longer than an alert page lists (HISTORY_SHOWN), a digest of
        every message in it (each chain digested once: its messages share it); "" for a
        shorter chain, all of whose messages a unit names already. Alert and listing units
        hold it (`_alert_chain`, `_listed_as`): a unit names only the messages its pages
        list, but a template can reach the whole chain (`standing.history`, an Item's
        standing), so an edit to any message must re-render every page of the chain."""
        chain = standing.history
        if len(chain) <= HISTORY_SHOWN:
            return ""
        found = self._chain_digests.get(id(chain))
        if found is None or found[0] is not chain:
            described = repr(chain).encode("utf-8", "surrogatepass")
            found = (chain, hashlib.blake2b(described, digest_size=16).hexdigest())
            self._chain_digests[id(chain)] = found
        return found[1]

    def item(self, standing: Standing, language: str) -> Item:
        """An alert as listed in `language` (made once per build: home, area and archive
        pages and alert histories list the same alerts)."""
        group = standing.group
        made = self._items.get((group.id, language))
        if made is not None and made.standing is standing:
            return made
        alert = group.version(language) or group.primary
        latest = self.standings.get(standing.latest.id, standing)
        shown = shown_phase(standing, latest)
        made = Item(group, alert, standing, urls.alert_url(group, language), shown)
        self._items[group.id, language] = made
        return made

    @cached_property
    def _listed(self) -> list[Standing]:
        """Alerts listed on the home page, most severe first (computed once, not per area)."""
        show_tests = self.config.show_tests_on_home
        chosen = [s for s in self.standings.values() if is_listed_on_home(s, show_tests)]
        chosen.sort(key=_most_severe_first)
        return chosen

    def active_items(self, language: str, area: str | None = None) -> list[Item]:
        return [self.item(s, language) for s in self.active_standings(area)]

    def active_standings(self, area: str | None = None) -> list[Standing]:
        return [
            s
            for s in self._listed
            if area is None or any(a.slug == area for a in s.group.primary.areas)
        ]

    def exercise_items(self, language: str) -> list[Item]:
        return [self.item(s, language) for s in self.exercise_standings()]

    def exercise_standings(self) -> list[Standing]:
        """Exercises and tests in force, when they are kept off the list of alerts in force:
        most severe first, as that list (the home page shows `home_max_alerts` of them)."""
        chosen = [
            s
            for s in self.standings.values()
            if s.phase is Phase.ACTIVE and not is_listed_on_home(s, self.config.show_tests_on_home)
        ]
        return sorted(chosen, key=_most_severe_first)

    @cached_property
    def _cancels(self) -> list[Standing]:
        """Cancels in force, newest first (`lifecycle.is_cancel_in_force`)."""
        now, show_tests = self.site.now, self.config.show_tests_on_home
        return newest_first(
            s for s in self.standings.values() if is_cancel_in_force(s, now, show_tests)
        )

    def cancelled_standings(self, area: str | None = None) -> list[Standing]:
        """The Cancels in force the home page (or the page of `area`) names under "Recently
        cancelled": without them it said only "No alerts are in force right now" minutes
        after it listed the alert, and the Cancel's words were in the archive alone."""
        return [
            s
            for s in self._cancels
            if area is None or any(a.slug == area for a in s.group.primary.areas)
        ]

    def feed_standings(self) -> list[Standing]:
        """The page feed's entries (before it is fitted to its byte limit)."""
        return feed_standings(self.standings.values(), self.site.now, FEED_ENTRIES)

    def cap_standings(self) -> list[Standing]:
        """The CAP index's entries."""
        return cap_index(self.standings.values(), self.site.now)

    @cached_property
    def _archived(self) -> list[Standing]:
        chosen = [
            s
            for s in self.standings.values()
            if s.phase in (Phase.EXPIRED, Phase.CANCELLED, Phase.SUPERSEDED)
        ]
        return newest_first(chosen)

    def archive_items(self, language: str) -> list[Item]:
        return [self.item(s, language) for s in self._archived]

    def area_name(self, slug: str, language: str) -> str:
        names = self.areas[slug]
        return (
            names.get(language)
            or names.get(self.config.default_language)
            or next(iter(names.values()))
        )

    def structure(self) -> Structure:
        """The site's shape as ids (see Structure)."""

        def ids(chosen: list[Standing]) -> tuple[str, ...]:
            return tuple(s.group.id for s in chosen)

        return Structure(
            self.updated.isoformat(),
            tuple((slug, tuple(names.items())) for slug, names in self.areas.items()),
            ids(self._listed),
            ids(self._archived),
            ids(self.exercise_standings()),
            ids(self.feed_standings()),
            ids(self.cap_standings()),
            tuple((slug, ids(self.active_standings(slug))) for slug in self.areas),
            ids(self._cancels),
            tuple((slug, ids(self.cancelled_standings(slug))) for slug in self.areas),
        )


def _most_severe_first(standing: Standing) -> tuple[int, float, str]:
    alert = standing.group.primary
    return (alert.severity.rank, -alert.sent.timestamp(), standing.group.id)


@dataclass(frozen=True, slots=True)
class Structure:
    """What a site's listings, feeds and page frames are made of, as alert ids in order: all
    of it follows from the alerts' shapes (`model.shape`: everything but their text) and
    `now`. A build in which no alert's shape changed reuses the last build's (build.py,
    "patch builds") instead of assembling all 10,000 alerts again. Plain data: it is cached."""

    updated: str  # SiteView.updated, ISO 8601
    areas: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # SiteView.areas
    listed: tuple[str, ...]  # on the home page, in order
    archived: tuple[str, ...]
    exercises: tuple[str, ...]
    feed: tuple[str, ...]
    cap: tuple[str, ...]
    by_area: tuple[tuple[str, tuple[str, ...]], ...]  # area slug → its active alerts
    cancels: tuple[str, ...]  # Cancels in force, newest first
    cancels_by_area: tuple[tuple[str, tuple[str, ...]], ...]  # area slug → its Cancels in force


# An alert a PartialView does not hold, in the place a list has for it: any use fails loudly.
_ABSENT = cast(Standing, None)


class PartialView(SiteView):
    """A SiteView of only some alerts of a site whose Structure is known: listings keep every
    alert's place, and hold the standings of the alerts this view has (the others are
    `_ABSENT`). Units made from it (`site_units(..., wanted)`) are exactly the full view's,
    as long as they show only alerts it holds and it holds each of them with its whole
    reference component (standings are computed within components)."""

    def __init__(self, site: Site, config: SiteConfig, structure: Structure) -> None:
        super().__init__(site, config)
        self.known = structure
        self.updated = datetime.fromisoformat(structure.updated)
        self._by_area = {slug: self._find(ids) for slug, ids in structure.by_area}
        self._cancels_by_area = {slug: self._find(ids) for slug, ids in structure.cancels_by_area}

    def _find(self, ids: tuple[str, ...]) -> list[Standing]:
        return [self.standings.get(i, _ABSENT) for i in ids]

    @cached_property
    def areas(self) -> dict[str, dict[str, str]]:
        return {slug: dict(names) for slug, names in self.known.areas}

    @cached_property
    def _listed(self) -> list[Standing]:
        return self._find(self.known.listed)

    @cached_property
    def _archived(self) -> list[Standing]:
        return self._find(self.known.archived)

    def active_standings(self, area: str | None = None) -> list[Standing]:
        return self._listed if area is None else self._by_area[area]

    def exercise_standings(self) -> list[Standing]:
        return self._find(self.known.exercises)

    @cached_property
    def _cancels(self) -> list[Standing]:
        return self._find(self.known.cancels)

    def cancelled_standings(self, area: str | None = None) -> list[Standing]:
        return self._cancels if area is None else self._cancels_by_area[area]

    def feed_standings(self) -> list[Standing]:
        return self._find(self.known.feed)

    def cap_standings(self) -> list[Standing]:
        return self._find(self.known.cap)


def page_specs(view: SiteView) -> Iterator[PageSpec]:
    """Every page of the site with its template and context (no rendering yet)."""
    yield from _listing_specs(view)
    for standing in view.standings.values():
        for version in standing.group.versions:
            yield _alert_spec(view, standing, version)
        yield from history_specs(view, standing)
    yield from _static_specs(view)


def _listing_specs(view: SiteView) -> Iterator[PageSpec]:
    """Home, archive and area pages in every language (archive and areas paginated)."""
    for listing in _listings(view):
        yield listing if isinstance(listing, PageSpec) else listing.spec()


def _listings(
    view: SiteView, wanted: Callable[[str], bool] | None = None
) -> Iterator[PageSpec | Listing]:
    """`_listing_specs`, with archive and area pages not made into specs yet. `wanted`: make
    the home pages only when it says yes to their URL (their items are made at once)."""
    for language in view.config.languages:
        if wanted is None or wanted(urls.home_url(view.config, language)):
            yield _home_spec(view, language)
        yield from _archive_listings(view, language)
        yield from areas_index_specs(view, language, wanted)
        for slug in view.areas:
            yield from _area_listings(view, slug, language)


@dataclass(frozen=True, slots=True)
class Listing:
    """A page of a paginated list before its items are made (20,000 Items for a 10,000-alert
    archive in two languages, when a one-alert rebuild renders a page or two of them): its
    context lacks only "items", which `spec()` makes from `standings`."""

    url: str
    template: str
    language: str
    context: dict[str, Any] = field(hash=False)  # "items" is None
    standings: list[Standing] = field(hash=False)
    view: SiteView = field(hash=False)
    cancelled: list[Standing] = field(default_factory=list, hash=False)  # "cancelled" too

    def spec(self) -> PageSpec:
        context = dict(self.context)
        context["items"] = [self.view.item(s, self.language) for s in self.standings]
        context["cancelled"] = [self.view.item(s, self.language) for s in self.cancelled]
        return PageSpec(self.url, self.template, self.language, context)


def _static_specs(view: SiteView) -> Iterator[PageSpec]:
    """Pages from content/pages/ and the 404 page."""
    config = view.config
    for page in view.site.pages:
        yield PageSpec(
            urls.page_url(config, page.slug, page.language),
            "page.html",
            page.language,
            _base(
                view,
                page.language,
                page.title,
                "",
                [],
                page=page,
                body=render_body(page.body, config.base_url).markup,
            ),
        )
    yield not_found_spec(view)


def not_found_spec(view: SiteView) -> PageSpec:
    """The 404 page: served for any missing URL, so it names no canonical URL of its own (a
    crawler would take every missing address for a copy of /404.html), and its title says
    what happened, in the site's default language. A CDN has one such page for every reader,
    so its text follows in each other site language (`other_languages`: the language of the
    text, its direction and that language's home page; a language with no catalog would
    repeat the English, and is left out unless no English is there yet)."""
    config = view.config
    language = config.default_language
    title = fixed_text("Page not found", language)
    shown = {ui_language(language)}
    others = []
    for other in config.languages:
        ui = ui_language(other)
        if ui not in shown:
            shown.add(ui)
            home = urls.home_url(config, other)
            others.append({"lang": ui, "dir": KNOWN_LANGUAGES.get(ui, "ltr"), "home": home})
    context = _base(view, language, title, "", [], canonical=False, other_languages=others)
    return PageSpec("/404.html", "404.html", language, context)


def fixed_text(message: str, language: str) -> str:
    """A fixed text of ours that Python puts in a page (a <title>), translated as `_()` does
    it in templates: from the catalog, else the English text."""
    return catalog(language).get(message) or message


def _alternates(view: SiteView, make_url: Any) -> list[tuple[str, str]]:
    return [(lang, urls.absolute(view.config, make_url(lang))) for lang in view.config.languages]


def _home_spec(view: SiteView, language: str) -> PageSpec:
    listed = view.active_standings()
    exercises = view.exercise_standings()
    most = view.config.home_max_alerts  # the exercises' list is bounded as the main one
    context = _base(
        view,
        language,
        "",
        view.config.description_for(language),
        _alternates(view, lambda lang: urls.home_url(view.config, lang)),
        items=[view.item(s, language) for s in listed[:most]],
        total=len(listed),
        exercises=[view.item(s, language) for s in exercises[:most]],
        exercise_total=len(exercises),
        cancelled=[view.item(s, language) for s in view.cancelled_standings()[:most]],
    )
    return PageSpec(urls.home_url(view.config, language), "index.html", language, context)


def _archive_spec(view: SiteView, language: str) -> PageSpec:
    """The first archive page."""
    return next(iter(_archive_specs(view, language)))


def _archive_specs(view: SiteView, language: str) -> list[PageSpec]:
    """Past alerts, newest first, LIST_PAGE_SIZE per page: /archive/, /archive/page/2/, …"""
    return [listing.spec() for listing in _archive_listings(view, language)]


def _archive_listings(view: SiteView, language: str) -> list[Listing]:
    listed = view._archived
    specs = []
    for number, chunk, pager in _pages(listed, lambda lang: urls.archive_url(view.config, lang)):
        page = pager(language)
        context = _base(
            view,
            language,
            _list_title(fixed_text("Archive", language), page, language),
            "",
            _alternates(
                view, lambda lang, n=number: _paged(urls.archive_url(view.config, lang), n)
            ),
            items=None,
            pager=page,
        )
        url = _paged(urls.archive_url(view.config, language), number)
        specs.append(Listing(url, "archive.html", language, context, chunk, view))
    return specs


def _area_spec(view: SiteView, slug: str, language: str) -> PageSpec:
    """The first page of an area."""
    return _area_specs(view, slug, language)[0]


def _area_specs(view: SiteView, slug: str, language: str) -> list[PageSpec]:
    """Alerts in force for one area, LIST_PAGE_SIZE per page."""
    return [listing.spec() for listing in _area_listings(view, slug, language)]


def _area_listings(view: SiteView, slug: str, language: str) -> list[Listing]:
    name = view.area_name(slug, language)
    listed = view.active_standings(slug)
    specs = []
    for number, chunk, pager in _pages(listed, lambda lang: urls.area_url(view.config, slug, lang)):
        page = pager(language)
        context = _base(
            view,
            language,
            _list_title(name, page, language),
            "",
            _alternates(
                view, lambda lang, n=number: _paged(urls.area_url(view.config, slug, lang), n)
            ),
            area_name=name,
            slug=slug,
            items=None,
            total=len(listed),
            pager=page,
        )
        url = _paged(urls.area_url(view.config, slug, language), number)
        cancelled = view.cancelled_standings(slug) if number == 1 else []
        specs.append(Listing(url, "area.html", language, context, chunk, view, cancelled))
    return specs


def areas_index_specs(
    view: SiteView, language: str, wanted: Callable[[str], bool] | None = None
) -> list[PageSpec]:
    """Every area, by its name in `language`, with how many alerts are in force there (its
    area page's count), LIST_PAGE_SIZE per page: /areas/, /areas/page/2/, … The home page
    lists only `home_max_alerts` and sends readers to their area: this is how they find it.
    `wanted`: make them only when it says yes to one of their URLs."""
    config = view.config

    def first(lang: str) -> str:
        return urls.areas_url(config, lang)

    count = max(1, -(-len(view.areas) // LIST_PAGE_SIZE))
    if wanted is not None and not any(wanted(_paged(first(language), n + 1)) for n in range(count)):
        return []
    entries = sorted(
        (
            (view.area_name(slug, language), urls.area_url(config, slug, language), slug)
            for slug in view.areas
        ),
        key=lambda entry: (entry[0].casefold(), entry[0], entry[2]),
    )
    rows = [(name, url, len(view.active_standings(slug))) for name, url, slug in entries]
    specs = []
    for number, chunk, pager in _pages(rows, first):
        page = pager(language)
        context = _base(
            view,
            language,
            _list_title(fixed_text("Areas", language), page, language),
            "",
            _alternates(view, lambda lang, n=number: _paged(first(lang), n)),
            areas=chunk,
            pager=page,
        )
        specs.append(PageSpec(_paged(first(language), number), "areas.html", language, context))
    return specs


@dataclass(frozen=True, slots=True)
class Pager:
    """Where a page of a long list stands: page `number` of `count`, and its neighbours."""

    number: int
    count: int
    newer: str | None  # URL of the previous page (newer or more severe alerts)
    older: str | None  # URL of the next page


def _list_title(title: str, pager: Pager, language: str) -> str:
    """A list page's title, with its number from page 2 on: a reader who follows "Next page"
    hears where they are, and tabs and history tell the pages apart (WCAG 2.4.2)."""
    if pager.number == 1:
        return title
    numbers = {"number": pager.number, "count": pager.count}
    return f"{title} · {fixed_text('Page %(number)d of %(count)d', language) % numbers}"


def _pages(items: list[T], first_url: Any) -> Iterator[tuple[int, list[T], Any]]:
    """(page number, its items, language → Pager) for each page; one page even when empty."""
    count = max(1, -(-len(items) // LIST_PAGE_SIZE))
    for number in range(1, count + 1):
        chunk = items[(number - 1) * LIST_PAGE_SIZE : number * LIST_PAGE_SIZE]

        def pager(language: str, n: int = number) -> Pager:
            url = first_url(language)
            return Pager(
                n,
                count,
                _paged(url, n - 1) if n > 1 else None,
                _paged(url, n + 1) if n < count else None,
            )

        yield number, chunk, pager


def _paged(first: str, number: int) -> str:
    """URL of page `number` of a list whose first page is `first` (/archive/ → /archive/page/2/)."""
    return first if number == 1 else f"{first}page/{number}/"


def _alert_spec(view: SiteView, standing: Standing, alert: Alert) -> PageSpec:
    group = standing.group
    body = render_body(alert.body, view.config.base_url)
    alternates = [
        (v.language, urls.absolute(view.config, urls.alert_url(group, v.language)))
        for v in group.versions
    ]
    chain = standing.history
    shown = history_positions(len(chain), view.place(standing))
    history = [view.item(view.standings[chain[i].id], alert.language) for i in shown]
    latest = view.item(view.standings[standing.latest.id], alert.language)
    full = history_url(chain[0], alert.language) if len(shown) < len(chain) else None
    # the history is in the page's language only when the chain's first message has it
    history_lang = alert.language if chain[0].version(alert.language) else chain[0].primary.language
    context = _base(
        view,
        alert.language,
        alert.title,
        f"{alert.severity.value}: {body.summary}",
        alternates,
        og_type="article",
        alert=alert,
        group=group,
        standing=standing,
        body=body.markup,
        summary=body.summary,
        history=history,
        history_gaps=_history_gaps(shown, full),
        history_url=full,
        history_lang=history_lang,
        history_count=len(chain),
        latest=latest,
        phase=standing.phase.value,
        shown_phase=shown_phase(standing, view.standings[standing.latest.id]).value,
    )
    # Last updated: when what this page shows last changed (content, not the clock)
    context["updated"] = standing.changed
    return PageSpec(urls.alert_url(group, alert.language), "alert.html", alert.language, context)


def history_positions(count: int, current: int) -> list[int]:
    """Positions (oldest first, from 0) of the messages an alert page's history lists, of a
    chain of `count` messages whose message `current` the page shows: all of them up to
    HISTORY_SHOWN; else the first, those around this one and the latest few, a gap of a
    single message filled (a link to one message would be no shorter than it)."""
    if count <= HISTORY_SHOWN:
        return list(range(count))
    around = range(max(0, current - HISTORY_AROUND), min(count, current + HISTORY_AROUND + 1))
    kept = sorted({0, *around, *range(count - HISTORY_LATEST, count)})
    single = [a + 1 for a, b in zip(kept, kept[1:], strict=False) if b - a == 2]
    return sorted([*kept, *single])


@dataclass(frozen=True, slots=True)
class HistoryGap:
    """Messages of a chain an alert page does not list, before the entry it goes with: how
    many, and the full history page where the first of them is (WCAG 2.4.4: the link says
    where it goes)."""

    count: int
    url: str
    # Places in the chain, from 1, of the first message not listed and of the next listed:
    # the gap's entry and the next one are numbered so (<li value>), as in the full history.
    first: int
    number: int


def _history_gaps(shown: list[int], full: str | None) -> list[HistoryGap | None]:
    """For each listed message, the gap before it (None: none, as on every short chain)."""
    gaps: list[HistoryGap | None] = [None]
    for before, at in zip(shown, shown[1:], strict=False):
        first = before + 1
        if at == first or full is None:
            gaps.append(None)
        else:
            page = _paged(full, first // LIST_PAGE_SIZE + 1)
            gaps.append(HistoryGap(at - first, page, first + 1, at + 1))
    return gaps


def history_url(first: AlertGroup, language: str) -> str:
    """The full history of a long update chain whose first message is `first`, in
    `language` when that message has it (else in its primary language), as its pages do."""
    return urls.alert_url(first, language) + "history/"


def has_history_pages(standing: Standing) -> bool:
    """Whether the alert's unit makes its chain's full history pages: it is the first
    message of a chain too long for its pages to list it all."""
    chain = standing.history
    return chain[0] is standing.group and len(chain) > HISTORY_SHOWN


def history_specs(view: SiteView, standing: Standing) -> list[PageSpec]:
    """The full history pages of the chain `standing` starts, in each of its languages
    (none when the chain is short enough for its alert pages to list it all): every message
    once, oldest first, LIST_PAGE_SIZE a page. Only the first message of a chain has them,
    so they are made with its pages and CAP message, from the same inputs."""
    if not has_history_pages(standing):
        return []
    chain = standing.history
    latest = view.standings[standing.latest.id]
    specs = []
    for number, chunk, pager in _pages(list(chain), partial(history_url, chain[0])):
        alternates = [
            (
                v.language,
                urls.absolute(view.config, _paged(history_url(chain[0], v.language), number)),
            )
            for v in standing.group.versions
        ]
        for version in standing.group.versions:
            language = version.language
            shown = view.item(latest, language)
            title = f"{fixed_text('History of this alert', language)}: {shown.alert.title}"
            page = pager(language)
            context = _base(
                view,
                language,
                _list_title(title, page, language),
                "",
                alternates,
                items=[view.item(view.standings[g.id], language) for g in chunk],
                start=(number - 1) * LIST_PAGE_SIZE + 1,
                latest=shown,
                pager=page,
            )
            context["updated"] = standing.changed
            url = _paged(history_url(chain[0], language), number)
            specs.append(PageSpec(url, "history.html", language, context))
    return specs


def _base(
    view: SiteView,
    language: str,
    title: str,
    description: str,
    alternates: list[tuple[str, str]],
    **extra: Any,
) -> dict[str, Any]:
    ui = ui_language(language)
    return {
        "lang": language,
        "dir": KNOWN_LANGUAGES.get(language, "ltr"),
        "ui_lang": ui,  # sitegen's own words and dates (see i18n.ui_language)
        "ui_dir": KNOWN_LANGUAGES.get(ui, "ltr"),
        "site_title": view.config.title_for(language),
        "title": title,
        "description": description or view.config.description_for(language),
        "alternates": alternates if len(alternates) > 1 else [],
        "og_type": "website",
        "canonical": True,
        "updated": view.updated,
        "languages": view.config.languages,
        **extra,
    }


def render_site(site: Site, config: SiteConfig) -> tuple[Bundle, datetime]:
    """Render every page, feed and sitemap. Returns the bundle and the site's last change.
    Raises TemplateError with every template mistake (see template_check, first_per_line)."""
    view, units = all_units(site, config)
    bundle: Bundle = {}
    failures = []
    for index, unit in enumerate(units):
        try:
            files = unit.render()
        except TemplateError as exc:
            failures.append((index, exc.problems))
            continue
        for path, data in files:
            bundle[path] = make_file(path, data)
    if failures:
        raise TemplateError(first_per_line(failures))
    return bundle, view.updated


def all_units(
    site: Site, config: SiteConfig, compiled: Path | None = None
) -> tuple[SiteView, list[Unit]]:
    """The site's view and every unit of it, in site order. Raises TemplateError with the
    template mistakes found before rendering (template_check.template_problems). `compiled`:
    where a successful build of these templates (its global key) kept them compiled
    (`build.compiled_templates`): read from there, never written, and not looked at for
    mistakes, which that build had none of (as `build._Build._check_templates` trusts;
    looking costs ~0.2 s, compiling them all)."""
    from sitegen.template_check import template_problems

    view = SiteView(site, config)
    environments = {lang: make_environment(config, lang) for lang in config.languages}
    if compiled is not None:
        for lang, env in environments.items():
            env.bytecode_cache = _KeptBytecode(str(compiled / lang))
    else:
        found = template_problems(environments[config.default_language])
        if found:
            raise TemplateError(found)
    return view, site_units(view, environments)


class _KeptBytecode(jinja2.FileSystemBytecodeCache):
    """Templates a build compiled, read and never written (check writes nothing)."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        pass


def first_per_line(failures: Iterable[tuple[int, Sequence[Problem]]]) -> list[Problem]:
    """The template mistakes that rendering units met, given as (unit index, problems): one
    per template line, as the first unit in site order met it, sorted by file and line. A
    line that breaks every alert page is one problem, not thousands, and `check` and a
    build (whichever units it renders, in whichever order its workers finish) name the
    same page for it."""
    first: dict[tuple[str, int], tuple[int, Problem]] = {}
    for index, problems in failures:
        for problem in problems:
            key = (problem.path, problem.line)
            if key not in first or index < first[key][0]:
                first[key] = (index, problem)
    return [first[key][1] for key in sorted(first)]


@dataclass(frozen=True, slots=True)
class Unit:
    """A piece of the site rendered as one: an alert's pages and CAP message, or one listing
    page, static page or feed. The whole site is exactly the files of all its units.

    `inputs()` returns everything the unit's bytes depend on besides templates, config and
    sitegen itself, as data the build cache digests (sitegen.cache.Fingerprint): equal
    inputs, equal bytes. `render()` returns its files. `groups`, when not empty, names every
    alert id the inputs are made of (with `now`): while none of them changes and `now` stays
    on the same side of every instant, the inputs are unchanged (an empty tuple: the unit
    may depend on any alert, as listings do)."""

    name: str
    inputs: Callable[[], Any]
    render: Callable[[], list[tuple[str, bytes]]]
    groups: tuple[str, ...] = ()
    # With `groups`: everything else the inputs hold, as a string that changes when it does.
    token: str = ""


def sitemap_entries(
    view: SiteView, pages: list[PageSpec | Listing] | None = None
) -> list[tuple[str, str]]:
    """(URL, lastmod) of every HTML page but the 404: listing pages (all pages of paginated
    lists), static pages and every alert in every language. `pages`: the listing and static
    specs, when the caller has them already.

    lastmod comes from content, as the pages' own "Last updated" does: the site's `updated`
    for listing and static pages (their footer shows it, so their bytes changed then), and
    for an alert's pages the alert's last change (`Standing.changed`)."""
    if pages is None:
        pages = [*_listings(view), *_static_specs(view)]
    updated = view.updated.isoformat()
    found = [(spec.url, updated) for spec in pages if spec.url != "/404.html"]
    for standing in view.standings.values():
        group = standing.group
        changed = standing.changed.isoformat()
        found += [(urls.alert_url(group, v.language), changed) for v in group.versions]
        found += [(spec.url, changed) for spec in history_specs(view, standing)]
    return found


def site_units(
    view: SiteView,
    environments: dict[str, jinja2.Environment],
    wanted: set[str] | None = None,
) -> list[Unit]:
    """Every unit of the site: alerts first (the bulk), then pages, then feeds. `wanted`:
    only the units of these names (a PartialView can make only those showing its alerts)."""
    config = view.config

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    chosen = [s for gid, s in view.standings.items() if want(f"alert:{gid}")]
    closures = {s.group.id: tuple(sorted(_alert_members(view, s))) for s in chosen}
    units = [
        Unit(
            f"alert:{standing.group.id}",
            partial(_alert_inputs, view, standing),
            partial(_alert_files, view, environments, standing),
            closures[standing.group.id],
            _alert_token(view, standing),
        )
        for standing in chosen
    ]
    pages = [*_listings(view, lambda url: want(_page_name(url))), *_static_specs(view)]
    units += [
        _page_unit(environments[spec.language], spec, view, closures)
        for spec in pages
        if want(_page_name(spec.url))
    ]
    for spec in feed_specs(view, lambda url: want(_page_name(url))):
        units.append(_page_unit(environments[spec.language], spec, view, closures))
    env = environments[config.default_language]
    if wanted is None or any(map(_names_a_sitemap, wanted)):
        entries = sitemap_entries(view, pages if wanted is None else None)
        units += [
            _page_unit(env, spec)
            for spec in sitemap_specs(view, entries)
            if want(_page_name(spec.url))
        ]
    if want("page:robots.txt"):
        units.append(_page_unit(env, _robots_spec(config)))
    if want("page:cap.atom"):
        units.append(_page_unit(env, _cap_index_spec(view), view, closures))
    return units


def _page_name(url: str) -> str:
    return f"page:{url_to_path(url)}"


def _names_a_sitemap(name: str) -> bool:
    """Whether a unit name is the sitemap's or one of its parts' (see sitemap_specs)."""
    return name == "page:sitemap.xml" or name.startswith(f"page:{SITEMAP_PARTS[1:]}")


# Context entries that list alerts (as Items): what a page unit's `groups` are made of.
_ITEM_LISTS = ("items", "entries", "exercises", "cancelled")


def _page_unit(
    env: jinja2.Environment,
    page: PageSpec | Listing,
    view: SiteView | None = None,
    closures: dict[str, tuple[str, ...]] | None = None,
) -> Unit:
    path = url_to_path(page.url)
    groups: tuple[str, ...] = ()
    token = ""
    lists: list[tuple[str, list[Standing]]] = []
    if isinstance(page, Listing):
        lists = [("items", page.standings), ("cancelled", page.cancelled)]
    else:
        lists = [
            (name, [item.standing for item in page.context[name]])
            for name in _ITEM_LISTS
            if isinstance(page.context.get(name), list)
        ]
    if view is not None and closures is not None and lists:
        # A listing page is made of its items' alerts (each with its update chain) and of
        # plain values: the rest of the context's repr (an object without a stable repr makes
        # the token differ every build, which only costs a re-render).
        ids: set[str] = set()
        for _, listed in lists:
            for standing in listed:
                group_id = standing.group.id
                if group_id not in closures:
                    closures[group_id] = tuple(_alert_members(view, standing))
                ids.update(closures[group_id])
        rest = sorted((k, v) for k, v in page.context.items() if k not in _ITEM_LISTS)
        groups = tuple(sorted(ids))
        # each listed alert with what its Item shows of its chain besides its members' files
        shown = [(name, [_listed_as(view, s) for s in listed]) for name, listed in lists]
        described = repr((page.template, page.url, shown, rest)).encode("utf-8", "surrogatepass")
        token = hashlib.blake2b(described, digest_size=16).hexdigest()
    made: list[PageSpec] = []

    def spec() -> PageSpec:  # a Listing's items are made only when the unit is needed
        if not made:
            made.append(page if isinstance(page, PageSpec) else page.spec())
        return made[0]

    def inputs() -> Any:
        built = spec()
        return (built.template, built.url, built.language, built.context)

    return Unit(
        f"page:{path}",
        inputs,
        lambda: [(path, _render_feed(env, spec()))],
        groups,
        token,
    )


def _listed_as(view: SiteView, standing: Standing) -> tuple[str, str, str, str, int, str]:
    """A listed alert in a listing's token: its id, phase, latest message, last change,
    chain length and `SiteView.chain_digest` (a listing's `groups` name only its alerts'
    members, not whole chains)."""
    changed = standing.changed.isoformat()
    phase = standing.phase.value
    chain = len(standing.history)
    return (
        standing.group.id,
        phase,
        standing.latest.id,
        changed,
        chain,
        view.chain_digest(standing),
    )


def _alert_files(
    view: SiteView, environments: dict[str, jinja2.Environment], standing: Standing
) -> list[tuple[str, bytes]]:
    """An alert's page in each of its languages, and its CAP message."""
    files = []
    for version in standing.group.versions:
        spec = _alert_spec(view, standing, version)
        files.append((url_to_path(spec.url), _render(environments[spec.language], spec)))
    for spec in history_specs(view, standing):
        files.append((url_to_path(spec.url), _render(environments[spec.language], spec)))
    group = standing.group
    files.append((urls.cap_url(group).lstrip("/"), cap_xml(group, view.site, view.config)))
    return files


def _alert_inputs(view: SiteView, standing: Standing) -> Any:
    """What an alert's pages and CAP message are made of: its members (`_alert_members`: the
    messages its pages list, its latest one and what it references) and `_alert_chain`.

    `_alert_spec`, `history_specs` and `cap_xml` must read nothing else from the site: keep
    this in step with them (tests/perf/test_incremental.py edits sites at random to hold the
    two to it, and each thing a long chain's pages show: test_a_long_chain_page_s_key_...)."""
    members = _alert_members(view, standing)
    # the groups are their ids and versions (cache._group_bytes)
    return (_alert_chain(view, standing, members), tuple(g for _, g in sorted(members.items())))


def _alert_chain(view: SiteView, standing: Standing, members: dict[str, AlertGroup]) -> str:
    """What an alert's pages show of its chain besides its members' files: the latest
    message, the chain's length, where this message is in it, when the page last changed,
    the digest of a long chain's every message (`SiteView.chain_digest`) and each member's
    phase (as the alert and as listed) and passed instants. As the repr of that plain data
    (strings, ints, None, tuples of them): a key digests it in one call, not walked value by
    value (~10,000 alert keys a clean build), and a token is its digest."""
    site = view.site
    described: list[tuple[str, str | None, str | None, str]] = []
    for group_id, group in sorted(members.items()):
        alert = group.primary
        member = view.standings.get(group_id)
        instants = (alert.sent, alert.effective, alert.expires)
        # which of its instants have passed, as one string ("110"): ~10,000 alert keys a
        # clean build, each cheaper so
        passed = "".join(["1" if t is not None and t <= site.now else "0" for t in instants])
        if member is None:
            described.append((group_id, None, None, passed))
            continue
        latest = view.standings.get(member.latest.id, member)
        listed = shown_phase(member, latest)
        described.append((group_id, member.phase.value, listed.value, passed))
    place = view.place(standing)
    changed = standing.changed.isoformat()
    whole = view.chain_digest(standing)  # the messages its pages do not list, too
    return repr(
        (standing.latest.id, len(standing.history), place, changed, whole, tuple(described))
    )


def _alert_token(view: SiteView, standing: Standing) -> str:
    """The unit's token (see Unit): `_alert_chain`, which a message added to the chain, or
    one sent, changes on every page that shows it, with no file of the page's own members
    changing. An alert that is no chain's (its own file and `now` are all it shows) has
    none."""
    if len(standing.history) == 1:
        return ""
    described = _alert_chain(view, standing, _alert_members(view, standing))
    return hashlib.blake2b(described.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _alert_members(view: SiteView, standing: Standing) -> dict[str, AlertGroup]:
    """The alerts an alert's outputs show: itself, the messages of its update chain its
    pages list (`history_positions`; every one for the first message of a long chain, whose
    unit makes the history pages), its latest message and what it references. Not the
    whole chain on every page: a chain of N messages would be N² to digest."""
    chain = standing.history
    if has_history_pages(standing):
        listed: Iterable[AlertGroup] = chain
    else:
        listed = [chain[i] for i in history_positions(len(chain), view.place(standing))]
    members = {g.id: g for g in (standing.group, standing.latest, *listed)}
    for ref in standing.group.primary.references:
        if ref in view.site.by_id:
            members[ref] = view.site.by_id[ref]
    return members


def _cap_index_spec(view: SiteView) -> PageSpec:
    lang = view.config.default_language
    context = {
        "entries": [view.item(s, lang) for s in view.cap_standings()],
        "updated": view.updated,
        "lang": lang,
    }
    return PageSpec("/cap.atom", "cap.atom", lang, context)


def _cap_outputs(view: SiteView, env: jinja2.Environment) -> Iterator[tuple[str, bytes]]:
    """Every alert's CAP message, and the CAP index (current messages only)."""
    yield from cap_files(view.site, view.config)
    yield "cap.atom", _render_feed(env, _cap_index_spec(view))


def _render_feed(env: jinja2.Environment, spec: PageSpec) -> bytes:
    """A feed keeps its newest entries within the aggregators' size limit; a sitemap must fit
    sitemaps.org's (sitemap_specs splits for what sitegen's template writes; a template that
    writes more a URL could overflow a part: refused here); others render as is."""
    if "entries" not in spec.context:
        data = _render(env, spec)
        if len(data) > SITEMAP_MAX_BYTES and _names_a_sitemap(_page_name(spec.url)):
            raise BuildError(
                f"templates/{spec.template}: {spec.url} would be {len(data):,} bytes, over the "
                f"{SITEMAP_MAX_BYTES:,} a sitemap may hold (sitemaps.org): write each URL as "
                "sitegen's own template does (<url>, <loc>, <lastmod>), on which the split relies"
            )
        return data
    return fit_feed(
        spec.context["entries"],
        lambda kept: _render(env, replace(spec, context={**spec.context, "entries": kept})),
    )


def _site_files(view: SiteView, entries: list[tuple[str, str]]) -> Iterator[PageSpec]:
    """The feeds, the sitemap (and its parts) and robots.txt."""
    yield from feed_specs(view)
    yield from sitemap_specs(view, entries)
    yield _robots_spec(view.config)


def _robots_spec(config: SiteConfig) -> PageSpec:
    return PageSpec("/robots.txt", "robots.txt", config.default_language, {})


def feed_specs(view: SiteView, wanted: Callable[[str], bool] | None = None) -> list[PageSpec]:
    """The page feed in every site language: /feed.atom in the default one, /<lang>/feed.atom
    in each other. Each lists the same alerts (a citizen needs every one), each entry in the
    feed's language when the alert has a version in it (see SiteView.item). `wanted`: only
    the feeds it says yes to by URL (their entries are made at once)."""
    config = view.config
    chosen = [
        lang for lang in config.languages if wanted is None or wanted(urls.feed_url(config, lang))
    ]
    listed = view.feed_standings() if chosen else []
    return [_feed_spec(view, listed, language) for language in chosen]


def _feed_spec(view: SiteView, listed: list[Standing], language: str) -> PageSpec:
    entries = [view.item(s, language) for s in listed]
    feed = {
        "entries": entries,
        "updates": updated_messages(view, entries, language),
        "updated": view.updated,
        "lang": language,
        "ui_lang": ui_language(language),  # the language of sitegen's own words in it
    }
    return PageSpec(urls.feed_url(view.config, language), "feed.atom", language, feed)


def updated_messages(view: SiteView, items: list[Item], language: str) -> dict[str, Updated]:
    """Of each Update among `items`, by id, the message it updates: the newest earlier message
    of its chain that it references, in `language` where it has a version. A feed entry stood
    alone in a reader, with nothing saying it updates an earlier alert. The chain is walked
    back from the Update's place (`SiteView.place`), so usually one step: an Update of a
    1,000-message chain references all 999 before it."""
    found = {}
    for item in items:
        alert = item.group.primary
        if alert.msg_type is not MsgType.UPDATE or not alert.references:
            continue
        chain = item.standing.history
        place = view.place(item.standing)
        earlier = next(
            (chain[i] for i in range(place - 1, -1, -1) if chain[i].id in alert.references),
            None,
        )
        standing = view.standings.get(earlier.id) if earlier is not None else None
        if standing is not None:
            shown = view.item(standing, language)
            found[item.group.id] = Updated(
                shown.alert.title, shown.url, shown.alert.language, shown.alert.sent
            )
    return found


def sitemap_specs(view: SiteView, entries: list[tuple[str, str]]) -> list[PageSpec]:
    """The sitemap of `sitemap_entries`, by URL: /sitemap.xml alone while it fits one file
    (SITEMAP_MAX_URLS, SITEMAP_MAX_BYTES). Past that, /sitemap.xml is a sitemap index of its
    parts, /sitemaps/1.xml, /sitemaps/2.xml, … (the URLs in order, each part filled before the
    next begins, so a build is reproducible), each listed with its newest page's lastmod."""
    lang = view.config.default_language
    parts = _sitemap_parts(view.config, sorted(entries))
    if len(parts) == 1:
        return [PageSpec("/sitemap.xml", "sitemap.xml", lang, {"pages": parts[0]})]
    specs = [
        PageSpec(f"{SITEMAP_PARTS}{number}.xml", "sitemap.xml", lang, {"pages": part})
        for number, part in enumerate(parts, 1)
    ]
    # An index may list 50,000 parts too: ≥ 800 URLs a part even at the longest URL content
    # can make (64 KB of front matter), 40 million URLs, which no site of ours comes near.
    index = [(spec.url, _newest(spec.context["pages"])) for spec in specs]
    return [PageSpec("/sitemap.xml", "sitemap-index.xml", lang, {"sitemaps": index}), *specs]


# What sitemap.xml writes for one URL besides the URL and its lastmod, and at most around all
# of them (XML declaration, <urlset>): what a part's bytes are counted with.
_SITEMAP_ROW = len("<url><loc></loc><lastmod></lastmod></url>\n")
_SITEMAP_FRAME = 1_000


def _sitemap_parts(
    config: SiteConfig, entries: list[tuple[str, str]]
) -> list[list[tuple[str, str]]]:
    """Sorted (URL, lastmod) entries cut into sitemaps of at most SITEMAP_MAX_URLS entries and
    SITEMAP_MAX_BYTES bytes as sitemap.xml writes them; one list (maybe empty) when all fit.
    At ~130 bytes a URL, 50,000 take ~6.5 MB: the byte limit binds only for URLs ~1 KB long (a
    very long base_url or area names), but nothing in content or config forbids those."""
    budget = SITEMAP_MAX_BYTES - _SITEMAP_FRAME
    if entries:  # a character is at most 5 bytes escaped ("&amp;", UTF-8 up to 4)
        longest = len(config.base_url) + max(map(len, map(itemgetter(0), entries)))
        row = _SITEMAP_ROW + max(map(len, map(itemgetter(1), entries))) + 5 * longest
        if SITEMAP_MAX_URLS * row <= budget:
            step = SITEMAP_MAX_URLS  # no part can reach the byte limit (~4 ms, not 60, at 60,000)
            return [entries[i : i + step] for i in range(0, len(entries), step)]
    parts: list[list[tuple[str, str]]] = [[]]
    size = 0
    for url, lastmod in entries:
        row = _SITEMAP_ROW + len(lastmod) + len(escape(urls.absolute(config, url)).encode())
        if parts[-1] and (len(parts[-1]) == SITEMAP_MAX_URLS or size + row > budget):
            parts.append([])
            size = 0
        parts[-1].append((url, lastmod))
        size += row
    return parts


def _newest(entries: list[tuple[str, str]]) -> str:
    """The latest lastmod of `entries`, as written there (compared as instants: their UTC
    offsets may differ)."""
    return max((lastmod for _, lastmod in entries), key=datetime.fromisoformat)


def _render(env: jinja2.Environment, spec: PageSpec) -> bytes:
    """One page's bytes; a template's mistake is a TemplateError at its file and line."""
    try:
        template = env.get_template(spec.template)
        return template.render(spec.context, page_url=spec.url).encode("utf-8")
    except BuildError:
        raise
    except jinja2.TemplateSyntaxError as exc:  # template_check found it first, unless its
        from sitegen.template_check import syntax_problem  # name is computed at run time

        raise TemplateError([syntax_problem(env, exc)]) from exc
    except jinja2.TemplateNotFound as exc:
        found = Problem(f"templates/{exc.name}", 0, f"template not found (needed for {spec.url})")
        raise TemplateError([found]) from exc
    except Exception as exc:  # a template's own mistake (a typo, `title + 1`), or our bug
        loader = cast(jinja2.FileSystemLoader, env.loader)
        located = template_frame(exc, Path(loader.searchpath[0]))
        if isinstance(exc, jinja2.UndefinedError):
            name, line = located or (spec.template, 0)
            message = f"{exc.message} (while rendering {spec.url})"
        elif located is None:
            raise  # no template line on the way: an internal error
        elif traceback.extract_tb(exc.__traceback__)[-1].filename.endswith(located[0]):
            name, line = located
            message = f"{exc} (while rendering {spec.url})"
        else:  # in a filter or function this line calls: likely what it passed
            name, line = located
            message = (
                f"{type(exc).__name__} in what this line calls: {exc} (while rendering "
                f"{spec.url}); check the values it passes (if they are right, it is a bug in "
                "sitegen: please report it)"
            )
        found = Problem(f"templates/{name}", line, theme_note(loader, name) + message)
        raise TemplateError([found]) from exc


def theme_note(loader: jinja2.FileSystemLoader, name: str) -> str:
    """What a message about template `name` starts with when the file is sitegen's own (the
    site's templates/, first on the loader's path, has no such file): else nothing."""
    if (Path(loader.searchpath[0]) / name).is_file():
        return ""
    return "in sitegen's own theme (your templates/ has no such file): "


def template_frame(exc: BaseException, folder: Path) -> tuple[str, int] | None:
    """The innermost template frame of a rendering error: (template name, line), in the
    site's templates `folder` or in the theme `template_loader` falls back to. Jinja gives a
    template's code the template file's path and lines; the folder may be a symlink."""
    roots = {os.path.join(str(f), "") for f in (folder, folder.resolve(), DEFAULT_TEMPLATES)}
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        root = next((r for r in roots if frame.filename.startswith(r)), None)
        if root is not None and frame.lineno:
            found = (frame.filename[len(root) :].replace(os.sep, "/"), frame.lineno)
    return found
