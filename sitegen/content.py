"""Load and validate every content file into a `Site`, collecting every problem first."""

from __future__ import annotations

import functools
import operator
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sitegen.config import SiteConfig, close_match
from sitegen.errors import ContentError, Problem, cannot_read, problem_order
from sitegen.model import (
    Alert,
    AlertGroup,
    Area,
    Category,
    Certainty,
    MsgType,
    Page,
    Severity,
    Site,
    Status,
    Urgency,
)

if TYPE_CHECKING:  # sitegen.source (libyaml) is imported when a file is parsed, not before:
    from sitegen.source import Document  # a build with nothing to do parses none

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
LANG_SUFFIX_RE = re.compile(r"^(?P<id>.+)\.(?P<lang>[a-z]{2,3})$")
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
POLYGON_RE = re.compile(r"^\s*-?\d+(\.\d+)?,-?\d+(\.\d+)?(\s+-?\d+(\.\d+)?,-?\d+(\.\d+)?){3,}\s*$")
FRACTION_RE = re.compile(r"[.,][0-9]*")
GEOCODE_RE = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")
# An area's folder name: systems refuse over 255 bytes; longer slugs end in a digest instead.
MAX_SLUG = 200
MAX_TITLE = 160

ALERT_FIELDS = {
    "id",
    "title",
    "headline",
    "event",
    "category",
    "severity",
    "urgency",
    "certainty",
    "status",
    "msg_type",
    "msgType",
    "sent",
    "effective",
    "expires",
    "areas",
    "language",
    "references",
}
AREA_FIELDS = {"name", "geocodes", "polygon", "polygons", "id"}
PAGE_FIELDS = {"title", "language", "id"}
# Fields every translation of one alert must share with its primary version.
SHARED_FIELDS = (
    "severity",
    "urgency",
    "certainty",
    "status",
    "msg_type",
    "sent",
    "expires",
    "effective",
    "references",
    "category",
)

E = TypeVar("E", bound=Enum)


@dataclass(frozen=True, slots=True)
class Loaded:
    """The outcome of `load_site`: a site when there were no errors, and every problem."""

    site: Site | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


# Reads one content file ("alerts" or "pages"), appending its problems; the build cache
# supplies one that reuses what an earlier build parsed from the same bytes.
Reader = Callable[["ContentFile", SiteConfig, list[Problem]], "Alert | Page | None"]


@dataclass(frozen=True, slots=True)
class ContentFile:
    """A content file found by `scan_content`, with the stat taken while listing."""

    kind: str  # "alerts" | "pages"
    fspath: str  # where it is (a str: a Path per file costs 5 µs, 60 ms at 12,000 files)
    rel: str  # relative to the site root, with "/"
    stat: os.stat_result

    @property
    def path(self) -> Path:
        return Path(self.fspath)


def read_content_file(
    file: ContentFile,
    config: SiteConfig,
    problems: list[Problem],
    data: bytes | None = None,
    drafts: bool = False,
) -> Any:
    """The default Reader: parse and validate the file (`data`: its bytes, when read already;
    `drafts`: a 'TODO:' left is a draft, as the preview reads it, not an error)."""
    load = _load_alert if file.kind == "alerts" else _load_page
    return load(file.fspath, file.rel, config, problems, data, drafts)


def hidden_direction(key: str, text: str) -> str | None:
    """Why the text field `key` is refused for holding a hidden text-direction character
    (check, and `sitegen new`'s prompts, which ask again), else None."""
    if BIDI_CONTROLS.search(text) is None:
        return None
    return (
        f"'{key}' contains invisible text-direction control characters (such as U+202E), "
        "which can disguise text; remove them"
    )


def new_file_problems(path: Path, rel: str, text: str, config: SiteConfig) -> list[Problem]:
    """What `check` would say of an alert file about to be written with `text` (`sitegen new`
    writes what was typed into it), its 'TODO:' lines aside: they are there to be filled in."""
    problems: list[Problem] = []
    _load_alert(path, rel, config, problems, text.encode("utf-8", "surrogatepass"), drafts=True)
    return [p for p in problems if p.severity != "draft"]


def with_drafts(read: Reader) -> Reader:
    """`read`, but a file it finds errors in is parsed again as the preview parses it: a
    'TODO:' left from `sitegen new` is then a draft, not an error (a build's store, which
    `read` may take it from, holds what a build judged)."""

    def reader(file: ContentFile, config: SiteConfig, problems: list[Problem]) -> Any:
        found: list[Problem] = []
        value = read(file, config, found)
        if any(p.severity == "error" for p in found):
            found = []
            value = read_content_file(file, config, found, drafts=True)
        problems.extend(found)
        return value

    return reader


def load_site(
    config: SiteConfig,
    now: datetime,
    reader: Reader = read_content_file,
    scanned: tuple[list[ContentFile], list[Problem]] | None = None,
) -> Loaded:
    """Read content/ into a Site; collects every problem in every file."""
    files, found = scanned if scanned is not None else scan_content(config)
    problems = list(found)
    alerts: list[Alert] = []
    pages: list[Page] = []
    for file in files:
        value = reader(file, config, problems)
        if isinstance(value, Alert):
            alerts.append(value)
        elif isinstance(value, Page):
            pages.append(value)
    return assemble(alerts, pages, config, now, problems)


def assemble(
    alerts: list[Alert],
    pages: list[Page],
    config: SiteConfig,
    now: datetime,
    problems: list[Problem],
) -> Loaded:
    """The site of the alerts and pages read (None if any file, or any two, have an error),
    with every problem found in them and between them: ids used twice, references."""
    read = [*map(_SOURCE, alerts), *map(_SOURCE, pages)]
    _name_failed_files_one_on_a_mac(read, config, problems)
    groups = _group(alerts, config, problems)
    _check_references(groups, problems)
    _check_page_folders(pages, problems)
    problems.sort(key=problem_order)
    if any(p.severity == "error" for p in problems):
        return Loaded(None, tuple(problems))
    by_id = {g.id: g for g in groups}
    site = Site(tuple(groups), now, tuple(sorted(pages, key=lambda p: (p.slug, p.language))), by_id)
    return Loaded(site, tuple(problems))


def require_site(config: SiteConfig, now: datetime) -> tuple[Site, tuple[Problem, ...]]:
    """load_site, raising ContentError (all problems) when any error was found."""
    loaded = load_site(config, now)
    if loaded.site is None:
        raise ContentError(loaded.problems)
    return loaded.site, loaded.problems


@dataclass(slots=True)
class ScanRecord:
    """What a scan saw of content/'s folders, for a build's next scan (`files_as_recorded`):
    each folder's stat (key: its path under content/, "" for content/ itself), taken before
    it was listed, and whether everything in them is judged by its name and type alone (no
    link, whose target may change, and no `.txt` file, which is read to tell an alert)."""

    folders: dict[str, os.stat_result] = field(default_factory=dict)
    plain: bool = True


def scan_content(
    config: SiteConfig, record: ScanRecord | None = None
) -> tuple[list[ContentFile], list[Problem]]:
    """Every alert, then every page, in path order, with a stat each; links out of content/
    become problems. One scandir walk: no resolve() per file (only links need one).
    `record`: filled with what a later scan needs to trust these folders (see ScanRecord)."""
    problems: list[Problem] = []
    if record is not None:
        _stat_folder(config.content_path, "", record)
    if not config.content_path.is_dir():
        # not an empty site: a wrong folder, or content/ moved away. Built, it would be index
        # pages only, and published, it would take every alert offline.
        rel = config.content_dir.rstrip("/") + "/"
        problems.append(
            Problem(
                rel,
                0,
                "the content folder is missing (content_dir in site.toml). Alerts go in "
                f"{rel}alerts/; create that folder (it may be empty) or fix content_dir.",
            )
        )
    files = [file for kind in KINDS for file in _scan_kind(config, kind, problems, record)]
    return files, problems


