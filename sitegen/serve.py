"""`sitegen serve`: the preview officials write alerts against.

Serves the in-memory bundle of a `Rebuilder` with the Content-Type the publisher will send
(from the manifest; its Cache-Control in `PUBLISHED_CACHE_HEADER`, the browser being told to
keep nothing), pretty URLs and the 404 page; rebuilds when sources change (`Watcher`); tells
open tabs to reload over Server-Sent Events; and, while the sources are broken, keeps serving
the last good build with an overlay listing every `path:line: message`.

The live-reload script is added to HTML *responses* only; the bundle and public/ never hold it.
"""

from __future__ import annotations

import errno
import hashlib
import html
import io
import ipaddress
import json
import os
import secrets
import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote, urlsplit

from sitegen import urls
from sitegen.bundle import MANIFEST_PATH, Bundle, manifest_bytes, write_bundle
from sitegen.config import load_config, shown_path
from sitegen.errors import Problem, SitegenError, plural
from sitegen.rebuild import Outcome, Rebuilder
from sitegen.watch import Debouncer, Watcher

EVENTS_PATH = "/__sitegen__/events"
SCRIPT_PATH = "/__sitegen__/live.js"
WORKER_PATH = "/__sitegen__/worker.js"
KEEPALIVE_S = 10.0
HEAD_TIMEOUT_S = 10.0  # to send a whole request line and headers: a browser needs a blink
SEND_TIMEOUT_S = 60.0  # to take each response (an event of the stream: each event)
# The browser must ask again for every page: with the publisher's `max-age=60`, a page
# opened by a link, or by Back, within a minute of an earlier visit came from the browser's
# cache, without the save made since; a 301 was kept for ever (`/` → an old base path).
# What the CDN will be told stays visible in its own header.
PREVIEW_CACHE_CONTROL = "no-store"
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}  # what a browser calls a loopback preview
PUBLISHED_CACHE_HEADER = "X-Published-Cache-Control"
ADVICE_SHOWN = 5  # notes of check's advice printed in full at each rebuild; then a count

LIVE_JS = """\
(function () {
  var build = document.currentScript.dataset.build;
  function section(box, heading, lines) {
    var head = document.createElement("strong");
    head.textContent = heading;
    var list = document.createElement("ul");
    lines.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    box.appendChild(head);
    box.appendChild(list);
  }
  function overlay(errors, drafts) {
    var box = document.getElementById("sitegen-overlay");
    if (!errors.length && !drafts.length) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "sitegen-overlay";
      document.body.appendChild(box);
    }
    // Mistakes cover the top of the page; drafts only its foot: the page is the point.
    box.setAttribute("role", errors.length ? "alert" : "status");
    box.style.cssText = "position:fixed;left:0;right:0;overflow:auto;z-index:2147483647;" +
      "font:15px/1.5 ui-monospace,monospace;padding:1em 1.5em;white-space:pre-wrap;" +
      (errors.length
        ? "top:0;max-height:70vh;background:#fff4f4;color:#5c0000;border-bottom:4px solid #c00"
        : "bottom:0;max-height:30vh;background:#fff8e0;color:#3d2e00;border-top:4px solid #b80");
    box.textContent = "";
    if (errors.length) {
      section(box, "This preview shows the last good build. Fix these problems:", errors);
    }
    if (drafts.length) {
      section(box, "A draft: replace these TODO lines before publishing " +
        "(sitegen build and sitegen publish refuse them):", drafts);
    }
  }
  function show(data) {
    var state = JSON.parse(data);
    if (state.build !== build) { location.reload(); return; }
    overlay(state.errors, state.drafts || []);
  }
  if (window.SharedWorker) {  // one event stream for every tab: see WORKER_JS
    var port = new SharedWorker("/__sitegen__/worker.js").port;
    port.onmessage = function (event) { show(event.data); };
    addEventListener("pagehide", function () { port.postMessage("bye"); });
    addEventListener("pageshow", function (event) { if (event.persisted) location.reload(); });
  } else {
    new EventSource("/__sitegen__/events").onmessage = function (event) { show(event.data); };
  }
})();
"""

