"""The site's URL scheme in one place (docs/architecture.md, "Languages and URLs")."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from sitegen.config import SiteConfig
from sitegen.model import AlertGroup


def lang_prefix(config: SiteConfig, language: str) -> str:
    return "/" if language == config.default_language else f"/{language}/"


def home_url(config: SiteConfig, language: str) -> str:
    return lang_prefix(config, language)


def archive_url(config: SiteConfig, language: str) -> str:
    return lang_prefix(config, language) + "archive/"


def areas_url(config: SiteConfig, language: str) -> str:
    """The list of every area (its first page)."""
    return lang_prefix(config, language) + "areas/"


def area_url(config: SiteConfig, slug: str, language: str) -> str:
    return lang_prefix(config, language) + f"areas/{slug}/"


def page_url(config: SiteConfig, slug: str, language: str) -> str:
    return lang_prefix(config, language) + f"pages/{slug}/"


def feed_url(config: SiteConfig, language: str) -> str:
    """The Atom feed of every alert in `language` (the default language's at /feed.atom)."""
    return lang_prefix(config, language) + "feed.atom"


def alert_url(group: AlertGroup, language: str) -> str:
    """The alert in `language` when that translation exists, else in its primary language."""
    version = group.version(language)
    if version is None or version is group.primary:
        return f"/alerts/{group.id}/"
    return f"/alerts/{group.id}/{language}/"


def cap_url(group: AlertGroup) -> str:
    return f"/alerts/{group.id}/cap.xml"


def absolute(config: SiteConfig, url: str) -> str:
    return config.base_url + url.lstrip("/")


def base_path(config: SiteConfig) -> str:
    """The path the site lives under on its host: "/", or "/emergency/" for a base_url of
    https://www.example.gov/emergency/. Site URLs ("/alerts/x/", what the functions above
    return, bundle paths follow from them) are relative to it; a link in a page is
    `base_path + url[1:]` (the templates' `link` filter), an absolute URL is `absolute`."""
    return split_base(config.base_url)[0]


@functools.cache
def split_base(base_url: str) -> tuple[str, str]:
    """A base URL's path and what comes before it: ("/emergency/", "https://www.example.gov")
    for https://www.example.gov/emergency/. A bare path ("/") has nothing before it."""
    path = urlsplit(base_url).path or "/"
    return path, base_url.removesuffix(path)


def linker(config: SiteConfig) -> Callable[[str], str]:
    """Site URL → the href a page writes for it (see base_path)."""
    prefix = base_path(config)
    if prefix == "/":
        return _as_it_is
    return functools.partial(under, prefix)


def under(prefix: str, href: str) -> str:
    """`href` as a page under the base path `prefix` writes it: a root-relative one
    ("/areas/x/") gets the path ("/emergency/areas/x/"); a relative, absolute,
    protocol-relative ("//host/x", another host) or fragment href is left as it is."""
    if href.startswith("/") and not href.startswith("//"):
        return prefix + href[1:]
    return href


def _as_it_is(url: str) -> str:
    return url