KINDS = ("alerts", "pages")  # content/'s folders, in the order their files are listed


def files_as_recorded(config: SiteConfig, rels: Iterable[str]) -> list[ContentFile] | None:
    """The files `scan_content` found (`rels`, in its order), stat'ed by name again: what it
    would find now when no folder of a plain scan (see ScanRecord) changed since. None when
    one cannot be stat'ed (gone since: scan instead)."""
    kinds: list[str] = []
    paths: list[str] = []
    rels = list(rels)
    start = 0
    for kind in KINDS:
        folder = config.content_path / kind
        prefix = folder.relative_to(config.root).as_posix() + "/"
        end = start + sum(map(operator.methodcaller("startswith", prefix), rels[start:]))
        kinds += [kind] * (end - start)
        paths += map(f"{folder}{os.sep}".__add__, [rel[len(prefix) :] for rel in rels[start:end]])
        start = end
    if start != len(rels):
        return None
    try:
        stats = list(map(os.stat, paths))  # no link in a plain scan: stat is lstat
    except OSError:
        return None
    return list(map(ContentFile, kinds, paths, rels, stats))


def _content_files(
    config: SiteConfig, kind: str, problems: list[Problem]
) -> Iterator[tuple[Path, str]]:
    for file in _scan_kind(config, kind, problems):
        yield file.path, file.rel


def _scan_kind(
    config: SiteConfig, kind: str, problems: list[Problem], record: ScanRecord | None = None
) -> list[ContentFile]:
    folder = config.content_path / kind
    if not folder.is_dir():
        return []
    found: list[tuple[tuple[str, ...], os.DirEntry[str]]] = []
    misnamed: list[str] = []
    unreadable: list[tuple[str, str]] = []
    _walk(folder, (), found, misnamed, unreadable, None if record is None else (record, kind))
    base = folder.relative_to(config.root).as_posix()
    for name, why in sorted(unreadable):
        problems.append(
            Problem(
                f"{base}/{name}" if name else base,
                0,
                f"cannot read the folder: {why}. Its alerts would be left out of the site; "
                "let the user who builds read and open it.",
            )
        )
    for name in sorted(misnamed):
        rel = f"{folder.relative_to(config.root).as_posix()}/{name}"
        problems.append(
            Problem(
                rel,
                0,
                "this file is not read: alert and page files must end in '.md' (lower case; "
                "Windows may hide a '.txt' after it). Rename it if it is meant to be published.",
                "warning",
            )
        )
    found.sort(key=lambda item: item[0])  # the order of sorted(Path.rglob): part by part
    content_root = config.content_path.resolve()
    check_all = not folder.resolve().is_relative_to(content_root)  # content/alerts is a link
    prefix = folder.relative_to(config.root).as_posix() + "/"
    files = []
    for parts, entry in found:
        rel = prefix + "/".join(parts)
        outside = (check_all or entry.is_symlink()) and not Path(
            entry.path
        ).resolve().is_relative_to(content_root)
        if outside:
            problems.append(
                Problem(
                    rel,
                    0,
                    "this is a link to a file or folder outside content/; sitegen "
                    "only reads files inside content/. Copy the files in instead.",
                )
            )
            continue
        try:
            if entry.is_file():
                files.append(ContentFile(kind, entry.path, rel, entry.stat()))
        except FileNotFoundError:  # removed or a dangling link since listing: no file to read
            continue
        except OSError as exc:  # in a folder that may be listed, not opened: never skipped
            problems.append(Problem(rel, 0, cannot_read(exc)))
    return files


def _stat_folder(folder: Path | str, key: str, record: ScanRecord) -> None:
    try:
        record.folders[key] = os.stat(folder)
    except OSError:
        record.plain = False


# names that look meant as content but are not read (`.MD`, Notepad's `.md.txt`, ...)
_MISNAMED = (".md", ".md.txt", ".markdown", ".mdown")


def _walk(
    folder: Path | str,
    parts: tuple[str, ...],
    found: list[tuple[tuple[str, ...], os.DirEntry[str]]],
    misnamed: list[str],
    unreadable: list[tuple[str, str]],
    record: tuple[ScanRecord, str] | None = None,
) -> None:
    # Like Path.rglob("*.md"): descends into real folders (not linked ones), keeps every
    # "*.md" entry except editor swap and backup files (checked on the name only). A folder
    # it cannot list goes into `unreadable` (its alerts must not vanish without a word).
    # `record`: (what to note each folder's stat in, before listing it; this folder's key)
    if record is not None:
        _stat_folder(folder, record[1], record[0])
    try:
        listing = os.scandir(folder)
    except OSError as exc:
        unreadable.append(("/".join(parts), exc.strerror or str(exc)))
        return
    with listing as entries:
        for entry in entries:
            name = entry.name
            if record is not None and (entry.is_symlink() or name.lower().endswith(".txt")):
                record[0].plain = False
            if entry.is_dir(follow_symlinks=False):
                inner = None if record is None else (record[0], f"{record[1]}/{name}")
                _walk(entry.path, (*parts, name), found, misnamed, unreadable, inner)
            elif entry.is_symlink() and entry.is_dir():
                found.append(((*parts, name), entry))  # a linked folder: checked, not read
            if name.endswith(".md"):
                if not name.startswith((".", "#")):
                    found.append(((*parts, name), entry))
            elif name.lower().endswith(_MISNAMED) and entry.is_file():
                misnamed.append("/".join((*parts, name)))
            elif name.lower().endswith(".txt") and entry.is_file() and _opens_alert(entry.path):
                misnamed.append("/".join((*parts, name)))  # Notepad's "flood" is flood.txt


def _opens_alert(path: str) -> bool:
    """Whether a file starts as an alert does ('---'): a notes.txt beside the alerts is left
    alone, an alert that Notepad saved as flood.txt is not."""
    try:
        with open(path, "rb") as file:
            return file.read(8).removeprefix(b"\xef\xbb\xbf").startswith(b"---")
    except OSError:
        return False


def split_stem(stem: str, languages: tuple[str, ...]) -> tuple[str, str | None]:
    """`quake.en` → ("quake", "en") when en is a site language; else (stem, None)."""
    match = LANG_SUFFIX_RE.match(stem)
    if match and match["lang"] in languages:
        return match["id"], match["lang"]
    return stem, None


# What the preview adds to a TODO's message (`_Fields.todo`).
DRAFT_NOTE = (
    " (a draft: shown in this preview only; `sitegen build` and `sitegen publish` refuse it "
    "until it is replaced)"
)


