"""docs/ stays true and readable: one section per heading, every exit code and every AWS cause
that publish can print explained in docs/operations.md."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from publish.cli import publish_command
from sitegen_fixtures import REPO

DOCS = sorted((REPO / "docs").glob("*.md"))
OPERATIONS = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_heading_appears_twice(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if re.match(r"#{1,3} ", line)]
    assert [h for h, n in Counter(headings).items() if n > 1] == []


def test_the_architecture_contents_list_every_section_in_order() -> None:
    """docs/architecture.md's contents: a line per `##`/`###` heading, linked by the anchor
    GitHub makes of it (lower case, punctuation but `-` and `_` dropped, spaces as `-`)."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    head, body = text.split("\n## ", 1)
    listed = re.findall(r"^( *)- \[(.+)\]\(#([^)]+)\)$", head, re.MULTILINE)
    expected = []
    for level, title in re.findall(r"^(#{2,3}) (.+)$", "## " + body, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        expected.append(("  " * (len(level) - 2), title, slug))
    lines = "\n".join(f"{indent}- [{title}](#{slug})" for indent, title, slug in expected)
    assert listed == expected, f"make the contents of docs/architecture.md:\n{lines}"


def test_every_exit_code_of_publish_is_in_operations() -> None:
    help_text = CliRunner().invoke(publish_command, ["--help"]).stdout
    codes = re.findall(r"^ +(\d+) +\S", help_text.split("Exit codes:")[1], re.MULTILINE)
    assert codes == ["0", "1", "2", "4", "75", "130"]
    for code in codes:
        assert re.search(rf"^\| {code} \|", OPERATIONS, re.MULTILINE), code


def test_every_aws_cause_is_in_operations() -> None:
    source = (REPO / "publish" / "aws.py").read_text(encoding="utf-8")
    causes = set(re.findall(r'Diagnosis\(\s*"([a-z_]+)"', source))
    assert {"no_credentials", "unknown_key", "endpoint_unreachable"} <= causes
    for cause in sorted(causes):
        assert f"| `{cause}` |" in OPERATIONS, cause


def test_every_error_kind_of_the_json_output_is_in_operations() -> None:
    """`error.kind` of every --json failure document (sitegen/json_report.py) is explained."""
    source = (REPO / "sitegen" / "errors.py").read_text(encoding="utf-8")
    kinds = {*re.findall(r'^    kind = "([a-z_]+)"', source, re.MULTILINE), "usage", "internal"}
    assert {"config", "content", "doctor", "refused", "lock_held"} <= kinds
    section = OPERATIONS.split("## JSON output")[1].split("\n## ")[0]
    for kind in sorted(kinds):
        assert f"`{kind}`" in section, kind
