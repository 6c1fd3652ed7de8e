"""site.toml → frozen, validated configuration objects.

The file is validated once here; the rest of the code trusts these objects.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from shlex import quote
from typing import Any, NoReturn
from urllib.parse import SplitResult, urlsplit, urlunsplit

from sitegen.errors import ConfigError, Problem, cannot_read

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
    lock_timeout_s: int = 900  # for a lock written by a sitegen older than leases
    lock_lease_s: int = 120  # publish.lock.LEASE_S: renewed every quarter of it while it runs


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
    descriptions: dict[str, str] = field(default_factory=dict)  # description per language
    timezone: str = ""  # IANA name for times `sitegen new` writes; "" = the machine's zone
    cache: CachePolicy = CachePolicy()
    publish: PublishConfig = PublishConfig()

    @property
    def content_path(self) -> Path:
        return self.root / self.content_dir

    @property
    def source_paths(self) -> tuple[Path, Path]:
        """What the site is made from (a publish target must never overlap these)."""
        return (self.content_path, self.templates_path)

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

    def description_for(self, language: str) -> str:
        return self.descriptions.get(language, self.description)


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
    """Read and validate site.toml; every mistake becomes a ConfigError naming the file (all
    of them at once, each a Problem at its line when it has one)."""
    if not path.is_file():  # named as given: there is no file to point at
        where = "here or in any parent folder" if path == Path(SITE_FILE) else "here"
        raise ConfigError(
            f"{path}: no site.toml {where}. Run sitegen from your site's folder, "
            "or pass --site PATH/TO/site.toml." + _sites_below(path)
        )
    name = shown_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:  # a permission: the system's answer, not the command line's
        raise ConfigError(f"{name}: {cannot_read(exc)}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        _refuse([Problem(name, line, f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
    text = text.removeprefix("\ufeff")  # a byte order mark some Windows editors add: harmless
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        _refuse([_toml_problem(name, text, str(exc))])
    checker = _Checker(name, text)
    config = _build(checker, raw, path)
    if checker.problems or config is None:
        _refuse(checker.problems)
    return config


def _sites_below(path: Path) -> str:
    """Where the site is when it is one folder down (right after `sitegen init mysite`, the
    official is still in the folder above it): said, with the `cd` to type."""
    if path != Path(SITE_FILE):
        return ""
    try:
        found = sorted(p.parent.name for p in Path.cwd().glob(f"*/{SITE_FILE}") if p.is_file())
    except OSError:  # a folder here that cannot be read: no hint rather than a failure
        return ""
    if not found:
        return ""
    if len(found) == 1:
        where = f"A site is in the folder {found[0]!r} here: `cd {quote(found[0])}`"
    else:
        where = f"Sites are in these folders here: {', '.join(found[:5])}; `cd` into one"
    return f" {where}, then run it again."


def shown_path(path: Path) -> str:
    """A file as problems name it: from the folder the command runs in when it is inside it
    (`site.toml`, `mysite/site.toml`), else in full."""
    full, here = path.resolve(), Path.cwd().resolve()
    return str(full.relative_to(here)) if full.is_relative_to(here) else str(full)


def located(path: Path, section: str, key: str, message: str) -> ConfigError:
    """A value of site.toml found not to fit after it was read (a publish folder inside the
    site), as its mistakes are told: at its line."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:  # read a moment ago: the message stands without its line
        text = ""
    checker = _Checker(shown_path(path), text.removeprefix("\ufeff"))
    checker.fail(section, key, message)
    return ConfigError(str(checker.problems[0]), problems=checker.problems)


