"""Shared fixtures: tmp_site → built_site (→ published_site in tests/publish)."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from sitegen_fixtures import REPO, TmpSite, permissions_apply


@pytest.fixture
def tmp_site(tmp_path: Path) -> TmpSite:
    return TmpSite(tmp_path / "site")


@pytest.fixture
def example_site(tmp_path: Path) -> TmpSite:
    """A copy of the repo's example site (site.toml, content/, templates/)."""
    root = tmp_path / "example"
    root.mkdir()
    for name in ("content", "templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "site.toml", root / "site.toml")
    site = TmpSite.__new__(TmpSite)
    site.root = root
    return site


@pytest.fixture
def enforced_permissions(tmp_path: Path) -> None:
    """For a test of a folder or file sitegen may not read or write: skipped where a process
    started with `sitegen_fixtures.unprivileged` passes by permissions anyway."""
    if not permissions_apply(tmp_path):
        pytest.skip("file permissions cannot be enforced here")


@pytest.fixture
def built_site(example_site: TmpSite) -> TmpSite:
    example_site.build()
    return example_site


def pytest_configure(config: pytest.Config) -> None:
    """A suite started in the background (`pytest &` in a script, nohup) has Ctrl-C ignored,
    and so had every sitegen it started: the tests that stop one with SIGINT waited for it
    until their timeout. Handled here, the processes the tests start get Python's own."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `forks` run first, while the test process runs no other thread. A fork
    copies only the thread that forks: a lock another thread held at that moment (an import,
    an output stream: the moto servers of tests/ops and tests/publish run threads until the
    session ends) stays held in the child for ever, and the test waits for that child for
    ever (the suite hung once in tests/perf that way). The order of the others is kept."""
    items.sort(key=lambda item: item.get_closest_marker("forks") is None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from the current build (review the diff!).",
    )
