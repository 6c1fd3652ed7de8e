"""Read an alert file: decode it, split the front matter, parse YAML keeping line numbers.

Nothing here knows what an alert is; `content.py` validates the fields. Every problem is
returned (never raised) so that one run reports every mistake in every file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sitegen.content import ODD_SPACES
from sitegen.errors import Problem, cannot_read, plural

MAX_FILE_BYTES = 1_000_000
MAX_FRONT_MATTER_BYTES = 64_000
MAX_NESTING = 10
# A line longer than this in a file over MAX_FILE_BYTES is named as what makes it big: a
# screenful of text is ~2,000 bytes, a pasted image (a data: address) hundreds of thousands.
LONG_LINE_BYTES = 10_000
# A line longer than this in a smaller file is a warning: 50 screenfuls, no alert's paragraph
VERY_LONG_LINE_BYTES = 100_000
MAX_LONG_LINES = 3  # long lines named one by one in that message; the rest are counted
# A data: address (RFC 2397), as pasted images are written: `![map](data:image/png;base64,…)`
_DATA_ADDRESS = re.compile(rb"\bdata:([a-z0-9.+-]+/[a-z0-9.+-]+)?[;,]", re.IGNORECASE)
FENCE = "---"

KeyPath = tuple[str | int, ...]
# libyaml's parser gives the same nodes and marks ~15x faster; pure Python when it is absent.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"  # most values: taken as is, without a constructor per value

# Characters no alert may carry. XML 1.0 forbids the C0 controls but tab, newline and CR, lone
# surrogates and U+FFFE/U+FFFF: one of them in a title makes cap.atom and feed.atom, which list
# every alert, not well-formed for all of them. Also refused, though XML 1.0 tolerates them: DEL
# and the C1 controls U+0080-U+009F (HTML reports them as errors, XML 1.1 and YAML read U+0085
# as a line break, none shows anything) and the noncharacters U+FDD0-U+FDEF, which Unicode
# keeps for programs' own use, never for text. (The noncharacters at the end of planes 1-16 are
# left alone: XML allows them, no editor makes them, and listing them made this search ~15x
# slower, ~50 µs a file.) Raw, they are found in the file's text (CR is already normalised
# away); written as YAML escapes ("\u0007") in a double-quoted value, in that value.
FORBIDDEN_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
MAX_CHAR_PROBLEMS = 10  # lines reported one by one in a file; the rest are counted
# The C0 controls FORBIDDEN_CHARS holds, and DEL, as bytes: see _may_hold_forbidden.
_CONTROL_BYTES = bytes(c for c in range(0x20) if c not in b"\t\n\r") + b"\x7f"


@dataclass(frozen=True, slots=True)
class Document:
    """A decoded source file: its front matter values, the line of every key, and the body."""

    rel: str
    fields: dict[str, Any]
    lines: dict[KeyPath, int]  # ("areas", 0, "name") -> 1-based line in the file
    body: str
    body_line: int

    def line(self, *path: str | int) -> int:
        """Line of the deepest known key on `path`, falling back to its parents, then line 1."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


