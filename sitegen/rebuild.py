"""An in-memory build that is redone incrementally: the engine behind `sitegen serve`.

`Rebuilder.rebuild(touched)` re-reads only content files whose bytes may have changed,
re-validates the site (cheap: grouping and references), then re-renders only the pages whose
input fingerprints changed (`sitegen.incremental`). The result is the same bundle a full
`render_site` gives; tests/serve/test_rebuild.py holds the two to that.

With `drafts` (the preview's), a 'TODO:' left from `sitegen new` is a "draft" problem, not an
error: the page renders with the TODO text, so the official sees it take shape. Such a bundle
is never written out (`serve.Preview`); check, build and publish still refuse it.

A failed rebuild (invalid content, a template error, a broken site.toml) changes nothing: the
last good bundle stays, and the outcome lists every problem.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import click
import jinja2

from sitegen import urls
from sitegen.advice import advice
from sitegen.build import map_chunks, pool_stopped, stored_reader
from sitegen.bundle import Bundle, make_file, manifest_bytes, url_to_path
from sitegen.cap import cap_index, cap_xml
from sitegen.config import SITE_FILE, SiteConfig, load_config, shown_path
from sitegen.content import (
    ContentFile,
    Loaded,
    Reader,
    _content_files,
    _load_alert,
    _load_page,
    assemble,
)
from sitegen.errors import (
    BuildError,
    ConfigError,
    Problem,
    SitegenError,
    TemplateError,
)
from sitegen.incremental import (
    DependencyGraph,
    changed_keys,
    fingerprint,
    template_closure,
    template_inputs,
)
from sitegen.lifecycle import Standing, published_groups
from sitegen.model import Alert, AlertGroup, Page, Site
from sitegen.options import resolve_now
from sitegen.render import (
    PageSpec,
    SiteView,
    _alert_spec,
    _archive_specs,
    _area_specs,
    _home_spec,
    _render,
    _render_feed,
    _site_files,
    areas_index_specs,
    first_per_line,
    history_specs,
    make_environment,
    not_found_spec,
    sitemap_entries,
    template_loader,
)
from sitegen.salvage import load_valid
from sitegen.template_check import site_template_problems, unescaped_warnings

Signature = tuple[int, int, int]  # (mtime_ns, size, inode) of a content file
# A file's mtime comes from the kernel's coarse clock, behind time.time_ns() by up to a tick:
# a file saved as a rebuild starts may be stamped a little before it.
RACY_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one rebuild did."""

    ok: bool
    problems: tuple[Problem, ...]  # every error when not ok; warnings either way
    changed: tuple[str, ...] = ()  # bundle paths added, changed or removed
    rendered: int = 0  # files rendered (the rest were reused)
    seconds: float = 0.0
    # the bundle after it, counted as `sitegen build` counts it: HTML pages, and all files
    pages: int = 0
    files: int = 0

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def drafts(self) -> tuple[Problem, ...]:
        """The TODOs left, when built with drafts: this bundle must not be published."""
        return tuple(p for p in self.problems if p.severity == "draft")


@dataclass(slots=True)
class _Cached:
    signature: Signature
    value: Alert | Page | None
    problems: list[Problem]


