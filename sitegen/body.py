"""Officials' Markdown → safe HTML and plain text.

Raw HTML is never trusted: the HTML block and inline passes of Python-Markdown are removed,
so `<script>` stays text and is escaped on output. Links keep only safe schemes; images
become their alt text (a page is one request; see docs/architecture.md). A root-relative
link ("/areas/x/") gets the site's base path ("/emergency/areas/x/", `urls.under`), as the
templates' links do. The plain text (CAP description and instruction) says where a link points,
absolute, after its text: "evacuation map (https://maps.example.gov/evac)" (`_said_address`).
"""

from __future__ import annotations

import functools
import html
import re
import xml.etree.ElementTree as etree  # noqa: S405 - builds trees, never parses input
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from markupsafe import Markup

from sitegen.urls import split_base, under

if TYPE_CHECKING:  # Python-Markdown is imported only when a body needs it (see _markdown)
    import markdown

SAFE_SCHEMES = {"http", "https", "mailto", "tel"}
# The "## What to do" heading, in the languages sitegen writes it in (alert_file), at a line's
# start (`find_instruction_heading`). Not "^##" here: a pattern led by "^" is tried at every
# character (~8 µs a body), one led by "##" jumps from "##" to "##" (~1 µs).
_INSTRUCTION_HEADING = re.compile(
    r"##\s+(What to do|행동\s?요령|Was zu tun ist|Que faire|Qué hacer|ماذا تفعل)\s*$",
    re.MULTILINE | re.IGNORECASE,
)


def find_instruction_heading(source: str) -> re.Match[str] | None:
    """The body's first "## What to do" heading (in any language sitegen knows), or None."""
    for match in _INSTRUCTION_HEADING.finditer(source):
        start = match.start()
        if start == 0 or source[start - 1] == "\n":
            return match
    return None


_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class RenderedBody:
    html: str  # safe HTML for the page
    description: str  # plain text before "What to do", link addresses kept (CAP description)
    instruction: str  # plain text of the "What to do" section, the same way (CAP instruction)
    summary: str  # first paragraph as plain text, ≤ 200 chars, no addresses (meta, feeds)

    @property
    def markup(self) -> Markup:
        """The HTML marked safe for Jinja: raw HTML was escaped and links cleaned above."""
        return Markup(self.html)  # noqa: S704 - produced by _markdown (SafeMarkdown) or fast_html only


def _text_element(text: str, tail: str | None) -> etree.Element:
    span = etree.Element("span")
    span.text = text
    span.tail = tail
    return span


# Python-Markdown's stand-in for "&" (markdown.util.AMP_SUBSTITUTE) in the entities it writes
# an email autolink's href with ("<a@b.gov>"); tests/test_body.py notices if that changes.
_MARKDOWN_AMP = "\x02amp\x03"


def _clean_link(link: etree.Element, base_path: str) -> None:
    href = html.unescape((link.get("href") or "").replace(_MARKDOWN_AMP, "&").strip())
    title = link.get("title")
    link.attrib.clear()
    if not is_safe_url(href):
        link.tag = "span"
        return
    link.set("href", under(base_path, encode_href(href)))
    if title:
        link.set("title", title)
    if href.lower().startswith(("http:", "https:", "//")):
        link.set("rel", "nofollow noopener noreferrer")


def is_safe_url(href: str) -> bool:
    """True for http(s)/mailto/tel and plain relative URLs; entity-decoded input expected.

    Browsers drop control characters and whitespace inside a scheme ("java\tscript:") and
    decode entities in attributes ("&#106;avascript:"), so both are undone before looking.
    A colon before the first "/", "?" or "#" with no scheme we allow is refused too.
    """
    squashed = re.sub(r"[\x00-\x20\x7f]", "", href).lower()
    scheme = urlsplit(squashed).scheme
    head = re.split(r"[/?#]", squashed, maxsplit=1)[0]
    return scheme in SAFE_SCHEMES if scheme else ":" not in head