def describe_char(char: str) -> str:
    """`U+0007 (an invisible control character)`: how messages name a refused character."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        kind = "half of a UTF-16 surrogate pair, not a character on its own"
    elif code < 0x20 or 0x7F <= code <= 0x9F:
        kind = "an invisible control character"
    else:
        kind = "a Unicode noncharacter, never meant for text"
    return f"U+{code:04X} ({kind})"


CHAR_REFUSED = "web pages, feeds and CAP messages cannot carry it; remove it"


def forbidden_characters(text: str, rel: str, first_line: int) -> list[Problem]:
    """A problem for each line of `text` (its first line is `first_line` of the file) holding a
    character no alert may carry, naming the first one; past MAX_CHAR_PROBLEMS lines, a count."""
    found: dict[int, str] = {}  # line -> its first refused character
    line, counted = first_line, 0
    for match in FORBIDDEN_CHARS.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        found.setdefault(line, match[0])
    problems = [
        Problem(rel, at, f"this line contains the character {describe_char(char)}: {CHAR_REFUSED}")
        for at, char in list(found.items())[:MAX_CHAR_PROBLEMS]
    ]
    if len(found) > MAX_CHAR_PROBLEMS:
        problems.append(
            Problem(
                rel,
                list(found)[MAX_CHAR_PROBLEMS],
                f"{len(found) - MAX_CHAR_PROBLEMS} more lines from here contain such characters",
            )
        )
    return problems


ALIASES_REFUSED = (
    "YAML anchors and aliases ('&name', '*name', '<<') are not allowed in "
    "alerts; write each value out in full"
)


_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
}


class _Refused(Exception):
    """A front matter we will not read further: (line, message)."""

    def __init__(self, line: int, message: str = ALIASES_REFUSED) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message


def read_document(
    path: Path | str, rel: str, raw: bytes | None = None
) -> tuple[Document | None, list[Problem]]:
    """Read one Markdown file with front matter (`raw`: its bytes, when read already).
    Returns (document or None, problems)."""
    try:
        if raw is None:
            with open(path, "rb") as file:
                raw = file.read()
    except OSError as exc:
        return None, [Problem(rel, 0, cannot_read(exc))]
    text, problems = decode(raw, rel)
    if text is None:
        return None, problems
    split = _split_front_matter(text, rel)
    if isinstance(split, Problem):
        return None, [*problems, split]
    yaml_text, body, body_line = split
    if _may_hold_forbidden(raw) and FORBIDDEN_CHARS.search(body):
        problems.extend(forbidden_characters(body, rel, body_line))
    parsed = _parse_yaml(yaml_text, rel)
    if isinstance(parsed, Problem):
        return None, [*problems, parsed]
    fields, lines, yaml_problems = parsed
    problems.extend(yaml_problems)
    return Document(rel, fields, lines, body, body_line), problems


def _may_hold_forbidden(raw: bytes) -> bool:
    """False when the UTF-8 file surely holds no FORBIDDEN_CHARS: no control byte, and no
    0xC2 or 0xEF byte, which begin the C1 controls and the noncharacters. ~1.2 µs a file where
    searching the body costs ~4 µs (a regular expression pays ~2.5 ns a character); Korean and
    plain text pass, a file with a '°' or a full-width '～' is searched."""
    if len(raw.translate(None, _CONTROL_BYTES)) != len(raw):
        return True
    return not raw.isascii() and (b"\xc2" in raw or b"\xef" in raw)


def _too_big(raw: bytes, rel: str) -> Problem:
    """The file is over MAX_FILE_BYTES: said at its first very long line, naming each (up
    to MAX_LONG_LINES) and what it holds, a pasted image most often, so the official knows
    what to take out and what to do instead; at line 0 when no line stands out."""
    # "an alert file", not "an alert": its page has a limit of its own (build.over_budget)
    said = f"the file is {len(raw):,} bytes; an alert file must be under {MAX_FILE_BYTES:,} bytes."
    first, sentences = _long_lines(raw, LONG_LINE_BYTES)
    return Problem(rel, first, " ".join([said, *sentences]))


def _very_long_line(raw: bytes, rel: str) -> Problem | None:
    """A warning at the first line over VERY_LONG_LINE_BYTES of a file under MAX_FILE_BYTES (a
    900 KB pasted word or image passed without a word), or None; only a file that long is
    split into lines."""
    if len(raw) <= VERY_LONG_LINE_BYTES:
        return None
    first, sentences = _long_lines(raw, VERY_LONG_LINE_BYTES)
    if not first:
        return None
    said = f"this line is longer than any alert's text needs ({VERY_LONG_LINE_BYTES:,} bytes)."
    return Problem(rel, first, " ".join([said, *sentences]), "warning")


def _long_lines(raw: bytes, limit: int) -> tuple[int, list[str]]:
    """The first line of `raw` over `limit` bytes (0 for none), and sentences naming each (up
    to MAX_LONG_LINES) and what it holds, then what to do instead."""
    lines = enumerate(raw.split(b"\n"), 1)
    long = [(n, _what(line), len(line)) for n, line in lines if len(line) > limit]
    named = [_long_line(*line) for line in long[:MAX_LONG_LINES]]
    if rest := long[MAX_LONG_LINES:]:
        are = "is" if len(rest) == 1 else "are"
        named.append(
            f"{plural(len(rest), 'more line')} {are} over {limit:,} bytes too, "
            f"the first at line {rest[0][0]}."
        )
    if any(what == "image" for _, what, _ in long):
        named.append(
            "Alerts show no pictures, only their description (every page must load at once): "
            "delete the pasted image and link to the picture where it is published instead, "
            "e.g. [flood map](https://www.example.gov/flood-map.png)."
        )
    if not long or any(what != "image" for _, what, _ in long):
        named.append("Move long material to a page of its own and link to it.")
    return (long[0][0] if long else 0), named


def _what(line: bytes) -> str:
    """What a long line holds: "image" or "data" pasted as a data: address, else "text"."""
    found = _DATA_ADDRESS.search(line)
    if found is None:
        return "text"
    return "image" if (found[1] or b"").lower().startswith(b"image/") else "data"


def _long_line(number: int, what: str, size: int) -> str:
    if what == "text":
        return f"Line {number} alone is {size:,} bytes long."
    pasted = "a pasted image" if what == "image" else "pasted material"
    return f"Line {number} holds {pasted} ({size:,} bytes, written as a 'data:' address)."


def decode(raw: bytes, rel: str) -> tuple[str | None, list[Problem]]:
    """Bytes → text with normalised newlines; problems for what we cannot or will not accept."""
    problems: list[Problem] = []
    if len(raw) > MAX_FILE_BYTES:
        return None, [_too_big(raw, rel)]
    if not raw.strip():
        return None, [
            Problem(
                rel,
                1,
                "the file is empty. An alert starts with '---', its fields "
                "(title, event, severity, ...), another '---', then the text.",
            )
        ]
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        problems.append(
            Problem(
                rel,
                1,
                "the file starts with a byte-order mark (BOM); it was "
                "ignored, but save the file as 'UTF-8' (without BOM)",
                "warning",
            )
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [
            Problem(
                rel,
                1,
                "the file is saved as UTF-16 (what some editors call 'Unicode'), not as "
                "UTF-8 text. Save it again choosing the encoding 'UTF-8'.",
            )
        ]
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        return None, [
            *problems,
            Problem(
                rel,
                line,
                "the file contains a NUL byte: it looks like a "
                "binary file, not text. Save it as plain UTF-8 text.",
            ),
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 1].hex()
        guess = _encoding_guess(raw, exc.start)
        return None, [
            *problems,
            Problem(
                rel,
                line,
                f"byte 0x{bad} is not valid UTF-8 text; the file was {guess}"
                "Save it again choosing the encoding 'UTF-8'.",
            ),
        ]
    if (long := _very_long_line(raw, rel)) is not None:
        problems.append(long)
    if "\r" in text:
        problems.append(
            Problem(
                rel,
                1,
                "the file has Windows (CRLF) or old Mac (CR) line endings; "
                "they were read as plain newlines, but save it with LF endings",
                "warning",
            )
        )
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, problems


def _encoding_guess(raw: bytes, start: int) -> str:
    """How the file was probably saved, for the message (only read when it is not UTF-8)."""
    try:
        korean = raw.decode("cp949")
    except UnicodeDecodeError:
        pass
    else:  # Latin-1 text often decodes as CP949 too, but not to Korean syllables only
        if all(
            "\uac00" <= c <= "\ud7a3" or "\u3131" <= c <= "\u318e" for c in korean if c > "\x7f"
        ):
            return "probably saved as Korean EUC-KR (CP949, 'ANSI' on Korean Windows). "
    try:
        char = raw[start : start + 1].decode("cp1252")
    except UnicodeDecodeError:
        return "probably saved in another encoding. "
    return (
        f"probably saved as Latin-1 (Windows-1252, 'ANSI' on Western Windows), in which this "
        f"byte is '{char}'. "
    )


# The closing fence: a line '---' below the first, spaces after it allowed (as rstrip() does)
_CLOSING_FENCE = re.compile(r"\n---[^\S\n]*(?=\n|\Z)")


def _split_front_matter(text: str, rel: str) -> tuple[str, str, int] | Problem:
    first = text.find("\n")  # the text is not split into lines: its body may be long
    if (text[:first] if first >= 0 else text).rstrip() != FENCE:
        return Problem(
            rel,
            1,
            "no front matter: the first line must be '---', followed by the "
            "alert's fields (title, event, severity, ...) and a closing '---'",
        )
    closing = _CLOSING_FENCE.search(text, first) if first >= 0 else None
    if closing is not None:
        yaml_text = text[first + 1 : closing.start()]
        if len(yaml_text.encode()) > MAX_FRONT_MATTER_BYTES:
            return Problem(
                rel,
                2,
                f"the front matter is over {MAX_FRONT_MATTER_BYTES:,} "
                "bytes; keep long text in the body below the second '---'",
            )
        return yaml_text, text[closing.end() + 1 :], text.count("\n", 0, closing.start()) + 3
    stripped = [row.rstrip() for row in text.split("\n")]
    if "..." in stripped:  # YAML's end of document: not a fence here
        return Problem(
            rel,
            stripped.index("...") + 1,
            "the front matter must be closed with '---', not '...': change this line to '---'",
        )
    return Problem(
        rel,
        1,
        "the front matter opened with '---' on line 1 is never closed: add a "
        "line '---' after the last field",
    )


# A space YAML does not take for one (a no-break space pasted from Word or a web page, an
# ideographic space typed in a Korean or Japanese input mode) where YAML needs a space: in
# the indentation, after a list's "-" or after a field's ":". The line looks right, and
# YAML's reading of it ("unknown field '  - name'", "no ':' after the field's name") misled.
_ODD_SPACES = f"[{ODD_SPACES}]"
_ODD_SPACE = re.compile(f"^[ \t]*(?:-[ \t]*)*(?:[A-Za-z_][\\w-]*:)?({_ODD_SPACES})")
_ANY_ODD_SPACE = re.compile(_ODD_SPACES)
# The start of a line's value: after its indentation, list dashes and field name (group 1)
_ENTRY = re.compile(r"[ \t]*(?:-[ \t]+)*(?:([A-Za-z_][\w-]*):(?:[ \t]+|$))?")


def _odd_space(yaml_text: str, rel: str) -> Problem | None:
    """The first line of the front matter where YAML would not read a space as one. The lines
    of a value written over several lines (`headline: |`, a title wrapped onto the next line)
    are text, where such a space is the official's (a paragraph's U+3000 in Japanese)."""
    if _ANY_ODD_SPACE.search(yaml_text) is None:  # one scan in C: the line-by-line walk
        return None  # below cost ~30 µs a front matter, half of fast_yaml's whole parse
    text_past = -1  # the column a value's further lines are indented past; -1: no value open
    for number, line in enumerate(yaml_text.split("\n"), start=2):
        indent = len(line) - len(line.lstrip(" "))
        if text_past >= 0 and (indent > text_past or not line.strip(" \t\r")):
            continue
        found = _ODD_SPACE.match(line)
        if found is not None:
            name = "a no-break space" if found[1] == "\u00a0" else "a space of another kind"
            return Problem(
                rel,
                number,
                f"this line has {name} (U+{ord(found[1]):04X}), often pasted from a word "
                "processor or a web page, where the fields need an ordinary one: delete the "
                "space before the value (or in the indentation) and type it again with the "
                "space bar",
            )
        text_past = _value_column(line)
    return None


def _value_column(line: str) -> int:
    """The column past which the lines below `line` go on with the value it starts (YAML's
    rule for a value over several lines: its field's, else its list dash's), or -1 when it
    starts none (a field whose list or fields are below)."""
    entry = _ENTRY.match(line)
    assert entry is not None  # every part of _ENTRY may be empty
    value = line[entry.end() :].strip(" \t\r")
    if not value or value.startswith("#"):
        return -1
    return entry.start(1) if entry[1] is not None else len(line) - len(line.lstrip(" "))


def _parse_yaml(
    yaml_text: str, rel: str
) -> tuple[dict[str, Any], dict[KeyPath, int], list[Problem]] | Problem:
    odd = _odd_space(yaml_text, rel) if not yaml_text.isascii() else None
    if odd is not None:
        return odd
    fast = fast_yaml(yaml_text)  # reads printable lines only: nothing refused gets through
    if fast is not None:
        return fast[0], fast[1], []
    refused = forbidden_characters(yaml_text, rel, 2)
    if refused:  # libyaml refuses most of them too, but without the line
        return refused[0]
    try:
        root = yaml.compose(yaml_text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        rows = yaml_text.split("\n")
        row = rows[mark.line] if mark and mark.line < len(rows) else ""  # at the end: past them
        if mark and "\t" in row[: len(row) - len(row.lstrip(" \t"))]:
            return Problem(
                rel,
                mark.line + 2,
                "this line is indented with a tab; the front matter must be indented "
                "with spaces only (set your editor to insert spaces for the Tab key)",
            )
        index, message = _unreadable(exc, rows)
        return Problem(rel, index + 2, message)
    except yaml.YAMLError:
        return Problem(rel, 1, _UNREADABLE)
    if root is None:
        return Problem(
            rel, 2, "the front matter is empty: add the alert's fields between the two '---' lines"
        )
    if not isinstance(root, MappingNode):
        return Problem(
            rel, root.start_mark.line + 2, "the front matter must be a list of 'key: value' lines"
        )
    lines: dict[KeyPath, int] = {}
    problems: list[Problem] = []
    try:
        fields = _to_python(root, (), lines, problems, rel, set())
    except _Refused as exc:
        return Problem(rel, exc.line, exc.message)
    assert isinstance(fields, dict)
    problems.extend(sorted(_lost_text(root, yaml_text.split("\n"), rel), key=lambda p: p.line))
    return fields, lines, problems


_UNREADABLE = (
    "the fields cannot be read from here: check this line and the one above it. Write each "
    "field as 'name: value' on a line of its own, lined up with the fields around it, and "
    "put a value containing ': ' or ' #' in quotes"
)
_NOT_CLOSED = {
    "flow sequence": "the list opened with '[' on this line is not closed: end it with ']'",
    "flow mapping": "the '{' on this line is not closed: end it with '}'",
    "quoted scalar": "the quote opened on this line is not closed: end the text with the same "
    "quote mark",
}
_CURLY_QUOTES = "\u201c\u201d\u2018\u2019"


def _unreadable(exc: yaml.MarkedYAMLError, rows: list[str]) -> tuple[int, str]:
    """The row (0-based) and plain words for front matter that YAML cannot read: the parser's
    own words ("mapping values are not allowed") mean nothing to an official. A mistake that
    the parser finds only later (a missing ':', an unclosed '[') is put on the line it began."""
    context, problem = exc.context or "", exc.problem or ""
    began = exc.context_mark or exc.problem_mark
    if began and "simple key" in context:
        return began.line, (
            "this line has no ':' after the field's name: write it like 'severity: Severe' "
            "(the name, a colon, a space, the value)"
        )
    if began and "escape" in problem:
        return began.line, (
            "a '\\' in this text in double quotes starts an escape that is not a character: "
            "write the character itself, or put the text in single quotes ('...')"
        )
    for opened, message in _NOT_CLOSED.items():
        if began and context.endswith(opened):
            return began.line, message
    mark = exc.problem_mark or exc.context_mark
    index = mark.line if mark else 0
    if "mapping values" not in problem:
        return index, _UNREADABLE
    return index, _value_or_indent(rows[index] if index < len(rows) else "")


def _value_or_indent(row: str) -> str:
    """Why YAML found a second 'name:' on a row: a ': ' inside the value, or the row is
    indented under the field above it."""
    name, _, value = row.strip().partition(":")
    if any(q in row for q in _CURLY_QUOTES):
        return (
            "curly quotes (\u201c \u201d) do not count as quotes here: write the value in "
            f'straight quotes, e.g. {name}: "{value.strip(" " + _CURLY_QUOTES)}" '
            "(or turn off smart quotes in your editor)"
        )
    if ": " in value or value.endswith(":"):
        example = f' e.g. {name}: "{value.strip()}"' if '"' not in value else ""
        return (
            f"the value of '{name}' contains ': ', which starts another field: put the whole "
            f"value in quotes,{example}"
        )
    return (
        "this line is indented more than the field above it: line fields up at the left "
        "edge, and an area's further lines under its 'name'"
    )


_ANCHOR_BEFORE = re.compile(r"\s*(&\S+)\s")
_COMMENT_AFTER = re.compile(r"\s+(#\S.*)$")


def _lost_text(root: Node, rows: list[str], rel: str) -> Iterator[Problem]:
    """Plain (unquoted) values whose neighbouring text YAML silently drops: `&Co flood` is an
    anchor named Co and the text "flood"; `Flood warning #2 for Seoul` is "Flood warning" and a
    comment. A comment written `# like this` (a space after '#') is taken as meant."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, ScalarNode) and not node.style and node.value:  # plain: None/""
            start, end = node.start_mark, node.end_mark
            row = rows[start.line] if start.line < len(rows) else ""
            # libyaml starts the node at its anchor, PyYAML after it: look from the separator
            cut = max(row.rfind(": ", 0, start.column + 1), row.rfind("- ", 0, start.column + 1))
            anchor = _ANCHOR_BEFORE.match(row[cut + 2 if cut >= 0 else 0 : end.column])
            if anchor:
                yield Problem(
                    rel,
                    start.line + 2,
                    f"'{anchor[1]}' before '{node.value}' is read as a YAML anchor and left out "
                    f'of the text; put the whole value in quotes, e.g. "{anchor[1]} {node.value}"',
                )
            tail = rows[end.line][end.column :] if end.line < len(rows) else ""
            comment = _COMMENT_AFTER.match(tail)
            if comment:
                yield Problem(
                    rel,
                    end.line + 2,
                    f"'{comment[1]}' after '{node.value}' is read as a comment and left out of "
                    "the text; put the whole value in quotes (or, for a comment, write '# ' "
                    "with a space after '#')",
                )