class SourceCache:
    """Loaded content files, re-read only when their signature changed or they were touched."""

    def __init__(
        self, config: SiteConfig, drafts: bool = False, stored: Reader | None = None
    ) -> None:
        self.config = config
        self.drafts = drafts
        self.stored = stored  # for a file's first read: the build's source store, read-only
        self._files: dict[str, _Cached] = {}
        self.reads = 0  # files actually read by the last `load`, for tests and the bench

    def load(self, now: datetime, touched: Iterable[Path] = ()) -> Loaded:
        """Same result as `content.load_site`, reading only what changed."""
        touched = list(touched)
        forced = {p.resolve() for p in touched} | set(touched)
        self.reads = 0
        problems: list[Problem] = []
        alerts: list[Alert] = []
        pages: list[Page] = []
        seen: set[str] = set()
        for kind, out in (("alerts", alerts), ("pages", pages)):
            for path, rel in _content_files(self.config, kind, problems):
                seen.add(rel)
                value = self._get(path, rel, kind, path in forced, problems)
                if value is not None:
                    out.append(value)  # type: ignore[arg-type]  # kind decides the type
        for rel in set(self._files) - seen:
            del self._files[rel]
        return assemble(alerts, pages, self.config, now, problems)

    def _get(
        self, path: Path, rel: str, kind: str, forced: bool, problems: list[Problem]
    ) -> Alert | Page | None:
        stat = _stat(path)
        signature = (0, 0, 0) if stat is None else _sig(stat)
        cached = self._files.get(rel)
        if cached is None or forced or cached.signature != signature:
            self.reads += 1
            found: list[Problem] = []
            value = None
            if cached is None and self.stored is not None and stat is not None:
                value = self.stored(ContentFile(kind, str(path), rel, stat), self.config, found)
            # The store holds what a build judged, without drafts: a TODO there is an error.
            if value is None or any(p.severity == "error" for p in found):
                found = []
                load = _load_alert if kind == "alerts" else _load_page
                value = load(path, rel, self.config, found, drafts=self.drafts)
            cached = _Cached(signature, value, found)
            self._files[rel] = cached
        problems.extend(cached.problems)
        return cached.value

    def signatures(self) -> dict[str, Signature]:
        """Each content file the last `load` read, with the signature it had then."""
        return {rel: cached.signature for rel, cached in self._files.items()}

    def read(
        self, file: ContentFile, config: SiteConfig, problems: list[Problem]
    ) -> Alert | Page | None:
        """A `content.Reader` that parses again only what changed since the last `load`."""
        return self._get(Path(file.fspath), file.rel, file.kind, False, problems)


@dataclass(slots=True)
class _Planned:
    path: str
    inputs: dict[str, str]
    make: Callable[[jinja2.Environment], bytes]  # renders the output in its language
    language: str


@dataclass(slots=True)
class _Templates:
    """Fingerprints of templates/ and each template's closure, recomputed when files change."""

    fingerprints: dict[str, str] = field(default_factory=dict)
    closures: dict[str, dict[str, str]] = field(default_factory=dict)

    def refresh(self, folder: Path) -> set[str]:
        current = {}
        for path in sorted(folder.rglob("*")):
            if path.is_file() and (digest := _file_fingerprint(path)) is not None:
                current[path.relative_to(folder).as_posix()] = digest
        changed = changed_keys(self.fingerprints, current)
        if changed:
            self.closures.clear()
        self.fingerprints = current
        return changed

    def paths(self, folder: Path) -> set[Path]:
        """The files of `folder` the last `refresh` found."""
        return {folder / name for name in self.fingerprints}

    def inputs(self, folder: Path, name: str) -> dict[str, str]:
        if name not in self.closures:
            closure = template_closure(template_loader(folder), name)
            self.closures[name] = template_inputs(
                closure, lambda n: self.fingerprints.get(n, "missing")
            )
        return self.closures[name]


