"""CAP 1.2 XML → alert files (`content/alerts/<id>.md`, one per <info> language).

The inverse of `sitegen.cap`: importing a message sitegen exported gives back the same alert
(every front-matter field equal; the body equal as CAP text). Elements the alert format has
no place for are reported one by one, never dropped in silence. Parsing goes through
defusedxml with DTDs forbidden, so entity expansion ("billion laughs") and external entities
cannot be used against the machine running the import.
"""

from __future__ import annotations

import hashlib
import os
import re
import xml.etree.ElementTree as ET  # noqa: S405 - only the tree types; parsing is defusedxml's
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

import defusedxml
import defusedxml.ElementTree as SafeET

from sitegen.alert_file import alert_file_text, instruction_heading
from sitegen.body import markdown_to_text, render_body
from sitegen.cap import CAP_NS, TITLE_PARAMETER, sender_domain
from sitegen.config import SiteConfig
from sitegen.content import (
    BIDI_CONTROLS,
    ID_RE,
    MAX_TITLE,
    NO_BODY,
    NO_INSTRUCTION,
    area_slug,
    windows_device_name,
)
from sitegen.errors import ContentError, Problem
from sitegen.model import Alert, Area, Category, Certainty, MsgType, Page, Severity, Status, Urgency
from sitegen.scaffold import latin_letters, letters_lost
from sitegen.source import CHAR_REFUSED, FORBIDDEN_CHARS, KeyPath, describe_char

MAX_INPUT_BYTES = 5_000_000
_BLOCK_MARKER = re.compile(r"^(\d*)([#>*+=-]|(?<=\d)[.)])")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!>])")
_BIDI_REMOVED = (
    "contained invisible text-direction control characters (such as U+202E), which can "
    "disguise text; they were removed: check that the imported text reads as the sender meant"
)
E = TypeVar("E", Status, Urgency, Severity, Certainty, Category, MsgType)


