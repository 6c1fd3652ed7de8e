"""Akamai Fast Purge v3: invalidate changed URLs, EdgeGrid-signed, batched, retried when told.

Credentials come from an ``.edgerc`` section (``host``, ``client_token``, ``client_secret``,
``access_token``); requests are signed with ``edgegrid-python``. See docs/akamai.md.
"""

from __future__ import annotations

import configparser
import email.utils
import json
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from akamai.edgegrid import EdgeGridAuth, EdgeRc

from publish.cdn.base import InvalidationReceipt
from sitegen import __version__
from sitegen.config import AKAMAI_NETWORKS, akamai_problem
from sitegen.errors import ConfigError, PublishError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 50_000  # Fast Purge answers 413 from here on; we stay strictly below
NETWORKS = AKAMAI_NETWORKS
SCHEME_ENV = "SITEGEN_AKAMAI_SCHEME"  # "http" only for a loopback host (the test server)
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_REQUIRED_KEYS = ("host", "client_token", "client_secret", "access_token")
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 507})
_EMPTY_BODY_BYTES = len(b'{"objects":[]}')
_CHECK_HOST = "check the host in .edgerc (akab-xxxx.purge.akamaiapis.net) and the network"


class _DropDebugRecords(logging.Filter):
    """edgegrid-python logs the signing key and full Authorization header at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


# Installed at import so `--debug` (root logger at DEBUG) can never print credentials.
logging.getLogger("akamai.edgegrid.edgegrid").addFilter(_DropDebugRecords())


def parse_akamai_spec(spec: str) -> tuple[str, str]:
    """``SECTION[@staging|@production]`` → (section, network); production when not given."""
    if (problem := akamai_problem(spec)) is not None:  # site.toml's were checked when read
        raise ConfigError(f"--akamai {spec!r}: {problem}")
    section, at, network = spec.strip().partition("@")
    return section, network if at else "production"


@dataclass(frozen=True, slots=True)
class EdgeGridCredentials:
    """One ``.edgerc`` section. Secrets are left out of ``repr`` so they never reach a log."""

    host: str  # API host, e.g. akab-xxxx.purge.akamaiapis.net (a loopback host:port in tests)
    client_token: str = field(repr=False)
    client_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    max_body: int = 131072  # how much of a POST body the signature covers

    def redact(self, text: str) -> str:
        """Hide any credential an error body might echo back (a proxy, a misbehaving server)."""
        for secret in (self.client_secret, self.access_token, self.client_token):
            if secret:
                text = text.replace(secret, "***")
        return text


def load_edgerc(edgerc_path: str | Path, section: str) -> EdgeGridCredentials:
    """Read one section of an ``.edgerc`` file, with errors that say what to fix."""
    path = Path(edgerc_path).expanduser()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ConfigError(
            f"{path}: Akamai .edgerc not found or not readable; create it with a [{section}] "
            "section holding host, client_token, client_secret and access_token (docs/akamai.md)"
        )
    rc = _read_edgerc(path)
    if not rc.has_section(section):
        found = ", ".join(rc.sections()) or "none"
        raise ConfigError(f"{path}: no [{section}] section (sections found: {found})")
    missing = [key for key in _REQUIRED_KEYS if not rc.get(section, key).strip()]
    if missing:
        raise ConfigError(f"{path}: [{section}] is missing {', '.join(missing)}")
    if path.stat().st_mode & 0o077:
        log.warning("%s is readable by other users; run: chmod 600 %s", path, path)
    return EdgeGridCredentials(
        host=_clean_host(path, section, rc.get(section, "host")),
        client_token=rc.get(section, "client_token").strip(),
        client_secret=rc.get(section, "client_secret").strip(),
        access_token=rc.get(section, "access_token").strip(),
        max_body=_max_body(path, section, rc),
    )


def _read_edgerc(path: Path) -> Any:
    try:
        return EdgeRc(str(path))
    except configparser.Error as exc:
        # configparser quotes the offending line, which may hold a secret: give line numbers only.
        lines = [n for n, _ in getattr(exc, "errors", [])] or [getattr(exc, "lineno", "?")]
        where = ", ".join(str(n) for n in lines)
        raise ConfigError(
            f"{path}: not a valid .edgerc file (line {where}: expected [section] or key = value)"
        ) from None


def _clean_host(path: Path, section: str, host: str) -> str:
    # Akamai's credential download writes the host with a trailing slash.
    host = host.strip().rstrip("/")
    if "://" in host or "/" in host:
        raise ConfigError(
            f"{path}: [{section}] host must be a bare host name like "
            f"akab-xxxx.purge.akamaiapis.net, got {host!r}"
        )
    return host


def _max_body(path: Path, section: str, rc: Any) -> int:
    try:
        return int(rc.getint(section, "max_body"))
    except ValueError:
        raise ConfigError(f"{path}: [{section}] max_body must be a whole number") from None


@dataclass(frozen=True, slots=True)
class PurgeRetryPolicy:
    """How long to insist on 429/5xx/connection failures before giving up."""

    attempts: int = 5
    base_s: float = 1.0  # first backoff for 5xx and connection errors; doubles each time
    cap_s: float = 30.0  # longest single wait, also for a server-advised Retry-After
    rate_limit_s: float = 5.0  # Akamai's documented wait after a 429 without Retry-After

    def wait_s(self, attempt: int, status: int | None, retry_after: str | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        advised = parse_retry_after(retry_after)
        if advised is None and status == 429:
            advised = self.rate_limit_s
        if advised is None:
            # Equal jitter: spreads concurrent publishers without ever waiting less than half.
            step = self.base_s * 2 ** (attempt - 1)
            advised = step / 2 + random.uniform(0, step / 2)
        return max(0.0, min(advised, self.cap_s))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP-date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def purge_url(base_url: str, path: str) -> str:
    """Absolute, percent-encoded URL for a site path (that is the key the edge caches under)."""
    if not path.startswith("/"):
        raise ValueError(f"site path must start with '/': {path!r}")
    return base_url.rstrip("/") + quote(path, safe="/%:@!$&'()*+,;=~")


def batch_bodies(urls: Sequence[str], limit: int = MAX_BODY_BYTES) -> list[bytes]:
    """Split URLs into ``{"objects": [...]}`` JSON bodies, each strictly under ``limit`` bytes."""
    batches: list[list[str]] = []
    size = limit  # forces a new batch for the first URL
    for url in urls:
        item = len(json.dumps(url)) + 1  # quoted URL plus its comma (ASCII-only JSON)
        if _EMPTY_BODY_BYTES + item - 1 >= limit:
            raise PublishError(f"URL too long to purge ({len(url)} characters): {url}")
        if size + item >= limit:
            batches.append([])
            size = _EMPTY_BODY_BYTES - 1
        batches[-1].append(url)
        size += item
    return [_body(batch) for batch in batches]


def _body(urls: list[str]) -> bytes:
    return json.dumps({"objects": urls}, separators=(",", ":")).encode("ascii")


@dataclass(frozen=True, slots=True)
class PurgeAccepted:
    """One 201 answer from Fast Purge."""

    purge_id: str
    support_id: str
    estimated_seconds: int
    urls: int
    attempts: int  # HTTP calls it took, retries included


class AkamaiInvalidator:
    """Invalidates site paths on one Akamai network through Fast Purge v3 (``Invalidator``)."""

    def __init__(
        self,
        credentials: EdgeGridCredentials,
        network: str,
        base_url: str,
        *,
        section: str = "default",
        scheme: str = "https",
        session: requests.Session | None = None,
        retry: PurgeRetryPolicy = PurgeRetryPolicy(),
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if network not in NETWORKS:
            raise ConfigError(f"Akamai network must be staging or production, got {network!r}")
        _check_scheme(scheme, credentials.host)
        self.name = f"akamai:{section}@{network}"
        self.network = network
        self.base_url = base_url
        self.endpoint = f"{scheme}://{credentials.host}/ccu/v3/invalidate/url/{network}"
        self._credentials = credentials
        self._auth = EdgeGridAuth(
            client_token=credentials.client_token,
            client_secret=credentials.client_secret,
            access_token=credentials.access_token,
            max_body=credentials.max_body,
        )
        self._session = session or requests.Session()
        self._retry = retry
        self._timeout_s = timeout_s
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"AkamaiInvalidator({self.name!r}, endpoint={self.endpoint!r})"

    @classmethod
    def from_edgerc(
        cls,
        edgerc_path: str | Path,
        section: str,
        network: str,
        base_url: str,
        *,
        scheme: str | None = None,
        session: requests.Session | None = None,
        retry: PurgeRetryPolicy = PurgeRetryPolicy(),
    ) -> AkamaiInvalidator:
        """Build from an ``.edgerc`` section; scheme defaults to $SITEGEN_AKAMAI_SCHEME or https."""
        credentials = load_edgerc(edgerc_path, section)
        scheme = scheme or os.environ.get(SCHEME_ENV, "").strip().lower() or "https"
        return cls(
            credentials,
            network,
            base_url,
            section=section,
            scheme=scheme,
            session=session,
            retry=retry,
        )

    def to_send(self, paths: Sequence[str]) -> tuple[str, ...]:
        """The absolute URLs purged (``purge_url``), each once."""
        return tuple(dict.fromkeys(purge_url(self.base_url, p) for p in paths))

    def invalidate(self, paths: Sequence[str], *, reference: str) -> InvalidationReceipt:
        """Invalidate every path (deduplicated) in as few requests as the byte limit allows."""
        urls = list(self.to_send(paths))
        bodies = batch_bodies(urls)
        log.info(
            "%s: purging %d URLs in %d request(s) for publish %s",
            self.name,
            len(urls),
            len(bodies),
            reference,
        )
        accepted: list[PurgeAccepted] = []
        for number, body in enumerate(bodies, 1):
            try:
                accepted.append(self._send(body))
            except PublishError as exc:
                message = self._partial(exc.message, number, len(bodies), accepted, urls)
                raise PublishError(message) from None
            log.info(
                "%s: request %d/%d accepted (purgeId %s, about %d s)",
                self.name,
                number,
                len(bodies),
                accepted[-1].purge_id,
                accepted[-1].estimated_seconds,
            )
        return self._receipt(len(urls), accepted)

    def _receipt(self, urls: int, accepted: list[PurgeAccepted]) -> InvalidationReceipt:
        if not accepted:
            return InvalidationReceipt(self.name, "", 0, 0, "nothing to purge")
        seconds = max(a.estimated_seconds for a in accepted)
        support = ",".join(a.support_id for a in accepted)
        return InvalidationReceipt(
            cdn=self.name,
            id=",".join(a.purge_id for a in accepted),
            paths=urls,
            requests=sum(a.attempts for a in accepted),
            detail=f"accepted on {self.network}, about {seconds} s to take effect; "
            f"supportId {support}",
        )

    def _partial(
        self, message: str, number: int, total: int, done: list[PurgeAccepted], urls: list[str]
    ) -> str:
        if total == 1:
            return message
        purged = sum(a.urls for a in done)
        ids = ",".join(a.purge_id for a in done) or "none"
        return (
            f"{message}\nRequest {number} of {total} failed; {purged} of {len(urls)} URLs were "
            f"purged before it (purgeId {ids}). Purging again is harmless."
        )

    def _send(self, body: bytes) -> PurgeAccepted:
        """POST one body, retrying 429/5xx/connection failures after the advised wait."""
        for attempt in range(1, self._retry.attempts + 1):
            last = attempt == self._retry.attempts
            try:
                response = self._post(body)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise PublishError(self._unreachable(exc, attempt)) from None
                status, retry_after, why = None, None, type(exc).__name__
            else:
                if response.status_code == 201:
                    return self._accepted(response, body, attempt)
                if last or response.status_code not in _RETRY_STATUSES:
                    raise PublishError(self._refused(response, attempt))
                status, why = response.status_code, f"HTTP {response.status_code}"
                retry_after = response.headers.get("Retry-After")
            wait = self._retry.wait_s(attempt, status, retry_after)
            log.warning(
                "%s: %s, retrying in %.1f s (attempt %d of %d)",
                self.name,
                why,
                wait,
                attempt + 1,
                self._retry.attempts,
            )
            self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def probe(self, timeout_s: tuple[float, float]) -> tuple[str, str] | None:
        """Check the credentials, purging nothing: a purge of an empty list, which Fast Purge
        refuses (HTTP 400, its problem JSON with a supportId) only after checking the
        signature. None when it did; else what went wrong and what to do, never a credential."""
        try:
            response = self._post(_body([]), timeout_s)
        except requests.Timeout:
            return f"no answer from {self.endpoint} within {sum(timeout_s):.0f} s", _CHECK_HOST
        except requests.RequestException as exc:
            return f"cannot reach {self.endpoint}: {type(exc).__name__}", _CHECK_HOST
        said = _json_object(response)
        if response.status_code == 400 and said.get("supportId"):
            return None
        if response.status_code == 400:
            what = f"{self._refusal(response, 1)}, not as Fast Purge does"
            return what, _CHECK_HOST
        return self._refusal(response, 1), _hint(response.status_code)

    def _post(self, body: bytes, timeout_s: float | tuple[float, float] = 0) -> requests.Response:
        return self._session.post(
            self.endpoint,
            data=body,
            auth=self._auth,
            headers={"Content-Type": "application/json", "User-Agent": f"sitegen/{__version__}"},
            timeout=timeout_s or self._timeout_s,
            # A redirect would be re-signed for another host; Fast Purge never needs one.
            allow_redirects=False,
        )

    def _accepted(self, response: requests.Response, body: bytes, attempts: int) -> PurgeAccepted:
        data = _json_object(response)
        return PurgeAccepted(
            purge_id=str(data.get("purgeId", "unknown")),
            support_id=str(data.get("supportId", "unknown")),
            estimated_seconds=int(data.get("estimatedSeconds", 0) or 0),
            urls=len(json.loads(body)["objects"]),
            attempts=attempts,
        )

    def _refused(self, response: requests.Response, attempts: int) -> str:
        # not prefixed with self.name: the publisher names the CDN
        return f"{self._refusal(response, attempts)}. {_hint(response.status_code)}"

    def _refusal(self, response: requests.Response, attempts: int) -> str:
        """What Fast Purge (or whatever answered) said, credentials hidden."""
        data = _json_object(response)
        said = data.get("detail") or data.get("title") or response.text[:200].strip()
        support = f"; supportId {data['supportId']}" if data.get("supportId") else ""
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return self._credentials.redact(
            f"Fast Purge answered HTTP {response.status_code} "
            f"{response.reason}{tries}: {said}{support}"
        )

    def _unreachable(self, exc: Exception, attempts: int) -> str:
        return self._credentials.redact(
            f"could not reach {self.endpoint} after {attempts} attempts "
            f"({type(exc).__name__}: {exc}). Check the host in .edgerc and the network."
        )


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _hint(status: int) -> str:
    """What the user should do about a refused purge."""
    if status == 401:
        return (
            "Check client_token, client_secret and access_token in .edgerc "
            "(and that the machine's clock is right: signatures expire)."
        )
    if status == 403:
        return (
            "The API client needs the CCU APIs (Fast Purge) grant, and the URLs' property "
            "must be on its contract and group."
        )
    if status == 404:
        return "No Fast Purge endpoint answers there: check the host in .edgerc."
    if status == 413:
        return "The request body was over 50,000 bytes; this is a sitegen bug, please report it."
    if status == 429 or status >= 500:
        return "Akamai is rate limiting or failing; wait a minute and publish again."
    if 300 <= status < 400:
        return "Fast Purge does not redirect; check the host in .edgerc."
    return "Check the [site] base_url and the purge request."


def _check_scheme(scheme: str, host: str) -> None:
    # Plain http would put the tokens on the wire; only a local test server may use it.
    if scheme not in ("https", "http"):
        raise ConfigError(f"${SCHEME_ENV} must be https or http, got {scheme!r}")
    if scheme == "http" and urlsplit(f"//{host}").hostname not in _LOOPBACK_HOSTS:
        raise ConfigError(
            f"plain http is only allowed for a loopback Akamai host (a local test server), "
            f"not {host!r}; unset ${SCHEME_ENV}"
        )
