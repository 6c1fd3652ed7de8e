"""Akamai Fast Purge v3 invalidator, over real HTTP against a local EdgeGrid-verifying server."""

from __future__ import annotations

import importlib.resources
import json
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from akamai.edgegrid.edgegrid import EdgeGridAuthHeaders, eg_timestamp
from bundles import write_bundle
from fastpurge_server import MAX_BODY_BYTES, Credentials, FastPurgeServer, expected_signature
from test_publish_flow import run

from publish.cdn.akamai import (
    SCHEME_ENV,
    AkamaiInvalidator,
    PurgeRetryPolicy,
    batch_bodies,
    load_edgerc,
    parse_akamai_spec,
    parse_retry_after,
    purge_url,
)
from publish.targets.folder import FolderTarget
from sitegen.errors import ConfigError, PublishError

BASE_URL = "https://alerts.example.org/"
SECRETS = Credentials(
    client_token="akab-SENTINEL-CLIENT-TOKEN-7d2e",
    client_secret="SENTINEL-CLIENT-SECRET-91fa=",
    access_token="akab-SENTINEL-ACCESS-TOKEN-c4b0",
)
WRONG_SECRET = "SENTINEL-WRONG-SECRET-0b3a="
SENTINELS = (SECRETS.client_token, SECRETS.client_secret, SECRETS.access_token, WRONG_SECRET)
FAST = PurgeRetryPolicy(attempts=3, base_s=0.01, cap_s=0.05, rate_limit_s=0.01)


@pytest.fixture
def server() -> Iterator[FastPurgeServer]:
    with FastPurgeServer(SECRETS) as running:
        yield running


