"""`sitegen new`: write a valid alert skeleton an official only has to fill in."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sitegen.config import SiteConfig
from sitegen.errors import SitegenError
from sitegen.model import Severity

TODO = "TODO:"


@dataclass(frozen=True, slots=True)
class Skeleton:
    title: str
    event: str
    severity: Severity
    areas: tuple[str, ...]
    language: str
    sent: datetime
    expires: datetime


def slugify(text: str) -> str:
    """ASCII slug for a file name; empty when the title has no Latin letters or digits."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


def alert_filename(skeleton: Skeleton, config: SiteConfig) -> str:
    slug = slugify(skeleton.title) or slugify(skeleton.event) or "alert"
    suffix = "" if skeleton.language == config.default_language else f".{skeleton.language}"
    return f"{skeleton.sent:%Y-%m-%d}-{slug}{suffix}.md"


def render_skeleton(skeleton: Skeleton) -> str:
    """The file's text: front matter filled in, body with TODO lines that `check` insists on."""
    areas = "\n".join(f"  - name: {_yaml_text(a)}" for a in skeleton.areas)
    return f"""---
title: {_yaml_text(skeleton.title)}
event: {_yaml_text(skeleton.event)}
category: Other
severity: {skeleton.severity.value}
urgency: Expected
certainty: Likely
status: Actual
msg_type: Alert
sent: {skeleton.sent.isoformat()}
expires: {skeleton.expires.isoformat()}
language: {skeleton.language}
areas:
{areas}
references: []
---
{TODO} say in two or three sentences what is happening, where, and since when.

## What to do

- {TODO} the first thing people must do now.
- {TODO} what to do next, and where to find help.
"""


def _yaml_text(text: str) -> str:
    # Double-quoted YAML with JSON-style escapes is always safe, whatever the official typed.
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def write_skeleton(skeleton: Skeleton, config: SiteConfig) -> Path:
    """Create the file under content/alerts/, never overwriting an existing one."""
    folder = config.content_path / "alerts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / alert_filename(skeleton, config)
    if path.exists():
        raise SitegenError(f"{path}: already exists; choose another title or edit that file")
    path.write_text(render_skeleton(skeleton), encoding="utf-8")
    return path


def default_times(now: datetime, hours: float) -> tuple[datetime, datetime]:
    sent = now.astimezone().replace(second=0, microsecond=0)
    return sent, sent + timedelta(hours=hours)