class Rebuilder:
    """One site, built in memory and kept up to date by `rebuild`.

    `bundle` is the last good build and `headers` its Content-Type and Cache-Control per
    path, as the manifest states them (the publisher sends exactly those).
    """

    def __init__(
        self, site_file: Path, now: datetime | None = None, drafts: bool = False, jobs: int = 1
    ) -> None:
        self.site_file = site_file
        self.fixed_now = now
        self.drafts = drafts
        self.jobs = jobs  # processes that may render, when this one has no other thread
        self.bundle: Bundle = {}
        self.headers: dict[str, tuple[str, str]] = {}
        self.updated = datetime(2000, 1, 1, tzinfo=UTC)
        self.config: SiteConfig | None = None
        self._read: tuple[Loaded, datetime] | None = None  # the content the last rebuild read
        self._reset()

    def _reset(self) -> None:
        self.sources: SourceCache | None = None
        self.graph = DependencyGraph()
        self._templates = _Templates()
        self._envs: dict[str, jinja2.Environment] = {}
        self._found: list[Problem] | None = None  # what template_check found in templates/
        self._unescaped: list[Problem] = []  # its warnings at each `|safe` there
        self._alert_fps: dict[int, tuple[Alert, str]] = {}

    def rebuild(self, touched: Iterable[Path] = ()) -> Outcome:
        """Bring the bundle up to date with the files on disk; never raises for user mistakes."""
        started = time.perf_counter()
        touched = [Path(p).resolve() for p in touched]
        try:
            outcome = self._rebuild(touched)
        except SitegenError as exc:
            outcome = Outcome(False, _problems_from(exc, self.config))
        pages = sum(path.endswith(".html") for path in self.bundle)
        return replace(
            outcome,
            seconds=time.perf_counter() - started,
            pages=pages,
            files=len(self.bundle),
        )

    def _rebuild(self, touched: list[Path]) -> Outcome:
        self._read = None
        if self.config is None or self.site_file.resolve() in touched:
            self._reset()
            self.config = None
            self.config = load_config(self.site_file)
        config = self.config
        if self.sources is None:  # first reads from the build's store: ~4x faster
            self.sources = SourceCache(config, self.drafts, stored_reader(config))
        try:  # a --now without an offset is read in the timezone site.toml names now
            now = resolve_now(self.fixed_now, config)
        except click.BadParameter as exc:  # the new timezone repeats or skips that time
            return Outcome(False, (Problem(shown_path(self.site_file), 0, exc.format_message()),))
        loaded = self.sources.load(now, touched)
        self._read = (loaded, now)
        if self._templates.refresh(config.templates_path) or self._found is None:
            self._envs.clear()
            self._found = None  # not yet looked for, should the next line raise
            self._found = site_template_problems(config, self._envs)
            self._unescaped = unescaped_warnings(config)
        if loaded.site is None:
            return Outcome(False, (*loaded.problems, *self._found, *self._unescaped))
        if self._found:
            return Outcome(False, (*self._found, *loaded.problems))
        view = SiteView(loaded.site, config)
        rendered, errors = self._render(view, list(self._plan(view)))
        if errors:
            return Outcome(False, (*errors, *loaded.problems))
        changed = self._commit(rendered, view)
        return Outcome(True, (*loaded.problems, *self._unescaped), changed, len(rendered[1]))

    def changed_since(self, since_ns: int) -> list[Path]:
        """Files saved since `since_ns` (`time.time_ns`, taken before the last rebuild), or
        unlike what it read: what a watcher started after it missed. Empty when none."""
        if self.config is None or self.sources is None:  # no build read them: site.toml again
            return [self.site_file]
        since = since_ns - RACY_NS
        config, known = self.config, self.sources.signatures()
        templates = _files_in(config.templates_path)
        saved = [p for p in templates if _saved(p, since)]
        if self._config_changed():  # as read, not by its time: a new config renders it all
            saved.append(self.site_file)
        if set(templates) != self._templates.paths(config.templates_path):
            saved.append(config.templates_path)  # a template added or deleted
        seen = set()
        for kind in ("alerts", "pages"):
            for path, rel in _content_files(config, kind, []):
                seen.add(rel)
                stat = _stat(path)
                if stat is None or _saved(path, since, stat) or known.get(rel) != _sig(stat):
                    saved.append(path)
        if seen != set(known):  # a file added or deleted
            saved.append(config.content_path)
        return saved

    def _config_changed(self) -> bool:
        try:
            return repr(load_config(self.site_file)) != repr(self.config)
        except SitegenError:
            return True

    def advice(self) -> tuple[Problem, ...]:
        """check's advice (an alert expired as it is sent, a title too long for a phone) on
        the content the last rebuild read: while a file has an error, on the alerts without
        one, as `sitegen check` gives it. Asked once the new pages are served, as it takes
        ~3.5 ms at 500 alerts (`advice` works out every alert's standing again)."""
        if self._read is None or self.sources is None or self.config is None:
            return ()  # site.toml or --now could not be read: check gives no advice either
        loaded, now = self._read
        site = loaded.site
        if site is None:  # the valid part, from the files already parsed
            site = load_valid(self.config, now, self.sources.read).site
        return tuple(advice(site))

    def _render(
        self, view: SiteView, plan: list[_Planned]
    ) -> tuple[tuple[list[_Planned], dict[str, bytes]], list[Problem]]:
        config = view.config
        dirty = [
            i
            for i, page in enumerate(plan)
            if page.path not in self.bundle or not self.graph.is_fresh(page.path, page.inputs)
        ]
        for language in {plan[i].language for i in dirty} - set(self._envs):
            self._envs[language] = make_environment(config, language)
        _FORKED.plan, _FORKED.envs, _FORKED.config = plan, self._envs, config
        try:  # in workers only for many pages: the first build
            results = map_chunks(_render_pages, dirty, self.jobs, "serve")
        finally:
            _FORKED.plan, _FORKED.envs, _FORKED.config = [], {}, None
        made: list[tuple[int, bytes]] = []
        failures: list[tuple[int, tuple[Problem, ...]]] = []
        for pages, failed in results:
            made += pages
            failures += failed
        fresh = {plan[i].path: data for i, data in sorted(made)}  # in plan order, as serially
        return (plan, fresh), first_per_line(failures)  # one mistake breaks many pages

    def _commit(
        self, rendered: tuple[list[_Planned], dict[str, bytes]], view: SiteView
    ) -> tuple[str, ...]:
        plan, fresh = rendered
        cache = view.config.cache
        wanted = {page.path for page in plan}
        changed = sorted(
            {p for p in self.bundle if p not in wanted}
            | {
                p
                for p, data in fresh.items()
                if p not in self.bundle or self.bundle[p].data != data
            }
        )
        # New dicts, swapped in whole: readers on other threads never see a half-made build.
        bundle = {p: f for p, f in self.bundle.items() if p in wanted}
        headers = {p: h for p, h in self.headers.items() if p in wanted}
        for path in set(self.bundle) - wanted:
            self.graph.forget(path)
        for page in plan:
            if page.path in fresh:
                file = make_file(page.path, fresh[page.path])
                bundle[page.path] = file
                headers[page.path] = (file.content_type, cache.for_class(file.cache_class))
                self.graph.record(page.path, page.inputs)
        self.bundle, self.headers = bundle, headers
        self.updated = view.updated
        return tuple(changed)

    def manifest(self) -> bytes:
        """The manifest of the current bundle, exactly as `sitegen build` writes it."""
        assert self.config is not None
        return manifest_bytes(self.bundle, self.config.cache, self.updated)

    def headers_from_manifest(self, manifest: bytes) -> None:
        """Take every path's headers from a manifest (what the publisher will send)."""
        headers = dict(self.headers)
        for path, entry in json.loads(manifest)["files"].items():
            if path in self.bundle:
                headers[path] = (entry["content_type"], entry["cache_control"])
        self.headers = headers

    # -- planning: every output, its input fingerprints, and how to make its spec -----------

    def _plan(self, view: SiteView) -> Iterator[_Planned]:
        config = view.config
        keys = self._site_keys(view)
        base = {"config": keys["config"], "site:updated": keys["site:updated"]}

        def planned(spec: PageSpec, extra: dict[str, str]) -> _Planned:
            inputs = {**base, **extra, **self._template_inputs(config, spec.template)}
            return _Planned(
                url_to_path(spec.url), inputs, lambda env: _render(env, spec), spec.language
            )

        for language in config.languages:
            yield planned(_home_spec(view, language), _listing(keys, "home", view, language))
            archive = _listing(keys, "archive", view, language)
            for spec in _archive_specs(view, language):  # every page of a paginated list
                yield planned(spec, archive)
            for spec in areas_index_specs(view, language):
                rows = [spec.context["areas"], repr(spec.context["pager"])]
                yield planned(spec, {"areas": keys["areas"], f"list:{spec.url}": fingerprint(rows)})
            for slug in view.areas:
                for spec in _area_specs(view, slug, language):
                    yield planned(spec, {"areas": keys["areas"], **_listed(keys, spec, "area")})
        for standing in view.standings.values():
            chain = {f"alert:{g.id}": keys[f"alert:{g.id}"] for g in standing.history}
            chain[f"alert:{standing.latest.id}"] = keys[f"alert:{standing.latest.id}"]
            chain[f"alert:{standing.group.id}"] = keys[f"alert:{standing.group.id}"]
            for version in standing.group.versions:
                url = urls.alert_url(standing.group, version.language)
                inputs = {**base, **chain, **self._template_inputs(config, "alert.html")}
                yield _Planned(
                    url_to_path(url),
                    inputs,
                    partial(_render_alert, view, standing, version),
                    version.language,
                )
            for spec in history_specs(view, standing):
                yield planned(spec, chain)
        for spec in _static_specs(view):
            yield planned(spec, {f"page:{spec.url}": fingerprint(spec.context["page"])})
        yield planned(not_found_spec(view), {})
        yield from self._site_file_plan(view, keys, base)

    def _site_file_plan(
        self, view: SiteView, keys: dict[str, str], base: dict[str, str]
    ) -> Iterator[_Planned]:
        """Feeds, sitemap, robots.txt and CAP: cheap next to the pages, so the site-wide ones
        are redone whenever any input changed; each CAP message only with its alerts."""
        config, lang = view.config, view.config.default_language
        everything = {**base, "site:all": fingerprint(sorted(keys.items()))}
        for spec in _site_files(view, sitemap_entries(view)):
            inputs = {**everything, **self._template_inputs(config, spec.template)}
            path = url_to_path(spec.url)
            yield _Planned(path, inputs, partial(_render_feed_first, spec), spec.language)
        for group in published_groups(view.site):
            refs = [group.id, *group.primary.references]
            inputs = {
                "config": base["config"],
                **{f"alert:{r}": keys.get(f"alert:{r}", "") for r in refs},
            }
            yield _Planned(
                urls.cap_url(group).lstrip("/"),
                inputs,
                partial(_render_cap, group, view.site, config),
                lang,
            )
        current = cap_index(view.standings.values(), view.site.now)
        context = {"entries": [view.item(s, lang) for s in current], "updated": view.updated}
        spec = PageSpec("/cap.atom", "cap.atom", lang, {**context, "lang": lang})
        inputs = {**everything, **self._template_inputs(config, "cap.atom")}
        yield _Planned("cap.atom", inputs, lambda env: _render_feed(env, spec), lang)

    def _template_inputs(self, config: SiteConfig, name: str) -> dict[str, str]:
        return self._templates.inputs(config.templates_path, name)

    def _site_keys(self, view: SiteView) -> dict[str, str]:
        keys = {
            "config": fingerprint(repr(view.config)),
            "site:updated": view.updated.isoformat(),
            "areas": fingerprint(view.areas),
        }
        fps: dict[int, tuple[Alert, str]] = {}
        for standing in view.standings.values():
            versions = [self._alert_fp(a, fps) for a in standing.group.versions]
            history = [g.id for g in standing.history]
            keys[f"alert:{standing.group.id}"] = fingerprint(
                [versions, standing.phase, standing.latest.id, history]
            )
        self._alert_fps = fps
        return keys

    def _alert_fp(self, alert: Alert, into: dict[int, tuple[Alert, str]]) -> str:
        # Unchanged files give the very same Alert object, so its digest is computed once.
        cached = self._alert_fps.get(id(alert))
        value = cached[1] if cached is not None and cached[0] is alert else fingerprint(alert)
        into[id(alert)] = (alert, value)
        return value