class _Fields:
    """Typed access to a document's fields that records a located problem for each mistake."""

    def __init__(self, doc: Document, problems: list[Problem], drafts: bool = False) -> None:
        self.doc = doc
        self.problems = problems
        self.drafts = drafts  # the preview's: a TODO left is a "draft" problem, not an error
        self.ok = True
        self.misspelt: set[str] = set()  # fields an unknown field was taken for ("serverity")

    def missing(self, key: str, message: str) -> None:
        """A required field is missing; said once only, on the misspelt line, when an unknown
        field was already taken for it ("unknown field 'serverity'; did you mean 'severity'?")."""
        if key in self.misspelt:
            self.ok = False
        else:
            self.fail(message, key)

    def fail(self, message: str, *path: str | int) -> None:
        self.ok = False
        self.problems.append(Problem(self.doc.rel, self.doc.line(*path), message))

    def warn(self, message: str, *path: str | int) -> None:
        self.problems.append(Problem(self.doc.rel, self.doc.line(*path), message, "warning"))

    def todo(self, line: int, message: str) -> None:
        """A 'TODO:' left from `sitegen new`: an error, but in the preview a draft, so the
        official sees the page take shape while replacing them (it is never written out)."""
        if self.drafts:
            if not message.endswith(" before publishing"):
                message += " before publishing"
            self.problems.append(Problem(self.doc.rel, line, message + DRAFT_NOTE, "draft"))
        else:
            self.ok = False
            self.problems.append(Problem(self.doc.rel, line, message))

    def text(
        self, key: str, *, required: bool = True, default: str = "", exact: bool = False
    ) -> str:
        """A text field, stripped; `exact` for one matched against others (an id), where an
        invisible character is an error, not a warning."""
        value = self.doc.fields.get(key)
        if value is None:
            if required:
                self.missing(
                    key, f"'{key}' is missing; add a line '{key}: ...' to the front matter"
                )
            return default
        if isinstance(value, list | dict):
            self.fail(f"'{key}' must be a single line of text", key)
            return default
        if (typed := not_text(key, value)) is not None:
            self.fail(typed, key)
            return default
        text = str(value).strip()
        if text[:1] in "\u201c\u2018" and text[-1:] in "\u201d\u2019" and len(text) > 1:
            self.warn(
                f"'{key}' is in curly quotes (\u201c \u201d), which are shown as part of the text: "
                'write straight quotes ("...") or none (or turn off smart quotes)',
                key,
            )
        if "TODO:" in text:
            self.todo(
                self.doc.line(key),
                f"replace the 'TODO:' text in '{key}' with the alert's own words",
            )
        if not text and required:
            self.fail(f"'{key}' is empty", key)
        if (refused := hidden_direction(key, text)) is not None:
            self.fail(refused, key)
        elif (hidden := invisible_character(text, key, ZERO_WIDTH)) is not None:
            if exact:  # an id or language matched against others: said once, then left out
                self.fail(f"{hidden}: delete it; the {key} must match others exactly", key)
                return ZERO_WIDTH.sub("", text)
            self.warn(f"{hidden}: delete it (it is published with the text)", key)
        return text

    def choice(self, key: str, enum: type[E], default: E | None = None) -> E | None:
        raw = self.doc.fields.get(key)
        if raw is None:
            if default is None:
                self.missing(key, f"'{key}' is missing; use one of {_options(enum)}")
            return default
        wanted = str(raw).strip()
        member = _members_by_lowercase(enum).get(wanted.lower())
        if member is not None:
            return cast(E, member)
        hidden = _INVISIBLE.findall(wanted)
        if hidden:  # pasted along: 'Severe\u200b' printed as 'Severe' is not one of ... Severe
            codes = ", ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in hidden))
            visible = _INVISIBLE.sub("", wanted)
            known = visible.lower() in _members_by_lowercase(enum)
            self.fail(
                f"{key} '{visible}' holds an invisible character ({codes}), pasted with the "
                "text: delete the whole value and type it again"
                + ("" if known else f"; use one of {_options(enum)}"),
                key,
            )
            return None
        self.fail(f"{key} '{wanted}' is not one of {_options(enum)}", key)
        return None

    def instant(self, key: str, *, required: bool = True) -> datetime | None:
        raw = self.doc.fields.get(key)
        if raw is None:
            if required:
                self.missing(
                    key,
                    f"'{key}' is missing; write a date and time with its timezone, "
                    f"e.g. {key}: 2026-09-12T20:32:00+09:00",
                )
            return None
        try:
            value = datetime.fromisoformat(str(raw).strip())
        except ValueError:
            self.fail(
                f"{key} '{raw}' is not a date and time; write it like 2026-09-12T20:32:00+09:00",
                key,
            )
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            written = str(raw).strip()
            if "T" not in written and " " not in written:  # a date alone: the time is missing too
                self.fail(
                    f"{key} '{raw}' is a date without a time; write the time and its timezone, "
                    f"e.g. {written}T09:00:00+09:00",
                    key,
                )
            else:
                self.fail(
                    f"{key} '{raw}' has no timezone; add one, e.g. {written}+09:00 or {written}Z",
                    key,
                )
            return None
        text = str(raw)
        if "." in text or "," in text:  # only a fraction of a second has one in a valid time
            # CAP times are to the second; pages would say 10:00:00.500000 where CAP says 10:00:00
            self.fail(
                f"{key} '{raw}' has a fraction of a second; CAP times are to the second: "
                f"write {FRACTION_RE.sub('', text.strip())}",
                key,
            )
            return None
        offset = value.utcoffset() or timedelta()
        if offset % timedelta(minutes=1):  # "+09:00:30": CAP's and RFC 3339's forms have none
            whole = value.replace(tzinfo=timezone(offset - offset % timedelta(minutes=1)))
            self.fail(
                f"{key} '{raw}' has a timezone offset with seconds; CAP and feeds write hours "
                f"and minutes only, e.g. {whole.isoformat()}",
                key,
            )
            return None
        if abs(offset) > _WIDEST_OFFSET:  # "+15:00": out of XML's range, CAP readers refuse it
            self.fail(
                f"{key} '{raw}' has a timezone offset more than 14 hours from UTC, which no "
                "place has (they run from -12:00 to +14:00) and CAP readers refuse: check the "
                "offset, e.g. +09:00 for Korea",
                key,
            )
            return None
        return value


# The widest offset XML Schema's dateTime (so CAP's <sent>, <expires>...) allows
_WIDEST_OFFSET = timedelta(hours=14)


@functools.cache
def _members_by_lowercase(enum: type[Enum]) -> dict[str, Enum]:
    """Enum values are matched case-insensitively (the first member wins, as before)."""
    found: dict[str, Enum] = {}
    for member in enum:
        found.setdefault(member.value.lower(), member)
    return found


def _stem(path: Path | str) -> str:
    """The file name without its last suffix (Path.stem, without making a Path)."""
    return os.path.splitext(os.path.basename(path))[0]


# Spaces other than the space bar's: a no-break space pasted from Word or a web page, an
# ideographic space typed in a Korean or Japanese input mode (a regular expression class's
# inside; source._odd_space finds them where YAML needs a space)
ODD_SPACES = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
# Characters of no width that a paste brings along and no script needs: the zero width space,
# the word joiner and invisible operators, the byte-order mark (a "zero width no-break space"
# inside text). The soft hyphen and the joiners U+200C/U+200D are left out: Persian, the
# scripts of India and emoji are written with them.
ZERO_WIDTH = re.compile("[\u180e\u200b\u2060-\u2064\ufeff]")
# Characters no one sees that a paste brings along: the above, joiners and direction marks,
# the soft hyphen, line and paragraph separators
_INVISIBLE = re.compile(f"[{ODD_SPACES}{ZERO_WIDTH.pattern[1:-1]}\u00ad\u200c-\u200f\u2028-\u202e]")
_ODD_SPACE = re.compile(f"[{ODD_SPACES}]")
# What an area's name must not hold: its page and the alerts naming the same place go by it
_UNSEEN_IN_NAMES = re.compile(f"{ZERO_WIDTH.pattern}|{BIDI_CONTROLS.pattern}")


def invisible_character(text: str, where: str, chars: re.Pattern[str]) -> str | None:
    """ "an invisible character (ZERO WIDTH SPACE, U+200B) in the title, after 'Flood'" for
    the first of `chars` in `text`, or None: which one and where, since none shows on screen."""
    found = chars.search(text)
    if found is None:
        return None
    char = found[0]
    words = chars.sub("", text[: found.start()]).split()
    place = f"after '{words[-1][-30:]}'" if words else "at its start"
    name = unicodedata.name(char, "a character with no name")
    return f"an invisible character ({name}, U+{ord(char):04X}) in the {where}, {place}"


