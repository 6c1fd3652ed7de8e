"""§3 Two `sitegen publish` processes started at the same time against the same bucket, with
different bundles. Each talks through its own proxy; both lock requests are held until both
have arrived, then sent together, so the race is real every time. Exactly one proceeds; the
other exits 75 (EX_TEMPFAIL: try again later) naming the holder, having written nothing but its
refused lock attempt.

The folder target's conditional lock writes (take over, release, break) raced by several
processes at once, each round started at one instant (fix/folderlock): S3 does each in one
request; the folder compared, then wrote, and two processes could both win."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faults import FaultProxy
from reliability_support import check_least_privilege, cli_env, run_sitegen, sitegen_args
from state import expected, snapshot_s3
from test_consistency import site_v1, update

from publish.lock import lock_body, parse_holder
from publish.remote import Pending
from publish.targets.base import LOCK_PATH
from publish.targets.folder import FolderTarget
from sitegen_fixtures import aws_env

pytestmark = pytest.mark.slow


def test_two_publishes_at_once_one_proceeds_the_other_stops_cleanly(
    aws: str, bucket: str, tmp_path: Path
) -> None:
    a = site_v1(tmp_path / "a")
    a.build()
    b = site_v1(tmp_path / "b")
    update(b)
    b.build()
    host, _, port = aws.removeprefix("http://").partition(":")
    env = aws_env(aws, tmp_path)
    together = threading.Barrier(2, timeout=30)

    def hold_lock(method: str, path: str) -> bool:
        if method == "PUT" and path.endswith("/.sitegen/lock"):
            together.wait()  # both lock attempts reach S3 at the same moment
        return False

    with (
        FaultProxy(host, int(port), hold_lock) as pa,
        FaultProxy(host, int(port), hold_lock) as pb,
    ):
        procs = {
            name: subprocess.Popen(
                sitegen_args(site.root, bucket),
                env=cli_env(proxy.url, env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, site, proxy in (("a", a, pa), ("b", b, pb))
        }
        results = {name: proc.communicate(timeout=60) for name, proc in procs.items()}
    codes = {name: proc.returncode for name, proc in procs.items()}
    assert sorted(codes.values()) == [0, 75], results
    winner = "a" if codes["a"] == 0 else "b"
    loser = "b" if winner == "a" else "a"
    sites, logs = {"a": a, "b": b}, {"a": pa.log.seen, "b": pb.log.seen}
    message = results[loser][1]
    assert f"Another publish holds the lock on s3://{bucket}/site" in message
    assert f"pid {procs[winner].pid}" in message and "Wait for it to finish" in message
    assert "Traceback" not in message
    writes = [(m, p.split("/site/", 1)[-1], s) for m, p, s in logs[loser] if m != "GET"]
    assert writes == [("PUT", ".sitegen/lock", 412)]  # nothing interleaved
    assert snapshot_s3(bucket) == expected(sites[winner].public)
    check_least_privilege(logs["a"] + logs["b"])
    retry = run_sitegen(sitegen_args(sites[loser].root, bucket), cli_env(aws, env))
    assert retry.returncode == 0, retry.stderr
    assert snapshot_s3(bucket) == expected(sites[loser].public)


ROUNDS = 30
TAKERS = 2  # the machines running the tests have 2 cores: both run at once
ROUND_NS = 30_000_000  # a round is over in a few ms
# the deletes owed recorded in every lock (a stopped publish's record, about 150 KB): a lock
# write takes a few hundred µs, as a big record does in real use, and races show every round
OWED = 5000
# One process racing for the lock: it reads the lock of every round first, then, at each
# round's instant (monotonic clock, from the test), does `role` to it: "take" (over what it
# read), "unlock" (its own lock, taken at its start) or "break" (what it read). It prints
# "ROUND True|False|None SHA256" per round: whether its take over or release went through,
# and the sha256 of the lock it wrote.
_RACER = """
import hashlib, sys, time
from datetime import UTC, datetime
from pathlib import Path
from publish.lock import lock_body, parse_holder
from publish.remote import Pending
from publish.targets.base import LOCK_PATH
from publish.targets.folder import FolderTarget
owed = Pending("0" * 64, (), tuple(f"alerts/a{i}/index.html" for i in range(OWED)))
role, rounds = sys.argv[1], [Path(p) for p in sys.argv[2:]]
targets = [FolderTarget(r / "out") for r in rounds]
if role == "unlock":
    assert all(t.lock(lock_body(datetime.now(UTC), owed)) is None for t in targets)
seen = [t.read(LOCK_PATH) for t in targets]
print("ready", flush=True)
start = int(sys.stdin.readline())
for i, (r, t, held) in enumerate(zip(rounds, targets, seen)):
    body = lock_body(datetime.now(UTC), owed)
    # the holder or breaker starts 0 to 500 µs after the takers, by round: some round meets
    # their compare-then-write whatever this machine's speed
    at = start + i * ROUND_NS + (0 if role == "take" else i % 6 * 100_000)
    while time.monotonic_ns() < at - 3_000_000:
        time.sleep(0.001)
    while time.monotonic_ns() < at:  # the last 3 ms spinning: all racers start at once
        pass
    if role == "take":
        done = t.take_over(held, body)
    elif role == "unlock":
        done = t.unlock()
    else:
        done = t.break_lock(held)
    print(r.name, done, hashlib.sha256(body).hexdigest(), flush=True)
