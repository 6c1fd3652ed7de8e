"""The warning a build and `sitegen check` give when a feed left out alerts in force.

Aggregators refuse feeds past about 1 MB, so `cap.fit_feed` keeps each feed's first entries
within `FEED_LIMIT_BYTES`. The page feed lists the past alerts last, so they go first; but
when even the alerts in force do not fit, the services that poll cap.atom or a page feed
(feed.atom, ko/feed.atom, …) miss live alerts. Not an error: the site is right, only the
feeds are short, and an official can act on it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sitegen import urls
from sitegen.bundle import url_to_path
from sitegen.cap import FEED_LIMIT_BYTES, left_out_in_force
from sitegen.config import SiteConfig
from sitegen.errors import Problem, plural
from sitegen.lifecycle import Standing
from sitegen.render import SiteView

CAP_INDEX = "cap.atom"


def feed_paths(config: SiteConfig) -> tuple[str, ...]:
    """The bundle path of every feed: the CAP index, then the page feed in each language."""
    return (CAP_INDEX, *(url_to_path(urls.feed_url(config, lang)) for lang in config.languages))


def feed_warnings(
    view: SiteView, read: Callable[[str], bytes], paths: Collection[str] | None = None
) -> list[Problem]:
    """A warning for each feed of `paths` (all when None) whose written bytes (`read(path)`)
    left out alerts in force that it lists. Every page feed lists the same alerts."""
    problems = []
    page_feed: list[Standing] | None = None  # chosen once for all languages' page feeds
    for path in feed_paths(view.config):
        if paths is not None and path not in paths:
            continue
        if path == CAP_INDEX:
            listed = view.cap_standings()
        else:
            listed = page_feed = view.feed_standings() if page_feed is None else page_feed
        if count := left_out_in_force(listed, read(path)):
            problems.append(feed_cut(path, count))
    return problems


def feed_cut(path: str, count: int) -> Problem:
    """The warning for feed `path`, which left out `count` alerts in force."""
    were = "was" if count == 1 else "were"
    return Problem(
        path,
        0,
        f"{plural(count, 'alert')} in force {were} left out of this feed: it would pass "
        f"{FEED_LIMIT_BYTES:,} bytes, more than alert services accept, so the services that "
        "read it miss them; cancel the alerts that are over (or let them expire), or shorten "
        "the titles, events and area lists of those in force",
        "warning",
    )