def _to_python(
    node: Node,
    path: KeyPath,
    lines: dict[KeyPath, int],
    problems: list[Problem],
    rel: str,
    seen: set[int],
) -> Any:
    line = node.start_mark.line + 2  # +1 for 1-based, +1 for the opening '---'
    if id(node) in seen or node.tag == "tag:yaml.org,2002:merge":
        raise _Refused(line)
    if node.tag not in _PLAIN_TAGS:
        raise _Refused(
            line,
            f"YAML tags such as '{node.tag.replace('tag:yaml.org,2002:', '!!')}' "
            "are not allowed in alerts; write plain values",
        )
    if len(path) > MAX_NESTING:
        raise _Refused(
            line,
            f"values are nested more than {MAX_NESTING} levels deep; alerts "
            "need at most three (areas → area → geocodes)",
        )
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        if node.style == '"' and (refused := FORBIDDEN_CHARS.search(node.value)):
            # only an escape in double quotes can make one: raw ones were refused before
            problems.append(
                Problem(
                    rel,
                    line,
                    f"{_where(path)} contains the character {describe_char(refused[0])}, "
                    f"written as a '\\' escape in quotes: {CHAR_REFUSED}",
                )
            )
        if node.tag == _STR_TAG or node.tag.endswith(":timestamp"):
            return node.value  # text as written; dates are parsed (strictly) by content.py
        if not node.style and _code(path) and not node.tag.endswith(":null"):
            return node.value  # `~`, `null` or nothing stay "no code"
        return SafeConstructor().construct_object(node)
    if isinstance(node, SequenceNode):
        items = []
        for index, child in enumerate(node.value):
            lines[(*path, index)] = child.start_mark.line + 2
            items.append(_to_python(child, (*path, index), lines, problems, rel, seen))
        return items
    assert isinstance(node, MappingNode)
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise _Refused(key_node.start_mark.line + 2)
        key = str(_to_python(key_node, path, {}, problems, rel, seen))
        key_line = key_node.start_mark.line + 2
        if key in result:
            first = lines[(*path, key)]
            problems.append(
                Problem(rel, key_line, f"'{key}' is given twice (first on line {first}); keep one")
            )
            continue
        lines[(*path, key)] = key_line
        result[key] = _to_python(value_node, (*path, key), lines, problems, rel, seen)
    return result


