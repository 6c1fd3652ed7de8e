"""Fault injection over real HTTP: a small reverse proxy in front of moto that answers
chosen requests with S3's 503 SlowDown (or drops the connection) before forwarding the rest."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from publish.retry import RetryPolicy

TOO_MANY_INVALIDATIONS = (
    b'<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type>'
    b"<Code>TooManyInvalidationsInProgress</Code><Message>Too many.</Message></Error>"
    b"</ErrorResponse>"
)
SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)

FAST_RETRY = RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05)  # our backoff, test-sized
Rule = Callable[[str, str], bool]  # (method, path) -> inject a fault?
Rewrite = Callable[[str, str, bytes], bytes]  # (method, path, upstream body) -> body sent on


@dataclass
class FaultLog:
    seen: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status
    bodies: list[tuple[str, str, bytes]] = field(default_factory=list)  # every request's body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.seen.append((method, path, status))

    def count(self, status: int) -> int:
        return sum(1 for _, _, s in self.seen if s == status)


class FaultProxy:
    """``with FaultProxy(upstream_host, upstream_port, rule) as proxy: proxy.url``."""

    def __init__(
        self,
        host: str,
        port: int,
        rule: Rule,
        *,
        reset: bool = False,
        status: int = 503,
        body: bytes = SLOWDOWN,
        rewrite: Rewrite | None = None,
        lose_answer: Rule | None = None,
    ) -> None:
        """`rule` answers instead of upstream; `rewrite` edits upstream's answers; `lose_answer`
        forwards the request (upstream acts on it) and then drops the connection unanswered."""
        self.log = FaultLog()
        fault_body = body
        upstream, log = (host, port), self.log

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request_body = self.rfile.read(length) if length else b""
                with log.lock:
                    log.bodies.append((self.command, self.path, request_body))
                if rule(self.command, self.path):
                    log.add(self.command, self.path, status)
                    if reset:
                        self.close_connection = True
                        self.connection.close()
                        return
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(fault_body)))
                    self.end_headers()
                    self.wfile.write(fault_body)
                    return
                conn = http.client.HTTPConnection(*upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = f"{upstream[0]}:{upstream[1]}"
                conn.request(self.command, self.path, body=request_body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if lose_answer is not None and lose_answer(self.command, self.path):
                    log.add(self.command, self.path, 0)
                    conn.close()
                    self.close_connection = True
                    self.connection.close()
                    return
                if rewrite is not None:
                    data = rewrite(self.command, self.path, data)
                log.add(self.command, self.path, response.status)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def never(method: str, path: str) -> bool:
    """A rule injecting no fault (for a proxy that only rewrites answers)."""
    return False


def fail_first(n: int, method: str = "PUT", contains: str = "") -> Rule:
    """A rule failing the first ``n`` requests with this method whose path contains ``contains``."""
    left = [n]
    lock = threading.Lock()

    def rule(m: str, path: str) -> bool:
        with lock:
            if m == method and contains in path and left[0] > 0:
                left[0] -= 1
                return True
            return False

    return rule


class Stall:
    """A rule holding every request it matches unanswered, as a stuck network does, until
    ``release()`` (then answered as ``FaultProxy``'s fault); ``held`` is set by the first one.
    ``after``: that many matching requests go through first; ``spreads``: from the first one
    held on, every request is held (the whole network stuck); ``forward``: once released, they
    go on to moto instead (a slow network); ``answered``: they reach moto, which acts on them,
    and their answers are held (the network stuck on the way back; give the proxy
    ``rewrite=stall.answer`` too)."""

    def __init__(
        self,
        matches: Rule,
        after: int = 0,
        *,
        spreads: bool = False,
        forward: bool = False,
        answered: bool = False,
    ) -> None:
        self.matches, self.left, self.spreads, self.forward = matches, after, spreads, forward
        self.answered = answered
        self.held = threading.Event()
        self.count = 0
        self._released = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> bool:
        if self.answered and not (self.spreads and self.held.is_set()):
            return False  # on to moto: `answer` holds what it says
        return self._holds(method, path) and not self.forward

    def answer(self, method: str, path: str, body: bytes) -> bytes:
        """A ``FaultProxy`` rewrite: with ``answered``, moto's answer to a matching request is
        held until ``release()``."""
        if self.answered:
            self._holds(method, path)
        return body

    def _holds(self, method: str, path: str) -> bool:
        """Whether this request is held; if so, returns once released."""
        with self._lock:
            if not (self.matches(method, path) or (self.spreads and self.held.is_set())):
                return False
            if self.left > 0:
                self.left -= 1
                return False
            self.count += 1
        self.held.set()
        self._released.wait()
        return True

    def release(self) -> None:
        self._released.set()