def _options(enum: type[Enum]) -> str:
    return ", ".join(m.value for m in enum)


def _read_fields(
    path: Path | str,
    rel: str,
    problems: list[Problem],
    data: bytes | None,
    drafts: bool,
    known: set[str],
) -> tuple[Document, _Fields] | None:
    """A content file's document and its fields, unknown ones (not in `known`) told of; None
    when it could not be read as front matter and a body (`problems` says why)."""
    from sitegen.source import read_document

    doc, doc_problems = read_document(path, rel, data)
    problems.extend(doc_problems)
    if doc is None:
        return None
    f = _Fields(doc, problems, drafts)
    _check_unknown(f, known, "")
    return doc, f


def _load_alert(
    path: Path | str,
    rel: str,
    config: SiteConfig,
    problems: list[Problem],
    data: bytes | None = None,
    drafts: bool = False,
) -> Alert | None:
    read = _read_fields(path, rel, problems, data, drafts, ALERT_FIELDS)
    if read is None:
        return None
    doc, f = read
    alert_id, language, suffixed = _identity(f, _stem(path), config)
    msg_key = "msg_type" if "msg_type" in doc.fields or "msgType" not in doc.fields else "msgType"
    values = dict(
        title=f.text("title"),
        event=f.text("event"),
        headline=f.text("headline", required=False),
        category=f.choice("category", Category, Category.OTHER),
        severity=f.choice("severity", Severity),
        urgency=f.choice("urgency", Urgency),
        certainty=f.choice("certainty", Certainty),
        status=f.choice("status", Status, Status.ACTUAL),
        msg_type=f.choice(msg_key, MsgType, MsgType.ALERT),
        sent=f.instant("sent"),
        effective=f.instant("effective", required=False),
        expires=f.instant("expires"),
        areas=_areas(f),
        references=_references(f, msg_key),
    )
    _check_times(f, values)
    _check_body(f, doc)
    if len(str(values["title"])) > MAX_TITLE:
        f.fail(
            f"the title is {len(str(values['title']))} characters; keep it under {MAX_TITLE} "
            "so it fits a phone's lock screen",
            "title",
        )
    if not f.ok:
        return None
    return Alert(
        id=alert_id,
        language=language,
        source=rel,
        body=doc.body,
        translation_of_default=suffixed,
        field_lines=_field_lines(doc),
        body_line=doc.body_line,
        **values,  # type: ignore[arg-type]  # every value was checked; f.ok guards None
    )


def _field_lines(doc: Document) -> dict[str, int]:
    """Alert.field_lines: each field's line by name, and each area's "- " line as "areas/0"."""
    return {
        (str(k[0]) if len(k) == 1 else f"areas/{k[1]}"): v
        for k, v in doc.lines.items()
        if len(k) == 1 or (len(k) == 2 and k[0] == "areas")
    }


def _identity(
    f: _Fields, stem: str, config: SiteConfig, kind: str = "alert"
) -> tuple[str, str, bool]:
    stem_id, stem_lang = split_stem(stem, config.languages)
    alert_id = f.text("id", required=False, exact=True) or stem_id
    if stem_lang is None and "id" not in f.doc.fields and (other := LANG_SUFFIX_RE.match(stem)):
        # `quake.ko.md` before ko is in site.toml: a translation, not an id with a dot
        f.fail(
            f"the file name ends in '.{other['lang']}', as a translation into "
            f"'{other['lang']}' is named, but '{other['lang']}' is not one of the site's "
            f"languages ({', '.join(config.languages)}): add it to `languages` in site.toml, "
            "or rename the file",
        )
    elif "id" not in f.doc.fields and (hidden := _hidden_in_name(stem)) is not None:
        f.fail(hidden)
    elif not ID_RE.match(alert_id):
        where = "id" if "id" in f.doc.fields else ""
        f.fail(
            f"'{alert_id}' cannot be used as {'a page' if kind == 'page' else 'an alert'} id "
            "(it becomes the web address): use "
            "only letters a-z, digits, '-' and '_', up to 100 characters"
            + ("" if where else ", or add an 'id:' field"),
            *([where] if where else []),
        )
    _refuse_windows_device_name(f, stem, alert_id)
    language = (
        f.text("language", required=False, exact=True) or stem_lang or config.default_language
    )
    if stem_lang and language != stem_lang:
        f.fail(
            f"language '{language}' disagrees with the file name, which says '{stem_lang}': "
            f"write `language: {stem_lang}` (or leave the line out), or rename the file",
            "language",
        )
    if language not in config.languages:
        f.fail(
            f"language '{language}' is not one of the site's languages "
            f"({', '.join(config.languages)}); add it to site.toml or fix the file",
            "language",
        )
    return alert_id, language, stem_lang is not None


def _hidden_in_name(stem: str) -> str | None:
    """What to say of a file name (without .md) holding a character no one sees, pasted
    into it with the title: which one, where, and the name to rename the file to."""
    if (hidden := invisible_character(stem, "file name", _INVISIBLE)) is None:
        return None
    visible = _INVISIBLE.sub("", _ODD_SPACE.sub("-", stem))
    return f"{hidden}: rename the file to '{visible}.md', typing its name anew"


def _refuse_windows_device_name(f: _Fields, stem: str, alert_id: str) -> None:
    """An error for a file name or id Windows keeps for a device (`con.md`, `id: LPT1`): a
    checkout of content/ or a build's public/alerts/con/ fails there, with words no official
    would connect to the alert."""
    reserved = _WINDOWS_RESERVED.fullmatch(stem) or _WINDOWS_RESERVED.fullmatch(alert_id)
    if reserved is None:
        return
    named = "id" if "id" in f.doc.fields and reserved[0] == alert_id else ""
    what = "its 'id:'" if named else "the file"
    f.fail(
        f"{_kept_by_windows(reserved[1])}. Rename {what}, e.g. to '{reserved[1].lower()}-alert'",
        *([named] if named else []),
    )


def _kept_by_windows(device: str) -> str:
    """Why a file or folder cannot be named `device` (con, LPT1, ...), for a message."""
    return (
        f"'{device}' is a name Windows keeps for its devices (so are con, prn, aux, nul, "
        "com1-com9 and lpt1-lpt9, with any ending): a copy, build or publish on Windows fails "
        "on it"
    )


def _refuse_device_slug(f: _Fields, index: int, name: str, slug: str, key: str) -> None:
    """An error for an area whose page folder, areas/<slug>/, is a Windows device name:
    `id: con`, a geocode COM1 or an area named 'Nul' (the slug is lower case, without dots,
    so only the bare name can be one). `key`: the field the slug was made from."""
    if not windows_device_name(slug):
        return
    field = {"id": "id", "geocodes": "first geocode"}.get(key, "name")
    fix = "change its id" if key == "id" else "give it an id (its name stays as written)"
    f.fail(
        f"area '{name}' would have its page in the folder areas/{slug}/ (made from its "
        f"{field}), but {_kept_by_windows(slug)}. For the area's page, {fix}, e.g. "
        f"'id: {slug}-area'",
        "areas",
        index,
        key,
    )