# What `sitegen check` warns about in a body: what the page will not show as it is written.
# Cheap tests first (single characters, literal-led patterns: ~2 µs a body): most bodies have
# no "<" or "![", and link to web addresses or the site's own pages only (https://...,
# /areas/...: safe whatever follows).
_NOTE_OPENING = re.compile(r"<[A-Za-z/!]")
_NOTE_TARGET = re.compile(r"\]\([ \t]*(?!https?://|/[^/])")
_NOTE_DEFINITION = re.compile(r"\]:")  # of a reference link "[x]: address", or mere text
_NOTE_CODE = re.compile(r"(`+)[^\n]+?\1")  # a code span shows its text as written, on purpose
_NOTE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?=[\s/>])[^<>\n]*>|<!--")
_NOTE_IMAGE = re.compile(r"!\[([^\]\n]*)\]")
# A Markdown table's second row ("|---|:--:|", "--- | ---"): its header row is above it.
_NOTE_TABLE = re.compile(r"(?m)^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
TABLE_NOTE = (
    "this looks like a table, which alerts cannot show: the page runs its rows together "
    "into one paragraph with the | signs in it. Write each row as a list item instead "
    "('- Zone A: Gymnasium, call 120')"
)
_NOTE_LINK = re.compile(
    r"\]\([ \t]*(?:<([^>\n]*)>|((?:[^\s()]|\([^\s()]*\))+))"  # [words](address)
    r"|^[ ]{0,3}\[[^\]\n]+\]:[ \t]*(?:<([^>\n]*)>|(\S+))",  # [name]: address
    re.MULTILINE,
)


def body_notes(source: str) -> list[tuple[int, str]]:
    """What a page shows differently from how the body writes it, as (line index in `source`,
    words for an official): HTML tags (shown as text), images (shown as their description)
    and links to addresses that are not web, mail or phone addresses (shown as plain words).
    Text in code spans and indented code blocks is left alone: it is shown as written on
    purpose."""
    notes = _table_notes(source) if "|" in source and "-" in source else []
    if not (
        ("<" in source and _NOTE_OPENING.search(source))
        or ("!" in source and "![" in source)
        or ("]" in source and (_NOTE_TARGET.search(source) or _NOTE_DEFINITION.search(source)))
    ):
        return sorted(notes, key=lambda note: note[0])  # table notes came first
    for index, line in enumerate(source.split("\n")):
        if line.startswith(("    ", "\t")):
            continue
        line = _NOTE_CODE.sub(lambda m: " " * len(m[0]), line)
        tags = list(dict.fromkeys(tag[0] for tag in _NOTE_TAG.finditer(line)))
        if tags:
            notes.append((index, _tag_note(tags)))
        for image in _NOTE_IMAGE.finditer(line):
            shown = f"[{image[1].strip() or 'image'}]"
            notes.append(
                (
                    index,
                    f"the page shows the picture as the words '{shown}', not the picture: "
                    "each page is one small file, so alerts carry no images. Say in words "
                    "what it shows, or link to it: [description](https://...)",
                )
            )
        for link in _NOTE_LINK.finditer(line):
            href = next(group for group in link.groups() if group is not None)
            if not is_safe_url(html.unescape(href)):
                notes.append(
                    (
                        index,
                        f"the link to '{_shortened(href, 60)}' is left out (its words "
                        "stay): only web addresses (https://...), mailto: and tel: links, "
                        "and the site's own pages (/areas/...) become links",
                    )
                )
            elif href.startswith("//"):  # a typo for "/page", or another site without https:
                notes.append(
                    (
                        index,
                        f"the link to '{_shortened(href, 60)}' starts with '//', so it leads "
                        f"to another website ({_shortened(href[2:].split('/')[0], 40)}), not a "
                        f"page of this site: write https:{_shortened(href, 60)} if that site is "
                        "meant, or one '/' for a page of this site (/areas/...)",
                    )
                )
    return notes


def _table_notes(source: str) -> list[tuple[int, str]]:
    """One note per table, at its header row: a line with "|" above a row of dashes with "|"
    (a lone "---" is a rule or a heading's underline)."""
    lines = source.split("\n")
    notes = []
    for found in _NOTE_TABLE.finditer(source):
        index = source.count("\n", 0, found.start())
        header = lines[index - 1] if index else ""
        if "|" in header and "|" in found[0]:
            notes.append((index - 1, TABLE_NOTE))
    return notes


def _shortened(text: str, limit: int = 40) -> str:
    """`text` cut to `limit` characters for a message: a pasted image's data: address is
    hundreds of kilobytes, all of which one warning line printed."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _tag_note(tags: list[str]) -> str:
    shown = [f"'{_shortened(t)}'" for t in tags[:3]]
    if len(tags) > 3:
        shown.append(f"{len(tags) - 3} more")
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return (
        f"the page shows {listed} as written: alerts are Markdown, not HTML. "
        "Write **words** for bold, a blank line between paragraphs and '- ' before list "
        "items, or remove the tag"
    )


# What a URL may not hold as it is (WHATWG URL, as the Nu checker applies it to href): spaces
# and controls, "<>\"`^{|}", and a "%" that starts no escape; past the host also "[]", and past
# the first "#" another "#".
_HREF_UNSAFE = re.compile(r'[\x00-\x20"<>\\^`{|}\x7f]|%(?![0-9A-Fa-f]{2})')
_HREF_UNSAFE_PAST_HOST = re.compile(r'[\x00-\x20"<>\\^`{|}\x7f\[\]]|%(?![0-9A-Fa-f]{2})')
_HREF_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def encode_href(href: str) -> str:
    """`href` with what a URL may not hold percent-encoded (UTF-8), the rest as written: a
    `mailto:` whose subject has "<" or a space stays a valid link (escaping "<" as "&lt;"
    keeps the HTML well formed, not the URL valid). Non-ASCII is left alone: a page's URLs
    are IRIs, and an encoded host (IDN) would break."""
    authority = _HREF_AUTHORITY.match(href)
    start = authority.end() if authority else 0
    rest = href[start:]
    fragment = rest.find("#")
    if fragment >= 0:
        rest = rest[: fragment + 1] + rest[fragment + 1 :].replace("#", "%23")
    return _HREF_UNSAFE.sub(_percent, href[:start]) + _HREF_UNSAFE_PAST_HOST.sub(_percent, rest)


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match[0].encode("utf-8"))


@functools.cache
def _markdown(base_path: str = "/") -> markdown.Markdown:
    """The Markdown converter for links under `base_path` (a site has one), made on first
    use: most bodies take the fast path, so Python-Markdown is imported only then (~9 ms),
    and making the converter (compiling its patterns) costs ~30 ms of a one-alert rebuild.
    Extensions are given as objects: a name makes Markdown scan every installed package's
    entry points (~20 ms)."""
    import markdown
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.treeprocessors import Treeprocessor

    class SafeTree(Treeprocessor):
        """Drop unsafe links, turn images into text, demote h1 (the page already has one)."""

        def run(self, root: etree.Element) -> None:
            for parent in root.iter():
                for index, child in enumerate(list(parent)):
                    if child.tag == "img":
                        alt = f"[{child.get('alt') or 'image'}]"
                        parent[index] = _text_element(alt, child.tail)
                    elif child.tag == "a":
                        _clean_link(child, base_path)
                    elif child.tag == "h1":
                        child.tag = "h2"

    class SafeMarkdown(markdown.Extension):
        def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - its API
            md.preprocessors.deregister("html_block")
            md.inlinePatterns.deregister("html")
            md.treeprocessors.register(SafeTree(md), "sitegen_safe", 0)

    return markdown.Markdown(extensions=[SafeMarkdown(), SaneListExtension()], output_format="html")


@functools.lru_cache(maxsize=256)
def render_body(source: str, base_url: str = "/") -> RenderedBody:
    """Render one alert body for a site at `base_url` (config.base_url: its path decides the
    page's root-relative hrefs, the whole of it the addresses in the text; a bare path, "/"
    or "/emergency/", leaves those root-relative); pure (same text, same result). Cached: a
    page and its CAP file render the same body."""
    match = find_instruction_heading(source)
    before, after = (source[: match.start()], source[match.end() :]) if match else (source, "")
    base_path, origin = split_base(base_url)
    fast = _fast_blocks(source, base_path, origin)
    if fast is None:
        body_html = to_html(source, base_path)
        return RenderedBody(
            html=body_html,
            description=markdown_to_text(before, base_url),
            instruction=markdown_to_text(after, base_url),
            summary=_summary(body_html),
        )
    # One pass for all four: on the fast path the heading is a block of its own, so the text
    # before (after) it is the text of the blocks before (after) it, and each block's plain
    # text comes with its HTML (what _html_text and _summary would take back out of it).
    blocks, texts = fast
    if match is None:
        description, instruction = _text_lines(texts), ""
    else:
        k = sum(1 for block in before.strip("\n").split("\n\n") if block.strip("\n"))
        description, instruction = _text_lines(texts[:k]), _text_lines(texts[k + 1 :])
    body_html = "\n".join(blocks)
    if "](" in source:  # a link (the fast path takes no other "]"): texts name addresses
        summary = _summary(body_html)
    else:  # _summary's text: everything up to the end of the first paragraph (all, without one)
        first = next((i for i, block in enumerate(blocks) if block.startswith("<p>")), len(blocks))
        summary = _shorten(" ".join(" ".join(texts[: first + 1]).split()))
    return RenderedBody(
        html=body_html, description=description, instruction=instruction, summary=summary
    )


def _text_lines(texts: list[str]) -> str:
    return "\n".join(text for text in texts if text)


def to_html(source: str, base_path: str = "/") -> str:
    """Safe HTML for Markdown: the fast path when it applies, else Python-Markdown."""
    fast = fast_html(source, base_path)
    if fast is not None:
        return fast
    converter = _markdown(base_path)
    converter.reset()
    return converter.convert(source)


def markdown_to_text(source: str, base_url: str = "/") -> str:
    """Plain text of a Markdown fragment: paragraphs kept, markup removed, link addresses
    kept (see render_body for `base_url`)."""
    if not source.strip():
        return ""
    base_path, origin = split_base(base_url)
    return _html_text(to_html(source, base_path), origin)


_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|blockquote|pre)>")
# A link as our renderers write it: href first, its text (maybe with tags) up to </a>; links
# do not nest (Markdown makes "[a [b](x) c](y)" one link with the text "a [b](x) c").
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def _html_text(rendered: str, origin: str = "") -> str:
    """Plain text of rendered body HTML: a line per block, each link's address after it."""
    if "<a " in rendered:
        rendered = _LINK.sub(functools.partial(_html_link_text, origin), rendered)
    return _text_lines([_plain_text(b) for b in _BLOCK_END.split(rendered)])


def _html_link_text(origin: str, link: re.Match[str]) -> str:
    """A link in HTML as its inner HTML and its address, escaped as HTML for _plain_text."""
    said = _said_address(_plain_text(link[2]), html.unescape(link[1]), origin)
    return link[2] + html.escape(said, quote=False)


# --- Links in plain text -----------------------------------------------------------------------
# CAP text is heard (sirens' text-to-speech), crawled along a TV screen and cut to 90
# characters for cell broadcast, so a link is its text and then its address in brackets, the
# shortest form that still reads as a sentence: "See the evacuation map
# (https://maps.example.gov/evac)." The address is said once: not when the text is it already.
_PHONE_SEPARATORS = re.compile(r"[\s().-]")  # RFC 3966's visual separators, and spaces
_URL_PARTS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)", re.DOTALL)


