"""Site → Bundle through Jinja templates. Pure: same site and templates, same bytes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

import jinja2

from sitegen import urls
from sitegen.body import render_body
from sitegen.bundle import Bundle, make_file, url_to_path
from sitegen.cap import cap_files, cap_index, feed_standings, fit_feed
from sitegen.config import KNOWN_LANGUAGES, SiteConfig
from sitegen.errors import BuildError
from sitegen.i18n import local_time, translator
from sitegen.lifecycle import Standing, is_listed_on_home, site_updated, standings
from sitegen.model import Alert, AlertGroup, Phase, Site

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


def make_environment(config: SiteConfig, language: str) -> jinja2.Environment:
    """Jinja environment for one page language: autoescape, StrictUndefined, i18n."""
    if not config.templates_path.is_dir():
        raise BuildError(f"{config.templates_path}: templates folder not found")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(config.templates_path),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    gettext, ngettext = translator(language)
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["localtime"] = lambda value: local_time(value, language)
    env.filters["isotime"] = lambda value: value.isoformat()
    env.globals.update(
        alert_url=urls.alert_url,
        cap_url=urls.cap_url,
        area_url=lambda slug, lang=language: urls.area_url(config, slug, lang),
        home_url=lambda lang=language: urls.home_url(config, lang),
        archive_url=lambda lang=language: urls.archive_url(config, lang),
        absolute=lambda url: urls.absolute(config, url),
        config=config,
        language_names=LANGUAGE_NAMES,
    )
    return env


class SiteView:
    """Everything the templates need about a site, computed once per build."""

    def __init__(self, site: Site, config: SiteConfig) -> None:
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

    def item(self, standing: Standing, language: str) -> Item:
        group = standing.group
        alert = group.version(language) or group.primary
        return Item(group, alert, standing, urls.alert_url(group, language))

    def active_items(self, language: str, area: str | None = None) -> list[Item]:
        show_tests = self.config.show_tests_on_home
        chosen = [
            s
            for s in self.standings.values()
            if is_listed_on_home(s, show_tests)
            and (area is None or any(a.slug == area for a in s.group.primary.areas))
        ]
        chosen.sort(
            key=lambda s: (
                s.group.primary.severity.rank,
                -s.group.primary.sent.timestamp(),
                s.group.id,
            )
        )
        return [self.item(s, language) for s in chosen]

    def exercise_items(self, language: str) -> list[Item]:
        chosen = [
            s
            for s in self.standings.values()
            if s.phase is Phase.ACTIVE and not is_listed_on_home(s, self.config.show_tests_on_home)
        ]
        return [self.item(s, language) for s in sorted(chosen, key=lambda s: s.group.id)]

    def archive_items(self, language: str) -> list[Item]:
        chosen = [
            s
            for s in self.standings.values()
            if s.phase in (Phase.EXPIRED, Phase.CANCELLED, Phase.SUPERSEDED)
        ]
        chosen.sort(key=lambda s: (-s.group.primary.sent.timestamp(), s.group.id))
        return [self.item(s, language) for s in chosen]

    def area_name(self, slug: str, language: str) -> str:
        names = self.areas[slug]
        return (
            names.get(language)
            or names.get(self.config.default_language)
            or next(iter(names.values()))
        )


def page_specs(view: SiteView) -> Iterator[PageSpec]:
    """Every page of the site with its template and context (no rendering yet)."""
    config = view.config
    for language in config.languages:
        yield _home_spec(view, language)
        yield _archive_spec(view, language)
        for slug in view.areas:
            yield _area_spec(view, slug, language)
    for standing in view.standings.values():
        for version in standing.group.versions:
            yield _alert_spec(view, standing, version)
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
                body=render_body(page.body).markup,
            ),
        )
    yield PageSpec(
        "/404.html",
        "404.html",
        config.default_language,
        _base(view, config.default_language, "", "", []),
    )


def _alternates(view: SiteView, make_url: Any) -> list[tuple[str, str]]:
    return [(lang, urls.absolute(view.config, make_url(lang))) for lang in view.config.languages]


def _home_spec(view: SiteView, language: str) -> PageSpec:
    items = view.active_items(language)
    context = _base(
        view,
        language,
        "",
        view.config.description,
        _alternates(view, lambda lang: urls.home_url(view.config, lang)),
        items=items[: view.config.home_max_alerts],
        total=len(items),
        exercises=view.exercise_items(language),
    )
    return PageSpec(urls.home_url(view.config, language), "index.html", language, context)


def _archive_spec(view: SiteView, language: str) -> PageSpec:
    context = _base(
        view,
        language,
        "Archive",
        "",
        _alternates(view, lambda lang: urls.archive_url(view.config, lang)),
        items=view.archive_items(language),
    )
    return PageSpec(urls.archive_url(view.config, language), "archive.html", language, context)


def _area_spec(view: SiteView, slug: str, language: str) -> PageSpec:
    name = view.area_name(slug, language)
    context = _base(
        view,
        language,
        name,
        "",
        _alternates(view, lambda lang: urls.area_url(view.config, slug, lang)),
        area_name=name,
        slug=slug,
        items=view.active_items(language, slug),
    )
    return PageSpec(urls.area_url(view.config, slug, language), "area.html", language, context)


def _alert_spec(view: SiteView, standing: Standing, alert: Alert) -> PageSpec:
    group = standing.group
    body = render_body(alert.body)
    alternates = [
        (v.language, urls.absolute(view.config, urls.alert_url(group, v.language)))
        for v in group.versions
    ]
    history = [view.item(view.standings[g.id], alert.language) for g in standing.history]
    latest = view.item(view.standings[standing.latest.id], alert.language)
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
        latest=latest,
        phase=standing.phase.value,
    )
    context["updated"] = (
        max(g.primary.sent for g in standing.history if g.primary.sent <= view.site.now)
        if any(g.primary.sent <= view.site.now for g in standing.history)
        else alert.sent
    )
    return PageSpec(urls.alert_url(group, alert.language), "alert.html", alert.language, context)


def _base(
    view: SiteView,
    language: str,
    title: str,
    description: str,
    alternates: list[tuple[str, str]],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "lang": language,
        "dir": KNOWN_LANGUAGES.get(language, "ltr"),
        "site_title": view.config.title_for(language),
        "title": title,
        "description": description or view.config.description,
        "alternates": alternates if len(alternates) > 1 else [],
        "og_type": "website",
        "updated": view.updated,
        "languages": view.config.languages,
        **extra,
    }


def render_site(site: Site, config: SiteConfig) -> tuple[Bundle, datetime]:
    """Render every page, feed and sitemap. Returns the bundle and the site's last change."""
    view = SiteView(site, config)
    environments = {lang: make_environment(config, lang) for lang in config.languages}
    bundle: Bundle = {}
    specs = list(page_specs(view))
    for spec in specs:
        bundle[url_to_path(spec.url)] = make_file(
            url_to_path(spec.url), _render(environments[spec.language], spec)
        )
    env = environments[config.default_language]
    for template, path, extra in _site_files(view, specs):
        bundle[path] = make_file(
            path, _render_feed(env, PageSpec("/" + path, template, config.default_language, extra))
        )
    for path, data in _cap_outputs(view, env):
        bundle[path] = make_file(path, data)
    return bundle, view.updated


