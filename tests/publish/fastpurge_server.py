"""A local Akamai Fast Purge v3 server for tests, reached over real HTTP on 127.0.0.1.

It checks every request the way Akamai does, with its own EG1-HMAC-SHA256 verifier written from
the EdgeGrid spec (not the client library, so a signing bug cannot verify itself): client and
access token, timestamp freshness, nonce reuse and the signature over method, scheme, host,
path+query, signed headers, body hash and the unsigned Authorization header. It then enforces the
50,000-byte body limit (413), validates the purge body and records accepted purges. Tests can make
it answer 429 (with Retry-After) or 5xx for the next N valid requests.

    with FastPurgeServer() as server:
        edgerc = server.write_edgerc(tmp_path / ".edgerc")
        ...  # SITEGEN_AKAMAI_SCHEME=http, then AkamaiInvalidator.from_edgerc(edgerc, ...)
        server.purges  # what was accepted
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY_BYTES = 50_000
_PATH = re.compile(r"^/ccu/v3/(invalidate|delete)/(url|tag|cpcode)/(staging|production)$")
_TIMESTAMP = "%Y%m%dT%H:%M:%S+0000"
_MONIKER = "EG1-HMAC-SHA256 "
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the server expects; defaults are harmless fakes."""

    client_token: str = "akab-client-token-fake"
    client_secret: str = "fake-client-secret="
    access_token: str = "akab-access-token-fake"
    max_body: int = 131072
    headers_to_sign: tuple[str, ...] = ()


# --- EG1-HMAC-SHA256, from the spec -------------------------------------------------------------


def _b64_hmac(key: str, data: str) -> str:
    digest = hmac.new(key.encode(), data.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def content_hash(method: str, body: bytes, max_body: int) -> str:
    """Only POST bodies are signed, truncated to max_body; an empty body hashes to ''."""
    if method != "POST" or not body:
        return ""
    return base64.b64encode(hashlib.sha256(body[:max_body]).digest()).decode()


def canonical_headers(headers: Mapping[str, str], names: Sequence[str]) -> str:
    """Signed headers in the configured order, lower-cased names, inner whitespace collapsed."""
    lowered = {k.lower(): _SPACES.sub(" ", v.strip()) for k, v in headers.items()}
    return "\t".join(f"{n.lower()}:{lowered[n.lower()]}" for n in names if n.lower() in lowered)


def expected_signature(
    *,
    credentials: Credentials,
    method: str,
    scheme: str,
    host: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
    unsigned_auth: str,
    timestamp: str,
) -> str:
    """The signature a correct client sends: HMAC(HMAC(secret, timestamp), data to sign)."""
    signing_key = _b64_hmac(credentials.client_secret, timestamp)
    data = "\t".join(
        [
            method,
            scheme,
            host,
            path_and_query,
            canonical_headers(headers, credentials.headers_to_sign),
            content_hash(method, body, credentials.max_body),
            unsigned_auth,
        ]
    )
    return _b64_hmac(signing_key, data)


def parse_authorization(header: str) -> tuple[dict[str, str], str]:
    """Fields of an EG1 header and the header up to the signature (what was signed)."""
    if not header.startswith(_MONIKER) or ";signature=" not in header:
        raise ValueError("not an EG1-HMAC-SHA256 Authorization header")
    unsigned, signature = header.rsplit("signature=", 1)
    fields = dict(part.split("=", 1) for part in unsigned[len(_MONIKER) :].split(";") if part)
    fields["signature"] = signature
    return fields, unsigned


# --- the server ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Purge:
    """One accepted purge request."""

    action: str  # invalidate | delete
    kind: str  # url | tag | cpcode
    network: str  # staging | production
    objects: tuple[str, ...]
    purge_id: str
    body_bytes: int


@dataclass(frozen=True, slots=True)
class Received:
    """Every request, whatever the answer."""

    method: str
    path: str
    status: int
    body_bytes: int
    reason: str = ""


@dataclass
class _State:
    credentials: Credentials
    max_skew_s: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    purges: list[Purge] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    failures: list[tuple[int, str | None] | None] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}


