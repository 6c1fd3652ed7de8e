"""End to end in headless Chromium: edit → the open tab updates; break → overlay; fix → gone."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import serve_support
from serve_support import wait_until

from sitegen.serve import PreviewServer
from sitegen_fixtures import CHROMIUM_FLAGS, NOW, alert_text, find_tool

preview_site = serve_support.preview_site  # fixtures
server = serve_support.server


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    binary = find_tool("CHROMIUM", "chromium", "chromium-browser")
    driver_path = find_tool("CHROMEDRIVER", "chromedriver")
    if not (binary and driver_path):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required when CI is set")
        pytest.skip("chromium or chromedriver not installed (apt-get install chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="sitegen-serve-chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


def main_text(driver: Any) -> str:
    text = driver.execute_script(
        "var m = document.querySelector('main'); return m ? m.innerText : '';"
    )
    return str(text)


def overlay_text(driver: Any) -> str | None:
    text = driver.execute_script(
        "var o = document.getElementById('sitegen-overlay'); return o ? o.textContent : null;"
    )
    return None if text is None else str(text)


@pytest.mark.browser
def test_edit_break_and_fix_an_alert_in_an_open_tab(
    chromium: Any, server: PreviewServer, preview_site
) -> None:
    source = preview_site.root / "content" / "alerts" / "flood.md"
    chromium.get(server.url + "alerts/flood/")
    assert "The river is rising." in main_text(chromium)
    wait_until(lambda: chromium.execute_script("return document.readyState") == "complete")

    source.write_text(alert_text().replace("The river is rising.", "Water is over the banks."))
    wait_until(lambda: "Water is over the banks." in main_text(chromium))

    broken = alert_text().replace("severity: Severe", "severity: [Severe")
    line = broken.split("\n").index("severity: [Severe") + 1
    source.write_text(broken)
    wait_until(lambda: overlay_text(chromium) is not None)
    text = overlay_text(chromium) or ""
    assert "content/alerts/flood.md:" in text, text
    assert any(f"content/alerts/flood.md:{n}:" in text for n in (line, line + 1)), text
    # the last good build stays on screen under the overlay
    assert "Water is over the banks." in main_text(chromium)

    source.write_text(alert_text().replace("The river is rising.", "Fixed and served."))
    wait_until(lambda: "Fixed and served." in main_text(chromium))
    wait_until(lambda: overlay_text(chromium) is None)


@pytest.mark.browser
def test_many_open_tabs_all_load_and_all_follow_saves(
    chromium: Any, server: PreviewServer, preview_site
) -> None:
    """Each tab held its own event stream open, and a browser opens at most 6 connections to
    one host: the 7th tab of the preview never loaded (officials keep the home page, the
    alert, its translation, the archive... open)."""
    first = chromium.current_window_handle
    chromium.set_page_load_timeout(10)
    pages = ["", "alerts/flood/", "alerts/quake/", "archive/", "areas/", "ko/", "ko/archive/"]
    try:
        for page in pages + ["alerts/flood/?again"]:
            chromium.switch_to.new_window("tab")
            chromium.get(server.url + page)  # raised a timeout from the 7th tab on
            chromium.execute_script("window.notReloaded = true")
        source = preview_site.root / "content" / "alerts" / "flood.md"
        source.write_text(alert_text(title="River over its banks"))
        for handle in [h for h in chromium.window_handles if h != first]:
            chromium.switch_to.window(handle)
            wait_until(lambda: chromium.execute_script("return !window.notReloaded"))
    finally:
        for handle in chromium.window_handles:
            if handle != first:
                chromium.switch_to.window(handle)
                chromium.close()
        chromium.switch_to.window(first)


@pytest.mark.browser
def test_a_tab_left_open_while_the_preview_restarts_shows_the_new_files(
    chromium: Any, preview_site
) -> None:
    """Serve stopped, a file saved meanwhile, serve started again: the tab reconnected and
    found build 1 again, as on its page, so it kept showing the old text as current."""
    toml = preview_site.root / "site.toml"
    first = PreviewServer(toml, port=0, now=NOW, echo=lambda line: None)
    first.start()
    port = first.httpd.server_address[1]
    try:
        chromium.get(first.url + "alerts/flood/")
        wait_until(lambda: chromium.execute_script("return document.readyState") == "complete")
        assert "The river is rising." in main_text(chromium)
    finally:
        first.stop()
    source = preview_site.root / "content" / "alerts" / "flood.md"
    source.write_text(alert_text().replace("The river is rising.", "Saved while stopped."))
    second = PreviewServer(toml, port=port, now=NOW, echo=lambda line: None)
    second.start()
    try:
        wait_until(lambda: "Saved while stopped." in main_text(chromium), timeout=15)
    finally:
        second.stop()


@pytest.mark.browser
def test_a_todo_typed_shows_in_the_page_with_a_draft_note_at_its_foot(
    chromium: Any, server: PreviewServer, preview_site
) -> None:
    """A TODO was an error: the last good build stayed, without the text being written."""
    source = preview_site.root / "content" / "alerts" / "flood.md"
    chromium.get(server.url + "alerts/flood/")
    wait_until(lambda: chromium.execute_script("return document.readyState") == "complete")
    source.write_text(alert_text().replace("The river is rising.", "TODO: where it floods."))
    wait_until(lambda: "TODO: where it floods." in main_text(chromium))
    wait_until(lambda: overlay_text(chromium) is not None)
    text = overlay_text(chromium) or ""
    assert "A draft: replace these TODO lines before publishing" in text, text
    assert "content/alerts/flood.md:" in text and "Fix these problems" not in text, text
    box = chromium.execute_script(
        "var r = document.getElementById('sitegen-overlay').getBoundingClientRect();"
        "return [r.top, r.bottom, innerHeight];"
    )
    assert box[0] > 0 and abs(box[1] - box[2]) < 1, box  # at the foot: the page stays in view
    source.write_text(alert_text())
    wait_until(lambda: overlay_text(chromium) is None)
    assert "The river is rising." in main_text(chromium)