def _said_address(text: str, href: str, origin: str) -> str:
    """What plain text says after a link's `text` (its plain text) to `href` (as the page
    writes it: encoded, under the base path): " (address)", or nothing when the text is
    the address already or the link leads nowhere a receiver could follow."""
    address = _address(href, origin)
    if address is None or text == address:
        return ""
    scheme = href[: href.find(":") + 1].lower()
    if scheme == "tel:":
        same = _digits(text) == _digits(address)
    elif scheme == "mailto:":
        same = _mailbox(text) == _mailbox(address)
    else:
        url = _url(text)
        same = url is not None and url == _url(address)
    return "" if same else f" ({address})"


def _address(href: str, origin: str) -> str | None:
    """Where `href` leads, absolute (`origin` + a root-relative href, the base path in it
    already); a mailto: address and a tel: number without their scheme (what a reader
    writes to or dials). None for a relative or fragment href: relative to a page the
    receiver does not have."""
    if href.startswith("//"):
        return origin.partition("//")[0] + href  # the site's scheme: "https:" + "//host/p"
    if href.startswith("/"):
        return origin + href
    scheme, _, rest = href.partition(":")
    scheme = scheme.lower()
    if scheme in ("http", "https"):
        return href
    if scheme == "mailto":
        return rest.partition("?")[0] or None  # the address: a subject is for mail programs
    if scheme == "tel":
        return rest or None
    return None