def _code(path: KeyPath) -> bool:
    """Is this an area's code (a geocode value or its `id`)? Codes are text as written,
    whatever they look like: YAML reads `SAME: 006037` as the octal number 3103, and
    `id: 0101` as 65, so the area would be published under another code. So is everything
    inside one (`SAME: [006037]`, a list content.py refuses): its message then shows the code
    as typed, not 3103. Not the code system's name (`SAME`), the key of `geocodes` itself."""
    return (
        len(path) > 2
        and path[0] == "areas"
        and (path[2] == "id" or (path[2] == "geocodes" and len(path) > 3))
    )


def _code_or_plain(text: str, path: KeyPath) -> Any:
    """A plain scalar as _to_python makes it (see _code: a code is its text, null is None)."""
    value = _plain(text)
    return text if value is not None and _code(path) else value


def _where(path: KeyPath) -> str:
    """("areas", 0, "name") -> "'areas', item 1, 'name'"; () -> "a field name"."""
    if not path:
        return "a field name"
    return ", ".join(f"item {part + 1}" if isinstance(part, int) else f"'{part}'" for part in path)


# --- Fast path ---------------------------------------------------------------------------------
# Composing with libyaml and converting its nodes is half the cost of reading an alert (~70 µs of
# ~150). Front matter as sitegen writes it and officials copy it is a few shapes: `key: value`
# lines, one block list of `- key: value` mappings (areas), JSON-like flow lists and mappings on
# one line. `fast_yaml` reads exactly those, giving exactly what the libyaml path gives (values,
# and the line of every key and list item), and declines (None) anything else: comments, tabs,
# single quotes, escapes, anchors, tags, multi-line scalars, duplicate keys, unusual indents.
# tests/perf/test_fast_yaml.py compares both on thousands of random front matters.