def _toml_problem(name: str, text: str, error: str) -> Problem:
    """tomllib's error, located as every problem is: its "(at line L, column C)" ends it."""
    if found := re.search(r" \(at line (\d+), column (\d+)\)$", error):
        message, line = error[: found.start()], int(found[1])
        rows = text.split("\n")
        if words := _toml_words(message, rows[line - 1] if line <= len(rows) else ""):
            return Problem(name, line, words)
        return Problem(name, line, f"not valid TOML (column {found[2]}): {message}")
    if error.endswith(" (at end of document)"):  # e.g. a text value left open
        line = text.count("\n") + (not text.endswith("\n"))
        return Problem(name, line, f"not valid TOML: {error.removesuffix(' (at end of document)')}")
    return Problem(name, 0, f"not valid TOML: {error}")


_CURLY = "\u201c\u201d\u2018\u2019"


def _toml_words(message: str, row: str) -> str | None:
    """Plain words, with the line as it should be, for the TOML mistakes an official makes
    (text without quotes, curly quotes, ':' for '=', a key twice); None for the others."""
    key, equals, value = row.partition("=")
    key, value = key.strip(), value.split(" #")[0].strip()
    if message == "Invalid value" and equals and value[:1] in _CURLY:
        return (
            "curly quotes (\u201c \u201d) do not count as quotes here: write the text in "
            f'straight quotes, {key} = "{value.strip(_CURLY)}" (or turn off smart quotes)'
        )
    if message == "Invalid value" and equals and value[:1] not in "\"'[{":
        return f'text goes in double quotes: {key} = "{value}"'
    if message.startswith("Expected '=' after a key"):
        key, colon, value = row.partition(":")
        example = f"{key.strip()} = {value.strip()}" if colon else 'title = "Emergency Alerts"'
        return f"write '=' between the name and its value: {example}"
    if message == "Cannot overwrite a value":
        return f"'{key}' is given twice in this section; keep one"
    return None


def _refuse(problems: Sequence[Problem]) -> NoReturn:
    """Fail with every problem, one a line, then how many when more than one."""
    where = problems[0].path if problems else "site.toml"
    summary = f"{len(problems)} problems in {where}" if len(problems) > 1 else ""
    message = "\n".join([*map(str, problems), summary]).strip()
    raise ConfigError(message, problems=problems, summary=summary)


SITE_KEYS = frozenset(
    {
        "title",
        "titles",
        "description",
        "descriptions",
        "base_url",
        "default_language",
        "languages",
        "sender",
        "sender_name",
        "timezone",
        "content_dir",
        "templates_dir",
        "output_dir",
        "home_max_alerts",
        "show_tests_on_home",
    }
)
SECTIONS = {
    "site": SITE_KEYS,
    "cache": frozenset(DEFAULT_CACHE_CONTROL),
    "publish": frozenset(PublishConfig.__dataclass_fields__),
}


