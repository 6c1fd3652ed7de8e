"""Known vulnerabilities in the installed Python packages, from PyPI's advisory data.

    .venv/bin/python scripts/audit.py            # audit the environment running this script
    .venv/bin/python scripts/audit.py --strict   # also fail when a package could not be audited

pip-audit asks PyPI for each installed release (`/pypi/NAME/VERSION/json`) or asks OSV. Some
networks (this workplace's CI among them) reach PyPI's project pages (`/pypi/NAME/json`) but
neither of those, and pip-audit then skips every package. This script asks for the release
first, as pip-audit does, and when PyPI does not answer for it, asks for the project: that page
lists the known vulnerabilities of the project's latest release, so a package installed at its
latest release is audited exactly; any other is reported as not audited, never as clean.

Exit status: 1 when an installed release has a known vulnerability (not withdrawn), 2 with
--strict when a package could not be audited, 3 when the audit itself failed, else 0.
Packages installed from a local folder (this repository's own, editable) are skipped, as
`pip-audit --skip-editable` does.
Standard library only: it runs before or without anything else installed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

API = "https://pypi.org/pypi"
ATTEMPTS = 3


@dataclass
class Finding:
    name: str
    version: str
    how: str = ""  # audited by the "release" page or the project's "latest"; "": not audited
    why_not: str = ""  # when not audited
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def audited(self) -> bool:
        return bool(self.how)


def canonical(name: str) -> str:
    """PEP 503 name: the form PyPI's URLs take."""
    return re.sub(r"[-_.]+", "-", name).lower()


def same_version(a: str, b: str) -> bool:
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return a == b
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def installed(paths: list[str] | None) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, version) of each installed distribution once, and the names of those installed
    from a local folder (skipped)."""
    found: list[tuple[str, str]] = []
    local: list[str] = []
    seen: set[str] = set()
    for dist in metadata.distributions(path=paths) if paths else metadata.distributions():
        name = dist.metadata["Name"]
        if not name or canonical(name) in seen:
            continue  # the first one on the path is the one imported
        seen.add(canonical(name))
        direct = dist.read_text("direct_url.json")
        if direct and "dir_info" in json.loads(direct):
            local.append(name)
        else:
            found.append((name, dist.version))
    return sorted(found, key=lambda nv: canonical(nv[0])), sorted(local)


@dataclass(frozen=True)
class Client:
    """How to ask PyPI: its JSON API, the limits of one request, and of the whole audit."""

    api: str
    timeout: float  # seconds per request
    backoff: float  # seconds before the first retry (doubling)
    deadline: float  # time.monotonic() after which no request starts

    def fetch(self, path: str) -> dict[str, Any] | None:
        """The JSON at the API's `path`; None when PyPI says it has no such page (404). Other
        failures are retried, then raised."""
        for attempt in range(ATTEMPTS):
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the audit's time budget is spent (--budget)")
            # http(s) only: main() refuses any other --api
            url = f"{self.api}/{path}"
            request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=min(self.timeout, left)) as answer:  # noqa: S310
                    data: dict[str, Any] = json.load(answer)
                    return data
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    return None
                if attempt == ATTEMPTS - 1 or (error.code < 500 and error.code != 429):
                    raise
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError):
                if attempt == ATTEMPTS - 1:
                    raise
            time.sleep(max(0.0, min(self.backoff * 2**attempt, self.deadline - time.monotonic())))
        raise AssertionError("unreachable")


def audit(name: str, version: str, pypi: Client) -> Finding:
    finding = Finding(name, version)
    project = canonical(name)
    try:
        release = pypi.fetch(f"{project}/{version}/json")
        if release is not None:
            finding.vulnerabilities = live(release)
            finding.how = "release"
            return finding
        latest = pypi.fetch(f"{project}/json")
        if latest is None:
            finding.why_not = "not on PyPI"
            return finding
        newest = str(latest["info"]["version"])
        if not same_version(newest, version):
            finding.why_not = f"PyPI answers only for the latest release here ({newest})"
            return finding
        finding.vulnerabilities = live(latest)
        finding.how = "latest"
    except Exception as error:  # noqa: BLE001 - any failure: this package is not audited
        finding.why_not = f"PyPI did not answer ({type(error).__name__}: {error})"
    return finding


def live(page: dict[str, Any]) -> list[dict[str, Any]]:
    vulnerabilities = page.get("vulnerabilities") or []
    if not isinstance(vulnerabilities, list) or not all(
        isinstance(v, dict) for v in vulnerabilities
    ):
        raise ValueError("the page's vulnerabilities are not a list of advisories")
    return [v for v in vulnerabilities if not v.get("withdrawn")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Details: see the top of this file.",
    )
    parser.add_argument("--api", default=API, help=f"PyPI's JSON API (default {API})")
    parser.add_argument("--path", action="append", help="audit the distributions found here")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per request")
    parser.add_argument("--workers", type=int, default=8, help="requests in flight")
    parser.add_argument(
        "--backoff", type=float, default=0.5, help="seconds before the first retry (doubling)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=300.0,
        help="seconds for the whole audit (a network that drops packets would otherwise hold CI "
        "for up to two timeouts x three attempts per package); later packages: not audited",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 2 when a package could not be audited"
    )
    args = parser.parse_args(argv)
    api = args.api.rstrip("/")
    if not api.startswith(("https://", "http://")):
        parser.error(f"--api must be an http(s) URL, not {api!r}")
    packages, local = installed(args.path)
    pypi = Client(api, args.timeout, args.backoff, time.monotonic() + args.budget)
    with concurrent.futures.ThreadPoolExecutor(max(1, args.workers)) as pool:
        findings = list(pool.map(lambda nv: audit(nv[0], nv[1], pypi), packages))

    vulnerable = [f for f in findings if f.vulnerabilities]
    unaudited = [f for f in findings if not f.audited]
    for f in vulnerable:
        for v in f.vulnerabilities:
            fixed = v.get("fixed_in")
            fix = f"fixed in {', '.join(fixed)}" if fixed else "no fixed release yet"
            aliases = f" ({', '.join(v['aliases'])})" if v.get("aliases") else ""
            print(f"VULNERABLE {f.name} {f.version}: {v.get('id')}{aliases}, {fix}")
            if v.get("link"):
                print(f"  {v['link']}")
    audited = len(findings) - len(unaudited)
    by_release = sum(1 for f in findings if f.how == "release")
    print(
        f"audited {audited} of {len(findings)} packages against PyPI's advisories "
        f"({by_release} by their release, {audited - by_release} as their project's latest "
        f"release); skipped as local: {', '.join(local) or 'none'}"
    )
    if unaudited:
        print(f"NOT AUDITED ({len(unaudited)}):")
        for f in unaudited:
            print(f"  {f.name} {f.version}: {f.why_not}")
    if vulnerable:
        count = sum(len(f.vulnerabilities) for f in vulnerable)
        print(f"{count} known vulnerabilities in {len(vulnerable)} packages: upgrade them")
        return 1
    print("no known vulnerabilities in the audited packages")
    return 2 if unaudited and args.strict else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # noqa: BLE001 - exit 3, never 1: 1 means "vulnerable"
        print(f"audit failed: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(3)