def _url(text: str) -> tuple[str, str, str] | None:
    """A URL as compared with the address a link leads to, or None for text that is no
    absolute URL: the scheme and host have no case (RFC 3986 6.2.2.1) and an empty path is
    "/" (6.2.3); the rest is compared as written, since a server may tell "/A" from "/a"
    and "/a" from "/a/". So "http://x.gov" is not https://x.gov, nor "x.gov/a" x.gov/a
    (a reader typing it may land elsewhere): those texts are followed by the address."""
    parts = _URL_PARTS.fullmatch(text)
    if parts is None:
        return None
    user, at, host = parts[2].rpartition("@")
    path = parts[3] if parts[3].startswith("/") else "/" + parts[3]
    return parts[1].lower(), user + at + host.lower(), path


def _mailbox(text: str) -> str:
    """An email address as compared: without "mailto:"; its domain has no case, its local
    part may have (RFC 5321 2.4)."""
    if text[:7].lower() == "mailto:":
        text = text[7:]
    local, at, domain = text.rpartition("@")
    return local + at + domain.lower()


def _digits(text: str) -> str:
    """A phone number as compared: without "tel:" and the spaces, dots, dashes and brackets
    one number is written with."""
    text = text.lower().removeprefix("tel:")
    return _PHONE_SEPARATORS.sub("", text)


