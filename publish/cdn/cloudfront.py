"""CloudFront invalidator: one CreateInvalidation per publish, idempotent on retry.

- Paths sharing a directory (``/alerts/x/``, ``/alerts/x/index.html``, ``/alerts/x/cap.xml``)
  collapse to one wildcard (``/alerts/x/*``) when that saves billed paths; at most 15 wildcards,
  at most 3,000 paths, else ``/*`` (a rebuild of the whole site).
- CallerReference = the publish run's reference + hash of the paths. The reference is new for
  each run (publish/apply.py ``run_reference``) and recorded with the work it owes, so a run
  finishing that work (a retry after a crash or a failed CDN call) sends the same one and
  CloudFront recognises it instead of creating a second invalidation; a state published again
  later (an alert changed back, a rollback undone) gets a new one, so CloudFront makes a new
  invalidation instead of answering with the old, completed one.
- ``TooManyInvalidationsInProgress`` (not retried by boto3) and throttling are waited out.
- ``wait=True`` polls GetInvalidation with a progress line until Completed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from publish.aws import (
    client_config,
    describe,
    error_code,
    explain,
    is_transient,
    make_client,
)
from publish.cdn.base import InvalidationReceipt
from publish.retry import RetryPolicy, backoff_delay, call_with_retries
from sitegen.errors import PublishError

if TYPE_CHECKING:
    from mypy_boto3_cloudfront.client import CloudFrontClient

MAX_PATHS = 3000
MAX_WILDCARDS = 15
MIN_GROUP = 3  # a wildcard replaces at least this many exact paths
_BUSY = "TooManyInvalidationsInProgress"


def cloudfront_paths(
    paths: Sequence[str], *, max_paths: int = MAX_PATHS, max_wildcards: int = MAX_WILDCARDS
) -> tuple[str, ...]:
    """Exact paths → the list to send: URL-encoded, collapsed where cheaper, within limits."""
    remaining = {quote(p, safe="/*") for p in paths}
    wildcards: list[str] = []
    while len(wildcards) < max_wildcards:
        best = _best_directory(remaining)
        if best is None:
            break
        wildcards.append(best + "*")
        remaining = {p for p in remaining if not p.startswith(best)}
    result = tuple(sorted(remaining)) + tuple(sorted(wildcards))
    return result if len(result) <= max_paths else ("/*",)


def _best_directory(paths: set[str]) -> str | None:
    """The directory (two levels deep or more) under which most paths lie, if ≥ MIN_GROUP."""
    counts: Counter[str] = Counter()
    for path in paths:
        parts = path.split("/")[1:-1]  # "/alerts/x/cap.xml" → ["alerts", "x"]
        for depth in range(2, len(parts) + 1):
            counts["/" + "/".join(parts[:depth]) + "/"] += 1
    if not counts:
        return None
    # Most paths first; among equals the deepest directory (it invalidates the fewest extra),
    # then the first in sort order, so the result is deterministic.
    best, count = min(counts.items(), key=lambda item: (-item[1], -item[0].count("/"), item[0]))
    return best if count >= MIN_GROUP else None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a distribution reads from: ``domain`` (``bucket.s3.region.amazonaws.com``) and
    the origin path put in front of every URI ("" or "/site")."""

    id: str
    domain: str
    path: str


def read_config(client: Any, distribution_id: str) -> Any:
    """The distribution's settings: one GetDistributionConfig (botocore's errors propagate)."""
    return client.get_distribution_config(Id=distribution_id)["DistributionConfig"]


def read_origins(client: Any, distribution_id: str) -> tuple[Origin, ...]:
    """The distribution's origins (`read_config`)."""
    return origins_of(read_config(client, distribution_id))


def origins_of(config: Any) -> tuple[Origin, ...]:
    return tuple(
        Origin(str(o.get("Id", "")), str(o.get("DomainName", "")), str(o.get("OriginPath", "")))
        for o in config.get("Origins", {}).get("Items", [])
    )


def viewer_request_function(config: Any) -> str | None:
    """The ARN of the CloudFront Function the default behaviour runs on viewer requests (the
    one `sitegen infra cloudformation` sets up: pretty URLs, 404 under .sitegen/), if any."""
    behaviour = config.get("DefaultCacheBehavior", {})
    for item in behaviour.get("FunctionAssociations", {}).get("Items", []):
        if item.get("EventType") == "viewer-request":
            return str(item.get("FunctionARN", ""))
    return None


def has_lambda_at_edge(config: Any) -> bool:
    """Whether the default behaviour runs a Lambda@Edge function (it may map URLs instead)."""
    behaviour = config.get("DefaultCacheBehavior", {})
    return int(behaviour.get("LambdaFunctionAssociations", {}).get("Quantity", 0)) > 0


def read_live_code(client: Any, function_arn: str) -> str:
    """The code CloudFront runs for this function (its LIVE stage): one GetFunction."""
    name = function_arn.rsplit("/", 1)[-1]
    body = client.get_function(Name=name, Stage="LIVE")["FunctionCode"]
    data = body.read() if hasattr(body, "read") else body
    return bytes(data).decode("utf-8", "replace")


def caller_reference(reference: str, paths: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join(paths).encode()).hexdigest()
    return f"sitegen-{reference[:24]}-{digest[:12]}"