@pytest.fixture
def edgerc(server: FastPurgeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The documented switch for a local server; users and tests share from_edgerc.
    monkeypatch.setenv(SCHEME_ENV, "http")
    return server.write_edgerc(tmp_path / ".edgerc")


def invalidator(
    edgerc: Path, spec: str = "default", retry: PurgeRetryPolicy = FAST
) -> AkamaiInvalidator:
    section, network = parse_akamai_spec(spec)
    return AkamaiInvalidator.from_edgerc(edgerc, section, network, BASE_URL, retry=retry)


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for sentinel in SENTINELS:
            assert sentinel not in text


# --- the fake is trustworthy --------------------------------------------------------------------


def test_server_verifier_agrees_with_akamai_published_vectors() -> None:
    """Our independent EG1 verifier computes the signatures in edgegrid-python's test data."""
    try:
        vectors = importlib.resources.files("akamai.edgegrid.test")
        cases = json.loads((vectors / "testcases.json").read_text())
        data = json.loads((vectors / "testdata.json").read_text())
    except (ModuleNotFoundError, FileNotFoundError):
        pytest.skip("edgegrid-python test vectors not installed")
    creds = Credentials(
        data["client_token"],
        data["client_secret"],
        data["access_token"],
        data["max_body"],
        tuple(data["headers_to_sign"]),
    )
    checked = 0
    for case in cases:
        if "expectedAuthorization" not in case or "failsWithMessage" in case:
            continue
        request = case["request"]
        headers = {k: v for h in request.get("headers", []) for k, v in h.items()}
        unsigned, signature = case["expectedAuthorization"].rsplit("signature=", 1)
        assert signature == expected_signature(
            credentials=creds,
            method=request["method"],
            scheme="https",
            host=urlsplit(data["base_url"]).netloc,
            path_and_query=request["path"],
            headers=headers,
            body=request.get("data", "").encode(),
            unsigned_auth=unsigned,
            timestamp=data["timestamp"],
        ), case["testName"]
        checked += 1
    assert checked >= 10


def _signed(
    server: FastPurgeServer, body: bytes, timestamp: str | None = None
) -> requests.PreparedRequest:
    url = f"http://{server.host}/ccu/v3/invalidate/url/production"
    prepared = requests.Request("POST", url, data=body).prepare()
    headers = EdgeGridAuthHeaders(SECRETS.client_token, SECRETS.client_secret, SECRETS.access_token)
    prepared.headers["Authorization"] = headers.make_auth_header(
        prepared, timestamp or eg_timestamp(), uuid.uuid4()
    )
    return prepared


def test_server_rejects_stale_replayed_tampered_and_oversized_requests(
    server: FastPurgeServer,
) -> None:
    body = b'{"objects":["https://alerts.example.org/"]}'
    with requests.Session() as http:
        assert http.send(_signed(server, body, "20200101T00:00:00+0000")).status_code == 401
        fresh = _signed(server, body)
        assert http.send(fresh).status_code == 201
        assert http.send(fresh).status_code == 401  # same nonce again
        tampered = _signed(server, body)
        tampered.body = body.replace(b"alerts", b"aberts")
        assert http.send(tampered).status_code == 401
        big = json.dumps({"objects": ["https://a.example/" + "x" * MAX_BODY_BYTES]}).encode()
        assert http.send(_signed(server, big)).status_code == 413
    assert [r.status for r in server.received] == [401, 201, 401, 401, 413]
    assert len(server.purges) == 1


# --- the invalidator ----------------------------------------------------------------------------


def test_signed_purge_is_accepted_with_absolute_urls(server: FastPurgeServer, edgerc: Path) -> None:
    receipt = invalidator(edgerc).invalidate(
        ["/alerts/quake/", "/alerts/quake/index.html", "/", "/alerts/quake/"], reference="m1"
    )
    [purge] = server.purges
    assert purge.objects == (
        "https://alerts.example.org/alerts/quake/",
        "https://alerts.example.org/alerts/quake/index.html",
        "https://alerts.example.org/",
    )
    assert (purge.action, purge.kind, purge.network) == ("invalidate", "url", "production")
    assert receipt.cdn == "akamai:default@production"
    assert (receipt.id, receipt.paths, receipt.requests) == (purge.purge_id, 3, 1)
    assert "about 5 s" in receipt.detail and "supportId 17PY" in receipt.detail


@pytest.mark.parametrize(
    "spec, network",
    [
        ("default", "production"),
        ("default@staging", "staging"),
        ("default@production", "production"),
    ],
)
def test_network_selects_the_endpoint(
    server: FastPurgeServer, edgerc: Path, spec: str, network: str
) -> None:
    invalidator(edgerc, spec).invalidate(["/"], reference="m1")
    assert [r.path for r in server.received] == [f"/ccu/v3/invalidate/url/{network}"]
    assert server.purges[0].network == network


def test_urls_keep_the_base_path_and_are_percent_encoded() -> None:
    base = "https://example.org/kr/"
    assert purge_url(base, "/alerts/x/") == "https://example.org/kr/alerts/x/"
    assert purge_url(base, "/areas/경북/") == "https://example.org/kr/areas/%EA%B2%BD%EB%B6%81/"
    assert purge_url(base, "/a%20b/") == "https://example.org/kr/a%20b/"


def test_many_paths_are_batched_under_the_limit_and_purged_once(
    server: FastPurgeServer, edgerc: Path
) -> None:
    paths = [f"/alerts/{i:05d}-{'long-alert-slug-' * 4}/index.html" for i in range(3000)]
    receipt = invalidator(edgerc).invalidate(paths, reference="m1")
    sizes = [r.body_bytes for r in server.received]
    assert len(sizes) == receipt.requests >= 5
    assert all(size < MAX_BODY_BYTES for size in sizes)
    assert sum(sizes) > (len(sizes) - 1) * (MAX_BODY_BYTES - 200)  # batches are full
    purged = Counter(url for purge in server.purges for url in purge.objects)
    assert purged == Counter(purge_url(BASE_URL, p) for p in paths)
    assert receipt.paths == 3000
    assert receipt.id.split(",") == [p.purge_id for p in server.purges]


@pytest.mark.parametrize("seed", range(20))
def test_batches_are_greedy_and_strictly_under_the_limit(seed: int) -> None:
    rng = random.Random(seed)
    urls = [f"https://e.org/{'x' * rng.randint(1, 60)}{i}" for i in range(rng.randint(1, 40))]
    bodies = batch_bodies(urls, limit=300)
    batches = [json.loads(b)["objects"] for b in bodies]
    assert [u for batch in batches for u in batch] == urls
    assert all(len(b) < 300 for b in bodies)
    for batch, following in zip(batches, batches[1:], strict=False):
        grown = json.dumps({"objects": [*batch, following[0]]}, separators=(",", ":"))
        assert len(grown) >= 300  # the next URL really did not fit


def test_no_paths_means_no_request(server: FastPurgeServer, edgerc: Path) -> None:
    receipt = invalidator(edgerc).invalidate([], reference="m1")
    assert (receipt.requests, receipt.paths, server.received) == (0, 0, [])


def test_429_waits_the_advised_retry_after(server: FastPurgeServer, edgerc: Path) -> None:
    server.fail_next(1, 429, retry_after="1")
    started = time.monotonic()
    receipt = invalidator(edgerc, retry=PurgeRetryPolicy(attempts=3)).invalidate(
        ["/"], reference="m"
    )
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in server.received] == [429, 201]
    assert receipt.requests == 2 and len(server.purges) == 1


