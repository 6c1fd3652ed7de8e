"""Helpers and fixtures for the preview tests (imported by name: tests/serve has no conftest,
so the top-level `conftest` stays the one `from conftest import` finds)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from sitegen.serve import PreviewServer
from sitegen_fixtures import NOW, TmpSite, alert_text


def start_serve(
    site: TmpSite, *args: str, preexec_fn: Callable[[], None] | None = None
) -> subprocess.Popen[str]:
    """`sitegen serve --port 0 ARGS` in the site's folder, as a user starts it; its output
    (stderr) piped as text."""
    serve = subprocess.Popen(
        [sys.executable, "-c", "from sitegen.cli import main; main()", "serve", "--port", "0"]
        + list(args),
        cwd=site.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec_fn,  # noqa: PLW1509 - the tests' processes run no threads then
    )
    assert serve.stderr is not None
    return serve


def public_written(line: str) -> bool:
    """Whether `sitegen serve` said it wrote public/ (or why it could not, or failed)."""
    return "holds this build" in line or line.startswith(("warning", "Error"))


def said_until(
    serve: subprocess.Popen[str], last: Callable[[str], bool], said: list[str] | None = None
) -> list[str]:
    """The lines `serve` printed (appended to `said`), up to the first `last` is true of
    (or its end)."""
    assert serve.stderr is not None
    said = [] if said is None else said
    for line in serve.stderr:
        said.append(line)
        if last(line):
            break
    return said


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def get(url: str) -> Response:
    """GET without following redirects; 4xx/5xx are answers, not exceptions."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=5) as r:
            return Response(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, dict(e.headers), e.read())


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within the timeout")
        time.sleep(0.01)


@pytest.fixture
def preview_site(tmp_site: TmpSite) -> TmpSite:
    tmp_site.add("flood.md", alert_text())
    tmp_site.add("quake.md", alert_text(title="Earthquake felt in Seoul", severity="Extreme"))
    return tmp_site


@pytest.fixture
def server(preview_site: TmpSite) -> Iterator[PreviewServer]:
    lines: list[str] = []
    srv = PreviewServer(preview_site.root / "site.toml", port=0, now=NOW, echo=lines.append)
    srv.start()
    srv.lines = lines  # type: ignore[attr-defined]
    yield srv
    srv.stop()
