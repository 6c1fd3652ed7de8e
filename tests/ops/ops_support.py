"""Helpers for the operations tests (imported by name; fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

# The publisher's test helpers (bundles.py, state.py, fastpurge_server.py) live beside its tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "publish"))

from bundles import Files, site_files, write_bundle  # noqa: E402
from fastpurge_server import Credentials, FastPurgeServer  # noqa: E402, F401 (re-exported)
from faults import FaultProxy  # noqa: E402, F401 (re-exported)

from sitegen_fixtures import SITE_TOML, make_distribution  # noqa: E402, F401 (re-exported)

SECRETS = Credentials(
    client_token="akab-SENTINEL-OPS-CLIENT-TOKEN",
    client_secret="SENTINEL-OPS-CLIENT-SECRET=",
    access_token="akab-SENTINEL-OPS-ACCESS-TOKEN",
)
AWS_SECRET = "testing-secret-SENTINEL-OPS"
SENTINELS = (SECRETS.client_token, SECRETS.client_secret, SECRETS.access_token, AWS_SECRET)
SITEGEN = str(Path(sys.executable).with_name("sitegen"))

# S3's answers that moto does not give, for a FaultProxy to send (the `answering` fixture).
INVALID_KEY = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>'
    b"The AWS Access Key Id you provided does not exist in our records.</Message></Error>"
)
DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message></Error>"
)
WRONG_REGION = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AuthorizationHeaderMalformed</Code>'
    b"<Message>The authorization header is malformed; the region 'us-east-1' is wrong; "
    b"expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>"
)


def invalidated_paths(distribution: str) -> list[list[str]]:
    """Paths of every invalidation on the distribution, oldest first."""
    cf = boto3.client("cloudfront")
    items = cf.list_invalidations(DistributionId=distribution)["InvalidationList"].get("Items", [])
    out = []
    for item in items:
        got = cf.get_invalidation(DistributionId=distribution, Id=item["Id"])
        out.append(sorted(got["Invalidation"]["InvalidationBatch"]["Paths"].get("Items", [])))
    return out


class Site:
    """A site folder: site.toml (with a [publish] section) and public/ written from files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.public = root / "public"
        self.toml = root / "site.toml"
        self.configure()

    def configure(self, publish: str = 'target = "folder:_published"') -> None:
        self.toml.write_text(f"{SITE_TOML}\n[publish]\n{publish}\n", encoding="utf-8")

    def write(self, files: Files | None = None, **kwargs: Any) -> Path:
        return write_bundle(self.public, site_files() if files is None else files, **kwargs)

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        """`sitegen ARGS --site site.toml` in a real process; with ok, it must succeed."""
        done = subprocess.run(
            [SITEGEN, *args, "--site", str(self.toml)],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=dict(os.environ),
            timeout=120,
        )
        for sentinel in SENTINELS:
            assert sentinel not in done.stdout + done.stderr
        if ok:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def run_json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)