_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?")
_ITEM_KEY = re.compile(r"( *)- ([A-Za-z_][A-Za-z0-9_]*): (.*)")
_PLAIN_BLOCK = re.compile(r"(?:[^\W_]|[-+.][0-9])[^\t#]*")  # then: no ": ", no " #" (checked)
_FLOW_PLAIN = re.compile(r"(?:[^\W_]|[-+.][0-9])[^\t#:,\[\]{}\"']*")
_QUOTED = re.compile(r'"([^"\\]*)"')
_SCALAR_TAGS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp")


class _Decline(Exception):
    pass


def fast_yaml(yaml_text: str) -> tuple[dict[str, Any], dict[KeyPath, int]] | None:
    """(fields, lines) as _parse_yaml makes them without problems, or None outside the subset."""
    try:
        return _fast_document(yaml_text.split("\n"))
    except _Decline:
        return None


def _fast_document(rows: list[str]) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    fields: dict[str, Any] = {}
    lines: dict[KeyPath, int] = {}
    i = 0
    while i < len(rows):
        row = rows[i]
        if not row.strip(" "):
            i += 1
            continue
        if row.startswith("#") and row.isprintable():  # a comment (import-cap writes one)
            i += 1
            continue
        top = _TOP_KEY.fullmatch(row)
        if top is None or not row.isprintable():
            raise _Decline
        key = _key(top[1])
        if key in fields:
            raise _Decline
        lines[(key,)] = i + 2
        if top[2] is not None and top[2].strip(" "):
            fields[key] = _value(top[2], (key,), i + 2, lines)
            i += 1
            continue
        items, i = _block_list(rows, i + 1, key, lines)
        fields[key] = items
    if not fields:
        raise _Decline
    return fields, lines


