"""Write an alert as the Markdown + front matter file officials edit.

One writer for every tool that creates alert files (`sitegen new`, `sitegen import-cap`), so
they all produce the field order of the examples and values that read back exactly.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from sitegen.content import area_slug
from sitegen.model import Alert, Area

# The instruction heading `sitegen.body` recognises, in the alert's language.
INSTRUCTION_HEADINGS = {
    "ar": "ماذا تفعل",
    "de": "Was zu tun ist",
    "es": "Qué hacer",
    "fr": "Que faire",
    "ko": "행동 요령",
}
DEFAULT_HEADING = "What to do"
_YAML_UNSAFE = re.compile("[\x7f-\x84\x86-\x9f\ufeff\ufffe\uffff\u2028\u2029]")


def instruction_heading(language: str) -> str:
    return INSTRUCTION_HEADINGS.get(language, DEFAULT_HEADING)


def yaml_value(value: object) -> str:
    """JSON is YAML: double-quoted strings keep leading zeros ("025017") and any punctuation.
    Characters YAML readers refuse are written as escapes."""
    text = json.dumps(value, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def iso(value: datetime) -> str:
    """ISO 8601 with the offset as written by officials (+09:00), seconds kept."""
    return value.isoformat(timespec="seconds")


def front_matter(alert: Alert) -> str:
    """The front matter block, fences included, in the field order of the examples."""
    lines = ["---", f"title: {yaml_value(alert.title)}"]
    if alert.headline:
        lines.append(f"headline: {yaml_value(alert.headline)}")
    lines += [
        f"event: {yaml_value(alert.event)}",
        f"category: {alert.category.value}",
        f"severity: {alert.severity.value}",
        f"urgency: {alert.urgency.value}",
        f"certainty: {alert.certainty.value}",
        f"status: {alert.status.value}",
        f"msg_type: {alert.msg_type.value}",
        f"sent: {iso(alert.sent)}",
    ]
    if alert.effective is not None:
        lines.append(f"effective: {iso(alert.effective)}")
    lines += [f"expires: {iso(alert.expires)}", f"language: {alert.language}", "areas:"]
    for area in alert.areas:
        lines.extend(area_lines(area))
    lines += [f"references: {yaml_value(list(alert.references))}", "---"]
    return "\n".join(lines) + "\n"


def area_lines(area: Area) -> list[str]:
    lines = [f"  - name: {yaml_value(area.name)}"]
    if area.slug != area_slug("", tuple(sorted(area.geocodes)), area.name):
        # its page was given by an `id:` (an Update of it, or its name translated, keeps it)
        lines.append(f"    id: {yaml_value(area.slug)}")
    if area.geocodes:
        lines.append(f"    geocodes: {yaml_value(dict(area.geocodes))}")
    if len(area.polygons) == 1:
        lines.append(f"    polygon: {yaml_value(area.polygons[0])}")
    elif area.polygons:
        lines.append(f"    polygons: {yaml_value(list(area.polygons))}")
    return lines


def alert_file_text(alert: Alert) -> str:
    """The whole file: front matter, then the Markdown body."""
    body = alert.body if alert.body.endswith("\n") else alert.body + "\n"
    return front_matter(alert) + body
