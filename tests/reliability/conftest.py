"""Reliability fixtures: a moto server (S3 + CloudFront over real HTTP) of our own, buckets and
distributions, and the publisher test helpers of tests/publish on the import path."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "publish"))

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from test_consistency import v1_and_v2  # noqa: E402

from sitegen_fixtures import TmpSite, aws_env, make_distribution  # noqa: E402


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def aws(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """boto3 in this process points at the moto server (module-wide); yields the endpoint."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in aws_env(moto_endpoint, tmp_path_factory.mktemp("aws")).items():
            mp.setenv(key, value)
        mp.delenv("AWS_PROFILE", raising=False)
        yield moto_endpoint


@pytest.fixture
def bucket(aws: str) -> str:
    name = f"rel-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def distribution(aws: str) -> str:
    return make_distribution()


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[TmpSite, TmpSite]:
    """v1, and v2 = a new Update in a new area and one alert removed (so v2 owes deletes)."""
    return v1_and_v2(tmp_path_factory)