# --- Fast path ---------------------------------------------------------------------------------
# Officials write plain paragraphs, "## What to do", "- " lists, **bold** and [links](https://…)
# or [links](/areas/kr-11/) to the site.
# Python-Markdown spends ~0.4 ms on such a body; this renders exactly the same bytes in a tenth of
# that, and answers None (use Python-Markdown) for anything beyond that subset. Being exact is
# the contract: tests/perf/test_fast_markdown.py compares both on thousands of random bodies.

# What the fast path refuses, in three cheap checks (one alternation over every position cost
# ~40 µs a body, 0.8 s of a 10,000-alert build): a character it does not handle, a line that
# starts like other Markdown (the text is searched with "\n" in front, so the first line is a
# line too), and a space at the end of a line. A "-" line is refused unless it is a list
# item ("- x"): a lone "-" under a paragraph line makes that line an <h2> (setext).
_FAST_REFUSE_CHARS = re.compile(r"[`\\<>&_!\t\x00-\x08\x0b-\x1f\x7f]")
_FAST_REFUSE_LINE = re.compile(r"\n(?:[ =+*>|~]|-(?![^\S\n]\S)|\d+[.)])")


def _fast_refuses(source: str) -> bool:
    return bool(
        _FAST_REFUSE_CHARS.search(source)
        or _FAST_REFUSE_LINE.search("\n" + source)
        or " \n" in source
        or source.endswith(" ")
    )


_FAST_INLINE = re.compile(
    r"\*\*(?P<strong>[^*\s\[\]()](?:[^*\[\]()]*[^*\s\[\]()])?)\*\*"
    r"|\[(?P<text>[^\[\]()*\s](?:[^\[\]()*]*[^\[\]()*\s])?)\]"
    r"\((?P<url>https?://[A-Za-z0-9.-]+(?:/(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2})*)?"
    r"|/(?!/)(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2})*)\)"
)
_FAST_NESTED = re.compile(r"[#=+*-]|\d+\.")
_FAST_SPECIAL = re.compile(r"[*\[\]]")
_FAST_HEADING = re.compile(r"^(#{1,6}) +([^#\s](?:[^#]*[^#\s])?)$")


