"""A deterministic synthetic alert archive, written as a sitegen site, a Hugo site and a Pelican
site with the same alerts and an equivalent minimal theme (one page per alert, paginated home,
archive and area pages).

Same (n, seed) → byte-identical trees. Sizes and field mixes follow real agency archives: most
alerts expired long ago, ~15 % updates or cancels of an earlier alert, ~20 % with a Korean
translation, 1–3 areas out of 120, bodies of 2–6 paragraphs plus a "What to do" list.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent

EVENTS = [
    ("Flood", "Met"),
    ("Heavy rain", "Met"),
    ("Heavy snow", "Met"),
    ("Heat wave", "Met"),
    ("Typhoon", "Met"),
    ("Earthquake", "Geo"),
    ("Tsunami", "Geo"),
    ("Wildfire", "Fire"),
    ("Boil water notice", "Health"),
    ("Air quality", "Env"),
    ("Chemical spill", "CBRNE"),
    ("Power outage", "Infra"),
]
SEVERITIES = ["Extreme", "Severe", "Severe", "Moderate", "Moderate", "Moderate", "Minor"]
URGENCIES = ["Immediate", "Expected", "Future"]
CERTAINTIES = ["Observed", "Likely", "Possible"]
WORDS = [
    "river",
    "level",
    "rising",
    "station",
    "measured",
    "crews",
    "roads",
    "closed",
    "shelter",
    "open",
    "residents",
    "advised",
    "water",
    "supply",
    "shaking",
    "aftershocks",
    "coast",
    "waves",
    "harbour",
    "smoke",
    "wind",
    "gusts",
    "rainfall",
    "millimetres",
    "bridge",
    "school",
    "hospital",
    "schedule",
    "update",
    "forecast",
    "evening",
    "morning",
    "district",
    "north",
    "south",
    "east",
    "west",
    "valley",
    "reservoir",
    "power",
    "lines",
    "trains",
    "buses",
    "delayed",
    "volunteers",
    "emergency",
    "services",
]
INSTRUCTIONS = [
    "Keep away from the river banks and low bridges.",
    "Move to higher ground if water reaches your street.",
    "Check on elderly neighbours and people living alone.",
    "Do not drive through flooded roads; turn around.",
    "Keep a radio and a torch with spare batteries ready.",
    "Follow the instructions of emergency services on site.",
    "Boil tap water for one minute before drinking it.",
    "Close windows and doors; switch off ventilation.",
]


@dataclass(frozen=True, slots=True)
class Synth:
    id: str
    title: str
    event: str
    category: str
    severity: str
    urgency: str
    certainty: str
    status: str
    msg_type: str
    sent: datetime
    expires: datetime
    areas: tuple[tuple[str, str], ...]  # (name, ISO code)
    references: tuple[str, ...]
    body: str
    ko: bool  # has a Korean translation


def _areas() -> list[tuple[str, str]]:
    return [(f"District {i:03d}", f"KR-{i:03d}") for i in range(120)]


def _paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(2, 4)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
        sentences.append(" ".join(words).capitalize() + ".")
    text = " ".join(sentences)
    if rng.random() < 0.3:
        text += " See [the forecast](https://weather.example.gov/forecast) for **details**."
    return text


def _body(rng: random.Random) -> str:
    paragraphs = [_paragraph(rng) for _ in range(rng.randint(2, 6))]
    todo = rng.sample(INSTRUCTIONS, rng.randint(2, 5))
    return "\n\n".join(paragraphs) + "\n\n## What to do\n\n" + "\n".join(f"- {t}" for t in todo)


def alerts(n: int, seed: int) -> list[Synth]:
    """n alerts over ~5 years before NOW; the last few dozen are still active."""
    rng = random.Random(seed)
    areas = _areas()
    result: list[Synth] = []
    span = timedelta(days=5 * 365).total_seconds()
    for i in range(n):
        # Evenly spread over 5 years; the newest ~0.3 % fall in the last day (active).
        age = span * (1 - (i + 1) / n) + rng.random() * 60
        sent = (NOW - timedelta(seconds=age)).replace(microsecond=0)
        event, category = rng.choice(EVENTS)
        chosen = tuple(sorted(rng.sample(areas, rng.choice([1, 1, 1, 2, 2, 3]))))
        msg_type, references, earlier = "Alert", (), None
        if result and rng.random() < 0.15:
            earlier = result[max(0, len(result) - rng.randint(1, 20))]
            if earlier.msg_type != "Cancel" and earlier.sent < sent:
                msg_type = rng.choice(["Update", "Update", "Cancel"])
                # every earlier message of the chain, as `sitegen check` asks
                references = (*earlier.references, earlier.id)
            else:
                earlier = None
        severity, urgency = rng.choice(SEVERITIES), rng.choice(URGENCIES)
        certainty = rng.choice(CERTAINTIES)
        status = "Exercise" if rng.random() < 0.02 else "Actual"
        result.append(
            Synth(
                id=f"{sent:%Y-%m-%d}-{event.lower().replace(' ', '-')}-{i:06d}",
                title=f"{event} warning for {chosen[0][0]}",
                event=event,
                category=category,
                severity=severity,
                urgency=urgency,
                certainty=certainty,
                status=status if earlier is None else earlier.status,  # CAP: same status
                msg_type=msg_type,
                sent=sent,
                expires=sent + timedelta(hours=rng.choice([6, 12, 24, 48, 72])),
                areas=chosen,
                references=references,
                body=_body(rng),
                ko=rng.random() < 0.2,
            )
        )
    return result


SITE_TOML = """\
[site]
title = "Synthetic Alerts"
titles = { ko = "합성 경보" }
base_url = "https://alerts.example.gov/"
default_language = "en"
languages = ["en", "ko"]
sender = "alerts@example.gov"
"""


def sitegen_text(a: Synth, language: str = "en", edit: str = "") -> str:
    areas = "\n".join(
        f"  - name: {name}\n    geocodes: {{ISO3166-2: {code}}}" for name, code in a.areas
    )
    title = a.title if language == "en" else f"{a.title} (한국어)"
    refs = "[" + ", ".join(a.references) + "]"
    return (
        f"---\ntitle: {title}{edit}\nevent: {a.event}\ncategory: {a.category}\n"
        f"severity: {a.severity}\nurgency: {a.urgency}\ncertainty: {a.certainty}\n"
        f"status: {a.status}\nmsg_type: {a.msg_type}\nsent: {a.sent.isoformat()}\n"
        f"expires: {a.expires.isoformat()}\nareas:\n{areas}\nreferences: {refs}\n---\n"
        f"{a.body}\n"
    )


def write_sitegen(root: Path, items: list[Synth], templates: Path | None = None) -> None:
    """A sitegen site: site.toml, templates/ (the repo's theme), content/alerts/."""
    if root.exists():
        shutil.rmtree(root)
    folder = root / "content" / "alerts"
    folder.mkdir(parents=True)
    shutil.copytree(templates or REPO / "templates", root / "templates")
    (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")
    for a in items:
        (folder / f"{a.id}.md").write_text(sitegen_text(a), encoding="utf-8")
        if a.ko:
            (folder / f"{a.id}.ko.md").write_text(sitegen_text(a, "ko"), encoding="utf-8")


def sitegen_path(root: Path, a: Synth) -> Path:
    return root / "content" / "alerts" / f"{a.id}.md"


# --- Hugo -------------------------------------------------------------------------------------

HUGO_CONFIG = """\
baseURL = "https://alerts.example.gov/"
title = "Synthetic Alerts"
defaultContentLanguage = "en"
disableKinds = ["RSS", "sitemap", "robotsTXT", "taxonomy"]
[pagination]
pagerSize = 50
[taxonomies]
area = "areas"
[languages.en]
weight = 1
[languages.ko]
weight = 2
"""

HUGO_BASEOF = """<!doctype html><html lang="{{ .Language.Lang }}"><head><meta charset="utf-8">
<title>{{ .Title }} · {{ .Site.Title }}</title><style>{{ readFile "style.css" | safeCSS }}</style>
</head><body><header><a href="/">{{ .Site.Title }}</a></header><main>{{ block "main" . }}{{ end }}
</main><footer>Last updated {{ .Site.Lastmod.Format "2006-01-02 15:04" }}</footer></body></html>
"""
HUGO_SINGLE = """{{ define "main" }}<h1>{{ .Title }}</h1><dl><dt>Severity</dt>
<dd>{{ .Params.severity }}</dd><dt>Areas</dt><dd>{{ range .Params.areas }}
<a href="{{ "areas/" | relLangURL }}{{ . | urlize }}/">{{ . }}</a> {{ end }}</dd>
<dt>Sent</dt><dd><time>{{ .Date.Format "2 January 2006 15:04" }}</time></dd></dl>
{{ .Content }}{{ range .Translations }}<a href="{{ .RelPermalink }}" hreflang="{{ .Lang }}">
{{ .Lang }}</a>{{ end }}{{ end }}
"""
HUGO_LIST = """{{ define "main" }}<h1>{{ .Title }}</h1><ul>
{{ range (.Paginate .Pages).Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
{{ .Params.severity }} <time>{{ .Date.Format "2 January 2006 15:04" }}</time></li>{{ end }}
</ul>{{ template "_internal/pagination.html" . }}{{ end }}
"""


def write_hugo(root: Path, items: list[Synth]) -> None:
    """The same alerts as a Hugo site: one page per alert, paginated home/section/area pages."""
    if root.exists():
        shutil.rmtree(root)
    (root / "content" / "alerts").mkdir(parents=True)
    layouts = root / "layouts" / "_default"
    layouts.mkdir(parents=True)
    (root / "hugo.toml").write_text(HUGO_CONFIG)
    (layouts / "baseof.html").write_text(HUGO_BASEOF)
    (layouts / "single.html").write_text(HUGO_SINGLE)
    for name in ("list.html", "term.html", "taxonomy.html"):
        (layouts / name).write_text(HUGO_LIST)
    shutil.copy(REPO / "templates" / "style.css", root / "style.css")
    for a in items:
        (root / "content" / "alerts" / f"{a.id}.md").write_text(hugo_text(a))
        if a.ko:
            (root / "content" / "alerts" / f"{a.id}.ko.md").write_text(hugo_text(a, "ko"))


def hugo_text(a: Synth, language: str = "en", edit: str = "") -> str:
    title = a.title if language == "en" else f"{a.title} (한국어)"
    areas = ", ".join(f'"{name}"' for name, _ in a.areas)
    return (
        f'---\ntitle: "{title}{edit}"\ndate: {a.sent.isoformat()}\n'
        f"expiryDate: 2100-01-01T00:00:00Z\nseverity: {a.severity}\nareas: [{areas}]\n---\n"
        f"{a.body}\n"
    )


# --- Pelican ----------------------------------------------------------------------------------

PELICAN_CONF = """\
SITENAME = "Synthetic Alerts"
SITEURL = ""
PATH = "content"
THEME = "theme"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 50
PAGINATED_TEMPLATES = {"index": None, "tag": None, "archives": None}
DIRECT_TEMPLATES = ["index", "archives"]
ARTICLE_URL = "alerts/{slug}/"
ARTICLE_SAVE_AS = "alerts/{slug}/index.html"
ARTICLE_LANG_URL = "alerts/{slug}/{lang}/"
ARTICLE_LANG_SAVE_AS = "alerts/{slug}/{lang}/index.html"
TAG_URL = "areas/{slug}/"
TAG_SAVE_AS = "areas/{slug}/index.html"
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
TAGS_SAVE_AS = ""
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
"""
PELICAN_BASE = """<!doctype html><html lang="{{ DEFAULT_LANG }}"><head><meta charset="utf-8">
<title>{% block title %}{{ SITENAME }}{% endblock %}</title><style>{% include "style.css" %}</style>
</head><body><header><a href="/">{{ SITENAME }}</a></header><main>{% block main %}{% endblock %}
</main></body></html>
"""
PELICAN_ARTICLE = """{% extends "base.html" %}{% block main %}<h1>{{ article.title }}</h1>
<dl><dt>Severity</dt><dd>{{ article.severity }}</dd><dt>Areas</dt><dd>
{% for tag in article.tags %}<a href="/{{ tag.url }}">{{ tag }}</a> {% endfor %}</dd><dt>Sent</dt>
<dd><time>{{ article.locale_date }}</time></dd></dl>{{ article.content }}
{% for t in article.translations %}<a href="/{{ t.url }}"
hreflang="{{ t.lang }}">{{ t.lang }}</a>{% endfor %}{% endblock %}
"""
PELICAN_LIST = """{% extends "base.html" %}{% block main %}<ul>
{% for article in articles_page.object_list %}<li><a href="/{{ article.url }}">{{ article.title }}
</a> {{ article.severity }} <time>{{ article.locale_date }}</time></li>{% endfor %}</ul>
{% if articles_page.has_next() %}<a href="/{{ articles_next_page.url }}">next</a>{% endif %}
{% endblock %}
"""


def write_pelican(root: Path, items: list[Synth]) -> None:
    """The same alerts as a Pelican site with a minimal theme of the same shape."""
    if root.exists():
        shutil.rmtree(root)
    (root / "content").mkdir(parents=True)
    templates = root / "theme" / "templates"
    templates.mkdir(parents=True)
    (root / "pelicanconf.py").write_text(PELICAN_CONF)
    (templates / "base.html").write_text(PELICAN_BASE)
    shutil.copy(REPO / "templates" / "style.css", templates / "style.css")
    (templates / "article.html").write_text(PELICAN_ARTICLE)
    for name in ("index.html", "tag.html", "archives.html", "page.html", "category.html"):
        (templates / name).write_text(PELICAN_LIST)
    for a in items:
        (root / "content" / f"{a.id}.md").write_text(pelican_text(a))
        if a.ko:
            (root / "content" / f"{a.id}.ko.md").write_text(pelican_text(a, "ko"))


def pelican_text(a: Synth, language: str = "en", edit: str = "") -> str:
    title = a.title if language == "en" else f"{a.title} (한국어)"
    tags = ", ".join(name for name, _ in a.areas)
    return (
        f"Title: {title}{edit}\nDate: {a.sent:%Y-%m-%d %H:%M}\nSlug: {a.id}\nLang: {language}\n"
        f"Tags: {tags}\nSeverity: {a.severity}\n\n{a.body}\n"
    )