def did_you_mean_id(word: str, known: set[str] | dict[str, Any]) -> str:
    """The hint "; did you mean 'x' or 'y'?" for an alert id nobody has. Ids of one day share
    their first 11 characters (`2026-11-24-`), so a plain similarity ratio offered any alert
    of that day: the part after the date is compared instead. Ids holding that part come
    first (`tsunami`, or the date left off), else the one nearest in spelling (a typo, or
    the right name with another date)."""
    import difflib

    ids = sorted(known)
    stem = _file_stem(word)
    if stem != word and stem in known:
        return f"; did you mean {stem!r}?"
    name = _DATED.sub("", stem.lower(), count=1)
    if not name:
        return ""
    close = [k for k in ids if name in k.lower()]
    if not close:
        by_name: dict[str, list[str]] = {}
        for k in ids:
            by_name.setdefault(_DATED.sub("", k.lower(), count=1), []).append(k)
        nearest = difflib.get_close_matches(name, list(by_name), 1, 0.7)
        close = by_name[nearest[0]] if nearest else []
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(k) for k in close[:3]) + "?"


def _file_stem(word: str) -> str:
    """The alert id in a file's name or path, as a shell's Tab completes it for `--update`
    (`content/alerts/quake.ko.md` → `quake`); other words as they are."""
    name = word.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if not name.lower().endswith(".md"):
        return name
    match = LANG_SUFFIX_RE.match(name := name[:-3])
    return match["id"] if match else name


_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}-")
# Names Windows gives its devices, in any case and with any ending ("con.md", "Nul.ko"): no file
# or folder there can have one (a checkout of content/, a build's public/alerts/con/)
_WINDOWS_RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[1-9]|lpt[1-9])(?:\..*)?")


def windows_device_name(name: str) -> bool:
    """Whether Windows keeps `name` (a file's or folder's, any ending) for a device."""
    return _WINDOWS_RESERVED.fullmatch(name) is not None


def _check_unknown(f: _Fields, known: set[str], prefix: str, *path: str | int) -> None:
    fields = f.doc.fields
    for part in path:
        fields = fields[part]  # type: ignore[index]
    for key in fields:
        if key not in known:
            close = close_match(key, known)
            hint = f"; did you mean '{close}'?" if close else ""
            if close and not path and close not in fields:
                f.misspelt.add(close)
            f.fail(f"unknown field '{prefix}{key}'{hint}", *path, key)


def _areas(f: _Fields) -> tuple[Area, ...]:
    raw = f.doc.fields.get("areas")
    if raw is None:
        f.missing(
            "areas", "'areas' is missing; list at least one area, e.g.\nareas:\n  - name: Seoul"
        )
        return ()
    if isinstance(raw, str) and raw.strip():
        lines = "".join(f"\n  - {name.strip()}" for name in raw.split(",") if name.strip())
        f.fail(
            f"'areas' must be a list, one area per line starting with '- ', e.g.\nareas:{lines}",
            "areas",
        )
        return ()
    if not isinstance(raw, list) or not raw:
        f.fail("'areas' must be a list with at least one area ('- name: ...')", "areas")
        return ()
    return tuple(a for i, item in enumerate(raw) if (a := _area(f, i, item)) is not None)


def not_text(key: str, value: Any) -> str | None:
    """Why a value written as text was not read as text, or None. YAML reads yes/no, on/off,
    true/false (any case) as true or false, and numbers such as 0x10, 1e3 or 010 as numbers:
    `title: No` would publish "False", `event: 0x10` "16". Said without Python's words for
    them (False, None)."""
    if isinstance(value, str):  # nearly every value: the words below only for a mistake
        return None
    quote = f'put the text in quotes, e.g. {key.replace("area name", "name")}: "..."'
    if value is None:
        return f"'{key}' is empty: write the text after the ':'"
    if isinstance(value, bool):
        return (
            f"'{key}' is read as the answer {'yes' if value else 'no'}, not as text (so are "
            f"yes, no, on, off, true and false): {quote}"
        )
    if isinstance(value, int | float):
        return f"'{key}' is read as the number {value}, not as text: {quote}"
    return None


def _area(f: _Fields, index: int, item: Any) -> Area | None:
    if isinstance(item, str):  # `- Seoul`, the shorthand of `- name: Seoul`: no fields to check
        item = {"name": item}
    elif isinstance(item, dict):
        _check_unknown(f, AREA_FIELDS, "areas: ", "areas", index)
    if not isinstance(item, dict) or not str(item.get("name", "")).strip():
        f.fail(f"area {index + 1} needs a 'name'", "areas", index)
        return None
    if (typed := not_text("area name", item["name"])) is not None:
        f.fail(typed, "areas", index, "name")
        return None
    name = str(item["name"]).strip()
    if (hidden := invisible_character(name, "area name", _UNSEEN_IN_NAMES)) is not None:
        f.fail(
            f"{hidden}: delete it; the area's page and other alerts naming the same place "
            "would not match it",
            "areas",
            index,
            "name",
        )
    if "TODO:" in name:
        f.todo(
            f.doc.line("areas", index),
            "replace the 'TODO:' text in the area name with the area's name",
        )
    geocodes = item.get("geocodes") or {}
    if not isinstance(geocodes, dict):
        f.fail(
            f"geocodes of area '{name}' must be 'SYSTEM: value' pairs, e.g. {{ISO3166-2: KR-47}}",
            "areas",
            index,
            "geocodes",
        )
        geocodes = {}
    for system, value in geocodes.items():
        if problem := _geocode_problem(str(system), value, name):
            f.fail(problem, "areas", index, "geocodes", system)
    key = "polygons" if item.get("polygons") else "polygon"
    polygons = item.get("polygons") or ([item["polygon"]] if item.get("polygon") else [])
    for polygon in polygons:
        problem = _polygon_problem(str(polygon))
        if problem:
            f.fail(f"polygon of area '{name}' {problem}", "areas", index, key)
    area_id = item.get("id")
    if isinstance(area_id, list | dict):  # `id: [a, b]` made the page /areas/a-b/
        f.fail(
            f"the id of area '{name}' is {_several(area_id)}, but an area has one id, the name "
            "of its web page, e.g. 'id: seoul' (/areas/seoul/)",
            "areas",
            index,
            "id",
        )
        area_id = None
    codes = tuple(sorted((str(k), str(v)) for k, v in geocodes.items()))
    slug = area_slug(str(area_id or ""), codes, name)
    _refuse_device_slug(f, index, name, slug, "id" if area_id else "geocodes" if codes else "name")
    return Area(
        name=name,
        slug=slug,
        geocodes=codes,
        polygons=tuple(str(p).strip() for p in polygons),
    )


def _geocode_problem(system: str, value: Any, name: str) -> str:
    """What is wrong with the geocode `system: value` of area `name`, or "" when nothing is."""
    if isinstance(value, list | dict):
        return (
            f"geocode {system} of area '{name}' is {_several(value)}, but a geocode has one "
            "value: give each place an area of its own, e.g. '- name: ...' then "
            f"'geocodes: {{{system}: ...}}'"
        )
    if value is None or not GEOCODE_RE.fullmatch(str(value)):
        return (
            f"geocode {system} of area '{name}' is '{'' if value is None else value}': a "
            "geocode may only hold letters A-Z, digits and single '-' between them (e.g. "
            "KR-11), because the first one names the area's web page (/areas/kr-11/)"
        )
    return ""


def _several(value: list[Any] | dict[Any, Any]) -> str:
    """A list or mapping as a message shows it: "a list (006037, 006059)", codes as written."""
    if isinstance(value, dict):
        return (
            "a set of 'name: value' pairs ("
            + ", ".join(f"{k}: {v}" for k, v in value.items())
            + ")"
        )
    return "a list (" + ", ".join("" if v is None else str(v) for v in value) + ")"


