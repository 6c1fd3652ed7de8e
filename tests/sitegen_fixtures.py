"""Shared test helpers (imported by name: every conftest.py is module 'conftest' to pytest,
so helpers must live in a uniquely named module)."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sitegen.build import BuildReport, build_site
from sitegen.config import SiteConfig, load_config

REPO = Path(__file__).resolve().parent.parent
NOW = datetime.fromisoformat("2026-11-25T12:00:00+09:00")

SITE_TOML = """\
[site]
title = "Test Alerts"
base_url = "https://alerts.test/"
default_language = "en"
languages = ["en", "ko"]
sender = "alerts@test.invalid"
"""

ALERT = """\
---
title: {title}
event: Flood
category: Met
severity: {severity}
urgency: Expected
certainty: Likely
status: {status}
msg_type: {msg_type}
sent: {sent}
expires: {expires}
areas:
  - name: Seoul
    geocodes: {{ISO3166-2: KR-11}}
references: {references}
---
The river is rising.

## What to do

- Keep away from the river.
"""


def alert_text(**fields: str) -> str:
    """A valid alert file's text; any field can be overridden."""
    values = {
        "title": "Flood watch",
        "severity": "Severe",
        "status": "Actual",
        "msg_type": "Alert",
        "sent": "2026-11-25T07:00:00+09:00",
        "expires": "2026-11-26T07:00:00+09:00",
        "references": "[]",
    }
    values.update(fields)
    return ALERT.format(**values)


def add_long_alerts(site: TmpSite, count: int) -> None:
    """`count` alerts in force at NOW whose feed entries are ~2.5 KB: past 900 KB at ~360."""
    event = "Flood " + "with a very long official event description " * 55
    start = datetime.fromisoformat("2026-11-20T00:00:00+09:00")
    for n in range(count):
        sent = (start + timedelta(minutes=10 * n)).isoformat()
        site.add(
            f"a{n:03}.md",
            alert_text(title=f"Alert {n}", sent=sent).replace(
                "event: Flood", f"event: {event.strip()}"
            ),
        )


class TmpSite:
    """A site folder in tmp_path with the repo's templates, to which tests add alerts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "content" / "alerts").mkdir(parents=True)
        shutil.copytree(REPO / "templates", root / "templates")
        (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")

    @property
    def config(self) -> SiteConfig:
        return load_config(self.root / "site.toml")

    def add(self, name: str, text: str | bytes) -> Path:
        path = self.root / "content" / "alerts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, "utf-8")
        return path

    def build(self, now: datetime = NOW) -> BuildReport:
        return build_site(self.config, now)

    @property
    def public(self) -> Path:
        return self.config.output_path


def run_sitegen(
    *args: str,
    cwd: Path,
    input: str | None = None,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`sitegen ARGS` in a fresh interpreter, as a user runs it (output captured; without
    `input`, no terminal to ask at, as in CI, also when pytest runs at one: `new --update`
    asks there); `preexec_fn` runs in the child first (a fault to inject: a file size
    limit...)."""
    return subprocess.run(
        [sys.executable, "-c", "from sitegen.cli import main; main()", *args],
        cwd=cwd,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        preexec_fn=preexec_fn,  # noqa: PLW1509 - the tests' processes run no threads then
    )


def file_size_limit(limit: int) -> Callable[[], None]:
    """A `preexec_fn`: writing a file past `limit` bytes fails with EFBIG (as a full disk
    fails with ENOSPC)."""

    def limited() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the write kills the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


def unprivileged() -> None:
    """A `preexec_fn`: the child process runs without root's right to pass by file permissions
    when the tests run as root (Linux: CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH out of its
    capability bounding set), so a folder made read-only is read-only to it."""
    if os.geteuid() == 0:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "cannot drop a capability")


def permissions_apply(folder: Path) -> bool:
    """Does a process started with `unprivileged` meet file permissions here?"""
    locked = folder / "locked"
    locked.write_text("secret")
    locked.chmod(0)
    try:
        read = subprocess.run(
            [sys.executable, "-c", f"open({str(locked)!r}).read()"],
            preexec_fn=unprivileged,  # noqa: PLW1509 - the tests' processes run no threads then
            capture_output=True,
            timeout=60,
        )
    except subprocess.SubprocessError:  # the capabilities could not be dropped
        return False
    finally:
        locked.unlink()
    return read.returncode != 0


def aws_env(endpoint: str, folder: Path, secret: str = "testing") -> dict[str, str]:
    """Variables pointing boto3 at ``endpoint`` with fake credentials and no config files."""
    empty = folder / "aws-config-empty"
    empty.write_text("")
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
    }


def object_bytes(got: Any) -> bytes:
    """An S3 GetObject answer's bytes as a browser or a CDN sees them: decoded when the object
    is stored gzip-encoded (the publisher stores its manifest so). Not the publisher's code."""
    data: bytes = got["Body"].read()
    return gzip.decompress(data) if got.get("ContentEncoding") == "gzip" else data


def make_distribution(
    domain: str = "o.s3.amazonaws.com", origin_path: str = "", function_code: str | None = None
) -> str:
    """A CloudFront distribution on the moto server (AWS_ENDPOINT_URL); returns its id. With
    `function_code`, a CloudFront Function of that code runs on viewer requests (moto keeps
    the association only with tests/ops/conftest.py's `moto_server`)."""
    import uuid

    import boto3

    cloudfront = boto3.client("cloudfront")
    origin = {
        "Id": "site",
        "DomainName": domain,
        "OriginPath": origin_path,
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        },
    }
    if function_code is not None:
        made = cloudfront.create_function(
            Name=f"index-{uuid.uuid4().hex[:12]}",
            FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
            FunctionCode=function_code.encode(),
        )
        arn = made["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
        config["DefaultCacheBehavior"]["FunctionAssociations"] = {  # type: ignore[index]
            "Quantity": 1,
            "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}],
        }
    created = cloudfront.create_distribution(DistributionConfig=config)
    return str(created["Distribution"]["Id"])


# Headless Chromium, as the browser tests (tests/browser) and serve's end-to-end test use it.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_tool(env: str, *candidates: str) -> str | None:
    """A tool's path: from the environment variable, else the first candidate that exists."""
    if os.environ.get(env):
        return os.environ[env] if Path(os.environ[env]).is_file() else None
    for candidate in candidates:
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    return None


def assert_no_other_thread() -> None:
    """For a test that forks the test process (marked `forks`, which runs it first): fail at
    once, rather than hang, if another thread runs (see tests/conftest.py)."""
    import threading

    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    assert not others, f"threads {others} run: a fork now could hang; mark the test `forks`"
