"""site.toml → frozen, validated configuration objects.

The file is validated once here; the rest of the code trusts these objects.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sitegen.errors import ConfigError

DEFAULT_CACHE_CONTROL = {
    "immutable": "public, max-age=31536000, immutable",
    "alert": "public, max-age=60, s-maxage=300, stale-if-error=86400",
    "meta": "no-store",
}

# Languages we ship a message catalog for, with their text direction.
KNOWN_LANGUAGES = {
    "ar": "rtl",
    "de": "ltr",
    "en": "ltr",
    "es": "ltr",
    "fa": "rtl",
    "fr": "ltr",
    "he": "rtl",
    "ja": "ltr",
    "ko": "ltr",
    "pt": "ltr",
    "ur": "rtl",
    "vi": "ltr",
    "zh": "ltr",
}


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """Cache-Control value per cache class (DESIGN.md: numbers may change, classes not)."""

    immutable: str = DEFAULT_CACHE_CONTROL["immutable"]
    alert: str = DEFAULT_CACHE_CONTROL["alert"]
    meta: str = DEFAULT_CACHE_CONTROL["meta"]

    def for_class(self, cache_class: str) -> str:
        return str(getattr(self, cache_class))


@dataclass(frozen=True, slots=True)
class PublishConfig:
    """Where `sitegen publish` sends the bundle. Command-line flags override these."""

    target: str = "folder:_published"
    cloudfront: tuple[str, ...] = ()
    akamai: tuple[str, ...] = ()
    edgerc: str = "~/.edgerc"
    max_deletes: int = 50
    lock_timeout_s: int = 900


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Everything in site.toml, plus the folder it was read from."""

    root: Path
    title: str
    base_url: str  # always ends with "/"
    default_language: str
    languages: tuple[str, ...]
    sender: str  # CAP <sender>: who issues the alerts (an email or URI)
    sender_name: str
    description: str = ""
    content_dir: str = "content"
    templates_dir: str = "templates"
    output_dir: str = "public"
    home_max_alerts: int = 50
    show_tests_on_home: bool = False
    titles: dict[str, str] = field(default_factory=dict)  # site title per language
    timezone: str = ""  # IANA name for times `sitegen new` writes; "" = the machine's zone
    cache: CachePolicy = CachePolicy()
    publish: PublishConfig = PublishConfig()

    @property
    def content_path(self) -> Path:
        return self.root / self.content_dir

    @property
    def templates_path(self) -> Path:
        return self.root / self.templates_dir

    @property
    def output_path(self) -> Path:
        return self.root / self.output_dir

    @property
    def zone(self) -> tzinfo | None:
        """The site's timezone (validated when loaded), or None for the machine's."""
        if not self.timezone:
            return None
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)

    def title_for(self, language: str) -> str:
        return self.titles.get(language, self.title)


SITE_FILE = "site.toml"


def find_site_file(given: Path, cwd: Path | None = None) -> Path:
    """The site.toml `--site` means: a folder means its site.toml; the plain name site.toml,
    when there is none here, means the nearest one in a parent folder (as git finds .git),
    so sitegen works from content/alerts/ too. Anything else is taken as given."""
    if given.is_dir():
        return given / SITE_FILE
    if given.exists() or given != Path(SITE_FILE):
        return given
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SITE_FILE).is_file():
            return folder / SITE_FILE
    return given


