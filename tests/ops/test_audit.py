"""scripts/audit.py (CI's dependency audit) run as CI runs it, against a local HTTP server that
answers as PyPI's JSON API does: per release, per project, 404, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit.py"

VULN = {
    "id": "PYSEC-2099-1",
    "aliases": ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"],
    "link": "https://osv.dev/vulnerability/PYSEC-2099-1",
    "fixed_in": ["1.0.1"],
    "withdrawn": None,
}


class FakePyPI:
    """Routes: path → list of (status, body) answers, the last one repeated."""

    def __init__(self) -> None:
        self.routes: dict[str, list[tuple[int, Any]]] = {}
        self.hits: list[str] = []
        self.delay = 0.0  # seconds before each answer

    def release(self, name: str, version: str, *vulns: dict[str, Any]) -> None:
        page = {"info": {"name": name, "version": version}, "vulnerabilities": list(vulns)}
        self.routes[f"/pypi/{name}/{version}/json"] = [(200, page)]

    def project(self, name: str, latest: str, *vulns: dict[str, Any]) -> None:
        page = {"info": {"name": name, "version": latest}, "vulnerabilities": list(vulns)}
        self.routes[f"/pypi/{name}/json"] = [(200, page)]


@pytest.fixture
def pypi() -> Iterator[tuple[FakePyPI, str]]:
    fake = FakePyPI()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            fake.hits.append(self.path)
            time.sleep(fake.delay)
            answers = fake.routes.get(self.path, [(404, {"message": "Not Found"})])
            status, body = answers.pop(0) if len(answers) > 1 else answers[0]
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/pypi"
    finally:
        server.shutdown()
        server.server_close()


def installed(tmp_path: Path, *packages: tuple[str, str], local: str | None = None) -> Path:
    """A folder of .dist-info metadata, as a site-packages holds."""
    site = tmp_path / "site-packages"
    for name, version in packages:
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if local:
        info = site / f"{local}-0.1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {local}\nVersion: 0.1.0\n")
        direct = {"url": "file:///work/repo", "dir_info": {"editable": True}}
        (info / "direct_url.json").write_text(json.dumps(direct))
    return site


def run(api: str, site: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), "--api", api, "--path", str(site), "--backoff", "0"]
    return subprocess.run([*command, *extra], capture_output=True, text=True, timeout=60)


def test_clean_by_release_and_by_latest_project(pypi: tuple[FakePyPI, str], tmp_path: Path) -> None:
    fake, api = pypi
    fake.release("alpha", "1.0")  # answered per release, as on the open internet
    fake.project("beta", "2.0")  # no release page (404), the project's latest is installed
    site = installed(tmp_path, ("alpha", "1.0"), ("Beta", "2.0"), local="sitegen")
    done = run(api, site)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audited 2 of 2 packages" in done.stdout
    assert "1 by their release, 1 as their project's latest release" in done.stdout
    assert "skipped as local: sitegen" in done.stdout
    assert "NOT AUDITED" not in done.stdout
    assert "/pypi/sitegen/0.1.0/json" not in fake.hits  # local: never asked about
    assert "/pypi/beta/2.0/json" in fake.hits  # the canonical name, release first


@pytest.mark.parametrize("where", ["release", "latest"])
def test_a_known_vulnerability_fails_the_run(
    pypi: tuple[FakePyPI, str], tmp_path: Path, where: str
) -> None:
    fake, api = pypi
    if where == "release":
        fake.release("alpha", "1.0", VULN)
    else:
        fake.project("alpha", "1.0", VULN)
    fake.release("beta", "2.0")
    done = run(api, installed(tmp_path, ("alpha", "1.0"), ("beta", "2.0")))
    assert done.returncode == 1, done.stdout
    assert "VULNERABLE alpha 1.0: PYSEC-2099-1 (CVE-2099-0001, GHSA-aaaa-bbbb-cccc)" in done.stdout
    assert "GHSA-aaaa-bbbb-cccc), fixed in 1.0.1" in done.stdout
    assert "https://osv.dev/vulnerability/PYSEC-2099-1" in done.stdout
    assert "1 known vulnerabilities in 1 packages" in done.stdout


def test_a_withdrawn_advisory_does_not_count(pypi: tuple[FakePyPI, str], tmp_path: Path) -> None:
    fake, api = pypi
    fake.release("alpha", "1.0", {**VULN, "withdrawn": "2099-02-01T00:00:00Z"})
    done = run(api, installed(tmp_path, ("alpha", "1.0")))
    assert done.returncode == 0, done.stdout
    assert "VULNERABLE" not in done.stdout
    # an advisory with nothing but its id still fails the run, and reads plainly
    fake.release("alpha", "1.0", {"id": "GHSA-only-an-id"})
    done = run(api, installed(tmp_path / "again", ("alpha", "1.0")))
    assert done.returncode == 1, done.stdout
    assert "VULNERABLE alpha 1.0: GHSA-only-an-id, no fixed release yet" in done.stdout


def test_an_older_release_without_its_page_is_not_audited_never_clean(
    pypi: tuple[FakePyPI, str], tmp_path: Path
) -> None:
    fake, api = pypi
    # the latest release has an advisory, the installed one has no page: nothing is known
    fake.project("alpha", "3.0", VULN)
    site = installed(tmp_path, ("alpha", "2.0"), ("gamma", "1.0"))  # gamma: not on PyPI at all
    done = run(api, site)
    assert done.returncode == 0, done.stdout
    assert "audited 0 of 2 packages" in done.stdout
    assert "NOT AUDITED (2):" in done.stdout
    assert "alpha 2.0: PyPI answers only for the latest release here (3.0)" in done.stdout
    assert "gamma 1.0: not on PyPI" in done.stdout
    assert "VULNERABLE" not in done.stdout  # 3.0's advisory says nothing about 2.0
    strict = run(api, site, "--strict")
    assert strict.returncode == 2, strict.stdout


def test_server_errors_are_retried_then_reported(
    pypi: tuple[FakePyPI, str], tmp_path: Path
) -> None:
    fake, api = pypi
    page = {"info": {"name": "alpha", "version": "1.0"}, "vulnerabilities": [VULN]}
    fake.routes["/pypi/alpha/1.0/json"] = [(503, {}), (500, {}), (200, page)]
    fake.routes["/pypi/beta/1.0/json"] = [(500, {})]  # always
    done = run(api, installed(tmp_path, ("alpha", "1.0"), ("beta", "1.0")))
    assert done.returncode == 1, done.stdout  # alpha's third answer was read
    assert "VULNERABLE alpha 1.0: PYSEC-2099-1" in done.stdout
    assert "beta 1.0: PyPI did not answer (HTTPError: HTTP Error 500" in done.stdout
    assert fake.hits.count("/pypi/beta/1.0/json") == 3


def test_an_unreachable_service_is_not_audited(tmp_path: Path) -> None:
    done = run("http://127.0.0.1:9/pypi", installed(tmp_path, ("alpha", "1.0")), "--timeout", "2")
    assert done.returncode == 0, done.stdout
    assert "audited 0 of 1 packages" in done.stdout
    assert "alpha 1.0: PyPI did not answer (URLError" in done.stdout


def test_pages_of_another_shape_are_not_audited(pypi: tuple[FakePyPI, str], tmp_path: Path) -> None:
    fake, api = pypi
    fake.routes["/pypi/alpha/1.0/json"] = [(200, {"info": {}, "vulnerabilities": "none"})]
    fake.routes["/pypi/beta/json"] = [(200, {"releases": {}})]  # no info
    fake.routes["/pypi/gamma/1.0/json"] = [(200, b"<html>a captive portal</html>")]
    site = installed(tmp_path, ("alpha", "1.0"), ("beta", "1.0"), ("gamma", "1.0"))
    done = run(api, site)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audited 0 of 3 packages" in done.stdout
    assert "alpha 1.0: PyPI did not answer (ValueError" in done.stdout
    assert "beta 1.0: PyPI did not answer (KeyError" in done.stdout
    assert "gamma 1.0: PyPI did not answer (JSONDecodeError" in done.stdout


def test_a_slow_network_cannot_hold_ci_beyond_the_budget(
    pypi: tuple[FakePyPI, str], tmp_path: Path
) -> None:
    fake, api = pypi
    fake.delay = 0.6  # each answer; a request times out after 0.5 s
    for name in ("alpha", "beta", "gamma", "delta"):
        fake.release(name, "1.0")
    site = installed(tmp_path, *((name, "1.0") for name in ("alpha", "beta", "gamma", "delta")))
    started = time.monotonic()
    done = run(api, site, "--timeout", "0.5", "--budget", "1.5", "--workers", "2")
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audited 0 of 4 packages" in done.stdout
    assert "the audit's time budget is spent (--budget)" in done.stdout
    assert took < 6, took  # without the budget: 4 packages x 3 attempts x 0.5 s / 2 workers + more