# A browser opens at most 6 connections to one host (HTTP/1.1), and an event stream holds
# one for as long as its tab is open: with a stream per tab, the 7th tab of the preview
# waited for ever. The tabs share this worker, and it holds the one stream.
WORKER_JS = """\
var ports = [], last = null;
new EventSource("/__sitegen__/events").onmessage = function (event) {
  last = event.data;
  ports.forEach(function (port) { port.postMessage(last); });
};
onconnect = function (event) {
  var port = event.ports[0];
  ports.push(port);
  port.onmessage = function (message) {  // "bye": the tab is closed or goes to another page
    var at = ports.indexOf(port);
    if (message.data === "bye" && at >= 0) ports.splice(at, 1);
  };
  if (last !== null) port.postMessage(last);
};
"""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the server shows right now: the last good bundle and the current problems.

    The bundle's base path and manifest come with it: a site.toml saved with a mistake
    leaves no config to read them from, and the last good build stays where it was."""

    bundle: Bundle = field(default_factory=dict)
    headers: dict[str, tuple[str, str]] = field(default_factory=dict)
    build: int = 0  # increases with every good build that changed a file
    errors: tuple[Problem, ...] = ()
    revision: int = 0  # increases with every change of build or errors
    base: str = "/"  # the site's base path, as base_url writes it (percent-encoded)
    manifest: Callable[[], bytes] | None = None  # the bundle's, made when asked for
    run: str = ""  # this server's: build numbers start again at 1 when serve is restarted
    drafts: tuple[Problem, ...] = ()  # TODOs left: shown, never written out (rebuild.py)

    @property
    def version(self) -> str:
        """What a page's script compares with the server's to know whether it is current."""
        return f"{self.run}.{self.build}"

    def event(self) -> bytes:
        state = {
            "build": self.version,
            "errors": [str(p) for p in self.errors],
            "drafts": [str(p) for p in self.drafts],
        }
        return f"data: {json.dumps(state)}\n\n".encode()


class Preview:
    """A rebuilder plus the snapshot the HTTP handlers read; thread-safe."""

    def __init__(
        self, rebuilder: Rebuilder, echo: Callable[[str], None], write_output: bool = True
    ) -> None:
        self.rebuilder = rebuilder
        self.echo = echo
        self.write_output = write_output
        self.snapshot = Snapshot(run=secrets.token_hex(4))
        self.changed = threading.Condition()
        self.closing = False
        self._unwritten = False  # the first good build is still to be written to public/
        self._said: tuple[Problem, ...] = ()  # the problems and advice the last report gave
        self._building = threading.Lock()  # the first build's thread, then the watcher's

    def rebuild(self, touched: list[Path], write: bool = True, quiet: bool = False) -> Outcome:
        """Rebuild and publish the new snapshot; print the same lines the overlay shows
        (`quiet`: only if they differ from the last ones, or files changed). The first good
        build is written to public/ then, or with `write` False, by `write_pending` (once
        the server answers: the write takes longer than the build)."""
        with self._building:
            return self._rebuild(touched, write, quiet)

    def write_pending(self) -> None:
        """Write the first good build to public/, if `rebuild` left it to this."""
        with self._building:
            self._write_pending()

    def _rebuild(self, touched: list[Path], write: bool, quiet: bool) -> Outcome:
        first = not self.snapshot.build
        outcome = self.rebuilder.rebuild(touched)
        if outcome.ok and first:  # what the manifest written to public/ will say
            self.rebuilder.headers_from_manifest(self.rebuilder.manifest())
        old = self.snapshot
        build = old.build + 1 if outcome.ok and (outcome.changed or first) else old.build
        drafts = outcome.drafts
        if (build, outcome.errors, drafts) != (old.build, old.errors, old.drafts):
            if outcome.ok:
                snap = self._good(build, old.revision + 1, drafts)
            else:  # the last good build stays, and where it was (none yet: where it will be)
                base = old.base if old.bundle else self.base_path()
                revision = old.revision + 1
                snap = replace(
                    old, errors=outcome.errors, drafts=drafts, revision=revision, base=base
                )
            with self.changed:
                self.snapshot = snap
                self.changed.notify_all()
        # check's advice, once the pages are served (it does not delay them), and while a file
        # has an error on the others, as check gives it
        advice = self.rebuilder.advice()
        said = (*outcome.problems, *advice)
        if not quiet or outcome.changed or said != self._said:
            self._report(outcome, bool(old.errors), advice, first)
        self._said = said
        if outcome.ok and first and self.write_output:
            self._unwritten = True
        if write:
            self._write_pending()
        return replace(outcome, problems=said)

    def _good(self, build: int, revision: int, drafts: tuple[Problem, ...]) -> Snapshot:
        """The snapshot of the rebuilder's bundle, just built without errors."""
        rebuilder, config = self.rebuilder, self.rebuilder.config
        assert config is not None
        manifest = partial(manifest_bytes, rebuilder.bundle, config.cache, rebuilder.updated)
        base = urls.base_path(config)
        run = self.snapshot.run
        return Snapshot(
            rebuilder.bundle, rebuilder.headers, build, (), revision, base, manifest, run, drafts
        )

    def _write_pending(self) -> None:
        """The first good build goes to public/ too, as `sitegen build` writes it: only the
        files that differ (the current bundle, should another build have followed it); later
        ones stay in memory. Its headers were taken from the same manifest (`_rebuild`): the
        publisher reads that one. A build with drafts is not written: `publish --no-build`
        sends public/ as it is."""
        if not self._unwritten:
            return
        self._unwritten = False
        config = self.rebuilder.config
        assert config is not None
        drafts = self.snapshot.drafts
        if drafts:
            self.echo(
                f"note: the site is not written to {shown_path(config.output_path)}: "
                f"{drafts[0].path} still has TODO lines (a draft, which only this preview "
                "shows); once they are replaced, `sitegen build` writes it"
            )
            return
        try:
            report = write_bundle(
                self.rebuilder.bundle, self.rebuilder.manifest(), config.output_path
            )
        except (SitegenError, OSError) as exc:  # the preview works from memory regardless
            self.echo(f"warning: could not write {config.output_path}: {exc}")
            return
        self.echo(
            f"{shown_path(config.output_path)} holds this build: "
            f"{plural(report.written, 'file')} written, {report.removed:,} removed"
        )

    def _report(
        self, outcome: Outcome, had_errors: bool, advice: tuple[Problem, ...], first: bool
    ) -> None:
        """Every error and warning; of check's advice the first ADVICE_SHOWN, then how many
        more: 124 notes on a big site scrolled the address and the errors out of sight.
        `first`: no good build came before this one, so it is not a rebuild and changed
        nothing (it said "rebuilt in …, N files changed" at start)."""
        for problem in outcome.problems:
            self.echo(str(problem))
        shown = advice if len(advice) <= ADVICE_SHOWN else advice[:ADVICE_SHOWN]
        for problem in shown:
            self.echo(str(problem))
        if len(shown) < len(advice):
            more = plural(len(advice) - len(shown), "more note")
            self.echo(f"… and {more}: run `sitegen check` to see them all")
        # the site's figures as `sitegen build` says them ("N pages rendered" counted files)
        if outcome.ok and first:
            self.echo(
                f"built in {outcome.seconds * 1000:.0f} ms: "
                f"{plural(outcome.pages, 'page')}, {plural(outcome.files, 'file')}"
            )
        elif outcome.ok and (outcome.changed or outcome.problems or advice or had_errors):
            self.echo(
                f"rebuilt in {outcome.seconds * 1000:.0f} ms: "
                f"{plural(outcome.rendered, 'file')} rendered, "
                f"{plural(len(outcome.changed), 'file')} changed"
            )
        elif not outcome.ok:
            problems = plural(len(outcome.errors), "problem")
            if self.snapshot.bundle:
                self.echo(f"{problems}; still serving the last good build")
            else:
                self.echo(f"{problems}; nothing to serve until they are fixed (save to retry)")

    def base_path(self) -> str:
        """Where the site's pages link to on this server: its base_url's path."""
        config = self.rebuilder.config
        return "/" if config is None else urls.base_path(config)

    def wait_for_change(self, revision: int, timeout: float) -> Snapshot:
        with self.changed:
            self.changed.wait_for(
                lambda: self.closing or self.snapshot.revision != revision, timeout
            )
            return self.snapshot

    def close(self) -> None:
        with self.changed:
            self.closing = True
            self.changed.notify_all()


