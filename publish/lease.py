"""The publish lock as a lease: while a publish (or rollback) runs, a daemon thread rewrites its
lock every ``lease_s / RENEWALS_PER_LEASE`` seconds with a new ``renewed`` time, by the same
conditional write that records owed work (`Target.relock`: S3 ``PutObject(IfMatch)``). So a lock
whose holder died is stale ``lease_s`` after its last renewal, on any machine, and a publish
that runs for hours keeps its lock (`lock._Life`).

Every rewrite of our lock goes through the ``Lease`` (one mutex): the run's records of owed
work, its release and the renewals never race. A renewal that fails (the network) is tried
again at the next one; one refused means another publish took the lock over: ``check``, called
before each write of the site, then stops the run (`LeaseLost`).
"""

from __future__ import annotations

import threading
import time

from publish.lock import RENEWALS_PER_LEASE, Acquired, parse_holder
from publish.remote import Pending
from publish.targets.base import LOCK_PATH, Target, TargetError
from sitegen.errors import PublishError


class LeaseLost(PublishError):
    """Another publish took our lock over (to it, ours went unrenewed for a whole lease)."""


class Lease:
    """Our lock while the run holds it: renewed in the background, rewritten and released
    here. Each renewal keeps what the body records: the work taken over, then the run's own
    records of owed work (`rewrite`)."""

    def __init__(self, target: Target, lock: Acquired, again: str) -> None:
        self._target, self._lock, self._again = target, lock, again
        self._owed: Pending | None = lock.inherited
        self._released = False
        self._mutex = threading.Lock()
        self._ended = threading.Event()
        self._interval = lock.lease_s / RENEWALS_PER_LEASE
        self._tried = self._confirmed = time.time()  # a lock body renewed as it was written
        self._lost: str | None = None  # the message once another publish took the lock
        self._thread = threading.Thread(target=self._renewing, name="sitegen lease", daemon=True)

    @property
    def target(self) -> Target:
        return self._target

    @property
    def confirmed(self) -> float:
        """When our lock was last written (time.time()): stale ``lease_s`` after that."""
        return self._confirmed

    def start(self) -> None:
        self._thread.start()

    def end(self) -> None:
        """No more renewals (the run is over, or stopped), without waiting: a renewal in
        flight holds the mutex, so every later write of our lock waits for it anyway (a stop's
        for STOP_WAIT_S at most), and the thread, a daemon, never keeps the process alive.
        Until fix/folderlock this waited up to 0.2 s for it, twice in a stop: on a stuck
        network, 0.4 s more for nothing."""
        self._ended.set()

    def rewrite(self, owed: Pending, *, released: bool) -> bool:
        """Record ``owed`` in our lock (``released``: left for the next publish, no longer
        renewed); False when it is no longer ours (then nothing is written)."""
        with self._mutex:
            if self._lost is not None:
                return False
            if released:
                self._ended.set()
            self._owed, self._released = owed, released
            if not self._target.relock(self._lock.body(owed, released=released)):
                self._taken()
                return False
            self._confirmed = time.time()
            return True

    def release(self) -> bool:
        """Remove our lock, ending its renewals; False when it is no longer ours."""
        self._ended.set()
        with self._mutex:
            return self._lost is None and self._target.unlock()

    def check(self) -> None:
        """Raise LeaseLost when another publish took our lock over. When no renewal got
        through for a whole lease (the machine slept, the network was down), another may have
        taken it meanwhile: renew it here first, so this run writes nothing after losing it."""
        overdue = time.time() - self._confirmed > self._lock.lease_s
        if overdue and self._lost is None:
            self._renew(min_gap=self._interval)
        if self._lost is not None:
            with self._mutex:  # once who took it is known (`_taken`)
                raise LeaseLost(self._lost)

    def _renewing(self) -> None:
        while not self._ended.wait(self._interval):
            self._renew(min_gap=0.0)

    def _renew(self, min_gap: float) -> None:
        """One renewal, unless the run ended, lost the lock, or tried one ``min_gap`` ago.
        A failure is only tried again: the run goes on, its own writes meet the same store."""
        with self._mutex:
            if self._ended.is_set() or self._lost is not None:
                return
            if time.time() - self._tried < min_gap:
                return
            self._tried = time.time()
            try:
                kept = self._target.relock(self._lock.body(self._owed, released=self._released))
            except (TargetError, OSError):
                return
            if kept:
                self._confirmed = self._tried
            else:
                self._taken()

    def _taken(self) -> None:
        """Our lock is another's: no write from now on; then say who took it (one read)."""
        self._lost = f"the lock on {self._target.name} was taken over by another publish."
        self._lost = self._taken_message()

    def _taken_message(self) -> str:
        """Who took our lock, and what to do, for the official."""
        try:
            held = self._target.read(LOCK_PATH)
        except TargetError:
            held = None
        holder = parse_holder(held.body) if held is not None else None
        by = f" by {holder.tool} ({holder.who})" if holder is not None else ""
        return (
            f"the lock on {self._target.name} was taken over{by} while this publish ran "
            "(--take-over-lock: seen from there, this publish had not renewed its lock for a "
            "whole lease, as when the network is down or this machine sleeps). This publish "
            f"stopped before writing anything more. Once that one is done, run `{self._again}` "
            "again."
        )
