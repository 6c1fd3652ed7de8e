"""The valid part of a site that has errors, for commands that must not be held up by them.

`load_site` gives no `Site` while any file has an error: right for `build` and `publish`,
which must not publish half a site. `status` and `new --update/--cancel` only need the alerts
they report on or follow up, so one colleague's unfinished draft must not stop them. This
module leaves out every alert id with a broken file (all its languages), then every alert
that references one left out, until what remains loads without errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sitegen.config import SiteConfig
from sitegen.content import (
    ContentFile,
    Loaded,
    Reader,
    load_site,
    scan_content,
    split_stem,
)
from sitegen.errors import Problem
from sitegen.model import Alert, Page, Site


@dataclass(frozen=True, slots=True)
class Salvaged:
    """Every problem of the whole content, and the site made of what is valid."""

    loaded: Loaded  # as `load_site` gave it: site None when any file has an error
    site: Site  # the valid part (the whole site when there were no errors)
    left_out: dict[str, str] = field(default_factory=dict)  # rel path → alert id (or page slug)

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.loaded.problems

    @property
    def errors(self) -> tuple[Problem, ...]:
        return self.loaded.errors


def load_valid(config: SiteConfig, now: datetime, read: Reader | None = None) -> Salvaged:
    """`load_site`, plus the largest part of the site that loads without errors (`read`: how
    a file is parsed; the preview's keeps what it parsed already; by default, what the last
    build parsed from the same bytes is taken from its cache, read-only)."""
    from sitegen.build import stored_reader

    read = read or stored_reader(config)
    files, found = scan_content(config)
    parsed: dict[str, Alert | Page | None] = {}

    def reader(
        file: ContentFile, config: SiteConfig, problems: list[Problem]
    ) -> Alert | Page | None:
        if file.rel not in parsed:  # each file is parsed once, however many passes
            value = read(file, config, problems)
            parsed[file.rel] = value if isinstance(value, Alert | Page) else None
        return parsed[file.rel]

    first = load_site(config, now, reader, (files, found))
    if first.site is not None:
        return Salvaged(first, first.site)
    ids = {f.rel: _file_id(f, parsed.get(f.rel), config) for f in files}
    left_out: set[str] = set()
    loaded = first
    while True:
        bad_ids = {ids[p.path] for p in loaded.errors if p.path in ids}
        newly = {rel for rel, key in ids.items() if key in bad_ids} - left_out
        if not newly and loaded is not first:  # no file to blame: trust nothing
            return Salvaged(first, Site((), now), {rel: ids[rel] for rel in sorted(ids)})
        left_out |= newly
        loaded = _load_without(config, now, reader, files, left_out)
        if loaded.site is not None:
            return Salvaged(first, loaded.site, {rel: ids[rel] for rel in sorted(left_out)})


def _load_without(
    config: SiteConfig, now: datetime, reader: Reader, files: list[ContentFile], out: set[str]
) -> Loaded:
    return load_site(config, now, reader, ([f for f in files if f.rel not in out], []))


def _file_id(file: ContentFile, value: Alert | Page | None, config: SiteConfig) -> str:
    """The id a file gives its alert (pages: "page:" + slug), read as far as the file allows."""
    prefix = "" if file.kind == "alerts" else "page:"
    if isinstance(value, Alert | Page):
        return prefix + (value.id if isinstance(value, Alert) else value.slug)
    return prefix + declared_id(file, config)


def declared_id(file: ContentFile, config: SiteConfig) -> str:
    """The `id:` a broken file declares, else the id its name gives."""
    from sitegen.source import read_document

    stem = file.path.name.removesuffix(".md")
    doc, _ = read_document(file.fspath, file.rel)
    explicit = doc.fields.get("id") if doc is not None else None
    if isinstance(explicit, str | int) and str(explicit).strip():
        return str(explicit).strip()
    return split_stem(stem, config.languages)[0]
