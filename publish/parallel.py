"""Calls on threads that a stop (Ctrl-C, SIGTERM) need not wait for.

`concurrent.futures.ThreadPoolExecutor` joins its threads when shut down and again when the
interpreter exits, so Ctrl-C during a publish on a network that does not answer waited for
every upload in flight, each through its timeouts and retries: minutes. These threads are
daemons: one left running ends with the process. A waiting main thread wakes every
``POLL_S``: a signal that the kernel handed to another thread is acted on only in the main
thread, and only once it runs.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
POLL_S = 0.1


class Abandoned(Exception):
    """A call did not return in the time given it (`within`); it runs on, left behind."""


class Pool(Generic[T, R]):
    """``fn`` of each item, on up to ``workers`` daemon threads started at once."""

    def __init__(self, fn: Callable[[T], R], items: Iterable[T], workers: int) -> None:
        self.futures: dict[Future[R], T] = {Future(): item for item in items}
        self._todo: queue.SimpleQueue[tuple[Future[R], T]] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[Future[R]] = queue.SimpleQueue()
        self._stopping = threading.Event()
        for pair in self.futures.items():
            self._todo.put(pair)
        for _ in range(min(workers, len(self.futures))):
            threading.Thread(target=self._work, args=(fn,), daemon=True).start()

    def _work(self, fn: Callable[[T], R]) -> None:
        while not self._stopping.is_set():
            try:
                future, item = self._todo.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(item))
                except BaseException as exc:  # noqa: BLE001 - the caller's to judge
                    future.set_exception(exc)
            self._done.put(future)

    def completed(self) -> Iterator[Future[R]]:
        """Each future, as its call ends."""
        for _ in self.futures:
            while True:
                try:
                    yield self._done.get(timeout=POLL_S)
                    break
                except queue.Empty:
                    continue

    def in_order(self) -> Iterator[R]:
        """Each call's result, in the order of the items."""
        for future in self.futures:
            while not wait([future], timeout=POLL_S).done:
                pass
            yield future.result()

    def stop(self, wait_s: float | None) -> None:
        """Start no more calls; wait for those running at most ``wait_s`` (None: until they
        end). Ctrl-C again ends the wait."""
        self._stopping.set()
        # those not started: cancelled *and notified*, which `wait` counts as done (until
        # fix/lease only cancelled: a failure with uploads still queued waited for ever)
        while True:
            try:
                future, _ = self._todo.get_nowait()
            except queue.Empty:
                break
            future.cancel()
            future.set_running_or_notify_cancel()
        _wait(self.futures, wait_s)


def within(seconds: float, fn: Callable[[], R], *, since: float | None = None) -> R:
    """``fn()`` given until ``seconds`` after ``since`` (a time.monotonic(); None: now; Ctrl-C
    again gives up sooner): its result, or `Abandoned`, saying why, when it has not returned
    (it runs on, on a daemon thread)."""
    left = seconds if since is None else seconds - (time.monotonic() - since)
    pool = Pool(lambda _: fn(), [None], 1)
    (future,) = pool.futures
    try:
        wait([future], timeout=max(left, 0.0))
    except KeyboardInterrupt:
        raise Abandoned("stopped again with Ctrl-C") from None
    if not future.done():
        raise Abandoned(f"no answer within {seconds:g} s")
    return future.result()


def _wait(futures: Iterable[Future[R]], seconds: float | None) -> None:
    """Wait until ``futures`` are done, ``seconds`` at most; Ctrl-C again ends the wait."""
    with contextlib.suppress(KeyboardInterrupt):
        wait(futures, timeout=seconds)