def _polygon_problem(polygon: str) -> str:
    """What is wrong with a CAP polygon (3.2.4: WGS 84 'lat,lon' pairs, at least 4, the last
    equal to the first), or "" when nothing is."""
    if not POLYGON_RE.match(polygon):
        return "must be at least 4 'lat,lon' pairs separated by spaces, the last equal to the first"
    pairs = polygon.split()
    for number, pair in enumerate(pairs, 1):
        lat, lon = (float(part) for part in pair.split(","))
        if abs(lat) <= 90 and abs(lon) <= 180:
            continue
        if abs(lat) > 90:
            swapped = abs(lon) <= 90 and abs(lat) <= 180
            hint = ", latitude first: did you swap them?" if swapped else ""
            return (
                f"has point {number} '{pair}' with latitude {lat:g}, outside -90 to 90; "
                f"points are 'latitude,longitude' (WGS 84){hint}"
            )
        return f"has point {number} '{pair}' with longitude {lon:g}, outside -180 to 180"
    first, last = (tuple(float(part) for part in pair.split(",")) for pair in (pairs[0], pairs[-1]))
    if first != last:
        return (
            f"is not closed: its last point '{pairs[-1]}' must be its first, '{pairs[0]}', "
            "written again"
        )
    return ""


def area_slug(explicit: str, geocodes: tuple[tuple[str, str], ...], name: str) -> str:
    """Stable URL slug: explicit id, else first geocode value, else the name; see
    docs/architecture.md (URLs) for the rule, which never gives two different names one slug."""
    basis = explicit or (geocodes[0][1] if geocodes else name)
    slug = SLUG_SEPARATORS.sub("-", basis.lower()).strip("-")
    if not (slug and basis.isascii()):  # else every letter and digit is in it: "kr-11"
        slug = _unicode_slug(basis)
    if len(slug) > MAX_SLUG:  # a folder name the system refuses ("File name too long")
        slug = slug[: MAX_SLUG - 17].rstrip("-") + "-" + _digest(slug)
    return slug


@functools.lru_cache(maxsize=4096)
def _unicode_slug(basis: str) -> str:
    """The slug of a basis with other than ASCII characters, or no letter or digit at all:
    its letters, marks and digits (NFKC, case-folded) in runs joined by '-'; when those are all
    a-z and 0-9 that is the slug (an en dash or a no-break space separates words as '-' does),
    else 'area-' and 16 hex digits of their digest: keeping only a-z0-9 of '종로1가' and
    '을지로1가' made both '1'."""
    import unicodedata

    text = unicodedata.normalize("NFKC", basis).casefold()
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in text)
    words = "-".join(kept.split())
    if words and words.isascii():
        return words
    key = words or " ".join(text.split())  # a name of symbols only: they tell it apart
    return "area-" + _digest(key)


def _digest(text: str) -> str:
    """16 hex digits of the BLAKE2b digest of `text`."""
    try:  # without hashlib's OpenSSL set-up (see cache.blake2b)
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - CPython builds without _blake2
        from hashlib import blake2b
    return blake2b(text.encode(), digest_size=8).hexdigest()


def _references(f: _Fields, msg_key: str) -> tuple[str, ...]:
    raw = f.doc.fields.get("references") or []
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split() or [raw]  # an id has neither
        if len(raw) > 1:
            f.fail(
                "'references' names several alerts in one text: write them as a list, "
                f"references: [{', '.join(raw)}]",
                "references",
            )
            return ()
    if not isinstance(raw, list):
        f.fail("'references' must be a list of alert ids", "references")
        return ()
    refs = tuple(str(r).strip() for r in raw)
    msg = str(f.doc.fields.get(msg_key, "Alert")).strip().lower()
    if msg in ("update", "cancel") and not refs:
        f.fail(
            f"an {msg.title()} must say which alert it {msg}s: add 'references: [ALERT-ID]'",
            msg_key,
        )
    return refs


def _check_times(f: _Fields, values: dict[str, Any]) -> None:
    sent, effective, expires = values["sent"], values["effective"], values["expires"]
    if sent and expires and expires <= sent:
        f.fail(
            f"expires ({expires.isoformat()}) must be after sent ({sent.isoformat()})", "expires"
        )
    if effective and expires and expires <= effective:
        f.fail("expires must be after effective", "expires")
    if sent and effective and effective < sent:
        f.fail("effective must not be before sent", "effective")


def _check_body(f: _Fields, doc: Document) -> None:
    from sitegen.body import find_instruction_heading

    references = "&#" in doc.body
    for index, text in (  # line by line only when one may be said
        enumerate(doc.body.split("\n")) if references or "TODO:" in doc.body else ()
    ):
        if "TODO:" in text:
            f.todo(
                doc.body_line + index,
                "replace the 'TODO:' text with the alert's own words before publishing",
            )
        if references and "&#" in text:
            _check_char_references(f, text, doc.body_line + index)
    if (line := _code_block_line(doc.body)) is not None:
        f.problems.append(
            Problem(
                doc.rel,
                doc.body_line + line,
                "this line is indented by four spaces or more, so the page shows it as code "
                "(small fixed-width letters, as a program would be); remove the spaces before it "
                "unless that is what you want",
                "warning",
            )
        )
    _check_markup(f, doc)
    if not doc.body.strip():
        f.warn(NO_BODY)
    elif not find_instruction_heading(doc.body):
        f.warn(NO_INSTRUCTION)


# Said by `import-cap` in CAP's terms instead, at the <info> line (`cap_import._missing_texts`).
NO_BODY = "the alert has no text below the front matter: say what happened and what to do"
NO_INSTRUCTION = "no '## What to do' section: citizens look for instructions first"


def _check_markup(f: _Fields, doc: Document) -> None:
    """Warn about what the page shows otherwise than written: HTML, images, unsafe links."""
    from sitegen.body import body_notes

    for index, note in body_notes(doc.body):
        f.problems.append(Problem(doc.rel, doc.body_line + index, note, "warning"))


def _code_block_line(body: str) -> int | None:
    """The index of the body's first line Markdown takes as code (an indented block), or None.
    Officials indent text by accident (a paste, a tab); a list item's indented paragraph is
    no code, so Markdown decides, for the rare body with a line indented at all."""
    if "\n    " not in f"\n{body}" and "\n\t" not in f"\n{body}":
        return None
    import html

    from sitegen.body import to_html

    found = re.search(r"<pre><code>([^\n]*)", to_html(body))
    if found is None:
        return None
    first = html.unescape(found[1]).strip()
    lines = body.split("\n")
    indented = [i for i, text in enumerate(lines) if text.startswith(("    ", "\t"))]
    return next((i for i in indented if lines[i].strip() == first), indented[0])


def _check_char_references(f: _Fields, text: str, line: int) -> None:
    """Markdown keeps `&#7;` as written: the page would carry the character source.py refuses
    when it is typed (browsers show nothing or U+FFFD; HTML checkers report it)."""
    from sitegen.source import CHAR_REFUSED, FORBIDDEN_CHARS, describe_char

    for match in CHAR_REFERENCE_RE.finditer(text):
        code = int(match[1], 16) if match[1] else int(match[2])
        if code > 0x10FFFF:
            what = "no character at all (the largest is U+10FFFF)"
        elif FORBIDDEN_CHARS.match(chr(code)):
            what = f"the character {describe_char(chr(code))}"
        else:
            continue
        f.ok = False
        f.problems.append(
            Problem(f.doc.rel, line, f"'{match[0]}' stands for {what}: {CHAR_REFUSED}")
        )


CHAR_REFERENCE_RE = re.compile(r"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")


