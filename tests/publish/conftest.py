"""Publisher fixtures: a moto server (S3 + CloudFront over real HTTP), buckets, distributions,
targets of both kinds, and bundles written straight from file lists."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from bundles import Files, site_files, write_bundle
from faults import FAST_RETRY
from moto.server import ThreadedMotoServer

from publish.targets.base import Target
from publish.targets.folder import FolderTarget
from publish.targets.s3 import S3Target
from sitegen_fixtures import aws_env, make_distribution


@pytest.fixture(scope="session")
def moto_server() -> Iterator[tuple[str, int]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield host, port
    server.stop()


@pytest.fixture
def aws(moto_server: tuple[str, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point boto3 at the moto server for this test; return the endpoint URL."""
    host, port = moto_server
    endpoint = f"http://{host}:{port}"
    for key, value in aws_env(endpoint, tmp_path, secret="testing-secret-SENTINEL").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return endpoint


@pytest.fixture
def bucket(aws: str) -> str:
    name = f"pub-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def distribution(aws: str) -> str:
    return make_distribution()


@pytest.fixture
def bundle(tmp_path: Path) -> Callable[..., Path]:
    """``bundle(files=None, **kw)`` rewrites tmp_path/public to exactly these files."""

    def make(files: Files | None = None, **kwargs: Any) -> Path:
        return write_bundle(tmp_path / "public", site_files() if files is None else files, **kwargs)

    return make


@pytest.fixture(params=["folder", "s3"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_target(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Target]:
    """A factory of fresh Target objects for ONE store (as separate publish runs would make)."""
    if kind == "folder":
        return lambda: FolderTarget(tmp_path / "_published")
    name = request.getfixturevalue("bucket")
    return lambda: S3Target(name, "site", retry=FAST_RETRY)


@pytest.fixture
def snapshot(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Any]:
    """What the store holds now, read without the publisher's code."""
    from state import snapshot_folder, snapshot_s3

    if kind == "folder":
        return lambda: snapshot_folder(tmp_path / "_published")
    name = request.getfixturevalue("bucket")
    return lambda: snapshot_s3(name)
