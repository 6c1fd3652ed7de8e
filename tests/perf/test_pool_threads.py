"""The build's worker pools cost the build process no CPU while their results wait to be read.

CPython's Pool wakes its worker handler thread whenever a result waits in the result pipe,
so that thread spun for as long as results waited there: ~0.1–0.2 s of CPU a pool in a
10,000-alert build, beside the workers on cores they need (session 21, docs/architecture.md).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from sitegen_fixtures import assert_no_other_thread

WAIT_S = 1.0  # seconds the test process stays busy while results come in


def _cpu_seconds(thread: threading.Thread) -> float:
    """user + system time of one thread of this process (Linux's /proc)."""
    stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
@pytest.mark.forks
def test_results_waiting_to_be_read_keep_no_thread_of_the_build_busy() -> None:
    from sitegen import build as build_module

    assert_no_other_thread()
    with build_module.fork_workers(2) as pool:
        handler = pool.pool._worker_handler  # type: ignore[attr-defined]
        results = pool.imap_unordered(bytes, [20_000] * 5000)  # 100 MB of results
        before = _cpu_seconds(handler)
        busy_until = time.monotonic() + WAIT_S
        while time.monotonic() < busy_until:  # as a build's process is, decoding what came
            pass
        spent = _cpu_seconds(handler) - before
        assert sum(map(len, results)) == 20_000 * 5000
    # spinning, it took 0.10–0.26 s of CPU in WAIT_S (2 loaded cores); 0.00 s now
    assert spent < 0.05, f"the pool's worker handler used {spent:.2f} s of CPU while it waited"