def resolve(
    snapshot: Snapshot, url_path: str, base: str = "/"
) -> tuple[int, str | None, str | None]:
    """URL path → (status, bundle path to send, redirect location). Pretty URLs as on the CDN:
    `/x/` is `x/index.html`; `/x` redirects to `/x/` when that page exists; else the 404 page.
    The site is served under `base`, its base_url's path (`urls.base_path`), where its pages
    link to: the host's root and the base without its slash redirect there, and anything
    else outside it is missing. `base` is as base_url writes it (percent-encoded), and
    compared decoded, as the request's path is."""
    path, plain = unquote(url_path), unquote(base)
    if not path.startswith(plain):
        if path in ("/", plain.rstrip("/")):
            return 301, None, base
        return 404, "404.html" if "404.html" in snapshot.bundle else None, None
    path = path[len(plain) :].lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    if path in snapshot.bundle:
        return 200, path, None
    if f"{path}/index.html" in snapshot.bundle:
        return 301, None, base + path + "/"
    return 404, "404.html" if "404.html" in snapshot.bundle else None, None


def inject(html: bytes, version: str) -> bytes:
    """The page with the live-reload script before its last </body> (or at its end)."""
    tag = f'<script src="{SCRIPT_PATH}" data-build="{version}"></script>\n'.encode()
    at = html.rfind(b"</body>")
    return html + tag if at < 0 else html[:at] + tag + html[at:]