def load_config(path: Path) -> SiteConfig:
    """Read and validate site.toml; every mistake becomes a ConfigError naming the file."""
    if not path.is_file():
        where = "here or in any parent folder" if path == Path(SITE_FILE) else "here"
        raise ConfigError(
            f"{path}: no site.toml {where}. Run sitegen from your site's folder, "
            "or pass --site PATH/TO/site.toml."
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return _build(path, raw)


def _build(path: Path, raw: dict[str, Any]) -> SiteConfig:
    site = _table(path, raw, "site")
    unknown = set(raw) - {"site", "cache", "publish"}
    if unknown:
        noun = "section" if len(unknown) == 1 else "sections"
        raise ConfigError(f"{path}: unknown {noun} {', '.join(sorted(unknown))}")
    base_url = _str(path, site, "base_url", "site")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{path}: [site] base_url must be an absolute http(s) URL, got {base_url!r}"
        )
    languages = tuple(site.get("languages", [site.get("default_language", "en")]))
    default_language = str(site.get("default_language", languages[0]))
    for lang in (*languages, default_language):
        if lang not in KNOWN_LANGUAGES:
            raise ConfigError(
                f"{path}: [site] language {lang!r} is not one sitegen knows "
                f"({', '.join(sorted(KNOWN_LANGUAGES))})"
            )
    if default_language not in languages:
        raise ConfigError(
            f"{path}: [site] default_language {default_language!r} is not in languages"
        )
    output_dir = str(site.get("output_dir", "public"))
    if Path(output_dir).is_absolute() or ".." in Path(output_dir).parts or output_dir in ("", "."):
        raise ConfigError(
            f"{path}: [site] output_dir must be a folder inside the site, got {output_dir!r}"
        )
    return SiteConfig(
        root=path.parent.resolve(),
        title=_str(path, site, "title", "site"),
        base_url=base_url.rstrip("/") + "/",
        default_language=default_language,
        languages=languages,
        sender=_str(path, site, "sender", "site"),
        sender_name=str(site.get("sender_name", site["title"])),
        description=str(site.get("description", "")),
        content_dir=str(site.get("content_dir", "content")),
        templates_dir=str(site.get("templates_dir", "templates")),
        output_dir=output_dir,
        home_max_alerts=int(site.get("home_max_alerts", 50)),
        show_tests_on_home=bool(site.get("show_tests_on_home", False)),
        titles={str(k): str(v) for k, v in dict(site.get("titles", {})).items()},
        timezone=_timezone(path, site.get("timezone", "")),
        cache=_cache(path, raw.get("cache", {})),
        publish=_publish(path, raw.get("publish", {})),
    )


def _timezone(path: Path, value: Any) -> str:
    """An IANA timezone name (Asia/Seoul), checked against the system's database."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    name = value.strip() if isinstance(value, str) else value
    if name == "":
        return ""
    try:
        if not isinstance(name, str) or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        import difflib

        close = difflib.get_close_matches(str(name), sorted(available_timezones()), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{path}: [site] timezone {name!r} is not an IANA timezone name such as "
            f"'Asia/Seoul' or 'Europe/Berlin'{hint}"
        ) from exc
    return name


def _cache(path: Path, raw: dict[str, Any]) -> CachePolicy:
    unknown = set(raw) - set(DEFAULT_CACHE_CONTROL)
    if unknown:
        raise ConfigError(
            f"{path}: [cache] knows the classes immutable, alert, meta; "
            f"not {', '.join(sorted(unknown))}"
        )
    return CachePolicy(**{k: str(v) for k, v in raw.items()})


def _publish(path: Path, raw: dict[str, Any]) -> PublishConfig:
    known = set(PublishConfig.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        noun = "key" if len(unknown) == 1 else "keys"
        raise ConfigError(f"{path}: [publish] unknown {noun} {', '.join(sorted(unknown))}")
    values: dict[str, Any] = dict(raw)
    for key in ("cloudfront", "akamai"):
        if key in values:
            item = values[key]
            values[key] = (item,) if isinstance(item, str) else tuple(str(x) for x in item)
    return PublishConfig(**values)


def _table(path: Path, raw: dict[str, Any], name: str) -> dict[str, Any]:
    table = raw.get(name)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: missing the [{name}] section")
    return table


def _str(path: Path, table: dict[str, Any], key: str, section: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: [{section}] {key} is required (a text value)")
    return value