@dataclass(slots=True)
class _Forked:
    """What `_render_pages` renders from; set just before forking (workers inherit it)."""

    plan: list[_Planned] = field(default_factory=list)
    envs: dict[str, jinja2.Environment] = field(default_factory=dict)
    config: SiteConfig | None = None


_FORKED = _Forked()


def _render_pages(
    indices: list[int],
) -> tuple[list[tuple[int, bytes]], list[tuple[int, tuple[Problem, ...]]]]:
    """In a forked worker (or this process): the bytes of the planned pages `indices`, and
    each failed one's problems."""
    pages: list[tuple[int, bytes]] = []
    failures: list[tuple[int, tuple[Problem, ...]]] = []
    if pool_stopped():
        return pages, failures
    for i in indices:
        page = _FORKED.plan[i]
        try:
            pages.append((i, page.make(_FORKED.envs[page.language])))
        except BuildError as exc:
            failures.append((i, _problems_from(exc, _FORKED.config)))
    return pages, failures


def _sig(stat: os.stat_result) -> Signature:
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _saved(path: Path, since_ns: int, stat: os.stat_result | None = None) -> bool:
    """Whether `path` was modified from `since_ns` on (gone: yes)."""
    stat = stat or _stat(path)
    return stat is None or stat.st_mtime_ns >= since_ns


