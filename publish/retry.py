"""Capped exponential backoff with full jitter, for calls that fail transiently."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` in all (first try included); delays grow from ``base_s`` up to ``cap_s``."""

    attempts: int = 5
    base_s: float = 0.25
    cap_s: float = 8.0


def backoff_delay(
    retry: int, policy: RetryPolicy, rng: Callable[[], float] = random.random
) -> float:
    """Seconds before retry number ``retry`` (1-based): uniform in [0, min(cap, base·2^(r-1))].

    Full jitter spreads concurrent workers apart, which is what S3 asks for after SlowDown.
    """
    return rng() * min(policy.cap_s, policy.base_s * 2.0 ** (retry - 1))


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    retryable: Callable[[BaseException], bool],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``fn``; retry it while it raises a retryable exception and attempts remain."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == policy.attempts or not retryable(exc):
                raise
            sleep(backoff_delay(attempt, policy))
    raise AssertionError("unreachable: the last attempt returns or raises")
