"""Helpers for the browser tests: the site they look at, a tiny server, a Chromium wrapper.

Kept out of conftest.py so test modules can import them by a unique name (the test folders
have no __init__.py, so every `conftest` module is called just "conftest").
"""

from __future__ import annotations

import base64
import http.server
import json
import re
import shutil
import struct
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sitegen.build import build_site
from sitegen.bundle import MANIFEST_PATH, url_to_path
from sitegen.config import load_config

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
NOW = datetime.fromisoformat("2026-11-25T12:00:00+09:00")
FLOOD = "2026-11-25-han-river-flood-watch"
QUAKE = "2026-09-12-gyeongju-earthquake"

# One URL per page type, plus the Korean and the right-to-left (Arabic) variants.
PAGES = {
    "home": "/",
    "home-ko": "/ko/",
    "home-ar": "/ar/",
    "alert": f"/alerts/{FLOOD}/",
    "alert-ko": f"/alerts/{QUAKE}/",
    "alert-ar": f"/alerts/{FLOOD}/ar/",
    "alert-cancelled": "/alerts/2026-11-24-east-coast-tsunami-warning/",
    "area": "/areas/kr-11/",
    "areas": "/areas/",
    "areas-ar": "/ar/areas/",
    "archive": "/archive/",
    "archive-ar": "/ar/archive/",
    "404": "/no-such-page/",
}

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


ARABIC_FLOOD = """\
---
{front}
---
يرتفع منسوب نهر هان بسبب الأمطار الغزيرة في أعلى النهر. يُتوقع أن تصل المياه إلى الحدائق
والطرق المحاذية للنهر في سيول الليلة.

## ماذا تفعل

- لا تمشِ ولا تقد على الطرق المحاذية للنهر؛ قد تُغلق دون إنذار.
- أخرج السيارات من المواقف تحت الأرض القريبة من النهر.
- [أبلغ عن المياه](mailto:help@example.gov?subject=<فيضان> هان).
"""


def build_browser_site(root: Path) -> Path:
    """The repo's example site plus Arabic (a right-to-left language) at NOW; returns public/."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("content", "templates"):
        shutil.copytree(REPO / name, root / name)
    toml = (REPO / "site.toml").read_text("utf-8")
    toml, count = re.subn(r"(?m)^(languages\s*=\s*\[.*?)\]", r'\1, "ar"]', toml)
    assert count == 1, "site.toml has no languages line to extend"
    (root / "site.toml").write_text(toml, "utf-8")
    primary = (root / "content" / "alerts" / f"{FLOOD}.md").read_text("utf-8")
    front = primary.split("---", 2)[1].strip("\n")
    front = re.sub(r"(?m)^title:.*$", "title: مراقبة فيضان نهر هان", front)
    (root / "content" / "alerts" / f"{FLOOD}.ar.md").write_text(
        ARABIC_FLOOD.format(front=front), "utf-8"
    )
    config = load_config(root / "site.toml")
    build_site(config, NOW)
    return config.output_path


SITE_TOML = """\
[site]
title = "Test Alerts"
base_url = "https://alerts.test/"
default_language = "en"
languages = {languages}
sender = "alerts@test.invalid"
"""

ALERT = """\
---
title: {title}
event: Flood
category: Met
severity: {severity}
urgency: Expected
certainty: Likely
status: Actual
msg_type: {msg_type}
sent: {sent}
expires: 2026-12-26T07:00:00+09:00
areas:
{areas}
references: [{references}]
---
{body}

## What to do

- Keep away from the river and follow the instructions of the local authorities.
"""


def make_site(root: Path, languages: str = '["en", "ko"]') -> Path:
    """An empty site with the repo's templates in `languages` (a TOML list)."""
    (root / "content" / "alerts").mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "site.toml").write_text(SITE_TOML.format(languages=languages), "utf-8")
    return root


def add_alert(root: Path, name: str, **fields: str) -> None:
    """content/alerts/<name>.md from ALERT; `areas` (YAML list items) beats `area` + `code`."""
    values = {
        "title": "Flood watch",
        "severity": "Severe",
        "msg_type": "Alert",
        "sent": "2026-11-25T07:00:00+09:00",
        "area": "Seoul",
        "code": "KR-11",
        "references": "",
        "body": "The river is rising.",
    }
    values.update(fields)
    values.setdefault("areas", area_yaml(values["area"], values["code"]))
    (root / "content" / "alerts" / f"{name}.md").write_text(ALERT.format(**values), "utf-8")


def area_yaml(name: str, code: str) -> str:
    return f"  - name: {name}\n    geocodes: {{ISO3166-2: {code}}}"


LONG = "2026-11-25-long"
LONG_WORD = "Supercalifragilisticexpialidocious" * 3
LONG_URL = "https://maps.example.gov/evacuation/" + "route-segment-" * 12 + "?zone=" + "7" * 60
LONG_BODY = f"""\
The river is rising past {LONG_WORD} and {LONG_URL} tonight.

    Text pasted with an indent, which Markdown makes a code block, one long line: {LONG_URL}

> The mayor: {LONG_WORD}."""


WATCH_MESSAGES = 55  # past 12 an alert page shortens its history; 50 a history page


def watch_id(i: int) -> str:
    return "2026-11-25-watch" + (f"-{i:02d}" if i else "")


