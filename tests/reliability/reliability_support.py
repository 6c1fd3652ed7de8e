"""Helpers for the reliability tests: AWS environment, `sitegen` subprocesses, a crawler that
checks every internal link of the published bucket, and a target wrapper that runs the crawler
after every single request of a publish."""

from __future__ import annotations

import hashlib
import html
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import boto3

from publish.targets.base import Listed, ObjectMeta, StoredObject, Target
from sitegen_fixtures import object_bytes

REPO = Path(__file__).resolve().parent.parent.parent
SITEGEN = str(Path(sys.executable).with_name("sitegen"))
PREFIX = "site"


def invalidations(distribution: str) -> list[tuple[str, tuple[str, ...]]]:
    """(CallerReference, paths) of every invalidation created on ``distribution``, oldest first."""
    cf = boto3.client("cloudfront")
    summary = cf.list_invalidations(DistributionId=distribution)["InvalidationList"]
    out = []
    for item in summary.get("Items", []):
        batch = cf.get_invalidation(DistributionId=distribution, Id=item["Id"])
        batch = batch["Invalidation"]["InvalidationBatch"]
        out.append((batch["CallerReference"], tuple(batch["Paths"].get("Items", []))))
    return out


def cli_env(endpoint: str, base: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SITEGEN_"))}
    env.update(base)
    env["AWS_ENDPOINT_URL"] = endpoint
    env.update(extra)
    return env


def sitegen_args(site: Path, bucket: str, *more: str) -> list[str]:
    return [
        SITEGEN,
        "publish",
        "--site",
        str(site / "site.toml"),
        "--no-build",
        "-q",
        "--target",
        f"s3://{bucket}/{PREFIX}",
        *more,
    ]


def run_sitegen(
    args: Sequence[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


# --- the crawler -----------------------------------------------------------------------------

ENTRY_POINTS = ("index.html", "feed.atom", "cap.atom", "sitemap.xml", "robots.txt", "404.html")
_PARSED = (".html", ".xml", ".atom", ".txt")
_ATTRIBUTE = re.compile(r"""\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def key_of(url_path: str, existing: Container[str]) -> str:
    """The object a site-absolute URL path is served from (CloudFront function semantics)."""
    key = url_path.lstrip("/")
    if key == "" or key.endswith("/"):
        return key + "index.html"
    if key not in existing and "." not in key.rsplit("/", 1)[-1]:
        return key + "/index.html"
    return key


def internal_links(key: str, body: bytes, base_url: str) -> set[str]:
    """Site-absolute URL paths this object links to: href/src attributes (relative ones resolved
    against the page), and every absolute URL under ``base_url`` in the text (feeds, CAP)."""
    text = body.decode("utf-8", "replace")
    page_url = urljoin(base_url, key.removesuffix("index.html"))
    raw = [a or b for a, b in _ATTRIBUTE.findall(text)]
    raw += re.findall(re.escape(base_url) + r"""[^\s"'<>]*""", text)
    base = urlsplit(base_url)
    out: set[str] = set()
    for link in raw:
        parts = urlsplit(urljoin(page_url, html.unescape(link).strip()))
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc) and parts.path.startswith(
            base.path
        ):
            out.add("/" + unquote(parts.path[len(base.path) :]))
    return out


class Crawler:
    """Reads the bucket over HTTP (LIST, then GET of what changed since the last crawl)."""

    def __init__(self, bucket: str, base_url: str, prefix: str = PREFIX) -> None:
        self.bucket, self.base_url, self.prefix = bucket, base_url, prefix.strip("/") + "/"
        self.s3 = boto3.client("s3")
        self._bodies: dict[str, tuple[str, bytes]] = {}
        self.crawls = 0

    def objects(self) -> dict[str, str]:
        out: dict[str, str] = {}
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                out[obj["Key"][len(self.prefix) :]] = obj["ETag"]
        return out

    def body(self, key: str, etag: str) -> bytes:
        cached = self._bodies.get(key)
        if cached is None or cached[0] != etag:
            got = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + key)
            cached = (got["ETag"], object_bytes(got))
            self._bodies[key] = cached
        return cached[1]

    def problems(self, roots: Iterable[str]) -> list[str]:
        """Every broken internal link reachable from ``roots`` (that exist), plus manifest
        entries whose object is missing. Empty when the site is consistent."""
        self.crawls += 1
        objects = self.objects()
        found: list[str] = []
        queue = [r for r in roots if r in objects]
        seen = set(queue)
        while queue:
            key = queue.pop()
            if not key.endswith(_PARSED):
                continue
            for url in sorted(internal_links(key, self.body(key, objects[key]), self.base_url)):
                target = key_of(url, objects)
                if target not in objects:
                    found.append(f"{key} links {url} but {target} is missing")
                elif target not in seen:
                    seen.add(target)
                    queue.append(target)
        found += self._home_problems(objects)
        found += self._manifest_problems(objects)
        return found

    def _home_problems(self, objects: dict[str, str]) -> list[str]:
        homes = [k for k in objects if k == "index.html" or re.fullmatch(r"[a-z-]+/index.html", k)]
        found = []
        for home in homes:
            for url in internal_links(home, self.body(home, objects[home]), self.base_url):
                match = re.fullmatch(r"/alerts/([^/]+)/", url)
                if match and f"alerts/{match[1]}/index.html" not in objects:
                    found.append(f"home page {home} lists alert {match[1]} whose page is missing")
        return found

    def _manifest_problems(self, objects: dict[str, str]) -> list[str]:
        import json

        key = ".sitegen/manifest.json"
        if key not in objects:
            return []
        try:
            files = json.loads(self.body(key, objects[key]))["files"]
        except (ValueError, KeyError, TypeError):
            return []  # a corrupt manifest is a test's setup, not a publish's doing
        return [f"manifest lists {p} but it is missing" for p in files if p not in objects]


# --- a target that checks the bucket after every request ------------------------------------


def shuffled(seed: str) -> Callable[[list[str]], list[str]]:
    return lambda keys: sorted(keys, key=lambda k: hashlib.sha256(f"{seed}:{k}".encode()).digest())


def reverse(keys: list[str]) -> list[str]:
    return sorted(keys, reverse=True)


@dataclass
class Sequencer:
    """Runs concurrent operations one at a time, in a chosen order: operations arriving together
    (within ``settle_s``) are released by ``order``, so the test, not thread timing, decides
    which of a group of parallel uploads lands first."""

    order: Callable[[list[str]], list[str]]
    settle_s: float = 0.02
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _waiting: list[str] = field(default_factory=list)
    _busy: bool = False
    _last: float = 0.0
    _next: str | None = None

    def run(self, key: str, fn: Callable[[], Any]) -> Any:
        with self._cond:
            self._waiting.append(key)
            self._last = time.monotonic()
            self._cond.notify_all()
            while True:
                if (
                    not self._busy
                    and self._next is None
                    and time.monotonic() - self._last >= self.settle_s
                ):
                    self._next = self.order(list(self._waiting))[0]
                if not self._busy and self._next == key:
                    break
                self._cond.wait(timeout=self.settle_s / 2)
            self._waiting.remove(key)
            self._busy, self._next = True, None
        try:
            return fn()
        finally:
            with self._cond:
                self._busy = False
                self._last = time.monotonic()
                self._cond.notify_all()


class CheckedTarget:
    """Wraps a real target; after every request (a DeleteObjects batch is one request) the
    crawler reads the bucket, and any problem is recorded with the request that caused it."""

    def __init__(
        self,
        inner: Target,
        crawler: Crawler,
        roots: Iterable[str],
        order: Callable[[list[str]], list[str]] = sorted,
    ) -> None:
        self.inner, self.crawler = inner, crawler
        self.name = inner.name
        self.roots = tuple(roots)
        self.sequencer = Sequencer(order)
        self.operations: list[str] = []
        self.violations: list[tuple[int, str, list[str]]] = []

    @property
    def requests(self) -> int:
        return self.inner.requests

    def _do(self, what: str, fn: Callable[[], Any]) -> Any:
        def step() -> Any:
            try:
                return fn()
            finally:
                self.operations.append(what)
                problems = self.crawler.problems(self.roots)
                if problems:
                    self.violations.append((len(self.operations), what, problems))

        return self.sequencer.run(what, step)

    def put(self, path: str, body: bytes, meta: ObjectMeta) -> None:
        self._do(f"PUT {path}", lambda: self.inner.put(path, body, meta))

    def delete(self, paths: Sequence[str]) -> None:
        self._do(f"DELETE {' '.join(paths)}", lambda: self.inner.delete(paths))

    def read(self, path: str) -> StoredObject | None:
        result: StoredObject | None = self._do(f"GET {path}", lambda: self.inner.read(path))
        return result

    def list(self) -> Iterator[Listed]:
        listed: list[Listed] = self._do("LIST", lambda: list(self.inner.list()))
        return iter(listed)

    def lock(self, body: bytes) -> StoredObject | None:
        held: StoredObject | None = self._do("LOCK", lambda: self.inner.lock(body))
        return held

    def relock(self, body: bytes) -> bool:
        return bool(self._do("RELOCK", lambda: self.inner.relock(body)))

    def unlock(self) -> bool:
        return bool(self._do("UNLOCK", self.inner.unlock))

    def break_lock(self, seen: StoredObject) -> None:
        self._do("BREAK LOCK", lambda: self.inner.break_lock(seen))

    def take_over(self, seen: StoredObject, body: bytes) -> bool:
        return bool(self._do("TAKE OVER LOCK", lambda: self.inner.take_over(seen, body)))


# --- every AWS request a publisher makes, and the IAM action it needs --------------------------


def aws_action(method: str, path: str) -> str:
    """The IAM action an S3 (path-style) or CloudFront REST request needs. Anything not known
    here comes back as a description that is in no policy, so the check fails loudly."""
    parts = urlsplit(path)
    query = parse_qs(parts.query, keep_blank_values=True)
    if parts.path.startswith("/2020-05-31/"):
        segments = parts.path.split("/")[2:]  # distribution, ID, invalidation, [ID]
        if segments[:1] == ["distribution"] and segments[2:3] == ["invalidation"]:
            if method == "POST":
                return "cloudfront:CreateInvalidation"
            return "cloudfront:GetInvalidation" if len(segments) > 3 else "cloudfront:ListInvalid"
        if method == "GET" and segments[:1] == ["distribution"] and segments[2:] == ["config"]:
            return "cloudfront:GetDistributionConfig"  # publish checks the origin (layout.py)
        return f"cloudfront:? {method} {parts.path}"
    bucket, _, key = parts.path.lstrip("/").partition("/")
    if not key:
        for name, action in (
            ("list-type", "s3:ListBucket"),
            ("versioning", "s3:GetBucketVersioning"),
            ("versions", "s3:ListBucketVersions"),
        ):
            if method == "GET" and name in query:
                return action
        if method == "POST" and "delete" in query:
            return "s3:DeleteObject"  # DeleteObjects is authorised per key as s3:DeleteObject
        return f"s3:? {method} bucket {sorted(query)}"
    if set(query) - {"uploads", "uploadId", "partNumber", "x-id"}:  # multipart is PutObject
        return f"s3:? {method} object {sorted(query)}"  # acl, tagging, versionId...
    actions = {
        "GET": "s3:GetObject",
        "HEAD": "s3:GetObject",
        "PUT": "s3:PutObject",
        "DELETE": "s3:DeleteObject",
    }
    return actions.get(method, f"s3:? {method} object")


def outside_prefix(path: str, prefix: str = PREFIX) -> str | None:
    """Why an S3 request reaches outside the site's key prefix (None when it does not)."""
    parts = urlsplit(path)
    if parts.path.startswith("/2020-05-31/"):
        return None
    _, _, key = parts.path.lstrip("/").partition("/")
    query = parse_qs(parts.query)
    if key:
        return None if unquote(key).startswith(f"{prefix}/") else f"key {key}"
    if "list-type" in query and query.get("prefix") != [f"{prefix}/"]:
        return f"listing with prefix {query.get('prefix')}"
    return None


def policy_actions() -> set[str]:
    from sitegen.infra import (
        PUBLISHER_BUCKET_ACTIONS,
        PUBLISHER_CDN_ACTIONS,
        PUBLISHER_OBJECT_ACTIONS,
    )

    return {*PUBLISHER_OBJECT_ACTIONS, *PUBLISHER_BUCKET_ACTIONS, *PUBLISHER_CDN_ACTIONS}


class ActionLog:
    """Every AWS request the publisher made through our proxies in this test session."""

    seen: dict[str, int] = {}
    outside: list[str] = []
    _lock = threading.Lock()

    @classmethod
    def add(cls, requests: Iterable[tuple[str, str, int]]) -> None:
        with cls._lock:
            for method, path, _ in requests:
                action = aws_action(method, path)
                cls.seen[action] = cls.seen.get(action, 0) + 1
                if (why := outside_prefix(path)) is not None:
                    cls.outside.append(why)


def check_least_privilege(requests: Iterable[tuple[str, str, int]]) -> None:
    """Assert the requests need only the publisher policy's actions, inside the prefix."""
    requests = list(requests)
    ActionLog.add(requests)
    actions = {aws_action(m, p) for m, p, _ in requests}
    assert actions <= policy_actions(), f"not in the publisher policy: {actions - policy_actions()}"
    outside = [why for m, p, _ in requests if (why := outside_prefix(p))]
    assert outside == [], f"outside the site's prefix: {outside}"


class Killer:
    """A proxy rule: SIGKILL the process ``pid`` when its ``at``-th request arrives (that request
    is not forwarded, nor any after it)."""

    def __init__(self, at: int | None = None) -> None:
        self.at, self.pid, self.count, self.killed = at, 0, 0, False
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> bool:
        with self._lock:
            if self.killed:
                return True
            self.count += 1
            if self.at is not None and self.count == self.at:
                os.kill(self.pid, signal.SIGKILL)
                self.killed = True
                return True
            return False