def _block_list(
    rows: list[str], i: int, key: str, lines: dict[KeyPath, int]
) -> tuple[list[Any], int]:
    """A list of mappings under `key:` ("  - name: x" then "    geocodes: y" lines)."""
    items: list[dict[str, Any]] = []
    indent = -1
    while i < len(rows):
        row = rows[i]
        if not row.strip(" "):
            break  # a blank line: only the end of the list is read here
        if not row.isprintable():
            raise _Decline
        start = _ITEM_KEY.fullmatch(row)
        if start is not None:
            if indent == -1:
                indent = len(start[1])
            elif len(start[1]) != indent:
                raise _Decline
            mapping: dict[str, Any] = {}
            index = len(items)
            items.append(mapping)
            lines[(key, index)] = i + 2
            _item_entry(mapping, start[2], start[3], (key, index), i + 2, lines)
            i += 1
            continue
        if indent == -1 or not row.startswith(" " * (indent + 2)):
            break
        inner = _TOP_KEY.fullmatch(row[indent + 2 :])
        if inner is None or inner[2] is None:
            raise _Decline
        _item_entry(items[-1], inner[1], inner[2], (key, len(items) - 1), i + 2, lines)
        i += 1
    if not items:
        raise _Decline  # "key:" alone is null, or a list in another form
    return items, i