def build_long_site(root: Path) -> Path:
    """Worst-case content at NOW; returns public/. An English alert with unbroken words and
    URLs, an indented block and its Arabic translation, then an English update (so the Arabic
    page's history lists an English title), 51 more alerts in Seoul, each with an area of
    its own: the Seoul page and the areas index have two pages, and a watch of WATCH_MESSAGES
    messages: its pages list part of its history and its full history has two pages."""
    make_site(root, '["en", "ar"]')
    seoul = area_yaml("Seoul", "KR-11")
    add_alert(root, LONG, title=f"Flash flood for {LONG_WORD}", body=LONG_BODY, areas=seoul)
    add_alert(root, f"{LONG}.ar", title="فيضان مفاجئ", body="يرتفع منسوب النهر.", areas=seoul)
    add_alert(
        root,
        f"{LONG}-update",
        title=f"Flash flood update for {LONG_WORD}",
        msg_type="Update",
        sent="2026-11-25T08:00:00+09:00",
        references=LONG,
        body=LONG_BODY,
        areas=seoul,
    )
    for i in range(51):
        add_alert(
            root,
            f"2026-11-25-more-{i:02d}",
            sent=f"2026-11-25T06:{i:02d}:00+09:00",
            areas=seoul + "\n" + area_yaml(f"District {i:02d}", f"KR-X{i:02d}"),
        )
    for i in range(WATCH_MESSAGES):  # a watch updated every minute: a long history
        add_alert(
            root,
            watch_id(i),
            title=f"River watch, reading {i + 1} of the Han at {LONG_WORD[:20]}",
            msg_type="Update" if i else "Alert",
            sent=f"2026-11-25T10:{i:02d}:00+09:00",
            references=", ".join(watch_id(j) for j in range(i)),
            areas=seoul,
        )
    config = load_config(root / "site.toml")
    build_site(config, NOW)
    return config.output_path


class SiteServer:
    """Serves a built bundle on 127.0.0.1 like the CDN would: Content-Type from the manifest,
    /404.html with status 404 for anything missing. Records every request path."""

    def __init__(self, public: Path) -> None:
        self.public = public
        manifest = json.loads((public / MANIFEST_PATH).read_text("utf-8"))
        self.types: dict[str, str] = {p: f["content_type"] for p, f in manifest["files"].items()}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def take_requests(self) -> list[str]:
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's API
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests.append(path)
                rel = url_to_path(path)
                file = server.public / rel
                status = 200
                if ".." in rel.split("/") or not file.is_file():
                    rel, file, status = "404.html", server.public / "404.html", 404
                data = file.read_bytes()
                self.send_response(status)
                self.send_header("Content-Type", server.types.get(rel, "text/html; charset=utf-8"))
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# Whether the page scrolls sideways, and which elements stick out past its edges.
OVERFLOW_JS = """
const d = document.documentElement;
const over = [...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect();
  return r.width && (r.right > d.clientWidth + 1 || r.left < -1) && !e.closest('.skip'); })
  .map(e => e.tagName + '.' + e.className);
return {scroll: d.scrollWidth, client: d.clientWidth, over: over};
"""

# Targets under 24×24 CSS px (WCAG 2.5.8), leaving out inline links in the official's prose
# (exempt) and the skip link (measured focused, when it shows).
SMALL_TARGETS_JS = """
return [...document.querySelectorAll('a[href], button, input, select, textarea, summary')]
  .filter(e => !e.closest('.body') && !e.classList.contains('skip'))
  .map(e => { const r = e.getBoundingClientRect();
    return {text: e.textContent.trim().slice(0, 40), w: r.width, h: r.height}; })
  .filter(t => t.w < 24 || t.h < 24);
"""


@dataclass(frozen=True, slots=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool


PHONE = Viewport("phone", 360, 640, True)
DESKTOP = Viewport("desktop", 1280, 800, False)
NARROW = Viewport("reflow", 320, 640, True)


class Browser:
    """One headless Chromium (selenium + chromedriver), steered through the DevTools protocol."""

    def __init__(self, driver: Any, base: str) -> None:
        self.driver = driver
        self.base = base
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})

    def visit(
        self,
        url: str,
        viewport: Viewport = DESKTOP,
        scheme: str = "light",
        media: str = "screen",
        settle: float = 0.25,
    ) -> list[str]:
        """Load `url` and return every network request the page made (from the perf log)."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": viewport.width,
                "height": viewport.height,
                "deviceScaleFactor": 1,
                "mobile": viewport.mobile,
            },
        )
        self.driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"media": media, "features": [{"name": "prefers-color-scheme", "value": scheme}]},
        )
        self.driver.get_log("performance")  # drop what earlier visits logged
        self.driver.get(self.base + url)
        time.sleep(settle)  # a favicon is fetched after load; give it the chance to show up
        return self.requested_urls()

    def requested_urls(self) -> list[str]:
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def axe(self, source: str) -> list[dict[str, Any]]:
        """axe-core violations for the WCAG 2.0/2.1/2.2 A and AA tags on the current page."""
        self.driver.execute_script(source)
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},"
            " resultTypes: ['violations']})"
            ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
            " help: v.help, targets: v.nodes.map(n => n.target.join(' '))}))),"
            " e => done([{id: 'axe-error', help: String(e), targets: []}]));",
            AXE_TAGS,
        )
        return list(result)

    def screenshot(self, path: Path, full_page: bool = True) -> bytes:
        """PNG of the page (the whole page when full_page), written to `path`."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            width = self.js("return window.innerWidth")
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1},
            )
        data = base64.b64decode(
            self.driver.execute_cdp_cmd("Page.captureScreenshot", params)["data"]
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data

    def pdf(self, path: Path) -> bytes:
        data = base64.b64decode(
            self.driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})["data"]
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height
