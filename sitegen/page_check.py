"""What `sitegen check` adds about the pages themselves, beyond the content files.

Every template mistake is an error (see template_check). A theme file copied from an earlier
sitegen and never edited, a missing translation (pages fall back to English), a page over
the 14,000-byte brotli budget, a feed that left out alerts in force (sitegen.feed_check) and
a body link to a page the site does not have are not errors: the site still builds, but a
citizen gets a worse page.

The whole site is rendered, as a build renders it: in forked workers (`build.fork_workers`) when
it has many units, each worker keeping of a file only what the warnings need (its brotli size
when it may be over the budget, a feed's bytes), so that pages are neither sent back nor held.
A unit whose key is the one the last build recorded is not rendered: its files and their sizes
are the last build's (`build.last_render`). The key is not even computed (here, as a build keeps
it) when the unit shows the same alerts as then and none of their files changed; else the
worker computes it, as a build computes it.
check writes nothing: not the output folder, not the build's cache.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from sitegen.build import (
    LastRender,
    StoredReads,
    budget_size,
    last_render,
    map_chunks,
    page_budget_warnings,
    pool_stopped,
)
from sitegen.config import SiteConfig
from sitegen.content import Loaded
from sitegen.errors import Problem, TemplateError
from sitegen.feed_check import feed_paths, feed_warnings
from sitegen.i18n_check import translation_problems
from sitegen.link_check import broken_link_warnings
from sitegen.model import Site
from sitegen.render import Unit, all_units, first_per_line
from sitegen.template_check import (
    site_template_problems,
    stale_theme_warnings,
    unescaped_warnings,
)
from sitegen.urls import base_path

# Of one rendered file: (path, budget_size, its bytes when it is a feed, else None)
_Kept = tuple[str, int, bytes | None]
# One task's result: each rendered unit's files as kept, the units whose files are the last
# build's, and each failed unit's problems
_Chunk = tuple[
    list[tuple[int, list[_Kept]]],
    list[tuple[int, tuple[str, ...]]],
    list[tuple[int, tuple[Problem, ...]]],
]


@dataclass(slots=True)
class _Work:
    """What forked workers need; set just before the fork (workers inherit it)."""

    units: list[Unit] = field(default_factory=list)
    feeds: frozenset[str] = frozenset()
    last: LastRender | None = None


_WORK = _Work()


@dataclass(frozen=True, slots=True)
class _Pages:
    """What check keeps of the rendered site."""

    sizes: dict[str, int]  # path → budget_size, for every file
    feeds: dict[str, bytes]  # path → bytes, for every feed


def with_page_problems(
    config: SiteConfig,
    loaded: Loaded,
    jobs: int | None = None,
    stored: StoredReads | None = None,
    meanwhile: Callable[[], None] = lambda: None,
) -> Loaded:
    """`loaded` plus translation warnings, every template mistake (those rendering meets
    only when the content is valid) and, when the site renders, page-size, feed and
    broken-link warnings. `jobs`: processes that may render (default: one per core).
    `stored`: what `loaded` took from the last build's cache (`build.stored_reader`'s
    `found`); given, the units the last build made of the same inputs are not rendered
    again (None: every unit is rendered).
    `meanwhile`: the caller's own work, done while forked workers render (if they do)."""
    own: list[Problem] = []
    done = False

    def own_work() -> None:  # what needs no rendering: while the workers render
        nonlocal done
        if not done:
            done = True
            own.extend(translation_problems(config) + stale_theme_warnings(config))
            own.extend(unescaped_warnings(config))
            meanwhile()

    if loaded.site is None:
        rendered = site_template_problems(config, {})
    else:
        try:
            last = None if stored is None else last_render(config, stored, loaded.site)
            jobs = jobs or os.cpu_count() or 1
            rendered = _rendered_site_warnings(config, loaded.site, jobs, last, own_work)
        except TemplateError as exc:
            rendered = list(exc.problems)
    own_work()  # if rendering did not get as far
    return dataclasses.replace(loaded, problems=(*loaded.problems, *own, *rendered))