def _group(alerts: list[Alert], config: SiteConfig, problems: list[Problem]) -> list[AlertGroup]:
    by_id: dict[str, list[Alert]] = {}
    for alert in alerts:
        versions = by_id.setdefault(alert.id, [])
        clash = next((a for a in versions if a.language == alert.language), None)
        if clash:
            problems.append(
                Problem(
                    alert.source,
                    alert.field_lines.get("id", 1),
                    f"alert id '{alert.id}' in language "
                    f"'{alert.language}' is already used by {clash.source}; ids "
                    "must be unique (translations go in '<id>.<lang>.md')",
                )
            )
            continue
        versions.append(alert)
    _drop_ids_differing_in_case(by_id, problems)
    _drop_files_one_on_a_mac(by_id, problems)
    groups = []
    for alert_id in sorted(by_id):
        versions = sorted(by_id[alert_id], key=_primary_key(config))
        _check_translations(versions, problems)
        groups.append(AlertGroup(alert_id, tuple(versions)))
    return groups


def _drop_ids_differing_in_case(by_id: dict[str, list[Alert]], problems: list[Problem]) -> None:
    """Ids that differ only in capitals name one folder on Windows and macOS, where one
    alert's pages would overwrite the other's (in public/ or a published folder): each but
    the one with the fewest capitals is an error naming its file, and is left out."""
    first: dict[str, str] = {}
    for alert_id in sorted(by_id, key=lambda i: (i.lower(), i.swapcase())):
        taken = first.setdefault(alert_id.lower(), alert_id)
        if taken == alert_id:
            continue
        other = by_id[taken][0].source
        for alert in by_id.pop(alert_id):
            problems.append(
                Problem(
                    alert.source,
                    alert.field_lines.get("id", 1),
                    f"alert id '{alert_id}' differs from '{taken}' ({other}) only in capitals; "
                    "on Windows and Mac they would be one web folder, one alert's pages "
                    "overwriting the other's: rename this file (or its 'id:') to an id of its own",
                )
            )


def _drop_files_one_on_a_mac(by_id: dict[str, list[Alert]], problems: list[Problem]) -> None:
    """File names that differ only in capitals, or only in how an accented letter is stored
    (é as one character, NFC, or as e and an accent, NFD, as macOS writes it) are one file on
    macOS (and, for capitals, Windows): a copy of content/ there keeps one alert only. Their
    ids differ (else _group or _drop_ids_differing_in_case refused them): each but the first
    (NFC, fewest capitals) is an error naming both files, and is left out."""
    alerts = [a for versions in by_id.values() for a in versions]
    if len(set(map(_one_on_a_mac, map(_SOURCE, alerts)))) == len(alerts):
        return  # nearly always: 2 ms CPU at 12,000 files, not the 10 ms of sorting them all
    first: dict[str, str] = {}
    alerts.sort(key=lambda a: _kept_first_on_a_mac(a.source))
    for alert in alerts:
        taken = first.setdefault(_one_on_a_mac(alert.source), alert.source)
        if taken == alert.source:
            continue
        problems.append(_one_file_on_a_mac(alert.source, taken, "alerts"))
        by_id[alert.id].remove(alert)
        if not by_id[alert.id]:
            del by_id[alert.id]


_SOURCE = operator.attrgetter("source")


def _check_page_folders(pages: list[Page], problems: list[Problem]) -> None:
    """Pages that would be one web folder: the same id and language (one page's file was
    built over the other's without a word), ids that differ only in capitals, or file names
    a Mac takes as one (as for alerts: `_drop_ids_differing_in_case`, `_drop_files_one_on_a_mac`).
    Each but the first (NFC, fewest capitals) is an error naming the other."""
    by_folder: dict[tuple[str, str], Page] = {}
    by_name: dict[str, Page] = {}
    for page in sorted(pages, key=lambda p: _kept_first_on_a_mac(p.source)):
        name = _one_on_a_mac(page.source)
        if (other := by_name.setdefault(name, page)) is not page:
            problems.append(_one_file_on_a_mac(page.source, other.source, "pages"))
            continue
        other = by_folder.setdefault((page.slug.lower(), page.language), page)
        if other is page:
            continue
        how = "is" if other.slug == page.slug else f"differs only in capitals from '{other.slug}',"
        problems.append(
            Problem(
                page.source,
                1,
                f"page id '{page.slug}' (language '{page.language}') {how} already used by "
                f"{other.source}: the two pages would be one web page, one built over the "
                "other. Rename this file (or its 'id:') to an id of its own",
            )
        )


def _name_failed_files_one_on_a_mac(
    read: list[str], config: SiteConfig, problems: list[Problem]
) -> None:
    """A file that could not be read as an alert or page (`read`: those that could), whose
    name a Mac takes as another file's: said as for two read ones, which the checks above
    compare (`_drop_files_one_on_a_mac`, `_check_page_folders`), naming the other. Two
    `café.md` without an 'id:' (NFC and NFD) each got "'café' cannot be used as an alert
    id", the same line twice, neither naming the other."""
    failed = {p.path for p in problems if p.severity == "error"}
    failed = failed - set(read) if failed else failed  # no error, nearly always: no set made
    names = [*read, *failed]
    if not failed or len(set(map(_one_on_a_mac, names))) == len(names):
        return  # a Mac's twins are rare: as in _drop_files_one_on_a_mac
    pages = (config.content_path / "pages").relative_to(config.root).as_posix() + "/"
    first: dict[str, str] = {}
    for source in sorted(names, key=_kept_first_on_a_mac):
        taken = first.setdefault(_one_on_a_mac(source), source)
        if taken != source and failed & {source, taken}:  # two read: compared above
            what = "pages" if source.startswith(pages) else "alerts"
            problems.append(_one_file_on_a_mac(source, taken, what))


def _kept_first_on_a_mac(source: str) -> tuple[str, bool, str]:
    """Sorts the names a Mac takes as one together, the one kept first: NFC, fewest capitals."""
    return _one_on_a_mac(source), not unicodedata.is_normalized("NFC", source), source.swapcase()


def _one_file_on_a_mac(source: str, taken: str, what: str) -> Problem:
    """The error for `source`, whose name a Mac takes as `taken`'s (`what`: alerts, pages)."""
    return Problem(
        source,
        0,
        f"this file's name differs from {taken}'s only {_how(source, taken)}, so a copy of "
        f"content/ there keeps one of the two {what}: rename this file, typing a name of its own",
    )


def _how(name: str, other: str) -> str:
    """How two names a Mac takes as one differ, and where they are one, for a message."""
    if unicodedata.normalize("NFC", name) != unicodedata.normalize("NFC", other):
        return "in capitals: on a Mac and on Windows they are one file"
    return (
        "in how an accented letter is stored (in this name as a letter and an accent, as "
        "macOS writes it; in the other as one character): on a Mac they are one file"
    )


def _one_on_a_mac(path: str) -> str:
    """The name a Mac (or Windows) keeps for `path`: one for the names it takes as the same."""
    return unicodedata.normalize("NFC", path).casefold()


def _primary_key(config: SiteConfig) -> Callable[[Alert], tuple[bool, bool, str]]:
    return lambda a: (a.translation_of_default, a.language != config.default_language, a.language)


def _check_translations(versions: list[Alert], problems: list[Problem]) -> None:
    primary = versions[0]
    for other in versions[1:]:
        for name in SHARED_FIELDS:
            mine, theirs = getattr(other, name), getattr(primary, name)
            if mine != theirs:
                line = other.field_lines.get(name) or other.field_lines.get(
                    "msgType" if name == "msg_type" else name, 1
                )
                problems.append(
                    Problem(
                        other.source,
                        line,
                        f"{name} differs from {primary.source} "
                        f"({_show(theirs)} there, {_show(mine)} here); all translations "
                        "of an alert must agree on it",
                    )
                )
        if (problem := _area_problem(primary, other)) is not None:
            problems.append(problem)


def _place(area: Area) -> tuple[object, ...]:
    """Where an area is, whatever language names it: its geocodes and polygons, as the CAP
    message gives them, and its page when a code (id or geocode) names it."""
    polygons = tuple(" ".join(p.split()) for p in area.polygons)
    return area.geocodes, polygons, area.slug if area.geocodes else ""


