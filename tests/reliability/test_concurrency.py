"""§3 Two `sitegen publish` processes started at the same time against the same bucket, with
different bundles. Each talks through its own proxy; both lock requests are held until both
have arrived, then sent together, so the race is real every time. Exactly one proceeds; the
other exits 75 (EX_TEMPFAIL: try again later) naming the holder, having written nothing but its
refused lock attempt."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from faults import FaultProxy
from reliability_support import check_least_privilege, cli_env, run_sitegen, sitegen_args
from state import expected, snapshot_s3
from test_consistency import site_v1, update

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