def fast_html(source: str, base_path: str = "/") -> str | None:
    """HTML identical to Python-Markdown's for the common subset, or None outside it."""
    fast = _fast_blocks(source, base_path)
    return None if fast is None else "\n".join(fast[0])


def _fast_blocks(
    source: str, base_path: str, origin: str = ""
) -> tuple[list[str], list[str]] | None:
    """fast_html's blocks, one per non-empty block of the source (blank-line separated), and
    each block's plain text as _html_text makes it of that block's HTML (a line per paragraph,
    heading or list item; the fast path's text has no "&", so there is nothing to unescape)."""
    if _fast_refuses(source):
        return None
    out: list[str] = []
    texts: list[str] = []
    previous_list = False
    for block in source.strip("\n").split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        lines = block.split("\n")
        if lines[0].startswith("#"):
            heading = _FAST_HEADING.match(block)
            if heading is None or len(lines) > 1:
                return None
            level = max(2, len(heading[1]))  # h1 is demoted: the page already has one
            inline = _fast_inline(heading[2], base_path, origin)
            if inline is None:
                return None
            out.append(f"<h{level}>{inline[0]}</h{level}>")
            texts.append(inline[1])
            previous_list = False
        elif lines[0].startswith("- "):
            if previous_list or not all(line.startswith("- ") for line in lines):
                return None  # a second list after a blank line merges into a loose list
            if any(_FAST_NESTED.match(line, 2) for line in lines):
                return None  # an item's text is parsed as blocks: "- # x", "- - x", "- 1. x"
            items = []
            for line in lines:
                inline = _fast_inline(line[2:], base_path, origin)
                if inline is None:
                    return None
                items.append(inline)
            out.append("<ul>\n" + "".join(f"<li>{item[0]}</li>\n" for item in items) + "</ul>")
            texts.append(_text_lines([item[1] for item in items]))
            previous_list = True
        else:
            if any(line.startswith(("#", "- ")) for line in lines):
                return None
            inline = _fast_inline(block, base_path, origin)
            if inline is None:
                return None
            out.append(f"<p>{inline[0]}</p>")
            texts.append(inline[1])
            previous_list = False
    return out, texts


def _fast_inline(text: str, base_path: str, origin: str) -> tuple[str, str] | None:
    """A line's (or paragraph's) HTML and its plain text (link addresses kept, as
    _html_text), whitespace runs as one space."""
    if _FAST_SPECIAL.search(text) is None:  # no markup: the common line
        return text, " ".join(text.split())
    parts: list[str] = []
    plain: list[str] = []
    end = 0
    for match in _FAST_INLINE.finditer(text):
        between = text[end : match.start()]
        if _FAST_SPECIAL.search(between):
            return None
        parts.append(between)
        plain.append(between)
        if match["strong"] is not None:
            parts.append(f"<strong>{match['strong']}</strong>")
            plain.append(match["strong"])
        else:
            url, link_text = match["url"], match["text"]
            # as _clean_link: the site's own page ("/areas/x/") is under the base path, no rel
            rel = "" if url.startswith("/") else ' rel="nofollow noopener noreferrer"'
            href = under(base_path, url)
            parts.append(f'<a href="{href}"{rel}>{link_text}</a>')
            plain.append(link_text + _said_address(link_text, href, origin))
        end = match.end()
    if _FAST_SPECIAL.search(text, end):
        return None
    rest = text[end:]
    parts.append(rest)
    plain.append(rest)
    return "".join(parts), " ".join("".join(plain).split())


def _plain_text(fragment: str) -> str:
    r"""An HTML fragment's text: tags removed, entities decoded, whitespace runs as one space.
    (" ".join(t.split()) is re.sub(r"\s+", " ", t).strip(): both take str.isspace as
    whitespace, and split needs no regex.)"""
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def _summary(body_html: str) -> str:
    first = body_html.split("</p>", 1)[0] if "<p>" in body_html else body_html
    return _shorten(_plain_text(first))


def _shorten(text: str) -> str:
    return text if len(text) <= 200 else text[:199].rsplit(" ", 1)[0] + "…"
