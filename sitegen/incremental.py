"""Which outputs depend on which inputs, so a rebuild re-renders only what a change touched.

Vocabulary
----------
*input key*   a string naming one thing an output is made from. The keys used by sitegen:

    ``config``               site.toml (a change there resets everything)
    ``site:updated``         the site's "last updated" instant (every page footer shows it)
    ``alert:<id>``           one alert id: all its language versions and its standing (phase,
                             latest message, history), so an Update that supersedes it changes it
    ``list:<name>``          the ordered ids a listing shows (``list:home``, ``list:archive``,
                             ``list:area:<slug>``, ``list:feed``) or the URLs (``list:urls``)
    ``areas``                area slug → display names
    ``page:<source>``        one static page from content/pages/
    ``template:<name>``      one file in templates/ (pages depend on the closure of their
                             template: extends, includes and imports)

*fingerprint* a short digest of an input's value (`fingerprint`). Two builds whose inputs have
              equal fingerprints render identical bytes for every output depending on them.

*output*      a bundle path (``alerts/x/index.html``).

API
---
``fingerprint(value) -> str``
    Stable digest of plain data: bytes, dataclasses, enums, datetimes, str, numbers, tuples, lists,
    dicts (sorted keys). Pure; the same value gives the same digest in every process.

``DependencyGraph``
    ``record(output, inputs: Mapping[key, fingerprint])`` remembers what an output was made
    from, ``forget(output)`` drops it, ``dependents(keys) -> set[output]`` answers "which
    outputs use any of these keys", ``is_fresh(output, inputs) -> bool`` answers "was this
    output made from exactly these input fingerprints" (the test a render cache needs), and
    ``outputs`` lists every recorded output.

``changed_keys(old, new) -> set[key]``
    Keys whose fingerprint differs between two ``{key: fingerprint}`` maps, including keys
    present in only one of them.

``template_closure(templates, name) -> frozenset[name]``
    The template and every template it extends, includes or imports, transitively. Unknown or
    unparsable templates are included by name (so editing them still invalidates the page).

Everything here is pure and thread-agnostic; `sitegen.rebuild` holds the state of a preview
session and is the reference user of this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

import jinja2
import jinja2.meta

Inputs = Mapping[str, str]  # input key → fingerprint


def fingerprint(value: Any) -> str:
    """A stable 128-bit digest of plain data (see the module docstring)."""
    digest = hashlib.blake2b(digest_size=16)
    _feed(digest, value)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, bytes):
        digest.update(f"bytes:{len(value)}:".encode())
        digest.update(value)
    elif value is None or isinstance(value, bool | int | float | str):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, Enum):
        digest.update(f"enum:{type(value).__name__}.{value.name};".encode())
    elif isinstance(value, datetime | date):
        digest.update(f"time:{value.isoformat()};".encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(f"dc:{type(value).__name__}(".encode())
        for item in dataclasses.fields(value):
            if item.compare:  # fields excluded from equality (source line maps) do not render
                digest.update(f"{item.name}=".encode())
                _feed(digest, getattr(value, item.name))
        digest.update(b")")
    elif isinstance(value, dict):
        digest.update(b"{")
        for key in sorted(value, key=str):
            _feed(digest, str(key))
            _feed(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, list | tuple | frozenset | set):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        digest.update(b"[")
        for item in items:
            _feed(digest, item)
        digest.update(b"]")
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def changed_keys(old: Inputs, new: Inputs) -> set[str]:
    """Keys added, removed, or whose fingerprint differs."""
    return {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


class DependencyGraph:
    """output → the input fingerprints it was rendered from.

    No reverse index is kept: the preview asks only `is_fresh`, and indexing every key of
    every page (an archive page lists thousands) cost ~1.5 s of its first build at 10,000
    alerts. `dependents` scans instead."""

    def __init__(self) -> None:
        self._inputs: dict[str, dict[str, str]] = {}

    def record(self, output: str, inputs: Inputs) -> None:
        """Remember that `output` was just made from exactly `inputs`."""
        self._inputs[output] = dict(inputs)

    def forget(self, output: str) -> None:
        self._inputs.pop(output, None)

    def dependents(self, keys: Iterable[str]) -> set[str]:
        """Every recorded output that uses any of `keys`."""
        wanted = set(keys)
        return {output for output, inputs in self._inputs.items() if not wanted.isdisjoint(inputs)}

    def is_fresh(self, output: str, inputs: Inputs) -> bool:
        """True when `output` was recorded from exactly these keys and fingerprints."""
        return self._inputs.get(output) == dict(inputs)

    def inputs_of(self, output: str) -> dict[str, str]:
        return dict(self._inputs.get(output, {}))

    @property
    def outputs(self) -> set[str]:
        return set(self._inputs)


def template_closure(templates: jinja2.BaseLoader, name: str) -> frozenset[str]:
    """`name` and every template it references, transitively (see the module docstring)."""
    env = jinja2.Environment(loader=templates, autoescape=True)
    env.add_extension("jinja2.ext.i18n")
    found: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        todo.extend(_references(env, current))
    return frozenset(found)


def _references(env: jinja2.Environment, name: str) -> list[str]:
    assert env.loader is not None
    try:
        source, _, _ = env.loader.get_source(env, name)
        tree = env.parse(source)
    except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError):
        return []
    return [ref for ref in jinja2.meta.find_referenced_templates(tree) if ref is not None]


def template_inputs(
    closure: Iterable[str], template_fingerprint: Callable[[str], str]
) -> dict[str, str]:
    """`{template:<name>: fingerprint}` for every template of a closure."""
    return {f"template:{name}": template_fingerprint(name) for name in closure}
