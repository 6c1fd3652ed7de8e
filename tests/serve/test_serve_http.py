"""The preview server: publisher's headers, pretty URLs, 404, live-reload script only in responses,
and it survives whatever happens to the files."""

from __future__ import annotations

import json
import shutil
import socket
import time
import urllib.request

import serve_support
from serve_support import get, wait_until

from sitegen.bundle import MANIFEST_PATH
from sitegen.serve import EVENTS_PATH, PUBLISHED_CACHE_HEADER, SCRIPT_PATH, PreviewServer
from sitegen_fixtures import NOW, alert_text

preview_site = serve_support.preview_site  # fixtures
server = serve_support.server


def test_headers_are_the_manifests_and_urls_are_pretty(server: PreviewServer) -> None:
    config = server.preview.rebuilder.config
    assert config is not None
    manifest = json.loads((config.output_path / MANIFEST_PATH).read_text())["files"]
    for url, path in [
        ("/", "index.html"),
        ("/alerts/flood/", "alerts/flood/index.html"),
        ("/alerts/flood/cap.xml", "alerts/flood/cap.xml"),
        ("/feed.atom", "feed.atom"),
    ]:
        r = get(server.url.rstrip("/") + url)
        assert r.status == 200, url
        assert r.headers["Content-Type"] == manifest[path]["content_type"]
        assert r.headers[PUBLISHED_CACHE_HEADER] == manifest[path]["cache_control"]
    moved = get(server.url + "alerts/flood")
    assert (moved.status, moved.headers["Location"]) == (301, "/alerts/flood/")
    assert get(server.url + "alerts/flood/index.html").status == 200


def test_the_browser_asks_again_for_every_page_and_redirect(server: PreviewServer) -> None:
    """With the publisher's `max-age=60` the browser kept each page a minute: one opened by a
    link or Back within it came from its cache, without the save made since; and a 301 with
    no Cache-Control is kept for ever (`/` went on to an old base path after base_url
    changed, or to another site's previewed on the same port)."""
    for url in ("", "alerts/flood/", "feed.atom", "alerts/nope/", "alerts/flood"):
        r = get(server.url + url)
        assert r.status in (200, 301, 404), url
        assert r.headers["Cache-Control"] == "no-store", url


def test_the_slash_redirect_keeps_the_query_string(server: PreviewServer) -> None:
    """`/alerts/flood?a=1` went to `/alerts/flood/`: the query (a campaign tag, a test
    switch a template's script reads) was lost on the way."""
    moved = get(server.url + "alerts/flood?a=1&b=%20")
    assert (moved.status, moved.headers["Location"]) == (301, "/alerts/flood/?a=1&b=%20")


def test_unknown_paths_get_the_404_page_with_status_404(server: PreviewServer) -> None:
    config = server.preview.rebuilder.config
    assert config is not None
    r = get(server.url + "alerts/nope/")
    assert r.status == 404
    assert r.body.startswith((config.output_path / "404.html").read_bytes().split(b"</body>")[0])
    assert get(server.url + "..%2f..%2fsite.toml").status == 404


def test_the_reload_script_is_only_in_preview_responses(server: PreviewServer) -> None:
    page = get(server.url + "alerts/flood/").body
    assert SCRIPT_PATH.encode() in page
    assert get(server.url + "feed.atom").body.count(b"script") == 0
    config = server.preview.rebuilder.config
    assert config is not None
    for built in config.output_path.rglob("*"):
        if built.is_file():
            assert b"__sitegen__" not in built.read_bytes(), built
    assert all(b"__sitegen__" not in f.data for f in server.preview.rebuilder.bundle.values())


def test_events_stream_starts_with_the_current_state(server: PreviewServer) -> None:
    with urllib.request.urlopen(server.url + "__sitegen__/events", timeout=5) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        line = stream.readline()
    state = json.loads(line.removeprefix(b"data: "))
    assert state == {"build": server.preview.snapshot.run + ".1", "errors": [], "drafts": []}


def _closed_by_server(client: socket.socket) -> bool:
    """Whether the server closed this connection (within the client's own timeout)."""
    try:
        return client.recv(1024) == b""
    except ConnectionResetError:  # closed with what the client sent still unread
        return True
    except TimeoutError:
        return False


def test_head_of_the_events_stream_is_its_headers_alone(server: PreviewServer) -> None:
    """HEAD got the whole stream: a body no HEAD may have, and a thread held for as long
    as the client stayed."""
    host, port = server.httpd.server_address[:2]
    with socket.create_connection((host, port), timeout=3) as client:
        client.sendall(f"HEAD {EVENTS_PATH} HTTP/1.0\r\n\r\n".encode())
        answer = b""
        while chunk := client.recv(4096):  # the server closes the connection when done
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 200")
    assert b"text/event-stream" in answer
    assert answer.endswith(b"\r\n\r\n")  # nothing after the headers


