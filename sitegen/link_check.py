"""Links in bodies to pages the site does not have.

A root-relative link ("/areas/kr-11/") is a link to one of the site's own pages: sitegen puts
the base path in front of it (`urls.under`). One copied from the browser's address bar
("/emergency/areas/kr-11/") gets it twice, and a typo leads nowhere; both would be published
as 404s. Only a warning: a link may point at an alert that is not sent yet.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterator
from urllib.parse import unquote

from sitegen.body import render_body
from sitegen.errors import Problem
from sitegen.model import Site

# A body that may hold a root-relative link: inline "[x](/a/)", "[x]( </a/>)", or a
# reference definition "[x]: /a/". Most bodies have none and are never rendered here.
_MAY_LINK = re.compile(r"\](?:\(|:)[ \t]*\n?[ \t]*<?/")
# Root-relative hrefs in rendered body HTML (written by body._clean_link or the fast path).
_ROOT_HREF = re.compile(r'<a href="(/(?!/)[^"]*)"')


def broken_link_warnings(site: Site, paths: Collection[str], base_path: str) -> list[Problem]:
    """A warning for each root-relative link in an alert's or page's body that leads to no
    file of the bundle (`paths`); `base_path` is the site's ("/emergency/"), for the hint."""
    bodies = [(a.source, a.body, a.body_line) for g in site.groups for a in g.versions]
    bodies += [(p.source, p.body, p.body_line) for p in site.pages]
    problems = []
    for source, body, body_line in bodies:
        if not _MAY_LINK.search(body):
            continue
        for href, index in _root_links(body):
            if _leads_to(href, paths):
                continue
            where = body_line + body.count("\n", 0, index) if index >= 0 else body_line
            problems.append(Problem(source, where, _message(href, paths, base_path), "warning"))
    return problems


def _root_links(body: str) -> Iterator[tuple[str, int]]:
    """Each root-relative href of `body` as the text writes it and where it is in the text
    (-1 when not found): a second link to the same href is found after the first."""
    after: dict[str, int] = {}
    for match in _ROOT_HREF.finditer(render_body(body, "/").html):
        href = html.unescape(match[1])
        start = after.get(href, 0)
        index = body.find(href, start)
        if index < 0:  # written with characters the page percent-encodes ("</a b/>")
            written = unquote(href)
            index = body.find(written, start)
            href = written if index >= 0 else href
        after[match[1]] = index + 1 if index >= 0 else start
        yield href, index


def _leads_to(href: str, paths: Collection[str]) -> bool:
    """True when the site URL `href` (query and fragment ignored) is a file of the bundle:
    "/x/" is x/index.html, "/x" is x or x/index.html."""
    path = unquote(re.split(r"[?#]", href, maxsplit=1)[0])[1:]
    if path == "" or path.endswith("/"):
        return path + "index.html" in paths
    return path in paths or path + "/index.html" in paths


def _message(href: str, paths: Collection[str], base_path: str) -> str:
    said = f"the link {href} leads to no page of this site"
    if base_path != "/" and href.startswith(base_path):
        from_root = "/" + href[len(base_path) :]
        if _leads_to(from_root, paths):
            return (
                f"{said}; write links to the site's pages from its root, {from_root} "
                f"(sitegen adds {base_path} itself)"
            )
    return f"{said} (a typo, or a page that does not exist yet?)"
