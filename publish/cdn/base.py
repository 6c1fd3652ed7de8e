"""The seam every CDN client implements: invalidate site paths, return a receipt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class InvalidationReceipt:
    """What one CDN accepted for one publish.

    ``cdn`` names the CDN and account part (e.g. ``cloudfront:E123`` or ``akamai:default@staging``),
    ``id`` is the CDN's own id (CloudFront invalidation id, Akamai purgeId; several joined by ","),
    ``paths`` how many paths/URLs were sent, ``requests`` how many HTTP calls that took, ``detail``
    a short human note (status, estimated seconds, wildcard collapse...). Never contains secrets.
    """

    cdn: str
    id: str
    paths: int
    requests: int
    detail: str


class Invalidator(Protocol):
    """A CDN client. ``paths`` are site-absolute URL paths such as ``/alerts/x/`` and ``/``.

    ``reference`` is new for each publish run and the same when a later run finishes the work that
    run owed (publish/apply.py ``run_reference``), so a retried call for the same publish is
    idempotent where the CDN supports it (CloudFront's CallerReference; Akamai has no such key
    and only logs it), while publishing a state again makes a new invalidation. Failures raise
    ``sitegen.errors.PublishError`` with a message that says what failed and what to do; the
    publisher puts ``name`` in front of it, so the message does not start with it.
    """

    name: str

    def to_send(self, paths: Sequence[str]) -> tuple[str, ...]:
        """Exactly what ``invalidate(paths)`` sends this CDN, in its own spelling (CloudFront:
        paths under the base path, collapsed into wildcards; Akamai: absolute URLs). Pure: the
        plan shows it, and ``invalidate`` sends it."""
        ...

    def invalidate(self, paths: Sequence[str], *, reference: str) -> InvalidationReceipt: ...
