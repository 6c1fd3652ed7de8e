"""Officials' Markdown → safe HTML and plain text.

Raw HTML is never trusted: the HTML block and inline passes of Python-Markdown are removed,
so `<script>` stays text and is escaped on output. Links keep only safe schemes; images
become their alt text (a page is one request; see docs/architecture.md).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree  # noqa: S405 - builds trees, never parses input
from dataclasses import dataclass
from urllib.parse import urlsplit

import markdown
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

SAFE_SCHEMES = {"http", "https", "mailto", "tel"}
INSTRUCTION_HEADING = re.compile(
    r"^##\s+(What to do|행동\s?요령|Was zu tun ist|Que faire|Qué hacer|ماذا تفعل)\s*$",
    re.MULTILINE | re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class RenderedBody:
    html: str  # safe HTML for the page
    description: str  # plain text before "What to do" (CAP description)
    instruction: str  # plain text of the "What to do" section (CAP instruction)
    summary: str  # first paragraph as plain text, ≤ 200 chars (meta description, feeds)

    @property
    def markup(self) -> Markup:
        """The HTML marked safe for Jinja: raw HTML was escaped and links cleaned above."""
        return Markup(self.html)  # noqa: S704 - produced by _SafeMarkdown only


class _SafeTree(Treeprocessor):
    """Drop unsafe links, turn images into text, demote h1 (the page already has one)."""

    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == "img":
                    parent[index] = _text_element(f"[{child.get('alt') or 'image'}]", child.tail)
                elif child.tag == "a":
                    _clean_link(child)
                elif child.tag == "h1":
                    child.tag = "h2"


def _text_element(text: str, tail: str | None) -> etree.Element:
    span = etree.Element("span")
    span.text = text
    span.tail = tail
    return span


def _clean_link(link: etree.Element) -> None:
    href = (link.get("href") or "").strip()
    # Browsers ignore control characters and whitespace inside schemes ("java\tscript:").
    squashed = re.sub(r"[\x00-\x20]", "", href).lower()
    scheme = urlsplit(squashed).scheme
    title = link.get("title")
    link.attrib.clear()
    if scheme and scheme not in SAFE_SCHEMES:
        link.tag = "span"
        return
    link.set("href", href)
    if title:
        link.set("title", title)
    if scheme in ("http", "https") or squashed.startswith("//"):
        link.set("rel", "nofollow noopener noreferrer")


class _SafeMarkdown(markdown.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_SafeTree(md), "sitegen_safe", 0)


def _new_markdown() -> markdown.Markdown:
    return markdown.Markdown(extensions=[_SafeMarkdown(), "sane_lists"], output_format="html")


_MD = _new_markdown()


def render_body(source: str) -> RenderedBody:
    """Render one alert body; pure (same text, same result)."""
    _MD.reset()
    body_html = _MD.convert(source)
    match = INSTRUCTION_HEADING.search(source)
    before, after = (source[: match.start()], source[match.end() :]) if match else (source, "")
    return RenderedBody(
        html=body_html,
        description=markdown_to_text(before),
        instruction=markdown_to_text(after),
        summary=_summary(body_html),
    )


def markdown_to_text(source: str) -> str:
    """Plain text of a Markdown fragment: paragraphs kept, markup removed."""
    if not source.strip():
        return ""
    _MD.reset()
    rendered = _MD.convert(source)
    blocks = re.split(r"</(?:p|li|h[1-6]|blockquote|pre)>", rendered)
    lines = [_SPACE.sub(" ", html.unescape(_TAG.sub("", b))).strip() for b in blocks]
    return "\n".join(line for line in lines if line)


def _summary(body_html: str) -> str:
    first = body_html.split("</p>", 1)[0] if "<p>" in body_html else body_html
    text = _SPACE.sub(" ", html.unescape(_TAG.sub("", first))).strip()
    return text if len(text) <= 200 else text[:199].rsplit(" ", 1)[0] + "…"