@pytest.mark.parametrize(
    "status, retry_after, expected_wait",
    [
        (429, None, 0.5),  # Akamai's documented wait when it gives no Retry-After
        (429, "2", 2.0),
        (500, None, None),  # capped exponential backoff
        (503, "0", 0.0),
    ],
)
def test_retryable_answers_then_success(
    server: FastPurgeServer,
    edgerc: Path,
    status: int,
    retry_after: str | None,
    expected_wait: float | None,
) -> None:
    server.fail_next(2, status, retry_after)
    waits: list[float] = []
    policy = PurgeRetryPolicy(attempts=3, base_s=0.2, cap_s=10, rate_limit_s=0.5)
    inv = AkamaiInvalidator(
        load_edgerc(edgerc, "default"),
        "staging",
        BASE_URL,
        scheme="http",
        retry=policy,
        sleep=waits.append,
    )
    receipt = inv.invalidate(["/alerts/x/"], reference="m1")
    assert [r.status for r in server.received] == [status, status, 201]
    assert receipt.requests == 3 and len(server.purges) == 1
    if expected_wait is None:
        assert 0.1 <= waits[0] <= 0.2 and 0.2 <= waits[1] <= 0.4
    else:
        assert waits == [expected_wait, expected_wait]


def test_persistent_5xx_fails_clearly_after_the_attempts(
    server: FastPurgeServer, edgerc: Path
) -> None:
    server.fail_next(5, 500)
    with pytest.raises(PublishError, match=r"HTTP 500 .*after 3 attempts.*publish again"):
        invalidator(edgerc, "default@staging").invalidate(["/"], reference="m1")
    assert len(server.received) == 3 and server.purges == []


def test_failure_midway_says_what_was_purged(server: FastPurgeServer, edgerc: Path) -> None:
    server.fail_next(1, 403, after=1)
    paths = [f"/alerts/{i:05d}/{'x' * 80}" for i in range(1200)]
    with pytest.raises(PublishError) as failed:
        invalidator(edgerc).invalidate(paths, reference="m1")
    message = failed.value.message
    first = server.purges[0]
    assert "HTTP 403" in message and "CCU APIs" in message
    assert "Request 2 of " in message and f"{len(first.objects)} of 1200 URLs" in message
    assert first.purge_id in message


@pytest.mark.parametrize("key", ["client_secret", "client_token", "access_token"])
def test_wrong_credentials_fail_with_401_and_no_secret(
    server: FastPurgeServer,
    edgerc: Path,
    key: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    server.write_edgerc(edgerc, **{key: WRONG_SECRET})
    with pytest.raises(PublishError) as failed:
        invalidator(edgerc).invalidate(["/"], reference="m1")
    message = failed.value.message
    assert "HTTP 401" in message and "client_secret" in message  # the hint names what to check
    assert len(server.received) == 1  # a 401 is not retried
    out, err = capsys.readouterr()
    assert_no_secrets(message, str(failed.value), caplog.text, out, err)


def test_secrets_never_reach_logs_or_reprs(
    server: FastPurgeServer,
    edgerc: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # what --debug does; edgegrid logs its keys at DEBUG
    server.fail_next(1, 500)
    inv = invalidator(edgerc)
    receipt = inv.invalidate(["/alerts/x/"], reference="m1")
    out, err = capsys.readouterr()
    assert "retrying" in caplog.text and "accepted" in caplog.text
    creds = load_edgerc(edgerc, "default")
    assert_no_secrets(caplog.text, out, err, repr(inv), repr(creds), repr(receipt))


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("default", ("default", "production")),
        ("default@staging", ("default", "staging")),
        ("ccu@production", ("ccu", "production")),
    ],
)
def test_parse_akamai_spec(spec: str, expected: tuple[str, str]) -> None:
    assert parse_akamai_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "@staging", "default@prod", "default@"])