def _item_entry(
    mapping: dict[str, Any],
    raw_key: str,
    raw_value: str,
    path: KeyPath,
    line: int,
    lines: dict[KeyPath, int],
) -> None:
    key = _key(raw_key)
    if key in mapping or not raw_value.strip(" "):
        raise _Decline
    lines[(*path, key)] = line
    mapping[key] = _value(raw_value, (*path, key), line, lines)


def _value(text: str, path: KeyPath, line: int, lines: dict[KeyPath, int]) -> Any:
    """A whole value written on one line (trailing spaces are not part of it)."""
    text = text.rstrip(" ")
    if text[0] in "[{":
        value, end = _flow(text, 0, path, line, lines)
        if end != len(text):
            raise _Decline
        return value
    if text[0] == '"':
        quoted = _QUOTED.fullmatch(text)
        if quoted is not None:
            return quoted[1]
    if _PLAIN_BLOCK.fullmatch(text) is None or ": " in text or text.endswith(":"):
        raise _Decline
    return _code_or_plain(text, path)


def _flow(
    text: str, at: int, path: KeyPath, line: int, lines: dict[KeyPath, int]
) -> tuple[Any, int]:
    """A flow list or mapping starting at text[at]; returns it and the index after it."""
    if len(path) >= MAX_NESTING - 2:
        raise _Decline  # near the nesting limit: the full path words the problem
    closing = "]" if text[at] == "[" else "}"
    at += 1
    result: Any = [] if closing == "]" else {}
    if text.startswith(closing, at):
        return result, at + 1
    while True:
        if closing == "]":
            lines[(*path, len(result))] = line
            item, at = _flow_item(text, at, (*path, len(result)), line, lines)
            result.append(item)
        else:
            key, at = _flow_item(text, at, path, line, {})
            if not isinstance(key, str) or not text.startswith(": ", at):
                raise _Decline  # not text as a key (a number, a list...), or "key:value"
            if key in result:
                raise _Decline
            lines[(*path, key)] = line
            result[key], at = _flow_item(text, at + 2, (*path, key), line, lines)
        if text.startswith(closing, at):
            return result, at + 1
        if not text.startswith(", ", at) or text.startswith((" ", closing), at + 2):
            raise _Decline
        at += 2


