"""Every `sitegen COMMAND --option` shown in README.md and docs/ names a command and an option
that exist, so a renamed or removed option cannot leave the docs telling officials to type it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from sitegen.cli import cli
from sitegen_fixtures import REPO

DOCS = sorted(
    [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "docs/examples").glob("*")]
)
FENCE = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`]+)`")
# where a shell command ends: a pipe, a list, a redirection, a comment, a subshell's end
END = re.compile(r"\s(?:\||&&|>|2>|#)|[;)`]|$")
OPTION = re.compile(r"--?[a-zA-Z][\w-]*")


def snippets(doc: Path) -> list[str]:
    """What a reader may type: in Markdown, fenced blocks and inline code spans; in the
    example files (scripts, units, workflows), every line that is not a comment."""
    text = doc.read_text(encoding="utf-8").replace("\\\n", " ")  # continued lines
    if doc.suffix != ".md":
        return [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    blocks = [line for block in FENCE.findall(text) for line in block.splitlines()]
    return [*blocks, *SPAN.findall(FENCE.sub("", text).replace("\n", " "))]


def invocations(doc: Path) -> list[list[str]]:
    """The words of each `sitegen ...` command line, up to where the shell command ends."""
    found = []
    for snippet in snippets(doc):
        for match in re.finditer(r"(?<![\w.-])sitegen[ \t]+(\S.*)", snippet):
            end = END.search(match[1])
            try:
                found.append(shlex.split(match[1][: end.start() if end else None]))
            except ValueError:  # an unbalanced quote: not a command line
                continue
    return found


def resolve(words: list[str]) -> tuple[list[str], click.Command, str | None]:
    """The command the words run (its path), and a first word that names no command."""
    ctx = click.Context(cli)
    command: click.Command = cli
    path: list[str] = []
    for word in (w for w in words if w != "--debug"):
        if word.startswith("-") or not isinstance(command, click.Group):
            break
        sub = command.get_command(ctx, word)
        if sub is None:  # a lowercase word where a command goes: a typo or a removed command
            return path, command, word if re.fullmatch(r"[a-z][a-z-]*", word) else None
        command, path = sub, [*path, word]
    return path, command, None


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_command_and_option_shown_exists(doc: Path) -> None:
    wrong = []
    for words in invocations(doc):
        path, command, unknown = resolve(words)
        if unknown is not None:
            wrong.append(f"sitegen {' '.join([*path, unknown])}: no such command")
            continue
        known = {"--help", "-h", *(o for p in command.params for o in (*p.opts, *p.secondary_opts))}
        known |= {"--debug"} | ({"--version"} if not path else set())
        shown = [o for w in words for o in w.split("/") if OPTION.fullmatch(o.split("=")[0])]
        wrong += [f"sitegen {' '.join(path)} {o}" for o in shown if o.split("=")[0] not in known]
    assert wrong == [], wrong


def test_the_check_sees_the_commands_the_docs_show() -> None:
    """The extraction itself: it finds commands in spans, fenced blocks and example files."""
    seen = {" ".join(w) for doc in DOCS for w in invocations(doc)}
    assert "new Heavy rain warning for Seoul --severity Severe --area Seoul" in seen  # 2 lines
    assert "rollback --previous --dry-run" in seen  # a fenced block
    assert "publish --json" in seen  # docs/examples/github-actions.yml
    assert "publish -q" in seen  # /usr/local/bin/sitegen in the systemd unit, and the crontab
