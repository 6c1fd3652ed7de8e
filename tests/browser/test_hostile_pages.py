"""No script carried by a hostile alert ever runs in a real browser (issue 8 §4).

Builds a site from every 'inert' file of tests/security/hostile_corpus.py, opens every HTML
page in headless Chromium and looks for any sign a payload ran: a dialog, the
`window.__pwned` marker, a changed title, or any request besides the document itself.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import NOW, REPO, Browser, SiteServer

from sitegen.build import build_site
from sitegen.config import load_config

sys.path.insert(0, str(REPO / "tests" / "security"))
from hostile_corpus import CORPUS, Inert  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteServer]:
    root = tmp_path_factory.mktemp("hostile") / "site"
    (root / "content" / "alerts").mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "site.toml", root / "site.toml")
    for name, data, expect in CORPUS:
        if isinstance(expect, Inert):
            (root / "content" / "alerts" / name).write_bytes(data)
    build_site(load_config(root / "site.toml"), NOW)
    server = SiteServer(root / "public").start()
    yield server
    server.stop()


def pages(public: Path) -> list[str]:
    urls = []
    for path in sorted(public.rglob("index.html")):
        rel = path.parent.relative_to(public).as_posix()
        urls.append("/" if rel == "." else f"/{rel}/")
    return urls


def test_no_payload_runs_on_any_page(browser: Browser, hostile_server: SiteServer) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    hostile = Browser(browser.driver, hostile_server.base)
    urls = pages(hostile_server.public)
    assert len(urls) >= 30
    for url in urls:
        requests = hostile.visit(url, settle=0.05)
        try:
            text = hostile.driver.switch_to.alert.text
            hostile.driver.switch_to.alert.dismiss()
            pytest.fail(f"{url}: a dialog opened ({text!r})")
        except NoAlertPresentException:
            pass
        assert hostile.js("return window.__pwned === undefined"), url
        assert hostile.driver.title != "PWNED", url  # the payload sets exactly this
        assert len(requests) == 1, (url, requests)
        links = hostile.js(
            "return [...document.querySelectorAll('[href],[src],[action]')]"
            ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))"
        )
        assert not [h for h in links if h.strip().lower().startswith(("javascript", "data:t"))]
