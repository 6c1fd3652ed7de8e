"""`sitegen init`: a new site that builds at once (site.toml, the default theme, one alert).

The theme is package data (`sitegen/default_site/templates/`; the example site's
`templates/` is a link to it), so an installed sitegen can start a site with nothing else.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sitegen.alert_file import alert_file_text
from sitegen.errors import SitegenError, write_failed
from sitegen.model import Alert, Area, Severity, Status
from sitegen.scaffold import default_times, new_alert

DEFAULT_SITE = Path(__file__).parent / "default_site"
EXAMPLE_BODY = """\
This is an example alert, written by `sitegen init` so that the new site has something to
show. It is marked as a test: the site says it is not a real emergency.

## What to do

- Nothing: this is a test. Write your own alerts with `sitegen new`.
- Delete this file once you have one.
"""

# What sitegen writes into a site (the build, its cache, the default local publish target),
# kept out of git: the site is its site.toml, content/ and templates/.
GITIGNORE = """\
# written by sitegen: the build, its cache, and the local publish folder
/public/
/.sitegen/
/_published/
"""


def create_site(folder: Path, now: datetime) -> list[Path]:
    """`_create_site`, all or nothing: stopped part way (a full disk, Ctrl-C, SIGTERM), what
    it made is removed; a folder the system will not let sitegen write is said plainly."""
    made: list[Path] = []
    try:
        return _create_site(folder, now, made)
    except BaseException as exc:
        for path in made:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise write_failed(exc, folder) from exc
        raise


def _create_site(folder: Path, now: datetime, made: list[Path]) -> list[Path]:
    """Create a site in `folder` (made if missing): site.toml, templates/, one example alert
    in content/alerts/, and a .gitignore when there is none. Refuses, changing nothing, if
    site.toml, templates/ or content/ exists."""
    targets = [folder / "site.toml", folder / "templates", folder / "content"]
    existing = [str(path) for path in targets if path.exists()]
    if existing:
        raise SitegenError(
            f"{', '.join(existing)}: already there; `sitegen init` only starts a new site "
            "(choose an empty folder, or move these away)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    made += targets  # each before it is made: one stopped while made is removed too
    shutil.copyfile(DEFAULT_SITE / "site.toml", targets[0])
    shutil.copytree(DEFAULT_SITE / "templates", targets[1])
    alert = _example_alert(now)
    path = folder / "content" / "alerts" / f"{alert.id}.md"
    path.parent.mkdir(parents=True)
    path.write_text(alert_file_text(alert), encoding="utf-8")
    created = [targets[0], targets[1], path]
    if not (ignore := folder / ".gitignore").exists():
        made.append(ignore)
        ignore.write_text(GITIGNORE, encoding="utf-8")
        created.append(ignore)
    return created


def _example_alert(now: datetime) -> Alert:
    sent, expires = default_times(now, 24 * 7)
    alert = new_alert(
        "Example: test of the alert system",
        event="Test",
        severity=Severity.MINOR,
        areas=(Area("Everywhere", "everywhere"),),
        language="en",
        sent=sent,
        expires=expires,
    )
    return replace(alert, id=f"{sent:%Y-%m-%d}-example", status=Status.TEST, body=EXAMPLE_BODY)