class _Checker:
    """Collects every site.toml problem, each located on its line when the key is found."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name  # as shown (shown_path)
        self.lines = text.split("\n")
        self.problems: list[Problem] = []
        self.misspelt: set[str] = set()  # [site] keys an unknown key was taken for ("sendr")

    def fail(self, section: str, key: str, message: str) -> None:
        line = self.line(section, key)
        self.problems.append(
            Problem(self.name, line, f"[{section}] {message}" if section else message)
        )

    def line(self, section: str, key: str) -> int:
        """The line of `key =` in [section] (or of the [key] header when no section)."""
        current = ""
        header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
        assignment = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number, text in enumerate(self.lines, 1):
            if match := header.match(text):
                current = match[1]
                if not section and current == key:
                    return number
            elif section and current == section and assignment.match(text):
                return number
        return 0

    def unknown(self, section: str, table: dict[str, Any]) -> None:
        known = SECTIONS[section] if section else frozenset(SECTIONS)
        for key in sorted(set(table) - known):
            what = f"unknown key '{key}'" if section else f"unknown section [{key}]"
            close = close_match(key, known)
            if close and section == "site" and close not in table:
                self.misspelt.add(close)  # one message: not also "close is required"
            hint = (
                f"; did you mean '{close}'?" if close else f" (known: {', '.join(sorted(known))})"
            )
            self.fail(section, key, what + hint)

    def text(self, table: dict[str, Any], key: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if key in self.misspelt:
            return ""
        if not isinstance(value, str) or (default is None and not value.strip()):
            required = "is required (a text value)" if key not in table else "must be text"
            self.fail("site", key, f'{key} {required}, e.g. {key} = "..."')
            return ""
        self.characters("site", key, value)
        return value

    def characters(self, section: str, key: str, value: str) -> None:
        """Fail when `value` holds a character no page or feed can carry (a TOML escape writes
        one: a title with `\\f` made both feeds not well-formed), as content.py refuses them."""
        if value.isprintable():  # every such character is unprintable: no search needed
            return
        from sitegen.source import CHAR_REFUSED, FORBIDDEN_CHARS, describe_char

        found = FORBIDDEN_CHARS.search(value)
        if found is not None:
            self.fail(
                section,
                key,
                f"{key} contains the character {describe_char(found[0])}: {CHAR_REFUSED}",
            )

    def number(self, section: str, table: dict[str, Any], key: str, default: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(section, key, f"{key} must be a whole number (0 or more), got {value!r}")
            return default
        return value

    def flag(self, table: dict[str, Any], key: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.fail("site", key, f"{key} must be true or false (no quotes), got {value!r}")
            return False
        return value


def close_match(word: str, known: Collection[str]) -> str | None:
    """The known name that `word` looks like a typo of (a field, a key, a section), or None."""
    import difflib  # only when there is a mistake to explain: ~2 ms of every build otherwise

    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return close[0] if close else None


def _build(check: _Checker, raw: dict[str, Any], path: Path) -> SiteConfig | None:
    check.unknown("", raw)
    site = raw.get("site")
    if not isinstance(site, dict):
        check.fail("", "site", "missing the [site] section (title, base_url, sender, ...)")
        return None
    check.unknown("site", site)
    base_url = check.text(site, "base_url")
    parts = urlsplit(base_url)
    if base_url and (parts.scheme not in ("http", "https") or not parts.netloc):
        check.fail(
            "site", "base_url", f"base_url must be an absolute http(s) URL, got {base_url!r}"
        )
    if base_url and (odd := _NOT_IN_URLS.search(base_url)) is not None:
        check.fail(
            "site",
            "base_url",
            f"base_url holds {odd[0]!r}, which a URL cannot (it is sent in links, feeds, "
            f"sitemaps and CDN settings): write it encoded, {_encoded_url(parts)!r}",
        )
    elif "@" in parts.netloc:  # user:password@ would be in every link, feed and sitemap
        check.fail(
            "site",
            "base_url",
            "base_url holds a user name or password before '@', which every page, feed and "
            "sitemap would show to everyone: remove it (the public address has none), "
            f"e.g. {parts._replace(netloc=parts.netloc.rpartition('@')[2]).geturl()!r}",
        )
    elif parts.query or parts.fragment or base_url.endswith(("?", "#")):
        check.fail(
            "site",
            "base_url",
            "base_url is where the site lives, with no query or fragment "
            f"(e.g. https://www.example.gov/emergency/), got {base_url!r}",
        )
    default_language, languages = _languages(check, site)
    output_dir = check.text(site, "output_dir", "public")
    if Path(output_dir).is_absolute() or ".." in Path(output_dir).parts or output_dir in ("", "."):
        check.fail(
            "site", "output_dir", f"output_dir must be a folder inside the site, got {output_dir!r}"
        )
    title = check.text(site, "title")
    return SiteConfig(
        root=path.parent.resolve(),
        title=title,
        base_url=base_url.rstrip("/") + "/",
        default_language=default_language,
        languages=languages,
        sender=check.text(site, "sender"),
        sender_name=check.text(site, "sender_name", title),
        description=check.text(site, "description", ""),
        content_dir=check.text(site, "content_dir", "content"),
        templates_dir=check.text(site, "templates_dir", "templates"),
        output_dir=output_dir,
        home_max_alerts=check.number("site", site, "home_max_alerts", 50),
        show_tests_on_home=check.flag(site, "show_tests_on_home"),
        titles=_per_language(check, site, "titles", languages),
        descriptions=_per_language(check, site, "descriptions", languages),
        timezone=_timezone(check, site.get("timezone", "")),
        cache=_cache(check, raw.get("cache", {})),
        publish=_publish(check, raw.get("publish", {})),
    )


def _per_language(
    check: _Checker, site: dict[str, Any], key: str, languages: tuple[str, ...]
) -> dict[str, str]:
    """A table of text by language (`titles`, `descriptions`): each key one of `languages`,
    or a typo (`kr` for `ko`) would leave that language's pages without it, unsaid."""
    table = site.get(key, {})
    if not isinstance(table, dict):
        check.fail("site", key, f'{key} must be a table, e.g. {key} = {{ ko = "..." }}')
        return {}
    for language in sorted(set(table) - set(languages)):
        close = close_match(language, frozenset(languages))
        hint = f"did you mean '{close}'? " if close else ""
        check.fail(
            "site",
            key,
            f"{key} has '{language}', which is not one of the site's languages "
            f"({', '.join(languages)}): {hint}correct the code, or add it to languages = [...] "
            "to publish pages in it",
        )
    for value in table.values():
        check.characters("site", key, str(value))
    return {str(k): str(v) for k, v in table.items()}