def _rendered_site_warnings(
    config: SiteConfig,
    site: Site,
    jobs: int,
    last: LastRender | None,
    meanwhile: Callable[[], None],
) -> list[Problem]:
    """Page-size, feed and broken-link warnings of the whole site, rendered (but for what
    `last` holds). Raises TemplateError with every template mistake."""
    view, units = all_units(site, config, None if last is None else last.compiled)
    pages = _render(units, frozenset(feed_paths(config)), jobs, last, meanwhile)
    return [
        *page_budget_warnings(pages.sizes, site),
        *feed_warnings(view, pages.feeds.__getitem__),
        *broken_link_warnings(site, pages.sizes.keys(), base_path(config)),
    ]


def _render(
    units: list[Unit],
    feeds: frozenset[str],
    jobs: int,
    last: LastRender | None,
    meanwhile: Callable[[], None],
) -> _Pages:
    """Render every unit (in forked workers when there are many, as a build does), but those
    whose files `last` holds; `meanwhile` runs while the workers do."""
    kept: dict[int, list[_Kept]] = {}
    failures: list[tuple[int, tuple[Problem, ...]]] = []
    known, others = _known(units, feeds, last)
    _WORK.units, _WORK.feeds, _WORK.last = units, feeds, last
    try:
        results = map_chunks(_render_chunk, others, jobs, "check", meanwhile)
    finally:
        _WORK.units, _WORK.feeds, _WORK.last = [], frozenset(), None
    for rendered, reused, failed in [known, *results]:
        kept.update(rendered)
        if last is not None:
            outputs = last.outputs
            kept.update((i, [(p, outputs[p][2], None) for p in paths]) for i, paths in reused)
        failures += failed
    if failures:
        raise TemplateError(first_per_line(failures))
    sizes: dict[str, int] = {}
    feed_bytes: dict[str, bytes] = {}
    for index in sorted(kept):  # site order: a later unit's file replaces an earlier one's
        for path, size, data in kept[index]:
            sizes[path] = size
            if data is not None:
                feed_bytes[path] = data
    return _Pages(sizes, feed_bytes)


def _known(
    units: list[Unit], feeds: frozenset[str], last: LastRender | None
) -> tuple[_Chunk, list[int]]:
    """(As a task's result, the units whose files `last` holds by their recorded keys, not
    computed (`LastRender.kept`: ~0.5 s of CPU at 10,000 alerts); the others' indices)."""
    known: list[tuple[int, tuple[str, ...]]] = []
    others: list[int] = []
    for i, unit in enumerate(units):
        paths = None if last is None else last.kept(unit)
        if paths is not None and feeds.isdisjoint(paths):
            known.append((i, paths))
        else:
            others.append(i)
    return ([], known, []), others


def _render_chunk(indices: list[int]) -> _Chunk:
    """In a worker (or this process): render the units `indices`, keeping of each file its
    path, `budget_size` and, for a feed, its bytes; a unit whose files the last build made
    from the same inputs is only named, with those files (but a feed's, whose bytes its
    warning needs: the few feed units are rendered all the same)."""
    rendered: list[tuple[int, list[_Kept]]] = []
    reused: list[tuple[int, tuple[str, ...]]] = []
    failures: list[tuple[int, tuple[Problem, ...]]] = []
    if pool_stopped():
        return rendered, reused, failures
    last, feeds = _WORK.last, _WORK.feeds
    for i in indices:
        paths = None if last is None else last.paths(_WORK.units[i])
        if paths is not None and feeds.isdisjoint(paths):
            reused.append((i, paths))
            continue
        try:
            files = _WORK.units[i].render()
        except TemplateError as exc:  # the others are rendered still: see first_per_line
            failures.append((i, exc.problems))
            continue
        rendered.append(
            (
                i,
                [
                    (path, budget_size(path, data), data if path in _WORK.feeds else None)
                    for path, data in files
                ],
            )
        )
    return rendered, reused, failures