class _HeadReader:
    """A connection's reading end that gives up at `deadline` (time.monotonic): a client
    that sends nothing, half a request line, or a header line now and then held a server
    thread for ever (a few of them could exhaust a preview open to the network). The deadline
    is for reading the request: a response, the long-lived event stream among them, only
    has SEND_TIMEOUT_S for each write."""

    def __init__(
        self, rfile: io.BufferedIOBase, connection: socket.socket, deadline: float
    ) -> None:
        self.rfile, self.connection, self.deadline = rfile, connection, deadline

    def readline(self, size: int = -1) -> bytes:
        left = self.deadline - time.monotonic()
        if left <= 0:  # a per-read timeout alone lets a byte a second go on for ever
            raise TimeoutError("the request was not sent in time")
        self.connection.settimeout(left)
        return self.rfile.readline(size)

    def read(self, size: int = -1) -> bytes:
        return self.rfile.read(size)

    def close(self) -> None:
        self.rfile.close()


class _Handler(BaseHTTPRequestHandler):
    preview: Preview
    server_version = "sitegen-preview"
    head_timeout = HEAD_TIMEOUT_S

    def setup(self) -> None:
        super().setup()
        deadline = time.monotonic() + self.head_timeout  # HTTP/1.0: one request a connection
        # handle_one_request drops the connection on the TimeoutError of a read
        self.rfile = _HeadReader(self.rfile, self.connection, deadline)  # type: ignore[assignment]

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        self.connection.settimeout(SEND_TIMEOUT_S)  # the request is read: only sending now
        if not self._host_allowed():
            body = b"This preview answers only at localhost or 127.0.0.1.\n"
            return self._send(403, body, "text/plain; charset=utf-8", "no-store", head)
        url = urlsplit(self.path)
        url_path = url.path
        if url_path == EVENTS_PATH:
            return self._events(head)
        if url_path in (SCRIPT_PATH, WORKER_PATH):
            script = LIVE_JS if url_path == SCRIPT_PATH else WORKER_JS
            return self._send(
                200, script.encode(), "text/javascript; charset=utf-8", "no-store", head
            )
        snap = self.preview.snapshot
        if unquote(url_path) == unquote(snap.base) + MANIFEST_PATH and snap.manifest:
            body = snap.manifest()
            return self._send(200, body, "application/json; charset=utf-8", "no-store", head)
        status, path, location = resolve(snap, url_path, snap.base)
        if location is not None:
            self.send_response(status)
            self.send_header("Location", location + (f"?{url.query}" if url.query else ""))
            self.send_header("Cache-Control", PREVIEW_CACHE_CONTROL)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path is None:
            body = _empty_page(snap)
            return self._send(status, body, "text/html; charset=utf-8", "no-store", head)
        content_type, published = snap.headers[path]
        body = snap.bundle[path].data
        if content_type.startswith("text/html"):
            body = inject(body, snap.version)
        return self._send(status, body, content_type, PREVIEW_CACHE_CONTROL, head, published)

    def _host_allowed(self) -> bool:
        """Whether the address the browser asked for is this computer's, when the preview
        is for this computer only. Else a web page could read the drafts: a name of its own
        that its DNS then points at 127.0.0.1 ("DNS rebinding") is, for the browser, the
        page's own site."""
        host = self.headers.get("Host")
        if host is None or not _local_only(self.server.server_address):
            return True  # no browser sends no Host; open to the network: any of its names
        name = urlsplit(f"//{host}").hostname or ""
        return name in LOCAL_NAMES or name.endswith(".localhost")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        cache_control: str,
        head: bool,
        published: str | None = None,  # the Cache-Control `sitegen publish` will send
    ) -> None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if status == 200 and self.headers.get("If-None-Match") == etag:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", cache_control)
        if published is not None:
            self.send_header(PUBLISHED_CACHE_HEADER, published)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _events(self, head: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if head:  # the headers alone: a HEAD got the stream, and held a thread for ever
            return
        snap = self.preview.snapshot
        try:
            self.wfile.write(snap.event())
            self.wfile.flush()
            while not self.preview.closing:
                newer = self.preview.wait_for_change(snap.revision, KEEPALIVE_S)
                if self.preview.closing:
                    break
                self.wfile.write(newer.event() if newer.revision != snap.revision else b": ok\n\n")
                self.wfile.flush()
                snap = newer
        except OSError:  # the tab was closed or reloaded
            return

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return  # one line per request would drown the rebuild messages


def _empty_page(snap: Snapshot) -> bytes:
    """Shown before any good build exists: why, in the page itself (the overlay's script
    updates it as files are saved)."""
    items = "".join(f"<li>{html.escape(str(p))}</li>" for p in snap.errors)
    return inject(
        b"<!doctype html><html><head><meta charset='utf-8'><title>sitegen preview</title>"
        b"</head><body><p>No good build yet: fix these, and save.</p><ul>"
        + items.encode()
        + b"</ul></body></html>",
        snap.version,
    )


def _local_only(address: object) -> bool:
    """Whether a server listening at `address` (host, port[, ...]) is for this computer only."""
    return isinstance(address, tuple) and ipaddress.ip_address(str(address[0])).is_loopback


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class PreviewServer:
    """HTTP server + watcher around a `Preview`. `start()` builds once, then serves."""

    def __init__(
        self,
        site_file: Path,
        host: str = "127.0.0.1",
        port: int = 8000,
        now: datetime | None = None,
        echo: Callable[[str], None] = print,
        quiet_s: float = 0.05,
        write_output: bool = True,
    ) -> None:
        # a TODO left is shown, not refused; the first build renders on every core
        rebuilder = Rebuilder(site_file, now, drafts=True, jobs=os.cpu_count() or 1)
        self.preview = Preview(rebuilder, echo, write_output)
        handler = type("Handler", (_Handler,), {"preview": self.preview})
        server = _Server6 if ":" in host else ThreadingHTTPServer  # ::1, :: (names: IPv4)
        self.httpd = server((host, port), handler)
        self.httpd.daemon_threads = True
        self.quiet_s = quiet_s
        self.echo = echo
        self.watcher: Watcher | None = None
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The preview's address on this computer (browsers refuse 0.0.0.0 and ::)."""
        host, port = str(self.httpd.server_address[0]), self.httpd.server_address[1]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}{self.preview.snapshot.base}"

    @property
    def local_only(self) -> bool:
        """Whether only this computer can reach the preview."""
        return _local_only(self.httpd.server_address)

    def start(self, ready: Callable[[], None] | None = None) -> None:
        """Build, serve, watch, then write public/ (`ready` is called once pages are served).

        The first build renders across cores, in workers forked while this process has one
        thread (`build.can_fork`): so before the server's and the watcher's. A save made while
        it ran is caught up once the watcher runs (`Rebuilder.changed_since`): never seen,
        the preview showed the text before it as current until the next save."""
        rebuilder = self.preview.rebuilder
        since = time.time_ns()
        self.preview.rebuild([], write=False)
        self._thread.start()
        root = rebuilder.site_file.resolve().parent
        folders, ignore = self._folders()
        watcher = Watcher(
            root,
            folders,
            self._rebuild,
            lambda exc: self.echo(f"internal error while rebuilding: {exc!r}"),
            Debouncer(self.quiet_s, max(0.5, self.quiet_s)),
            ignore,
            [rebuilder.site_file.resolve()],
        )
        try:
            watcher.start()
        except OSError as exc:  # not the port's fault (see listen_advice)
            raise SitegenError(watch_advice(folders, exc)) from exc
        self.watcher = watcher  # from here on stop() stops it
        saved = rebuilder.changed_since(since)
        if saved:  # said again only if it says something new: a file saved just before
            self.preview.rebuild(saved, write=False, quiet=True)  # written after ready()
            folders, ignore = self._folders()
            if (folders, ignore) != (watcher.folders, watcher.ignore):  # site.toml's, saved:
                watcher.notice(rebuilder.site_file.resolve(), False)  # its thread retargets
        if ready is not None:
            ready()
        self.preview.write_pending()

    def _folders(self) -> tuple[list[Path], list[Path]]:
        """The folders to watch and the one to ignore (the output), as site.toml names them."""
        config, site_file = self.preview.rebuilder.config, self.preview.rebuilder.site_file
        if config is None:  # not built yet, or site.toml has a mistake
            try:
                config = load_config(site_file)
            except SitegenError:
                root = site_file.resolve().parent
                return [root / "content", root / "templates"], [root / "public"]
        return [config.content_path, config.templates_path], [config.output_path]

    def _rebuild(self, touched: list[Path]) -> None:
        """Rebuild (on the watcher's thread); site.toml may name other folders now."""
        self.preview.rebuild(touched)
        if self.watcher is not None and self.preview.rebuilder.config is not None:
            self.watcher.retarget(*self._folders())

    def stop(self) -> None:
        self.preview.close()
        if self.watcher is not None:
            self.watcher.stop()
        if self._thread.is_alive():  # stopped before it started (Ctrl-C in the first build):
            self.httpd.shutdown()  # shutdown() would wait for ever, join() raise
            self._thread.join(timeout=5)
        self.httpd.server_close()


