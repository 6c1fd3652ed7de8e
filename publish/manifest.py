"""The bundle manifest (format in docs/architecture.md): parsed and validated once, here."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

FORMAT = 1
MANIFEST_PATH = ".sitegen/manifest.json"
STATE_PREFIX = ".sitegen/"  # reserved for the publisher's own objects (manifest, lock, pending)
KEPT_PREFIX = f"{STATE_PREFIX}manifests/"  # a folder target's kept states (publish/history.py)
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Paths a build writes (letters, digits, -_.~ in segments that are neither "." nor ".."): accepted
# by one match; anything else goes through the checks below, which name the problem.
_PLAIN_PATH = re.compile(r"(?!\.sitegen/)(?:(?!\.\.?/)[\w.~-]+/)*(?!\.\.?$)[\w.~-]+", re.ASCII)


@dataclass(frozen=True, slots=True)
class Entry:
    """How one file is (or must be) served. ``sha256`` is "" when unknown (object without our
    metadata), which never equals a real digest, so such objects are always re-uploaded."""

    sha256: str
    size: int
    content_type: str
    cache_control: str
    cache_class: str = ""


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed manifest; ``id`` is the sha256 of its bytes (the lock, pending records)."""

    id: str
    format: int
    generator: str
    files: Mapping[str, Entry]


class ManifestError(ValueError):
    """The manifest cannot be used; the message says why (without the file name)."""


class FutureFormatError(ManifestError):
    """Written by a newer sitegen; we must not guess its meaning."""


def manifest_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kept_path(manifest_id: str) -> str:
    return f"{KEPT_PREFIX}{manifest_id}.json"


def folder_keeps_an_earlier_state(root: Path) -> bool:
    """Whether the folder target at ``root`` keeps a published state other than the live one,
    so that `sitegen rollback --previous` has one to restore (publish/rollback.py `choose`).
    From file names and the live manifest only: opening the target (publish/history.py)
    imports the AWS client, ~0.27 s that `sitegen status`, which asks this, does not pay."""
    try:
        live = manifest_id((root / MANIFEST_PATH).read_bytes())
    except OSError:  # nothing published (or unreadable): any kept state is an earlier one
        live = None
    try:
        kept = {file.stem for file in (root / KEPT_PREFIX).iterdir() if file.suffix == ".json"}
    except OSError:  # no folder: nothing kept
        return False
    return bool(kept - {live})


def parse_manifest(data: bytes, known: Mapping[str, Entry] | None = None) -> Manifest:
    """Bytes → Manifest, or ManifestError naming the first problems found. ``known``: the
    entries of a manifest already parsed here (the local one, when reading the remote one);
    a row equal to its entry for the same path is that entry, already checked. Most rows of
    the remote manifest are: a 7 MB one (22,661 rows) parses in 70 ms instead of 133."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise ManifestError("not a JSON object")
    fmt = doc.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise ManifestError("no integer 'format' field")
    if fmt > FORMAT:
        raise FutureFormatError(f"format {fmt} is newer than this sitegen understands ({FORMAT})")
    if fmt < 1:
        raise ManifestError(f"unknown format {fmt}")
    files = doc.get("files")
    if not isinstance(files, dict):
        raise ManifestError("no 'files' object")
    entries, problems = _entries(files, known or {})
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ManifestError("; ".join(problems[:5]) + more)
    return Manifest(
        id=manifest_id(data),
        format=fmt,
        generator=str(doc.get("generator", "")),
        files=MappingProxyType(dict(sorted(entries.items()))),
    )


def _entries(
    files: dict[str, Any], known: Mapping[str, Entry]
) -> tuple[dict[str, Entry], list[str]]:
    entries: dict[str, Entry] = {}
    problems: list[str] = []
    for path, raw in files.items():
        same = known.get(path)
        if same is not None and _is_row_of(raw, same):
            entries[path] = same
            continue
        problem = path_problem(path) or _entry_problem(raw)
        if problem:
            problems.append(f"{path!r}: {problem}")
            continue
        entries[path] = Entry(
            sha256=raw["sha256"],
            size=raw["size"],
            content_type=raw["content_type"],
            cache_control=raw["cache_control"],
            cache_class=str(raw.get("cache_class", "")),
        )
    return entries, problems


def _is_row_of(raw: object, entry: Entry) -> bool:
    """Would ``raw`` parse to ``entry``? Equal values of the types _entry_problem accepts (an
    equal float or bool is not an int here, as there)."""
    return (
        type(raw) is dict
        and raw.get("sha256") == entry.sha256
        and type(raw.get("size")) is int
        and raw["size"] == entry.size
        and raw.get("content_type") == entry.content_type
        and raw.get("cache_control") == entry.cache_control
        and raw.get("cache_class", "") == entry.cache_class
    )


def _entry_problem(raw: object) -> str | None:
    if not isinstance(raw, dict):
        return "entry is not an object"
    if not isinstance(raw.get("sha256"), str) or not _SHA256.fullmatch(raw["sha256"]):
        return "sha256 is not 64 lower-case hex digits"
    size = raw.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "size is not a non-negative integer"
    for key in ("content_type", "cache_control"):
        value = raw.get(key)
        if not isinstance(value, str) or not value or "\n" in value or "\r" in value:
            return f"{key} is missing or not a one-line text"
    return None


def path_problem(path: str) -> str | None:
    """Why a bundle path is unsafe to publish as an object key, or None when it is fine."""
    if _PLAIN_PATH.fullmatch(path):
        return None
    if not path or path.startswith("/") or "\\" in path or "//" in path:
        return "not a relative path with '/' separators"
    if any(part in (".", "..") for part in path.split("/")):
        return "contains '.' or '..'"
    if path.endswith("/"):
        return "names a folder, not a file"
    if path.startswith(STATE_PREFIX):
        return f"{STATE_PREFIX} is reserved for the publisher's state"
    if any(ord(c) < 32 for c in path):
        return "contains control characters"
    return None