def _flow_item(
    text: str, at: int, path: KeyPath, line: int, lines: dict[KeyPath, int]
) -> tuple[Any, int]:
    if at >= len(text):
        raise _Decline
    if text[at] in "[{":
        return _flow(text, at, path, line, lines)
    if text[at] == '"':
        quoted = _QUOTED.match(text, at)
        if quoted is None:
            raise _Decline
        return quoted[1], quoted.end()
    plain = _FLOW_PLAIN.match(text, at)
    if plain is None:
        raise _Decline
    value = plain[0].rstrip(" ")
    return _code_or_plain(value, path), at + len(value)


def _key(text: str) -> str:
    return str(_plain(text))


_PLAIN_MEMO: dict[str, Any] = {}  # keys and short values repeat from file to file


def _plain(text: str) -> Any:
    """A plain scalar as _to_python makes it: text for strings and timestamps, else typed
    (an immutable value, so the memo may share it)."""
    found = _PLAIN_MEMO.get(text, _PLAIN_MEMO)
    if found is not _PLAIN_MEMO:
        return found
    value = _typed(text)
    if len(text) <= 32:
        if len(_PLAIN_MEMO) >= 4096:
            _PLAIN_MEMO.clear()
        _PLAIN_MEMO[text] = value
    return value


def _typed(text: str) -> Any:
    tag = _LOADER.DEFAULT_SCALAR_TAG
    for candidate, pattern in _LOADER.yaml_implicit_resolvers.get(text[0], ()):
        if pattern.match(text):
            tag = candidate
            break
    if tag in _SCALAR_TAGS:
        return text
    return SafeConstructor.yaml_constructors[tag](_CONSTRUCTOR, ScalarNode(tag, text))


_CONSTRUCTOR = SafeConstructor()