def test_parse_akamai_spec_refuses(spec: str) -> None:
    with pytest.raises(ConfigError, match="EDGERC_SECTION@staging"):
        parse_akamai_spec(spec)


@pytest.mark.parametrize(
    "text, section, message",
    [
        (None, "default", "not found"),
        ("[other]\nhost = h\n", "default", r"no \[default\] section \(sections found: other\)"),
        (
            "[default]\nhost = h\nclient_token = t\n",
            "default",
            "missing client_secret, access_token",
        ),
        ("[default]\nclient_secret SENTINEL-IN-A-BROKEN-LINE\n", "default", "line 2"),
        (
            "[default]\nhost = https://h.example/\nclient_token = t\nclient_secret = s\n"
            "access_token = a\n",
            "default",
            "bare host name",
        ),
    ],
)
def test_edgerc_problems_are_clear(
    tmp_path: Path, text: str | None, section: str, message: str
) -> None:
    path = tmp_path / ".edgerc"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError, match=message) as failed:
        AkamaiInvalidator.from_edgerc(path, section, "staging", BASE_URL)
    assert_no_secrets(failed.value.message)
    assert "SENTINEL-IN-A-BROKEN-LINE" not in failed.value.message


def test_edgerc_host_with_trailing_slash_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / ".edgerc"
    path.write_text(
        "[default]\nhost = akab-x.purge.akamaiapis.net/\nclient_token = t\n"
        "client_secret = s\naccess_token = a\n"
    )
    assert load_edgerc(path, "default").host == "akab-x.purge.akamaiapis.net"


def test_plain_http_only_for_a_loopback_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / ".edgerc"
    path.write_text(
        "[default]\nhost = akab-x.purge.akamaiapis.net\nclient_token = t\n"
        "client_secret = s\naccess_token = a\n"
    )
    monkeypatch.setenv(SCHEME_ENV, "http")
    with pytest.raises(ConfigError, match="only allowed for a loopback"):
        AkamaiInvalidator.from_edgerc(path, "default", "staging", BASE_URL)
    monkeypatch.delenv(SCHEME_ENV)
    inv = AkamaiInvalidator.from_edgerc(path, "default", "staging", BASE_URL)
    assert inv.endpoint == "https://akab-x.purge.akamaiapis.net/ccu/v3/invalidate/url/staging"


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def test_unreachable_host_fails_clearly_after_the_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEME_ENV, "http")
    with FastPurgeServer(SECRETS) as stopped:
        edgerc = stopped.write_edgerc(tmp_path / ".edgerc")
    with pytest.raises(PublishError, match=r"could not reach .* after 3 attempts") as failed:
        invalidator(edgerc).invalidate(["/"], reference="m1")
    assert_no_secrets(failed.value.message)


def test_a_refused_purge_in_a_publish_names_the_network_once(
    server: FastPurgeServer, edgerc: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run(write_bundle(tmp_path / "public", {"index.html": b"v1"}), FolderTarget(out))
    server.write_edgerc(edgerc, client_secret=WRONG_SECRET)
    with pytest.raises(PublishError) as failed:
        run(
            write_bundle(tmp_path / "public", {"index.html": b"v2"}),
            FolderTarget(out),
            [invalidator(edgerc, "default@staging")],
        )
    message = failed.value.message
    assert message.count("akamai:default@staging: ") == 1, message
    assert "akamai:default@staging: Fast Purge answered HTTP 401" in message
    assert_no_secrets(message)