def _languages(check: _Checker, site: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    raw = site.get("languages", [site.get("default_language", "en")])
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        check.fail("site", "languages", 'languages must be a list of codes, e.g. ["en", "ko"]')
        raw = ["en"]
    languages = tuple(raw)
    default_language = site.get("default_language", languages[0])
    for lang in dict.fromkeys((*languages, default_language)):
        if lang not in KNOWN_LANGUAGES:
            key = "default_language" if lang == default_language else "languages"
            check.fail(
                "site",
                key,
                f"language {lang!r} is not one sitegen knows "
                f"({', '.join(sorted(KNOWN_LANGUAGES))})",
            )
    if default_language not in languages:
        check.fail(
            "site", "default_language", f"default_language {default_language!r} is not in languages"
        )
    return str(default_language), languages


# what officials write for the zones of the sites sitegen serves, none of them a zone name
_ABBREVIATIONS = {"KST": "Asia/Seoul", "JST": "Asia/Tokyo"}


def _timezone(check: _Checker, value: Any) -> str:
    """An IANA timezone name (Asia/Seoul), checked against the system's database."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    name = value.strip() if isinstance(value, str) else value
    if name == "":
        return ""
    try:
        if not isinstance(name, str) or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        import difflib

        # Region/City names only: "KST" is closest to the legacy zone "MST", 16 hours off
        places = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc"))
        close = [_ABBREVIATIONS[name]] if name in _ABBREVIATIONS else []
        close = close or difflib.get_close_matches(str(name), places, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        check.fail(
            "site",
            "timezone",
            f"timezone {name!r} is not an IANA timezone name such as 'Asia/Seoul' or "
            f"'Europe/Berlin'{hint}",
        )
        return ""
    return name


def _cache(check: _Checker, raw: Any) -> CachePolicy:
    if not isinstance(raw, dict):
        check.fail("", "cache", "[cache] must be a section")
        return CachePolicy()
    check.unknown("cache", raw)
    values = {}
    for key in set(raw) & SECTIONS["cache"]:
        if isinstance(raw[key], str):
            values[key] = raw[key]
        else:
            check.fail("cache", key, f'{key} must be a Cache-Control text, e.g. {key} = "no-store"')
    return CachePolicy(**values)


def _publish(check: _Checker, raw: Any) -> PublishConfig:
    if not isinstance(raw, dict):
        check.fail("", "publish", "[publish] must be a section")
        return PublishConfig()
    check.unknown("publish", raw)
    values: dict[str, Any] = {}
    for key in ("target", "edgerc"):
        if key in raw:
            if isinstance(raw[key], str) and raw[key].strip():
                values[key] = raw[key]
            else:
                check.fail("publish", key, f"{key} must be text")
    for key in ("cloudfront", "akamai"):
        if key in raw:
            item = raw[key]
            items = [item] if isinstance(item, str) else item
            if isinstance(items, list) and all(isinstance(x, str) for x in items):
                values[key] = tuple(items)
            else:
                check.fail("publish", key, f'{key} must be a list of texts, e.g. {key} = ["..."]')
    for key, problem in PUBLISH_VALUE_PROBLEMS.items():
        given = values.get(key, ())
        for value in (given,) if isinstance(given, str) else given:
            if (why := problem(value)) is not None:
                check.fail("publish", key, f"{key} {value!r}: {why}")
    for key, default in (("max_deletes", 50), ("lock_timeout_s", 900), ("lock_lease_s", 120)):
        if key in raw:
            values[key] = check.number("publish", raw, key, default)
    if values.get("lock_lease_s") == 0:  # a lock stale at once: any publish could take it
        check.fail("publish", "lock_lease_s", "lock_lease_s must be 1 or more (seconds)")
    return PublishConfig(**values)


# The shapes of [publish] values, checked here for site.toml and in publish/connect.py for the
# flags that override them (each error then names where the value came from).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_DISTRIBUTION_ID = re.compile(r"[A-Z0-9]{8,32}")
AKAMAI_NETWORKS = ("staging", "production")


def target_problem(spec: str) -> str | None:
    """What is wrong with a publish target, `s3://BUCKET[/PREFIX]` or `folder:PATH`, if anything."""
    if spec.startswith("s3://"):
        bucket = spec.removeprefix("s3://").partition("/")[0]
        if not bucket:
            return "the bucket name is missing (e.g. s3://alerts-example-gov/site)"
        return None if _BUCKET.fullmatch(bucket) else f"{bucket!r} is not an S3 bucket name"
    if spec.startswith("folder:") and spec.removeprefix("folder:").strip():
        return None
    return (
        "expected s3://BUCKET[/PREFIX] or folder:PATH "
        "(e.g. s3://alerts-example-gov/site or folder:_published)"
    )


def distribution_problem(dist: str) -> str | None:
    """What is wrong with a CloudFront distribution id, if anything."""
    return None if _DISTRIBUTION_ID.fullmatch(dist) else "not a distribution id like E2QWRUHEXAMPLE"


def akamai_problem(spec: str) -> str | None:
    """What is wrong with an Akamai `SECTION[@staging|@production]`, if anything."""
    section, at, network = spec.strip().partition("@")
    if section and (not at or network in AKAMAI_NETWORKS):
        return None
    return (
        "expected EDGERC_SECTION, EDGERC_SECTION@staging or EDGERC_SECTION@production "
        "(e.g. default@staging)"
    )


PUBLISH_VALUE_PROBLEMS = {
    "target": target_problem,
    "cloudfront": distribution_problem,
    "akamai": akamai_problem,
}


# What RFC 3986 does not allow in a URL as sent: spaces and controls, a few ASCII marks,
# and any non-ASCII character (which must be percent-encoded, or IDNA in a host name). DEL and
# above as a negated class: the range [\x7f-\U0010ffff] took ~5 ms to compile, in every run.
_NOT_IN_URLS = re.compile(r'[\x00-\x20"<>\\^`{|}]|[^\x00-\x7e]')


def _encoded_url(parts: SplitResult) -> str:
    """A URL with what it may not hold encoded: the host as IDNA, the path percent-encoded."""
    from urllib.parse import quote

    try:
        host = parts.netloc.encode("idna").decode("ascii")
    except UnicodeError:
        host = quote(parts.netloc, safe=":@[]")
    return urlunsplit((parts.scheme, host, quote(parts.path, safe="/%:@!$&'()*+,;=-._~"), "", ""))