def _status_for_host(server: PreviewServer, path: str, host: str) -> bytes:
    address = server.httpd.server_address[:2]
    with socket.create_connection(address, timeout=3) as client:
        client.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        return client.recv(12)


def test_only_this_computers_names_are_answered(server: PreviewServer) -> None:
    """Any web page the official opened could read the drafts: a name of its own, its DNS
    then pointing at 127.0.0.1 ("DNS rebinding"), is the page's own site for the browser."""
    port = server.httpd.server_address[1]
    for path in ("/alerts/flood/", EVENTS_PATH, "/.sitegen/manifest.json"):
        assert _status_for_host(server, path, f"attacker.example:{port}") == b"HTTP/1.0 403"
    for host in (f"localhost:{port}", "127.0.0.1", f"[::1]:{port}", "site.localhost"):
        assert _status_for_host(server, "/alerts/flood/", host) == b"HTTP/1.0 200", host


def test_a_stalled_client_is_dropped_and_others_are_served(server: PreviewServer) -> None:
    """A client that connected and sent nothing, half a request line or a byte now and then
    held a server thread for ever: a few of them (--host 0.0.0.0) could exhaust it."""
    server.httpd.RequestHandlerClass.head_timeout = 0.5  # type: ignore[attr-defined]
    host, port = server.httpd.server_address[:2]
    silent, half, dribbling = (socket.create_connection((host, port), timeout=5) for _ in "abc")
    half.sendall(b"GET /alerts/fl")
    dribbling.sendall(b"GET / HTTP/1.0\r\n")
    assert get(server.url).status == 200  # served while they wait
    started = time.monotonic()
    for _ in range(4):  # a header line each 0.2 s: never done, never silent for long
        dribbling.sendall(b"X-A: b\r\n")
        time.sleep(0.2)
    assert all(_closed_by_server(c) for c in (silent, half, dribbling))
    assert time.monotonic() - started < 3
    for client in (silent, half, dribbling):
        client.close()
    assert get(server.url).status == 200


def test_the_events_stream_outlives_the_request_timeout(
    server: PreviewServer, preview_site
) -> None:
    """The request timeout is for reading a request: the live-reload stream is a response
    that lasts as long as the tab."""
    server.httpd.RequestHandlerClass.head_timeout = 0.3  # type: ignore[attr-defined]
    with urllib.request.urlopen(server.url + "__sitegen__/events", timeout=5) as stream:
        first = json.loads(stream.readline().removeprefix(b"data: "))
        stream.readline()
        time.sleep(1)
        flood = preview_site.root / "content" / "alerts" / "flood.md"
        flood.write_text(alert_text(title="Saved after a second"))
        line = stream.readline()
    assert json.loads(line.removeprefix(b"data: "))["build"] != first["build"]


def test_a_save_during_the_first_build_is_served(preview_site) -> None:  # type: ignore[no-untyped-def]
    """The watcher started after the first build (seconds, for a big site) and its write to
    public/: a save made then was never seen, and the preview showed the text before it,
    as current, until the next save. Here the save is made as the first build is reported."""
    flood = preview_site.root / "content" / "alerts" / "flood.md"

    def echo(line: str) -> None:
        if line.startswith("built in") and b"Saved early" not in flood.read_bytes():
            flood.write_text(alert_text(title="Saved early"))

    server = PreviewServer(preview_site.root / "site.toml", port=0, now=NOW, echo=echo)
    server.start()
    try:
        wait_until(lambda: b"Saved early" in get(server.url + "alerts/flood/").body)
    finally:
        server.stop()


def test_saves_are_served_and_bad_files_never_stop_the_server(
    server: PreviewServer, preview_site
) -> None:
    url = server.url + "alerts/flood/"
    alerts = preview_site.root / "content" / "alerts"
    (alerts / "flood.md").write_text(alert_text().replace("The river is rising.", "Edited once."))
    wait_until(lambda: b"Edited once." in get(url).body)

    (alerts / "flood.md").write_bytes(alert_text().encode()[:40])  # a half-written save
    wait_until(lambda: bool(server.preview.snapshot.errors))
    assert server.preview.snapshot.errors[0].path == "content/alerts/flood.md"
    assert b"Edited once." in get(url).body  # the last good build is still served

    (alerts / "flood.md").unlink()  # deleted: the page goes, the server stays
    wait_until(lambda: get(url).status == 404 and not server.preview.snapshot.errors)

    (alerts / "sub").mkdir()
    (alerts / "sub" / "flood.md").write_text(alert_text())
    wait_until(lambda: get(url).status == 200)
    shutil.move(alerts / "sub", alerts / "renamed")  # a renamed folder
    wait_until(lambda: get(url).status == 200 and not server.preview.snapshot.errors)
    (alerts / "renamed" / "flood.md").write_text(alert_text(title="Renamed folder works"))
    wait_until(lambda: b"Renamed folder works" in get(url).body)


