"""`sitegen serve` as a user runs it: the mistakes that stop it before it serves anything."""

from __future__ import annotations

import socket
from pathlib import Path

from sitegen_fixtures import TmpSite, run_sitegen


def test_no_site_toml_exits_1_with_the_usual_message(tmp_path: Path) -> None:
    """It kept running, answering every page with 404 'No good build yet'."""
    result = run_sitegen("serve", "--port", "0", cwd=tmp_path)
    assert result.returncode == 1
    assert "no site.toml here" in result.stderr


def test_a_bad_host_is_not_told_to_try_another_port(tmp_site: TmpSite) -> None:
    result = run_sitegen("serve", "--host", "no-such-host.invalid", cwd=tmp_site.root)
    assert result.returncode == 1
    assert "try another --port" not in result.stderr
    assert "try --host 127.0.0.1" in result.stderr


def test_a_port_in_use_says_to_try_another_port(tmp_site: TmpSite) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_sitegen("serve", "--port", str(port), cwd=tmp_site.root)
    assert result.returncode == 1 and "try another --port" in result.stderr


def test_every_serve_option_is_explained(tmp_site: TmpSite) -> None:
    result = run_sitegen("serve", "--help", cwd=tmp_site.root)
    assert "Port to listen on" in result.stdout