def listen_advice(host: str, port: int, exc: OSError) -> str:
    """Why the preview cannot listen, and the option that fixes it."""
    reason = exc.strerror or str(exc)
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {host}:{port} ({reason}): {host!r} is not an address of this "
            "machine (or no such name); try --host 127.0.0.1 (this machine only) or "
            "--host 0.0.0.0 (every network)"
        )
    if exc.errno == errno.EACCES and 0 < port < 1024:
        return (
            f"cannot listen on {host}:{port} ({reason}): ports below 1024 need root; "
            "try --port 8000"
        )
    if exc.errno == errno.EADDRINUSE:  # "another --port" left the official to guess one
        free = _free_port(host, port)
        suggestion = f"--port {free} (free now)" if free else "--port 0 (any free port)"
        return (
            f"cannot listen on {host}:{port} ({reason}): another program uses this port "
            f"(perhaps a preview already running); try another port: {suggestion}"
        )
    return f"cannot listen on {host}:{port} ({reason})"


def _free_port(host: str, port: int) -> int | None:
    """The first of the next 20 ports after `port` that `host` can listen on, if any."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in range(port + 1, min(port + 21, 65536)):
        try:
            socket.create_server((host, candidate), family=family).close()
        except OSError:
            continue
        return candidate
    return None


def watch_advice(folders: list[Path], exc: OSError) -> str:
    """Why the preview cannot watch the site's folders, and what to do."""
    names = " and ".join(f"{f.name}/" for f in folders)
    advice = ""
    if exc.errno in (errno.ENOSPC, errno.EMFILE):  # watchdog's words for inotify's limits
        advice = (
            ": this computer limits how many folders programs may watch, and other programs "
            "(editors, file sync, other previews) use them up. Close some and try again, or "
            "ask for the limit to be raised (Linux: sysctl fs.inotify.max_user_watches and "
            "fs.inotify.max_user_instances)"
        )
    return f"cannot watch {names} for changes ({exc.strerror or exc}){advice}"