def _files_in(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file()]


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:  # deleted between listing and reading
        return None


def _file_fingerprint(path: Path) -> str | None:
    """A template file's fingerprint; None when it is gone since listed (an editor's
    temporary file). One that cannot be read is left for the page that uses it, if any, to
    report with its name, as `sitegen build` does."""
    try:
        return fingerprint(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def _render_alert(
    view: SiteView, standing: Standing, version: Alert, env: jinja2.Environment
) -> bytes:
    return _render(env, _alert_spec(view, standing, version))


def _render_feed_first(spec: PageSpec, env: jinja2.Environment) -> bytes:
    return _render_feed(env, spec)


def _render_cap(group: AlertGroup, site: Site, config: SiteConfig, _: jinja2.Environment) -> bytes:
    return cap_xml(group, site, config)


def _listing(keys: dict[str, str], name: str, view: SiteView, language: str) -> dict[str, str]:
    if name == "home":
        cancelled = [view.item(s, language) for s in view.cancelled_standings()]
        items = view.active_items(language) + view.exercise_items(language) + cancelled
        order = [i.group.id for i in view.active_items(language)]
        order += ["--exercises--"] + [i.group.id for i in view.exercise_items(language)]
        order += ["--cancelled--"] + [i.group.id for i in cancelled]
    else:
        items = view.archive_items(language)
        order = [i.group.id for i in items]
    listed = {f"alert:{i.group.id}": keys[f"alert:{i.group.id}"] for i in items}
    return {f"list:{name}": fingerprint(order), **listed}


def _listed(keys: dict[str, str], spec: PageSpec, name: str) -> dict[str, str]:
    ids = [item.group.id for item in spec.context["items"]]
    cancelled = [item.group.id for item in spec.context["cancelled"]]
    listed = {f"alert:{i}": keys[f"alert:{i}"] for i in ids + cancelled}
    # A page of a paginated list also shows the page count and the total.
    shape = [ids, cancelled, repr(spec.context.get("pager")), spec.context.get("total")]
    return {f"list:{name}:{spec.url}": fingerprint(shape), **listed}


def _static_specs(view: SiteView) -> Iterator[PageSpec]:
    from sitegen.render import page_specs

    # Static pages are few and cheap; take their specs from the full list's tail.
    for spec in page_specs(_PagesOnly(view)):
        if spec.template == "page.html":
            yield spec


class _PagesOnly(SiteView):
    """A view with no alerts or areas, so page_specs yields only static pages cheaply."""

    def __init__(self, view: SiteView) -> None:  # noqa: D107
        self.site = view.site
        self.config = view.config
        self.standings = {}
        self.updated = view.updated
        self.__dict__["areas"] = {}


def _problems_from(exc: SitegenError, config: SiteConfig | None) -> tuple[Problem, ...]:
    """Located Problems from a build or config error (template and site.toml errors carry
    theirs)."""
    if isinstance(exc, TemplateError | ConfigError) and exc.problems:
        return exc.problems
    message = exc.format_message()
    path, _, rest = message.partition(": ")
    if rest and (path.startswith("templates/") or path.endswith(".toml")):
        return (Problem(path, 0, rest),)
    return (Problem(shown_path(config.root / SITE_FILE) if config else SITE_FILE, 0, message),)