@dataclass(frozen=True, slots=True)
class ImportedFile:
    name: str  # file name inside content/alerts/
    text: str
    identifier: str = ""  # the CAP message's, which the name may not tell apart (`a/b`, `a:b`)
    origin: str = field(default="", compare=False)  # the XML file it came from
    # (line in the alert file, line in the XML) for each front-matter line, and the body's
    lines: tuple[tuple[int, int], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class ImportResult:
    files: tuple[ImportedFile, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


@dataclass(slots=True)
class _Reader:
    """Walks one parsed message, recording what was used and a located problem per issue."""

    origin: str
    lines: dict[ET.Element, int]
    problems: list[Problem] = field(default_factory=list)
    used: set[ET.Element] = field(default_factory=set)
    firsts: dict[tuple[ET.Element, str], ET.Element] = field(default_factory=dict)

    def line(self, element: ET.Element) -> int:
        return self.lines.get(element, 0)

    def at(self, parent: ET.Element, tag: str) -> ET.Element:
        """The <tag> child read from `parent` (for a message on its own line), else `parent`."""
        return self.firsts.get((parent, tag), parent)

    def error(self, element: ET.Element, message: str) -> None:
        self.problems.append(Problem(self.origin, self.line(element), _shown(message)))

    def warn(self, element: ET.Element, message: str) -> None:
        self.problems.append(Problem(self.origin, self.line(element), _shown(message), "warning"))

    def all(self, parent: ET.Element, tag: str) -> list[ET.Element]:
        found = parent.findall(f"{{{CAP_NS}}}{tag}")
        self.used.update(found)
        if found:
            self.firsts[(parent, tag)] = found[0]
        return found

    def text(self, parent: ET.Element, tag: str, required: bool = False) -> str | None:
        found = self.all(parent, tag)
        if not found:
            if required:
                self.error(parent, f"<{_local(parent)}> has no <{tag}>, which sitegen needs")
            return None
        for extra in found[1:]:
            self.warn(extra, f"a second <{tag}> was not imported (sitegen keeps one)")
        value = (found[0].text or "").strip()
        if BIDI_CONTROLS.search(value):  # `check` refuses them in an alert file: say so, drop
            value = BIDI_CONTROLS.sub("", value)
            self.warn(found[0], f"<{tag}> {_BIDI_REMOVED}")
        if required and not value:  # as absent: an empty <identifier> left the message unread
            self.error(found[0], f"<{tag}> is empty, and sitegen needs it")
        return value

    def report_unused(self, root: ET.Element) -> None:
        """Warn about every element nothing consumed whose parent was consumed."""
        parents = {child: parent for parent in root.iter() for child in parent}
        for element in root.iter():
            parent = parents.get(element)
            unused = parent is not None and element not in self.used
            if unused and (parent is root or parent in self.used):
                self.warn(element, _not_kept(element))


def _shown(message: str) -> str:
    """A message quoting the XML, with what a terminal could take as a command (U+009B opens
    an escape sequence) or a text-direction change shown as '?'."""
    return BIDI_CONTROLS.sub("?", FORBIDDEN_CHARS.sub("?", message))


def _local(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _not_kept(element: ET.Element) -> str:
    value = _shown_value(element)
    shown = f": {value[:80]}{'…' if len(value) > 80 else ''}" if value else ""
    return f"<{_local(element)}> is not part of sitegen's alert format and was not imported{shown}"


def _shown_value(element: ET.Element) -> str:
    """An element's content as a reader would write it: `SAME=WSW` for a valueName/value
    pair, else its texts separated by spaces (never run together: `SAMEWSW`)."""
    name = element.findtext(f"{{{CAP_NS}}}valueName")
    value = element.findtext(f"{{{CAP_NS}}}value")
    if name is not None and value is not None:
        return f"{name.strip()}={' '.join(value.split())}"
    return " ".join(" ".join(element.itertext()).split())


def parse_cap(data: bytes, origin: str) -> tuple[ET.Element, dict[ET.Element, int]]:
    """Parse safely, keeping each element's line; raises ContentError for unusable input."""
    if len(data) > MAX_INPUT_BYTES:
        message = f"over {MAX_INPUT_BYTES:,} bytes, far more than a CAP message (a few "
        message += "kilobytes); not imported: check that it is the CAP file you meant"
        raise ContentError([Problem(origin, 0, message)])
    builder = _LineBuilder()
    parser = SafeET.DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.expat = parser.parser
    try:
        parser.feed(data)
        root: ET.Element = parser.close()
    except defusedxml.DefusedXmlException as exc:
        line = int(getattr(parser.parser, "CurrentLineNumber", 0))
        message = f"refused: the XML uses {_forbidden(exc)}; CAP needs none, and it could be used "
        message += "against this machine (entity expansion, reading local files)"
        raise ContentError([Problem(origin, line, message)]) from exc
    except (LookupError, ValueError) as exc:  # after DefusedXmlException, a ValueError too
        raise ContentError([Problem(origin, 1, _unreadable_encoding(data))]) from exc
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else 0
        problem = _not_utf8(data, origin) or Problem(
            origin, line, f"not well-formed XML ({exc.msg})"
        )
        raise ContentError([problem]) from exc
    if root.tag != f"{{{CAP_NS}}}alert":
        raise ContentError([Problem(origin, 1, _not_cap(root.tag))])
    return root, builder.lines


def _not_utf8(data: bytes, origin: str) -> Problem | None:
    """The usual reason expat calls a file "not well-formed (invalid token)": it says no
    encoding, so it is read as UTF-8, but it was saved in another (Latin-1, Windows-1252)."""
    first_line = data[: data.find(b"\n")]
    if b"encoding" in first_line or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        return Problem(
            origin,
            data.count(b"\n", 0, exc.start) + 1,
            f"not UTF-8 text (byte 0x{data[exc.start]:02X} in column {column}): save it as "
            'UTF-8, or name its encoding in its first line, e.g. <?xml version="1.0" '
            'encoding="ISO-8859-1"?>',
        )
    return None


def _unreadable_encoding(data: bytes) -> str:
    """Expat reads UTF-8, UTF-16, Latin-1 and the one-byte codecs; an encoding it cannot (a
    name Python does not know, a multi-byte one: Shift_JIS, EUC-KR) raises LookupError or
    ValueError, not a ParseError."""
    found = re.search(rb"""encoding\s*=\s*["']([\w.:-]{1,40})["']""", data[:200])
    name = found[1].decode("ascii") if found else "named in its first line"
    return (
        f"the encoding {name} of this file is one sitegen cannot read; save it as "
        'UTF-8 and change its first line to <?xml version="1.0" encoding="UTF-8"?>'
    )


def _forbidden(exc: defusedxml.DefusedXmlException) -> str:
    """What defusedxml refused, in words (its exceptions print as Python reprs)."""
    name = getattr(exc, "name", None)
    if isinstance(exc, defusedxml.DTDForbidden):
        return f"a DTD (<!DOCTYPE {name}>)"
    if isinstance(exc, defusedxml.EntitiesForbidden):
        return f"an entity declaration (<!ENTITY {name}>)"
    if isinstance(exc, defusedxml.ExternalReferenceForbidden):
        return f"an external reference ({getattr(exc, 'sysid', None) or 'a DTD or entity'})"
    return "a DTD or entities"


class _LineBuilder(ET.TreeBuilder):
    """A tree builder that remembers the line each element starts on (for messages)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[ET.Element, int] = {}
        self.expat: object = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        self.lines[element] = int(getattr(self.expat, "CurrentLineNumber", 0))
        return element


def _not_cap(tag: str) -> str:
    if tag.endswith("}feed"):
        return "this is an Atom feed, not a CAP message; import the CAP files its entries link to"
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else "(none)"
    return (
        f"not a CAP 1.2 message: the root element is <{tag.rsplit('}', 1)[-1]}> in namespace "
        f"{namespace}; expected <alert> in {CAP_NS}"
    )


def alert_id_for(identifier: str, config: SiteConfig) -> str:
    """The alert id for a CAP identifier: ours map back exactly, others become a slug safe
    as a URL and a file name on every system. ASCII identifiers keep the slug they always
    had (updates of alerts imported before must find them); accented letters lose only their
    accent (`ñandú` → `nandu`, as `sitegen new` names files)."""
    own = sender_domain(config) + "-"
    slug = identifier[len(own) :]
    if not (identifier.startswith(own) and ID_RE.match(slug)):
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", latin_letters(identifier)).strip("-_") or "alert"
    # A digest of the full identifier keeps ids apart that the slug would merge: letters with
    # no ASCII form (`경보-1`, `경고-1`), or what is cut to keep ids short.
    if len(slug) > 100 or letters_lost(identifier):
        slug = slug[:89].rstrip("-_") + "-" + hashlib.sha256(identifier.encode()).hexdigest()[:10]
    if windows_device_name(slug):  # CON.md cannot be created on Windows
        slug += "-alert"
    return slug


@dataclass(frozen=True, slots=True)
class _Header:
    identifier: str
    id: str
    sent: datetime
    status: Status
    msg_type: MsgType
    references: tuple[str, ...]
    own: bool  # sent by this site: its text has one block per line, not hard-wrapped


@dataclass(frozen=True, slots=True)
class _Area:
    name: str
    geocodes: dict[str, str]
    polygons: tuple[str, ...]
    lines: dict[KeyPath, int] = field(default_factory=dict, compare=False)  # ("geocodes", SAME)


@dataclass(frozen=True, slots=True)
class _Info:
    language: str
    category: Category
    event: str
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    effective: datetime | None
    expires: datetime
    areas: tuple[_Area, ...]
    title: str
    headline: str
    description: str
    instruction: str
    lines: dict[KeyPath, int] = field(default_factory=dict, compare=False)  # ("expires",) → line

    def shared(self) -> tuple[object, ...]:
        # What every translation must agree on (content.SHARED_FIELDS, info-level part).
        return (
            self.category,
            self.urgency,
            self.severity,
            self.certainty,
            self.effective,
            self.expires,
        )


_SHARED_NAMES = ("category", "urgency", "severity", "certainty", "effective", "expires")


def import_cap(data: bytes, origin: str, config: SiteConfig) -> ImportResult:
    """One CAP message → alert files; problems say what was not imported and why."""
    try:
        root, lines = parse_cap(data, origin)
    except ContentError as exc:
        return ImportResult((), exc.problems)
    reader = _Reader(origin, lines)
    header = _header(reader, root, config)
    infos = _infos(reader, root, config)
    _refuse_forbidden_characters(reader, root)
    reader.report_unused(root)
    problems = tuple(reader.problems)
    if header is None or not infos or not ImportResult((), problems).ok:
        return ImportResult((), problems)
    names = [_file_name(header.id, info.language, index) for index, info in enumerate(infos)]
    header_lines = {(key,): reader.line(reader.at(root, tag)) for key, tag in _HEADER_TAGS.items()}
    header_lines[("references",)] = reader.line(reader.at(root, "references"))
    files = []
    for name, info in zip(names, infos, strict=True):
        text = _alert_text(header, info, name)
        where = header_lines | info.lines | _area_lines(info)
        at = _xml_lines(text, name, where)
        files.append(ImportedFile(name, text, header.identifier, origin, at))
    return ImportResult(tuple(files), problems)


def _refuse_forbidden_characters(reader: _Reader, root: ET.Element) -> None:
    """XML allows characters no alert may carry (the C1 controls U+0080-U+009F, DEL, the
    noncharacters): refused at the element holding them when it is imported, as `check`
    would refuse the alert file's line, which the official has not seen yet."""
    for element in (e for e in root.iter() if e in reader.used):
        texts = [element.text or "", element.tail or "", *element.attrib.values()]
        found = next((m for t in texts if (m := FORBIDDEN_CHARS.search(t))), None)
        if found is not None:
            reader.error(
                element,
                f"<{_local(element)}> contains the character {describe_char(found[0])}: "
                f"{CHAR_REFUSED}",
            )


def _area_lines(info: _Info) -> dict[KeyPath, int]:
    found: dict[KeyPath, int] = {}
    for index, area in enumerate(info.areas):
        found |= {("areas", index, *key): line for key, line in area.lines.items()}
        found[("areas", index, "polygons")] = area.lines.get(("polygon",), 0)
    return found


def _xml_lines(text: str, name: str, where: dict[KeyPath, int]) -> tuple[tuple[int, int], ...]:
    """(alert file line, XML line) for every front-matter line and the body's first, by the
    deepest key of the line that came from an element (`areas/0/geocodes/SAME` → <geocode>)."""
    from sitegen.source import read_document

    doc, _ = read_document(name, name, text.encode("utf-8"))
    if doc is None:
        return ()
    found: dict[int, int] = {}
    for path, line in sorted(doc.lines.items(), key=lambda item: len(item[0])):
        prefixes = (path[:end] for end in range(len(path), 0, -1))
        found[line] = next((where[p] for p in prefixes if where.get(p)), found.get(line, 0))
    found[doc.body_line] = where.get(("description",), 0)
    return tuple(sorted(found.items()))


def import_all(inputs: list[tuple[str, bytes]], config: SiteConfig) -> ImportResult:
    """Several messages (origin, bytes) → their files, each file name made once: two
    identifiers that differ only where a file name cannot (`a/b`, `a:b`) are refused, as the
    second would replace the first; the same message given twice is imported once."""
    files: dict[str, tuple[str, ImportedFile]] = {}  # name, lower-cased → (origin, file)
    problems: list[Problem] = []
    for origin, data in inputs:
        result = import_cap(data, origin, config)
        problems.extend(result.problems)
        for file in result.files:  # `A.md` and `a.md` are one file on Windows and macOS
            other, earlier = files.setdefault(file.name.lower(), (origin, file))
            if earlier == file and other != origin:
                said = f"the same message as {other}; imported once"
                problems.append(Problem(origin, 0, said, "warning"))
            elif earlier != file:
                problems.append(Problem(origin, 0, _same_name(file, earlier, other)))
    imported = tuple(f for _, f in files.values())
    if ImportResult(imported, tuple(problems)).ok:
        problems.extend(site_problems(imported, config))
    return ImportResult(imported, tuple(problems))


def site_problems(files: tuple[ImportedFile, ...], config: SiteConfig) -> list[Problem]:
    """What `sitegen check` would say once the files are written: content.py's own checks,
    over the whole site with these files in it (replacing any of their names), before any is
    written. Each problem of a file is said at the XML line its value came from; problems of
    the site's other files only when these files cause them."""
    from sitegen.build import stored_reader
    from sitegen.content import ContentFile, load_site, read_content_file, scan_content

    folder = config.content_path / "alerts"
    prefix = folder.relative_to(config.root).as_posix() + "/"
    new = {prefix + f.name: f for f in files}
    scanned, found = scan_content(config)
    merged = [c for c in scanned if c.rel not in new] + [
        ContentFile("alerts", str(folder / f.name), rel, _NO_STAT) for rel, f in new.items()
    ]
    merged.sort(key=lambda c: (c.kind != "alerts", c.rel.split("/")))

    stored = stored_reader(config)  # the site's own files, as the last build read them

    def read(file: ContentFile, config: SiteConfig, problems: list[Problem]) -> Alert | Page | None:
        if file.rel not in new:
            return stored(file, config, problems)
        data = new[file.rel].text.encode("utf-8")
        value: Alert | Page | None = read_content_file(file, config, problems, data)
        return value

    now = datetime.now(UTC)  # only the Site's clock: no check depends on it
    after = load_site(config, now, read, (merged, found)).problems
    # a name differing only in case from a file there is refused as a whole, with its own
    # advice, by cli_cap._refuse_replacing: check's "id ... only in capitals" of either file
    # would come first
    pairs = [(rel, c.rel) for rel in new for c in scanned if c.rel.lower() == rel.lower()]
    twins = {name for pair in pairs if pair[0] != pair[1] for name in pair}
    problems = [
        _of_file_there(p, new[p.path]) if p in found else _at_xml(p, new[p.path])
        for p in after
        if p.path in new
        and p.path not in twins
        and p.message not in (NO_BODY, NO_INSTRUCTION)  # `_missing_texts`
    ]
    if any(p.path not in new for p in after):
        before = {str(p) for p in load_site(config, now, stored, (scanned, found)).problems}
        names = ", ".join(new)
        problems += [
            replace(p, message=f"{p.message} (once {names} would be imported)")
            for p in after
            if p.path not in new and p.path not in twins and str(p) not in before
        ]
    return problems


_NO_STAT = os.stat_result((0,) * 10)  # a file not written yet; load_site never reads its stat


def _of_file_there(problem: Problem, file: ImportedFile) -> Problem:
    """A problem `scan_content` finds in the file already at an imported file's name (a link
    out of content/): it is that file's, not the XML's, so it stays said at the file."""
    said = (
        f"{problem.message} {file.origin} would be imported to this file, so nothing was "
        "written: remove the link (keep the file it points to if you need it), then import again"
    )
    return replace(problem, message=said)


def _at_xml(problem: Problem, file: ImportedFile) -> Problem:
    """A problem of an alert file not written yet, said at the XML line it comes from."""
    xml_line = max(((at, xml) for at, xml in file.lines if at <= problem.line), default=(0, 0))[1]
    where = f"{problem.path}:{problem.line}"
    if problem.severity == "error":
        said = f"{problem.message} (`sitegen check` would refuse {where} for it)"
    else:
        said = f"{problem.message} ({where})"
    return replace(problem, path=file.origin, line=xml_line, message=said)


def _same_name(file: ImportedFile, earlier: ImportedFile, other: str) -> str:
    if file.identifier == earlier.identifier:
        why = f"both have the identifier {file.identifier} but say different things"
    else:
        why = f"their identifiers ({earlier.identifier}, {file.identifier}) differ only in "
        why += "characters a file name cannot hold"
    return (
        f"this message would be written to content/alerts/{file.name}, as {other} is: {why}, "
        "and the second would replace the first. Nothing was written; import them one at a "
        "time, renaming the first one's files in content/alerts/ before importing the second"
    )


def _file_name(alert_id: str, language: str, index: int) -> str:
    # The first <info> is the primary version (the file without a language suffix).
    return f"{alert_id}.md" if index == 0 else f"{alert_id}.{language}.md"


def _header(reader: _Reader, root: ET.Element, config: SiteConfig) -> _Header | None:
    identifier = reader.text(root, "identifier", required=True)
    sent = _instant(reader, root, "sent", required=True)
    status = _choice(reader, root, "status", Status)
    msg_type = _msg_type(reader, root)
    scope = reader.text(root, "scope", required=True)
    if scope is not None and scope != "Public":
        reader.error(
            reader.at(root, "scope"),
            f"scope is {scope}: this message is not for the public; not imported",
        )
    sender = reader.text(root, "sender", required=True)
    if sender and sender != config.sender:
        reader.warn(
            reader.at(root, "sender"),
            f"sender {sender} becomes the site's sender {config.sender} on export",
        )
    references = _references(reader, root, config)
    if msg_type in (MsgType.UPDATE, MsgType.CANCEL) and not references:
        reader.error(
            reader.at(root, "msgType"),
            f"an {msg_type.value} must have <references>; this one has none",
        )
    if not (identifier and sent and status and msg_type):
        return None
    own = identifier.startswith(sender_domain(config) + "-")
    return _Header(
        identifier, alert_id_for(identifier, config), sent, status, msg_type, references, own
    )


def _msg_type(reader: _Reader, root: ET.Element) -> MsgType | None:
    raw = reader.text(root, "msgType", required=True)
    if raw in ("Ack", "Error"):
        reader.error(
            reader.at(root, "msgType"),
            f"msgType {raw} is a reply between systems, not an alert to publish",
        )
        return None
    return _enum(reader, root, "msgType", raw or None, MsgType)  # empty: said by text()


def _references(reader: _Reader, root: ET.Element, config: SiteConfig) -> tuple[str, ...]:
    raw = reader.text(root, "references") or ""
    ids = []
    for triple in raw.split():
        parts = triple.split(",")
        if len(parts) != 3 or not parts[1]:
            reader.error(
                reader.at(root, "references"),
                f"reference {triple!r} is not in CAP's sender,identifier,sent form",
            )
            continue
        ids.append(alert_id_for(parts[1], config))
    return tuple(ids)


def _infos(reader: _Reader, root: ET.Element, config: SiteConfig) -> list[_Info]:
    infos: list[_Info] = []
    kept: list[ET.Element] = []
    elements = reader.all(root, "info")
    if not elements:
        reader.error(root, "the message has no <info>: there is nothing to publish")
    for element in elements:
        info = _info(reader, element, config)
        if info is None:
            continue
        if any(other.language == info.language for other in infos):
            reader.warn(element, f"a second <info> in language {info.language} was not imported")
            continue
        infos.append(info)
        kept.append(element)
    for info, element in zip(infos[1:], kept[1:], strict=True):
        for name, mine, first in zip(_SHARED_NAMES, info.shared(), infos[0].shared(), strict=True):
            if mine != first:
                reader.error(
                    reader.at(element, name),
                    f"the <info> blocks disagree on {name} ({infos[0].language}: {_show(first)}, "
                    f"{info.language}: {_show(mine)}); sitegen needs one value for every language",
                )
        if _places(info) != _places(infos[0]):  # as content._area_problem: one set of places
            reader.error(
                reader.at(element, "area"),
                f"the <info> blocks disagree on the areas ({infos[0].language}: "
                f"{_shown_areas(infos[0])}; {info.language}: {_shown_areas(info)}); sitegen "
                "needs the same places, with the same geocodes and polygons, in every language",
            )
    return infos


def _places(info: _Info) -> list[tuple[tuple[tuple[str, str], ...], tuple[str, ...]]]:
    return sorted((tuple(sorted(a.geocodes.items())), a.polygons) for a in info.areas)


def _shown_areas(info: _Info) -> str:
    """ "Coast (SAME=006037, a polygon), Inland (no geocode or polygon)"."""
    shown = []
    for area in info.areas:
        what = [f"{name}={value}" for name, value in area.geocodes.items()]
        what += ["a polygon"] * len(area.polygons)
        shown.append(f"{area.name} ({', '.join(what) or 'no geocode or polygon'})")
    return ", ".join(shown)


def _show(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _info(reader: _Reader, element: ET.Element, config: SiteConfig) -> _Info | None:
    found = reader.all(element, "category")
    categories = [c.text or "" for c in found]
    for extra, extra_element in zip(categories[1:], found[1:], strict=True):
        reader.warn(extra_element, f"category {extra} was not imported (sitegen keeps one)")
    category = _enum(reader, element, "category", categories[0] if categories else None, Category)
    values = (
        _language(reader, element, config),
        category,
        reader.text(element, "event", required=True),
        _choice(reader, element, "urgency", Urgency),
        _choice(reader, element, "severity", Severity),
        _choice(reader, element, "certainty", Certainty),
    )
    effective = _instant(reader, element, "effective")
    expires = _instant(reader, element, "expires", required=True)
    areas = tuple(area for a in reader.all(element, "area") for area in _areas(reader, a))
    if not areas:
        reader.error(element, "<info> has no <area>; sitegen needs at least one")
    title, headline = _titles(reader, element)
    texts = (reader.text(element, "description") or "", reader.text(element, "instruction") or "")
    _missing_texts(reader, element, *texts)
    _report_replaced(reader, element, config)
    if any(v is None for v in values) or expires is None or not areas:
        return None
    lines = {(key,): reader.line(reader.at(element, tag)) for key, tag in _INFO_TAGS.items()}
    return _Info(*values, effective, expires, areas, title, headline, *texts, lines)  # type: ignore[arg-type]


def _missing_texts(
    reader: _Reader, element: ET.Element, description: str, instruction: str
) -> None:
    """`check`'s NO_BODY and NO_INSTRUCTION warnings, in the message's terms: they speak of a
    file the official has not seen yet, and name no line of the message."""
    if not description and not instruction:
        reader.warn(
            element,
            "<info> has no <description> and no <instruction>: the alert page would show its "
            "title alone; add what happened and what to do to the message, or write them at the "
            "end of the alert file once imported",
        )
    elif not instruction:
        reader.warn(
            element,
            "<info> has no <instruction>: the alert page would have no 'What to do' section, "
            "and citizens look for instructions first; add it to the message, or write it at "
            "the end of the alert file once imported",
        )


# Front-matter field → the <info> element it comes from (the body: description, instruction).
_INFO_TAGS = {
    **{name: name for name in ("category", "event", "urgency", "severity", "certainty")},
    **{name: name for name in ("effective", "expires", "language", "headline", "description")},
    "title": "headline",
}
_HEADER_TAGS = {"sent": "sent", "status": "status", "msg_type": "msgType"}


def _report_replaced(reader: _Reader, element: ET.Element, config: SiteConfig) -> None:
    # The site republishes under its own name and pages; say so when that differs.
    sender_name = reader.text(element, "senderName")
    if sender_name is not None and sender_name != config.sender_name:
        reader.warn(
            reader.at(element, "senderName"),
            f"<senderName> {sender_name} becomes {config.sender_name} on export",
        )
    web = reader.text(element, "web")
    if web is not None and not web.startswith(config.base_url):
        reader.warn(
            reader.at(element, "web"),
            f"<web> {web} becomes the alert's page on this site on export",
        )


def _titles(reader: _Reader, element: ET.Element) -> tuple[str, str]:
    """(title, headline): the headline is the title unless sitegen's title parameter is there."""
    headline = reader.text(element, "headline") or ""
    title = headline
    for parameter in element.findall(f"{{{CAP_NS}}}parameter"):
        if parameter.findtext(f"{{{CAP_NS}}}valueName") == TITLE_PARAMETER:
            reader.used.update([parameter, *parameter])
            title = (parameter.findtext(f"{{{CAP_NS}}}value") or "").strip()
    if not title:
        title = reader.text(element, "event") or ""
        reader.warn(element, "no <headline>: the event name is used as the title")
    if len(title) > MAX_TITLE:
        reader.warn(
            reader.at(element, "headline"),
            f"the headline is over {MAX_TITLE} characters and was shortened",
        )
        title = title[: MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
    return title, headline if headline != title else ""


def _language(reader: _Reader, element: ET.Element, config: SiteConfig) -> str | None:
    raw = reader.text(element, "language") or "en-US"  # the CAP default (spec 3.2.2)
    for candidate in (raw, raw.split("-")[0].lower()):
        if candidate in config.languages:
            return candidate
    reader.error(
        reader.at(element, "language"),
        f"language {raw} is not one of the site's languages ({', '.join(config.languages)}); "
        "add it to site.toml to import this <info>",
    )
    return None


def _areas(reader: _Reader, element: ET.Element) -> list[_Area]:
    """One <area>, as areas of the alert file: front matter holds one value per geocode name,
    so an <area> naming several places (NWS: two counties, SAME and UGC each) becomes one area
    per place, the k-th value of every name in the k-th, the polygons in the first. CAP's
    area is the union of all, so the places and the geocodes sent on export are the same.
    Each is named by the k-th part of an areaDesc listing as many places as ";"-separated
    names (NWS's habit), else by the whole areaDesc; either way a warning asks the official
    to check the names."""
    values: dict[str, list[str]] = {}
    code_lines: dict[tuple[str, str], int] = {}
    for code in reader.all(element, "geocode"):
        reader.used.update(code)
        name = (code.findtext(f"{{{CAP_NS}}}valueName") or "").strip()
        value = (code.findtext(f"{{{CAP_NS}}}value") or "").strip()
        if not (name and value):
            reader.error(
                code,
                f"<geocode>{f' {value or name}' if value or name else ''} has no "
                f"<{'value' if name else 'valueName'}>: a "
                "geocode is a system (SAME, UGC…) and a code in it; fix the message or leave "
                "this geocode out",
            )
        elif value not in values.setdefault(name, []):
            values[name].append(value)
            code_lines[(name, value)] = reader.line(code)
    polygons = tuple(" ".join((p.text or "").split()) for p in reader.all(element, "polygon"))
    name = reader.text(element, "areaDesc", required=True) or ""
    count = max((len(v) for v in values.values()), default=1)
    places = [
        {code: place[k] for code, place in values.items() if k < len(place)} for k in range(count)
    ]
    names = [name] * count
    parts = [part.strip() for part in name.split(";")]
    if count > 1:
        said = ", ".join(" ".join(f"{c} {v}" for c, v in place.items()) for place in places)
        if len(parts) == count and all(parts):  # NWS: "Cleveland, OK; McClain, OK"
            names = parts
            reader.warn(
                element,
                f"area '{name}' holds {count} places ({said}): written as {count} areas "
                f"named by the order of its names and geocodes ({', '.join(parts)}); check "
                "that each name has its own place's codes",
            )
        else:
            reader.warn(
                element,
                f"area '{name}' holds {count} places ({said}): written as {count} areas of "
                "this name, so its pages show it more than once; give each its own name in "
                "the alert file",
            )
    area: dict[KeyPath, int] = {(): reader.line(element)}
    area[("polygon",)] = reader.line(reader.at(element, "polygon"))
    lines = [
        area | {("geocodes", code): code_lines[(code, value)] for code, value in place.items()}
        for place in places
    ]
    return [
        _Area(names[k], place, polygons if k == 0 else (), lines[k])
        for k, place in enumerate(places)
    ]


def _instant(
    reader: _Reader, parent: ET.Element, tag: str, required: bool = False
) -> datetime | None:
    raw = reader.text(parent, tag, required=required)
    if not raw:  # absent or empty (text() said so when it is required)
        return None
    try:
        value: datetime | None = datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.utcoffset() is None:
        reader.error(
            reader.at(parent, tag), f"<{tag}> {raw!r} is not a date and time with a timezone"
        )
        return None
    return value


def _choice(reader: _Reader, parent: ET.Element, tag: str, enum: type[E]) -> E | None:
    return _enum(reader, parent, tag, reader.text(parent, tag, required=True) or None, enum)


def _enum(
    reader: _Reader, parent: ET.Element, tag: str, raw: str | None, enum: type[E]
) -> E | None:
    if raw is None:
        return None
    for member in enum:
        if member.value == raw.strip():
            return member
    reader.error(
        reader.at(parent, tag), f"<{tag}> {raw!r} is not one of {', '.join(m.value for m in enum)}"
    )
    return None


# --- writing the alert file ------------------------------------------------------------------


def _alert_text(header: _Header, info: _Info, name: str) -> str:
    """The alert file, written by the same writer as `sitegen new`."""
    areas = tuple(
        Area(
            name=a.name,
            slug=area_slug("", tuple(sorted(a.geocodes.items())), a.name),
            geocodes=tuple(a.geocodes.items()),
            polygons=a.polygons,
        )
        for a in info.areas
    )
    alert = Alert(
        id=header.id,
        language=info.language,
        source=f"content/alerts/{name}",
        title=info.title,
        event=info.event,
        category=info.category,
        severity=info.severity,
        urgency=info.urgency,
        certainty=info.certainty,
        status=header.status,
        msg_type=header.msg_type,
        sent=header.sent,
        expires=info.expires,
        effective=info.effective,
        areas=areas,
        references=header.references,
        body=markdown_body(info.description, info.instruction, info.language, not header.own),
        headline=info.headline,
    )
    text = alert_file_text(alert)
    return text.replace("---\n", f"---\n{IMPORTED_FROM}{_one_word(header.identifier)}\n", 1)


# The identifier a file was imported from, first in its front matter: the file name alone
# cannot tell `a/b` from `a:b`, so `import-cap --force` reads it before replacing a file.
IMPORTED_FROM = "# imported from the CAP message "
_IMPORTED_RE = re.compile("^" + re.escape(IMPORTED_FROM) + r"(\S+)$", re.MULTILINE)


def _one_word(identifier: str) -> str:
    # CAP identifiers hold no spaces; one that does must not end or break the comment line.
    return "".join(c if c.isprintable() and not c.isspace() else "?" for c in identifier)


def imported_from(existing: str) -> str | None:
    """The identifier of the CAP message the `existing` file text was imported from, as its
    comment writes it; None when it has none (written by hand, or imported before it was
    written)."""
    found = _IMPORTED_RE.search(existing.split("\n---", 1)[0])
    return None if found is None else found[1]


def is_from(file: ImportedFile, identifier: str) -> bool:
    """Whether `identifier` (from `imported_from`) is `file`'s message."""
    return identifier == _one_word(file.identifier)


def markdown_body(description: str, instruction: str, language: str, wrapped: bool = True) -> str:
    """Markdown whose CAP description and instruction are the given plain texts, with
    hard-wrapped lines rejoined (`wrapped`; sitegen's own CAP has one block per line)."""
    paragraphs, steps = _blocks(description, wrapped), _blocks(instruction, wrapped)
    steps = [_BULLET.sub("", step, count=1) for step in steps]  # "- x" is the item "x"
    for escape in (_escape_minimal, _escape_all):
        parts = [escape(p, "") for p in paragraphs]
        if steps:
            heading = instruction_heading(language)
            parts.append(f"## {heading}\n\n" + "\n".join("- " + escape(s, "- ") for s in steps))
        body = "\n\n".join(parts) + "\n"
        rendered = render_body(body)
        if (rendered.description, rendered.instruction) == (
            "\n".join(paragraphs),
            "\n".join(steps),
        ):
            break
    return body


def _blocks(text: str, wrapped: bool = True) -> list[str]:
    """Plain CAP text → blocks (paragraphs or steps). Text from other senders is often
    hard-wrapped: a line continues the one before unless a blank line separates them, it
    starts like a list item ("-", "*", "•", "1.", "1)"), or (with no blank lines anywhere,
    as when each step is one line) the line before ends a sentence. sitegen's own CAP
    (`wrapped` False) has exactly one block per line."""
    if not wrapped:
        return [block for line in text.split("\n") if (block := " ".join(line.split()))]
    blank_line = re.compile(r"\n[ \t]*\n")
    paragraphs = blank_line.search(text) is not None
    blocks: list[list[str]] = []
    for chunk in blank_line.split(text):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        for index, line in enumerate(lines):
            ended = index > 0 and not paragraphs and _SENTENCE_END.search(lines[index - 1])
            if index == 0 or _ITEM_START.match(line) or ended:
                blocks.append([])
            blocks[-1].append(line)
    return [" ".join(" ".join(block).split()) for block in blocks]


_ITEM_START = re.compile(r"^([-*•+]\s|\d{1,3}[.)]\s)")
_BULLET = re.compile(r"^[-*•+]\s+")
_SENTENCE_END = re.compile(r"[.!?:;…。！？][\"'’”»)\]]*$")


def _escape_minimal(line: str, prefix: str) -> str:
    # Officials will edit the file: escape only when the plain line would not survive Markdown,
    # and then first only a block marker at its start ("* ", "1. ", "# ").
    for candidate in (line, _BLOCK_MARKER.sub(r"\1\\\2", line, count=1)):
        if markdown_to_text(prefix + candidate) == line:
            return candidate
    return _escape_all(line, prefix)


def _escape_all(line: str, prefix: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", line.replace("&", "&amp;").replace("<", "&lt;"))