STOP_POLL_S = 0.25  # how soon at most a Ctrl-C the waiting thread slept through is acted on


def _until_stopped() -> NoReturn:
    """Sleep until Ctrl-C (or SIGTERM, made one) raises KeyboardInterrupt. Never in one wait
    without end: Python acts on a signal in the main thread, between instructions, and a
    wait is cut short only by a signal that comes while it sleeps. One that came the instant
    before (or that another thread caught) was never acted on: `threading.Event().wait()`
    slept through the Ctrl-C and the preview ran on (CI, about one run in 30 under load)."""
    while True:
        time.sleep(STOP_POLL_S)  # its end runs the handler of a signal it slept through


def serve(
    site_file: Path,
    host: str,
    port: int,
    open_browser: bool,
    now: datetime | None,
    echo: Callable[[str], None],
) -> None:
    """Run the preview until interrupted (Ctrl-C; the caller may make SIGTERM one too)."""
    try:
        server = PreviewServer(site_file, host, port, now, echo)
    except OSError as exc:  # only listening: any other is not the address's fault
        raise SitegenError(listen_advice(host, port, exc)) from exc

    def ready() -> None:  # before public/ is written: the pages are served already
        if not server.local_only:
            echo(
                f"warning: the preview is open to other computers on the network (--host "
                f"{host}): anyone who can reach this one can read alerts not yet published. "
                "Use --host 127.0.0.1 to keep it on this computer."
            )
        echo(f"serving {server.url} (Ctrl-C to stop); watching content/, templates/, site.toml")
        if open_browser:
            webbrowser.open(server.url)

    try:
        server.start(ready)  # an interruption in its first build ends as one later does
        _until_stopped()
    except KeyboardInterrupt:
        echo("stopped")
    finally:
        server.stop()
