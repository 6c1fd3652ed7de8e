"""Fixtures for the operations tests (rollback, doctor, the CLI against real CDN fakes): a moto
server over HTTP, versioned and plain buckets, a distribution whose origin is the bucket, a Fast
Purge server with its .edgerc, a site folder, and a proxy answering as AWS does where moto
does not. Helpers are in ops_support.py."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from ops_support import (
    AWS_SECRET,
    SECRETS,
    FastPurgeServer,
    FaultProxy,
    Site,
    make_distribution,
)

from sitegen.infra import index_function_code


def _keep_function_associations() -> None:
    """moto answers every distribution with no function associated, whatever it was created
    with; CloudFront keeps them (doctor compares the viewer-request function's code)."""
    from moto.cloudfront import models

    made = models.DefaultCacheBehaviour.__init__

    def keep(self: Any, config: dict[str, Any]) -> None:
        made(self, config)
        self.function_associations = config.get("FunctionAssociations") or {"Quantity": 0}

    models.DefaultCacheBehaviour.__init__ = keep  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    _keep_function_associations()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """boto3 (here and in `sitegen` subprocesses) talks to the moto server."""
    empty = tmp_path / "aws-config-empty"
    empty.write_text("")
    for key, value in {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return moto_server


def _new_bucket(versioned: bool) -> str:
    name = f"ops-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def bucket(aws: str) -> str:
    """A versioned bucket (as `sitegen infra cloudformation` makes it)."""
    return _new_bucket(versioned=True)


@pytest.fixture
def plain_bucket(aws: str) -> str:
    return _new_bucket(versioned=False)


@pytest.fixture
def distribution(bucket: str) -> str:
    """A distribution whose origin is the bucket's `site/` prefix, with the viewer-request
    function `sitegen infra cloudformation` prints for a site at its host's root."""
    code = index_function_code("/")
    return make_distribution(f"{bucket}.s3.us-east-1.amazonaws.com", "/site", code)


@pytest.fixture
def fastpurge(monkeypatch: pytest.MonkeyPatch) -> Iterator[FastPurgeServer]:
    monkeypatch.setenv("SITEGEN_AKAMAI_SCHEME", "http")  # loopback only (docs/akamai.md)
    with FastPurgeServer(SECRETS) as server:
        yield server


@pytest.fixture
def edgerc(fastpurge: FastPurgeServer, tmp_path: Path) -> Path:
    return fastpurge.write_edgerc(tmp_path / ".edgerc", section="alerts")


@pytest.fixture
def site(tmp_path: Path) -> Site:
    root = tmp_path / "site"
    root.mkdir()
    return Site(root)


@pytest.fixture
def answering(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``answering(status, body, method="", path="")``: every AWS request of `sitegen` (or
    every one with this HTTP method, and a URL path holding `path`) gets this answer instead
    of moto's; the rest go through."""
    proxies: list[FaultProxy] = []
    host, _, port = aws.removeprefix("http://").partition(":")

    def start(status: int, body: bytes, method: str = "", path: str = "") -> FaultProxy:
        def rule(m: str, url: str) -> bool:
            return (not method or m == method) and path in url

        proxy = FaultProxy(host, int(port), rule, status=status, body=body).__enter__()
        proxies.append(proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        return proxy

    yield start
    for proxy in proxies:
        proxy.__exit__()


@pytest.fixture
def silent() -> Iterator[str]:
    """``127.0.0.1:PORT`` of a server that accepts connections and never answers (a firewall
    that drops packets, an endpoint that hangs): a client without a timeout waits forever."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)  # connections wait in the backlog: accepted by the kernel, unanswered
        yield f"127.0.0.1:{server.getsockname()[1]}"


@pytest.fixture
def echoing() -> Iterator[Any]:
    """``echoing(status)``: ``127.0.0.1:PORT`` of a server that is not Fast Purge (a wrong host
    in .edgerc, a proxy): it answers every request with `status` and JSON whose detail repeats
    the request's Authorization header, as a careless server may."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int) -> str:
        class Echo(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                said = {"detail": f"bad request from {self.headers.get('Authorization')}"}
                body = json.dumps(said).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
