"""Read an alert file: decode it, split the front matter, parse YAML keeping line numbers.

Nothing here knows what an alert is; `content.py` validates the fields. Every problem is
returned (never raised) so that one run reports every mistake in every file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sitegen.errors import Problem

MAX_FILE_BYTES = 1_000_000
MAX_FRONT_MATTER_BYTES = 64_000
MAX_NESTING = 10
FENCE = "---"

KeyPath = tuple[str | int, ...]
# libyaml's parser gives the same nodes and marks ~15x faster; pure Python when it is absent.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"  # most values: taken as is, without a constructor per value


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


def read_document(path: Path, rel: str) -> tuple[Document | None, list[Problem]]:
    """Read one Markdown file with front matter. Returns (document or None, problems)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(rel, 0, f"cannot read the file: {exc.strerror}")]
    text, problems = decode(raw, rel)
    if text is None:
        return None, problems
    split = _split_front_matter(text, rel)
    if isinstance(split, Problem):
        return None, [*problems, split]
    yaml_text, body, body_line = split
    parsed = _parse_yaml(yaml_text, rel)
    if isinstance(parsed, Problem):
        return None, [*problems, parsed]
    fields, lines, yaml_problems = parsed
    problems.extend(yaml_problems)
    return Document(rel, fields, lines, body, body_line), problems


def decode(raw: bytes, rel: str) -> tuple[str | None, list[Problem]]:
    """Bytes → text with normalised newlines; problems for what we cannot or will not accept."""
    problems: list[Problem] = []
    if len(raw) > MAX_FILE_BYTES:
        size = f"{len(raw):,}"
        return None, [
            Problem(
                rel,
                0,
                f"the file is {size} bytes; an alert must be under "
                f"{MAX_FILE_BYTES:,} bytes. Move long material to a linked page.",
            )
        ]
    if not raw.strip():
        return None, [
            Problem(
                rel,
                0,
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
        return None, [
            *problems,
            Problem(
                rel,
                line,
                f"byte 0x{bad} is not valid UTF-8 text; the "
                "file was probably saved in another encoding. Save it "
                "as UTF-8.",
            ),
        ]
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


def _split_front_matter(text: str, rel: str) -> tuple[str, str, int] | Problem:
    lines = text.split("\n")
    if lines[0].rstrip() != FENCE:
        return Problem(
            rel,
            1,
            "no front matter: the first line must be '---', followed by the "
            "alert's fields (title, event, severity, ...) and a closing '---'",
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip() == FENCE:
            yaml_text = "\n".join(lines[1:index])
            if len(yaml_text.encode()) > MAX_FRONT_MATTER_BYTES:
                return Problem(
                    rel,
                    2,
                    f"the front matter is over {MAX_FRONT_MATTER_BYTES:,} "
                    "bytes; keep long text in the body below the second '---'",
                )
            return yaml_text, "\n".join(lines[index + 1 :]), index + 2
    return Problem(
        rel,
        1,
        "the front matter opened with '---' on line 1 is never closed: add a "
        "line '---' after the last field",
    )


def _parse_yaml(
    yaml_text: str, rel: str
) -> tuple[dict[str, Any], dict[KeyPath, int], list[Problem]] | Problem:
    try:
        root = yaml.compose(yaml_text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark else 1
        what = exc.problem or "syntax error"
        return Problem(
            rel,
            line,
            f"the front matter is not valid YAML ({what}). Check the "
            "indentation and that text containing ':' or '#' is in quotes.",
        )
    except yaml.YAMLError as exc:
        return Problem(rel, 1, f"the front matter is not valid YAML ({exc})")
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
    return fields, lines, problems


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
        if node.tag == _STR_TAG or node.tag.endswith(":timestamp"):
            return node.value  # text as written; dates are parsed (strictly) by content.py
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