"""


def _racer(role: str, rounds: list[Path]) -> subprocess.Popen[str]:
    script = f"OWED = {OWED}\nROUND_NS = {ROUND_NS}\n{_RACER}"
    args = [sys.executable, "-c", script, role, *map(str, rounds)]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


@pytest.mark.parametrize("first", ["take", "unlock", "break"])
def test_processes_racing_for_the_folder_lock_never_both_hold_it(
    tmp_path: Path, first: str
) -> None:
    """Each round, 2 processes at once take over a lock not renewed for an hour ("take"), or
    the lock its holder is releasing ("unlock"), or one a third process breaks ("break"). As
    with S3's conditional writes, one write at most goes through, and a process told it took
    the lock holds it. Was, on 2 cores: both took it, or both it and the holder's release went
    through, or it was taken then removed, in 4 to 25 rounds of 30 (15 runs)."""
    rounds = [tmp_path / f"round{i:02}" for i in range(ROUNDS)]
    owed = Pending("0" * 64, (), tuple(f"alerts/a{i}/index.html" for i in range(OWED)))
    stale = lock_body(datetime.now(UTC) - timedelta(hours=1), owed, lease_s=120)
    for r in rounds:
        r.mkdir()
        if first != "unlock":
            assert FolderTarget(r / "out").lock(stale) is None
    procs = [_racer(first, rounds)] if first != "take" else []
    procs += [_racer("take", rounds) for _ in range(TAKERS)]
    start = time.monotonic_ns() + 100_000_000
    for proc in procs:  # every racer knows when the first round starts before it does
        assert proc.stdin is not None
        proc.stdin.write(f"{start}\n")
        proc.stdin.close()
    said = [proc.stdout.read().split("\n")[:-1] for proc in procs if proc.stdout]
    assert [proc.wait(timeout=60) for proc in procs] == [0] * len(procs), said
    lines = [[racer[i].split() for racer in said] for i in range(ROUNDS)]
    wrong = [_wrong(first, r, lines[i][-TAKERS:], lines[i][0]) for i, r in enumerate(rounds)]
    assert [w for w in wrong if w] == [], f"{sum(map(bool, wrong))} of {ROUNDS} rounds"


def _wrong(first: str, r: Path, takers: list[list[str]], other: list[str]) -> str:
    """What went wrong in round ``r`` (the takers' lines, and the first racer's), "" when
    nothing did."""
    assert all(line[0] == r.name for line in [*takers, other]), (takers, other)
    took = [sha256 for _, done, sha256 in takers if done == "True"]
    released = first == "unlock" and other[1] == "True"
    held = FolderTarget(r / "out").read(LOCK_PATH)
    if len(took) + released > 1:
        return f"{r.name}: {len(took)} took it over, released by its holder: {released}"
    if first != "break" and len(took) + released == 0:  # the first write to compare wins
        return f"{r.name}: nobody took it over nor released it"
    if took and (held is None or hashlib.sha256(held.body).hexdigest() != took[0]):
        return f"{r.name}: taken over, then {'removed' if held is None else 'replaced'}"
    return ""


# Takes the lock and releases it, TIMES times, then says "done". Each lock carries OWED
# deletes: written in a few hundred µs, as a big stopped publish's record is.
_TAKE_AND_RELEASE = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from publish.lock import lock_body, parse_holder
from publish.remote import Pending
from publish.targets.folder import FolderTarget
owed = Pending("0" * 64, (), tuple(f"alerts/a{i}/index.html" for i in range(OWED)))
print("ready", flush=True)
for _ in range(TIMES):
    target = FolderTarget(Path(sys.argv[1]))
    assert target.lock(lock_body(datetime.now(UTC), owed, lease_s=120)) is None
    assert target.unlock()
print("done", flush=True)
"""


def test_a_lock_being_taken_is_never_read_empty(tmp_path: Path) -> None:
    """Readers that take no guard (`sitegen doctor`, a publish reading the lock after a
    refused takeover) see no lock or a whole one while another process takes and
    releases it. Was: created empty, then written, so it was read empty and reported as held
    by "an unknown holder (unreadable lock)": 261 and 272 of ~560 reads that found a lock
    (2 runs, 2 cores)."""
    out = tmp_path / "out"
    script = f"OWED = {OWED}\nTIMES = 300\n{_TAKE_AND_RELEASE}"
    args = [sys.executable, "-c", script, str(out)]
    taker = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert taker.stdout is not None and taker.stdout.readline() == "ready\n"
    reader = FolderTarget(out)
    seen = {"whole": 0, "unreadable": 0}
    while taker.poll() is None:
        held = reader.read(LOCK_PATH)
        if held is not None:
            seen["whole" if parse_holder(held.body) else "unreadable"] += 1
    assert taker.stdout.read() == "done\n" and taker.returncode == 0
    assert seen["unreadable"] == 0 and seen["whole"] > 0, seen