def test_a_site_under_a_base_path_is_served_there(preview_site) -> None:  # type: ignore[no-untyped-def]
    """With base_url https://…/emergency/ the pages link to /emergency/…: the preview serves
    the site there, so every link in it works, and sends the host's root there."""
    import re

    from sitegen_fixtures import NOW

    toml = preview_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("https://alerts.test/", "https://x.test/emergency/"))
    server = PreviewServer(toml, port=0, now=NOW, echo=lambda line: None)
    server.start()
    try:
        assert server.url.endswith("/emergency/")
        root = server.url.split("/emergency/")[0]
        assert (get(root + "/").status, get(root + "/").headers["Location"]) == (301, "/emergency/")
        assert get(root + "/alerts/flood/").status == 404  # outside the site
        moved = get(server.url + "alerts/flood")
        assert (moved.status, moved.headers["Location"]) == (301, "/emergency/alerts/flood/")
        seen = set()
        for page in ("", "alerts/flood/", "areas/", "ko/archive/", "no-such-page/"):
            html = get(server.url + page).body.decode()
            seen.update(re.findall(r'href="(/[^"]*)"', html))
        assert seen and all(href.startswith("/emergency/") for href in seen), seen
        for href in sorted(seen):
            assert get(root + href).status == 200, href
    finally:
        server.stop()


def test_before_any_good_build_the_page_itself_says_why(preview_site) -> None:  # type: ignore[no-untyped-def]
    """A site broken from the start had a bare 'No good build yet.' (the reasons only through
    the script's overlay), and the log said it was 'still serving the last good build'."""
    (preview_site.root / "content" / "alerts" / "flood.md").write_text("---\ntitle: x\n---\n")
    lines: list[str] = []
    srv = PreviewServer(preview_site.root / "site.toml", port=0, now=NOW, echo=lines.append)
    srv.start()
    try:
        page = get(srv.url)
        assert page.status == 404 and b"No good build yet: fix these, and save." in page.body
        assert b"<li>content/alerts/flood.md:" in page.body
        assert any("nothing to serve until they are fixed" in line for line in lines)
        assert not any("still serving the last good build" in line for line in lines)
    finally:
        srv.stop()


def test_a_broken_site_toml_keeps_the_site_where_it_was(preview_site) -> None:  # type: ignore[no-untyped-def]
    """Under a base path, a site.toml saved with a mistake moved the preview to the host's
    root: every page of the last good build answered 404 (the log saying it was "still
    serving" it), and its manifest URL broke the connection with a traceback."""
    toml = preview_site.root / "site.toml"
    good = toml.read_text().replace("https://alerts.test/", "https://x.test/emergency/")
    toml.write_text(good)
    lines: list[str] = []
    server = PreviewServer(toml, port=0, now=NOW, echo=lines.append)
    server.start()
    try:
        page = server.url + "alerts/flood/"
        toml.write_text(good.replace("[site]", "[site"))
        wait_until(lambda: bool(server.preview.snapshot.errors))
        assert server.url.endswith("/emergency/")
        assert get(page).status == 200
        assert get(server.url + MANIFEST_PATH).status == 200
        root = server.url.split("/emergency/")[0]
        assert get(root + "/" + MANIFEST_PATH).status == 404
        assert get(root + "/").headers["Location"] == "/emergency/"
        toml.write_text(good)
        wait_until(lambda: not server.preview.snapshot.errors)
        assert get(page).status == 200
    finally:
        server.stop()
    assert not [line for line in lines if "internal error" in line]


def test_a_base_path_written_percent_encoded_is_served(preview_site) -> None:  # type: ignore[no-untyped-def]
    """site.toml must write a base path in other letters encoded (%EA%B2%BD%EB%B3%B4 for
    경보); the preview compared it with the decoded request path and answered 404 to all."""
    toml = preview_site.root / "site.toml"
    base = "/%EA%B2%BD%EB%B3%B4/"
    toml.write_text(toml.read_text().replace("https://alerts.test/", f"https://x.test{base}"))
    server = PreviewServer(toml, port=0, now=NOW, echo=lambda line: None)
    server.start()
    try:
        assert server.url.endswith(base)
        root = server.url.removesuffix(base)
        assert get(server.url).status == 200
        assert get(server.url + "alerts/flood/").status == 200
        moved = get(server.url + "alerts/flood")
        assert (moved.status, moved.headers["Location"]) == (301, base + "alerts/flood/")
        assert get(root + base.rstrip("/")).headers["Location"] == base
        assert get(root + "/").headers["Location"] == base
        assert get(root + "/alerts/flood/").status == 404
    finally:
        server.stop()