class FastPurgeServer:
    """Start with ``with FastPurgeServer() as server:``; ``server.host`` is ``127.0.0.1:PORT``."""

    def __init__(self, credentials: Credentials = Credentials(), *, max_skew_s: float = 60) -> None:
        self.credentials = credentials
        self._state = _State(credentials, max_skew_s)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self._state))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def purges(self) -> list[Purge]:
        with self._state.lock:
            return list(self._state.purges)

    @property
    def received(self) -> list[Received]:
        with self._state.lock:
            return list(self._state.received)

    def fail_next(
        self, count: int, status: int = 429, retry_after: str | None = None, *, after: int = 0
    ) -> None:
        """Answer ``count`` valid requests, after letting ``after`` through, with ``status``."""
        with self._state.lock:
            self._state.failures.extend([None] * after + [(status, retry_after)] * count)

    def write_edgerc(self, path: Path, section: str = "default", **override: str) -> Path:
        """An .edgerc section pointing at this server; ``override`` replaces keys (a bad secret)."""
        values = {
            "host": self.host,
            "client_token": self.credentials.client_token,
            "client_secret": self.credentials.client_secret,
            "access_token": self.credentials.access_token,
        } | override
        text = f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        return path

    def __enter__(self) -> FastPurgeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_class(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(_FastPurgeHandler):
        pass

    Handler.state = state
    return Handler


class _FastPurgeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    state: _State

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            self._verify_signature(body)
            purge = self._check_request(body)
            self._injected_failure()
        except _Refused as refused:
            self._record(len(body), refused.status, refused.detail)
            self._answer(refused.status, _problem(refused), refused.headers)
            return
        with self.state.lock:
            self.state.purges.append(purge)
        self._record(len(body), 201, "")
        self._answer(201, _accepted(purge))

    def _verify_signature(self, body: bytes) -> None:
        creds = self.state.credentials
        try:
            fields, unsigned = parse_authorization(self.headers.get("Authorization", ""))
            sent_at = datetime.strptime(fields["timestamp"], _TIMESTAMP).replace(tzinfo=UTC)
            token, access, nonce = fields["client_token"], fields["access_token"], fields["nonce"]
        except (ValueError, KeyError) as exc:
            raise _Refused(401, "Unauthorized", f"malformed Authorization header: {exc}") from None
        if not hmac.compare_digest(token, creds.client_token):
            raise _Refused(401, "Unauthorized", "Invalid client_token")
        if not hmac.compare_digest(access, creds.access_token):
            raise _Refused(401, "Unauthorized", "Invalid access_token")
        if abs((datetime.now(UTC) - sent_at).total_seconds()) > self.state.max_skew_s:
            raise _Refused(401, "Unauthorized", "timestamp is too old or in the future")
        wanted = expected_signature(
            credentials=creds,
            method=self.command,
            scheme="http",
            host=self.headers.get("Host", ""),
            path_and_query=self.path,
            headers=dict(self.headers.items()),
            body=body,
            unsigned_auth=unsigned,
            timestamp=fields["timestamp"],
        )
        if not hmac.compare_digest(fields["signature"], wanted):
            raise _Refused(401, "Unauthorized", "The signature does not match")
        with self.state.lock:
            if nonce in self.state.nonces:
                raise _Refused(401, "Unauthorized", "nonce already used (replayed request)")
            self.state.nonces.add(nonce)

    def _check_request(self, body: bytes) -> Purge:
        if len(body) > MAX_BODY_BYTES:
            raise _Refused(413, "Request Entity Too Large", f"body is {len(body)} bytes")
        match = _PATH.match(self.path)
        if self.command != "POST" or not match:
            raise _Refused(404, "Not Found", f"no Fast Purge endpoint {self.command} {self.path}")
        action, kind, network = match.groups()
        try:
            objects = json.loads(body)["objects"]
        except (ValueError, KeyError, TypeError):
            raise _Refused(400, "Bad Request", 'body must be {"objects": [...]}') from None
        if (
            not isinstance(objects, list)
            or not objects
            or not all(
                isinstance(o, str) and (kind != "url" or re.match(r"^https?://[^/]+/", o))
                for o in objects
            )
        ):
            raise _Refused(400, "Bad Request", "objects must be a non-empty list of absolute URLs")
        purge_id = str(uuid.uuid4())
        return Purge(action, kind, network, tuple(objects), purge_id, len(body))

    def _injected_failure(self) -> None:
        with self.state.lock:
            failure = self.state.failures.pop(0) if self.state.failures else None
        if failure is None:
            return
        status, retry_after = failure
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        raise _Refused(status, "Injected failure", f"injected HTTP {status}", headers)

    def _record(self, body_bytes: int, status: int, reason: str) -> None:
        with self.state.lock:
            self.state.received.append(
                Received(self.command, self.path, status, body_bytes, reason)
            )

    def _answer(
        self, status: int, payload: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        ctype = "application/json" if status == 201 else "application/problem+json"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _support_id() -> str:
    return "17PY" + uuid.uuid4().hex[:16]


def _accepted(purge: Purge) -> dict[str, Any]:
    return {
        "httpStatus": 201,
        "estimatedSeconds": 5,
        "purgeId": purge.purge_id,
        "supportId": _support_id(),
        "detail": "Request accepted",
    }


def _problem(refused: _Refused) -> dict[str, Any]:
    return {
        "type": f"https://problems.purge.akamaiapis.net/-/pep-authn/{refused.status}",
        "title": refused.title,
        "status": refused.status,
        "httpStatus": refused.status,
        "detail": refused.detail,
        "supportId": _support_id(),
    }