def _cap_outputs(view: SiteView, env: jinja2.Environment) -> Iterator[tuple[str, bytes]]:
    """Every alert's CAP message, and the CAP index (current messages only)."""
    yield from cap_files(view.site, view.config)
    lang = view.config.default_language
    current = cap_index(view.standings.values(), view.site.now)
    context = {
        "entries": [view.item(s, lang) for s in current],
        "updated": view.updated,
        "lang": lang,
    }
    yield "cap.atom", _render_feed(env, PageSpec("/cap.atom", "cap.atom", lang, context))


def _render_feed(env: jinja2.Environment, spec: PageSpec) -> bytes:
    """A feed keeps its newest entries within the aggregators' size limit; others render as is."""
    if "entries" not in spec.context:
        return _render(env, spec)
    return fit_feed(
        spec.context["entries"],
        lambda kept: _render(env, replace(spec, context={**spec.context, "entries": kept})),
    )


def _site_files(view: SiteView, specs: list[PageSpec]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    config = view.config
    newest = feed_standings(view.standings.values(), view.site.now, FEED_ENTRIES)
    feed = {
        "entries": [view.item(s, config.default_language) for s in newest],
        "updated": view.updated,
        "lang": config.default_language,
    }
    yield "feed.atom", "feed.atom", feed
    pages = [s.url for s in specs if s.url != "/404.html"]
    yield "sitemap.xml", "sitemap.xml", {"pages": sorted(pages)}
    yield "robots.txt", "robots.txt", {}


def _render(env: jinja2.Environment, spec: PageSpec) -> bytes:
    try:
        template = env.get_template(spec.template)
        return template.render(spec.context, page_url=spec.url).encode("utf-8")
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"templates/{exc.name}:{exc.lineno}: {exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise BuildError(
            f"templates/{spec.template}: {exc.message} (while rendering {spec.url})"
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise BuildError(
            f"templates/{exc.name}: template not found (needed for {spec.url})"
        ) from exc