def test_a_mistake_undone_is_reported_fixed(server: PreviewServer, preview_site) -> None:  # type: ignore[no-untyped-def]
    """A save that undid a mistake, giving back the very pages of the last good build,
    printed nothing: the terminal's last line stayed the error."""
    lines: list[str] = server.lines  # type: ignore[attr-defined]
    source = preview_site.root / "content" / "alerts" / "flood.md"
    good = source.read_text()
    source.write_text(good.replace("severity: Severe", "severity: [Severe"))
    wait_until(lambda: bool(server.preview.snapshot.errors))
    wait_until(lambda: "still serving the last good build" in lines[-1])
    source.write_text(good)
    wait_until(lambda: not server.preview.snapshot.errors)
    wait_until(lambda: lines[-1].startswith("rebuilt in "))


def test_folders_site_toml_names_anew_are_watched(server: PreviewServer, preview_site) -> None:  # type: ignore[no-untyped-def]
    """site.toml's content_dir changed while serving: the next build read the new folder,
    but the watcher kept watching the old one, and saves there never reached the preview."""
    shutil.copytree(preview_site.root / "content", preview_site.root / "drafts")
    source = preview_site.root / "drafts" / "alerts" / "flood.md"
    source.write_text(alert_text(title="Read from drafts"))
    toml = preview_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("[site]\n", '[site]\ncontent_dir = "drafts"\n'))
    page = server.url + "alerts/flood/"
    wait_until(lambda: b"Read from drafts" in get(page).body)

    def saved_and_served() -> bool:  # saved again until served: the watch may start late
        source.write_text(alert_text(title="Saved in drafts"))
        time.sleep(0.2)
        return b"Saved in drafts" in get(page).body

    wait_until(saved_and_served)


def test_a_nested_content_dir_deleted_and_made_again_is_watched_again(preview_site) -> None:  # type: ignore[no-untyped-def]
    """`content_dir = "src/content"` deleted and made again (a branch switched, a folder
    restored from a copy): only folders directly in the site's folder were watched afresh,
    and saves there never reached the preview."""
    nested = preview_site.root / "src" / "content"
    nested.parent.mkdir()
    shutil.move(preview_site.root / "content", nested)
    toml = preview_site.root / "site.toml"
    toml.write_text(toml.read_text().replace("[site]\n", '[site]\ncontent_dir = "src/content"\n'))
    srv = PreviewServer(toml, port=0, now=NOW, echo=lambda line: None)
    srv.start()
    try:
        page = srv.url + "alerts/flood/"
        for parent in (nested, nested.parent):  # the folder itself, then the one holding it
            kept = preview_site.root / "kept"
            shutil.copytree(parent, kept)
            shutil.rmtree(parent)
            wait_until(lambda: get(page).status == 404)
            kept.rename(parent)
            wait_until(lambda: get(page).status == 200)
            source = nested / "alerts" / "flood.md"
            title = f"Saved in {parent.name} again"

            def saved_and_served() -> bool:  # saved again until served: the watch may start late
                source.write_text(alert_text(title=title))  # noqa: B023 - called in this loop
                time.sleep(0.2)
                return title.encode() in get(page).body  # noqa: B023

            wait_until(saved_and_served)
    finally:
        srv.stop()


def test_a_site_toml_saved_with_mistakes_is_shown_file_line_message(
    server: PreviewServer, preview_site, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """As content problems are: the terminal and the overlay said
    `/full/path/site.toml: not valid TOML: … (at line 1, column 6)`, and a wrong value
    `/full/path/site.toml: site.toml:7: …`, at no line."""
    monkeypatch.chdir(preview_site.root)  # where the official ran `sitegen serve`
    toml = preview_site.root / "site.toml"
    good = toml.read_text()
    lines: list[str] = server.lines  # type: ignore[attr-defined]
    for text, expected in [
        ("[site\n", "site.toml:1: not valid TOML (column 6): Expected ']'"),
        (good + 'home_max_alerts = "x"\n', "site.toml:7: [site] home_max_alerts must be"),
    ]:
        toml.write_text(text)
        wait_until(lambda: "still serving the last good build" in lines[-1])
        [problem] = server.preview.snapshot.errors
        assert str(problem).startswith(expected), problem
        assert (problem.path, problem.line) == ("site.toml", int(expected.split(":")[1]))
        assert any(line.startswith(expected) for line in lines), lines
        toml.write_text(good)
        wait_until(lambda: lines[-1].startswith("rebuilt in "))