def _area_problem(primary: Alert, other: Alert) -> Problem | None:
    """The areas of translation `other` are not the places `primary` names (in any order):
    one CAP message would send each language to other places, and area pages (made from the
    primary's areas) would miss the translation's."""
    places = [_place(a) for a in primary.areas]
    if places == [_place(a) for a in other.areas]:
        return None
    there: dict[tuple[object, ...], list[Area]] = {}
    for place, area in zip(places, primary.areas, strict=True):
        there.setdefault(place, []).append(area)
    here: list[tuple[int, Area]] = []
    for index, area in enumerate(other.areas):
        if there.get(_place(area)):
            there[_place(area)].pop(0)
        else:
            here.append((index, area))
    only_there = [a for areas in there.values() for a in areas]
    if not only_there and not here:
        return None  # the same places in another order
    line = other.field_lines.get(f"areas/{here[0][0]}") if here else None
    mine = _described([a for _, a in here])
    if not here:
        differ = f"also lists {_described(only_there)}, which this file does not"
    elif only_there:
        differ = f"lists {_described(only_there)} where this file lists {mine}"
    else:
        differ = f"does not list {mine}, which this file does"
    return Problem(
        other.source,
        line or other.field_lines.get("areas", 1),
        f"the areas differ from {primary.source}, which {differ}; all translations of an alert "
        "must list the same places, with the same geocodes and polygons (only the area names "
        "are translated)",
    )


def _described(areas: list[Area]) -> str:
    """Areas as a message names them: 'Seoul' (ISO3166-2 KR-11) and 'Busan' (polygon …)."""
    shown = []
    for area in areas:
        what = [f"{system} {value}" for system, value in area.geocodes]
        if area.geocodes and area.slug != area_slug("", area.geocodes, area.name):
            what.append(f"id {area.slug}")
        for polygon in area.polygons:
            points = polygon.split()
            what.append("polygon " + " ".join(points[:2]) + (" …" if len(points) > 2 else ""))
        shown.append(f"'{area.name}' ({', '.join(what) or 'no geocode or polygon'})")
    return " and ".join(shown)


def _show(value: Any) -> str:
    if isinstance(value, tuple):  # references: "a, b" or "none", not "('a', 'b')"
        return ", ".join(value) or "none"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _check_references(groups: list[AlertGroup], problems: list[Problem]) -> None:
    """References name existing, earlier, published messages of the same status (CAP), with no
    loop. Once over the site: drafts refer freely, being checked again when they are published.
    Errors only: a build warning must be one file's alone (a patch build keeps the unchanged
    files' warnings from the last build, `build._Build._patch_warnings`), so a chain's
    warnings are `check`'s advice (sitegen/advice.py)."""
    by_id = {g.id: g for g in groups}
    looped = on_reference_loops(by_id)
    for group in groups:
        alert = group.primary
        if not alert.references:
            continue
        line = alert.field_lines.get("references", 1)
        for ref in alert.references:
            if ref == alert.id:
                problems.append(Problem(alert.source, line, "an alert cannot reference itself"))
            elif ref not in by_id:
                hint = did_you_mean_id(ref, by_id)
                problems.append(
                    Problem(
                        alert.source,
                        line,
                        f"references '{ref}', but there is no alert with that id{hint}",
                    )
                )
            elif alert.status is not Status.DRAFT:
                problems.extend(_reference_problems(alert, by_id[ref].primary))
        if alert.status is not Status.DRAFT and alert.id in looped:
            problems.append(_loop_problem(alert))


def _reference_problems(alert: Alert, target: Alert) -> list[Problem]:
    """What is wrong with `alert` (published) referring to `target`."""
    line = alert.field_lines.get("references", 1)
    kind = alert.msg_type.value
    if target.status is Status.DRAFT:
        return [
            Problem(
                alert.source,
                line,
                f"references '{target.id}' ({target.source}), which is a Draft and is never "
                "published, so no one receiving this message could know it; publish that "
                "alert first or remove the reference",
            )
        ]
    found = []
    if target.sent > alert.sent:
        found.append(
            Problem(
                alert.source,
                line,
                f"references '{target.id}' ({target.source}, sent {target.sent.isoformat()}), "
                f"which is sent after this {kind} (sent {alert.sent.isoformat()}); a message "
                "can only update or cancel messages sent before it. If that message is "
                f"scheduled for later and this {kind} should replace it, delete "
                f"{target.source} or give it a 'sent' time before this one; otherwise give "
                f"this {kind} a 'sent' time after {target.sent.isoformat()}",
            )
        )
    if target.status is not alert.status:
        mine, theirs = alert.status.value, target.status.value
        article = "an" if theirs[0] in "AEIOU" else "a"
        found.append(
            Problem(
                alert.source,
                alert.field_lines.get("status", line),
                f"status is {mine}, but this {kind} references '{target.id}' ({target.source}), "
                f"whose status is {theirs}; an Update or Cancel must have the status of the "
                f"messages it references (CAP), or this {mine} message would replace or "
                f"cancel {article} {theirs} one. Use status: {theirs}, or reference a message "
                f"whose status is {mine}",
            )
        )
    return found


def earlier_messages(alert: Alert, by_id: dict[str, AlertGroup]) -> dict[str, Alert]:
    """Every message `alert` follows (the primaries it references, and theirs, and so on), by
    id; `alert` itself is among them when the references loop back to it."""
    earlier: dict[str, Alert] = {}
    todo = [ref for ref in alert.references if ref in by_id]
    while todo:
        ref = todo.pop()
        if ref not in earlier:
            earlier[ref] = by_id[ref].primary
            todo.extend(r for r in earlier[ref].references if r in by_id)
    return earlier


def on_reference_loops(by_id: dict[str, AlertGroup]) -> set[str]:
    """The ids whose references lead back to them through other messages (`earlier_messages`
    of such an alert holds it), but those that reference themselves ("cannot reference
    itself" says it all). Once over the site, in linear time: each alert's own walk was N²
    for a chain of N messages (issue 7). Tarjan's strongly connected components, without
    recursion: an alert is on a loop when its component holds another alert."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    looped: set[str] = set()
    for start in by_id:
        if start in index:
            continue
        work = [(start, iter(by_id[start].primary.references))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, refs = work[-1]
            ref = next((r for r in refs if r in by_id and r != node), None)
            if ref is not None:
                if ref not in index:
                    index[ref] = low[ref] = len(index)
                    stack.append(ref)
                    on_stack.add(ref)
                    work.append((ref, iter(by_id[ref].primary.references)))
                elif ref in on_stack:
                    low[node] = min(low[node], index[ref])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    looped.update(component)
    return {i for i in looped if i not in by_id[i].primary.references}


def _loop_problem(alert: Alert) -> Problem:
    """A loop of references back to `alert` (an error). An earlier message of the chain that
    `alert` does not list is `check`'s advice (`advice._unlisted`), not a build warning."""
    return Problem(
        alert.source,
        alert.field_lines.get("references", 1),
        "the references go round in a loop back to this alert: each message can only "
        "reference messages sent before it",
    )


def _load_page(
    path: Path | str,
    rel: str,
    config: SiteConfig,
    problems: list[Problem],
    data: bytes | None = None,
    drafts: bool = False,
) -> Page | None:
    read = _read_fields(path, rel, problems, data, drafts, PAGE_FIELDS)
    if read is None:
        return None
    doc, f = read
    slug, language, _ = _identity(f, _stem(path), config, "page")
    title = f.text("title")
    _check_markup(f, doc)
    return Page(slug, language, rel, title, doc.body, doc.body_line) if f.ok else None