class CloudFrontInvalidator:
    """``--cloudfront DIST_ID``: invalidate changed paths on one distribution."""

    def __init__(
        self,
        distribution_id: str,
        *,
        wait: bool = False,
        echo: Callable[[str], None] | None = None,
        max_wait_s: float = 1800.0,
        poll_s: float = 5.0,
        retry: RetryPolicy | None = None,
        client: CloudFrontClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        base_path: str = "/",
    ) -> None:
        self.distribution_id = distribution_id
        # Paths are the site's ("/alerts/x/"); viewers ask for them under the base_url's path
        # ("/emergency/alerts/x/"), and CloudFront invalidates what viewers ask for.
        self._prefix = base_path.rstrip("/")
        self.name = f"cloudfront:{distribution_id}"
        self.wait = wait
        self._echo = echo or (lambda line: None)
        self._max_wait_s = max_wait_s
        self._poll_s = poll_s
        self._retry = retry or RetryPolicy(attempts=6, base_s=1.0, cap_s=30.0)
        self._sleep = sleep
        self._clock = clock  # with `sleep`, lets tests run a 30-minute wait in no time
        self._client: CloudFrontClient = client or make_client(
            "cloudfront", client_config(max_pool=2)
        )
        self._sent = 0
        self._sent_lock = threading.Lock()
        self._client.meta.events.register("before-send.cloudfront", self._count_request)

    def _count_request(self, **_: Any) -> None:
        with self._sent_lock:
            self._sent += 1

    def origins(self) -> tuple[Origin, ...]:
        """Where the distribution reads the site from (one GetDistributionConfig): publish
        checks, before it writes, that one of them reaches the target (publish/layout.py)."""
        return read_origins(self._client, self.distribution_id)

    def to_send(self, paths: Sequence[str]) -> tuple[str, ...]:
        """The batch's paths: collapsed (``cloudfront_paths``), under the base path."""
        return tuple(self._prefix + p for p in cloudfront_paths(paths))

    def invalidate(self, paths: Sequence[str], *, reference: str) -> InvalidationReceipt:
        before = self._sent
        items = self.to_send(paths)
        if not items:
            return InvalidationReceipt(self.name, "", 0, 0, "nothing to invalidate")
        invalidation = self._create(items, caller_reference(reference, items))
        status = str(invalidation["Status"])
        if self.wait and status.lower() != "completed":
            status = self._wait_completed(str(invalidation["Id"]))
        wild = sum(1 for p in items if p.endswith("*"))
        detail = f"{status}; {len(paths)} changed paths sent as {len(items)} ({wild} wildcards)"
        return InvalidationReceipt(
            self.name, str(invalidation["Id"]), len(items), self._sent - before, detail
        )

    def _create(self, items: Sequence[str], ref: str) -> Any:
        batch: Any = {
            "Paths": {"Quantity": len(items), "Items": list(items)},
            "CallerReference": ref,
        }
        started = self._clock()
        busy = 0
        while True:
            try:
                response = call_with_retries(
                    lambda: self._client.create_invalidation(
                        DistributionId=self.distribution_id, InvalidationBatch=batch
                    ),
                    policy=self._retry,
                    retryable=is_transient,
                    sleep=self._sleep,
                )
                return response["Invalidation"]
            except ClientError as exc:
                waited = self._clock() - started
                if error_code(exc) != _BUSY or waited > self._max_wait_s:
                    raise self._error("CreateInvalidation", exc) from exc
                busy += 1
                delay = max(self._poll_s, backoff_delay(busy, self._retry))
                self._echo(
                    f"{self.name}: too many invalidations in progress; "
                    f"waiting {delay:.0f} s ({waited:.0f} s so far)"
                )
                self._sleep(delay)
            except BotoCoreError as exc:
                raise self._error("CreateInvalidation", exc) from exc

    def _wait_completed(self, invalidation_id: str) -> str:
        started = self._clock()
        status = "InProgress"
        while self._clock() - started < self._max_wait_s:
            try:
                response = call_with_retries(
                    lambda: self._client.get_invalidation(
                        DistributionId=self.distribution_id, Id=invalidation_id
                    ),
                    policy=self._retry,
                    retryable=is_transient,
                    sleep=self._sleep,
                )
            except (ClientError, BotoCoreError) as exc:
                raise self._error("GetInvalidation", exc) from exc
            status = str(response["Invalidation"]["Status"])
            elapsed = self._clock() - started
            self._echo(f"{self.name}: invalidation {invalidation_id} {status} ({elapsed:.0f} s)")
            if status.lower() == "completed":
                return status
            self._sleep(self._poll_s)
        return f"{status} after {self._max_wait_s:.0f} s (stopped waiting; it will complete)"

    def _error(self, operation: str, exc: BaseException) -> PublishError:
        # Not prefixed with self.name: the publisher names the CDN of every failure it reports.
        why = explain(exc, action=f"cloudfront:{operation}", distribution=self.distribution_id)
        if why == describe(exc):  # a failure publish.aws.diagnose does not know
            why = (
                f"{why.rstrip('. ')}. Check the distribution id and that these credentials may "
                f"call cloudfront:{operation}."
            )
        return PublishError(f"{operation} failed: {why}")
