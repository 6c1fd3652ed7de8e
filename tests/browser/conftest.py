"""Session fixtures for the browser tests: one built site, one server, one Chromium.

Locally a missing Chromium, ChromeDriver or axe-core skips these tests with the reason; with
CI set (CI=true) it fails them, so CI can never pass without having looked at the pages.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import REPO, Browser, SiteServer, build_browser_site

from sitegen_fixtures import CHROMIUM_FLAGS, find_tool

AXE_DEFAULT = REPO / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
INSTALL_HINT = (
    "apt-get install chromium chromium-driver; npm ci --prefix tests/browser "
    "(or set CHROMIUM, CHROMEDRIVER, AXE_CORE_JS)"
)


def missing(what: str) -> None:
    """Skip locally, fail in CI: browser tests are acceptance tests there."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} not found and CI is set: install it ({INSTALL_HINT})")
    pytest.skip(f"{what} not found ({INSTALL_HINT}); set CI=true to make this a failure")


@pytest.fixture(scope="session")
def browser_public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site plus Arabic, built once per session."""
    return build_browser_site(tmp_path_factory.mktemp("browser") / "site")


@pytest.fixture(scope="session")
def site_server(browser_public: Path) -> Iterator[SiteServer]:
    server = SiteServer(browser_public).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = Path(os.environ.get("AXE_CORE_JS") or AXE_DEFAULT)
    if not path.is_file():
        missing(f"axe-core ({path})")
    return path.read_text("utf-8")


@pytest.fixture(scope="session")
def browser(site_server: SiteServer) -> Iterator[Browser]:
    chromium = find_tool("CHROMIUM", "chromium", "chromium-browser", "/usr/bin/chromium")
    chromedriver = find_tool("CHROMEDRIVER", "chromedriver", "/usr/bin/chromedriver")
    if not chromium:
        missing("Chromium")
    if not chromedriver:
        missing("ChromeDriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="sitegen-chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    options.add_argument("--window-size=1280,800")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(chromedriver)), options=options)
    driver.set_script_timeout(30)
    try:
        yield Browser(driver, site_server.base)
    finally:
        driver.quit()
        profile.cleanup()
