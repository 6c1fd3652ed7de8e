"""The temporary files a `sitegen publish` to a folder writes each file through, when the
publish is killed while writing (SIGKILL, the OOM killer, a power cut): they stayed in the
folder for ever, where whatever serves it served them. The next publish removes them, never
one a live publish still writes, and none is ever counted as a file of the site."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bundles import site_files, write_bundle
from click.testing import CliRunner, Result

from publish.cli import publish_command

SITE_TOML = """[site]
title = "T"
base_url = "https://alerts.test/"
default_language = "en"
sender = "a@test.invalid"
[publish]
target = "folder:out"
"""

# `sitegen ARGS`, SIGKILLed just before it renames its first written file of the site into place
_KILLED_WHILE_WRITING = """
import os, signal
real = os.replace
def killed(src, dst, *args, **kwargs):
    if "/.sitegen/" not in str(dst):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *args, **kwargs)
os.replace = killed
from sitegen.cli import main
main()
"""

# A live publish's write of one file of the site, stopped before its rename until told to go on
_WRITING = """
import os, sys
from pathlib import Path
from publish.targets.base import ObjectMeta
from publish.targets.folder import FolderTarget
real = os.replace
def paused(src, dst, *args, **kwargs):
    print(src, flush=True)
    sys.stdin.readline()
    return real(src, dst, *args, **kwargs)
os.replace = paused
meta = ObjectMeta(content_type="text/html", cache_control="no-cache", sha256="0" * 64)
FolderTarget(Path(sys.argv[1])).put("alerts/a0/index.html", b"written meanwhile", meta)
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site.toml").write_text(SITE_TOML)
    write_bundle(tmp_path / "public", site_files(3))
    return tmp_path


def publish(site: Path, *args: str) -> Result:
    return CliRunner().invoke(publish_command, ["--site", str(site / "site.toml"), *args])


def temporary(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob(".sitegen-tmp-*"))


def test_what_a_killed_publish_was_writing_goes_with_the_next_publish(site: Path) -> None:
    assert publish(site, "--no-build").exit_code == 0
    write_bundle(site / "public", site_files(3, version="v2"))
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_WRITING, "publish", "--site", "site.toml"]
        + ["--no-build"],
        cwd=site,
        capture_output=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    out = site / "out"
    assert temporary(out)  # what it left
    result = publish(site, "--no-build", "--force", "--json")  # its lock: a dead process's
    assert result.exit_code == 0, result.output
    assert temporary(out) == []
    plan = json.loads(result.stdout)["plan"]
    assert plan["deletes"] == [] and plan["foreign"]["kept"] == []


def test_what_an_older_sitegen_left_in_the_folder_served_goes_with_the_first_publish(
    site: Path,
) -> None:
    """Before 2026-12-07 the temporary files were written beside each file, unlocked."""
    assert publish(site, "--no-build").exit_code == 0
    out = site / "out"
    shutil.rmtree(out / ".sitegen" / "tmp", ignore_errors=True)  # as an older sitegen left it
    left = [
        out / "alerts" / "a0" / f".sitegen-tmp-index.html.{gone_pid()}-0a1b2c3d.140211",
        out / ".sitegen" / "meta" / f".sitegen-tmp-index.html.json.{gone_pid()}.140211",
    ]
    for path in left:
        path.write_text("half a file")
    result = publish(site, "--no-build", "--verify", "--json")
    assert result.exit_code == 0, result.output
    assert temporary(out) == []
    plan = json.loads(result.stdout)["plan"]
    assert plan["deletes"] == [] and plan["foreign"]["kept"] == []


def test_what_a_live_publish_is_writing_is_left_alone_and_never_counted(site: Path) -> None:
    assert publish(site, "--no-build").exit_code == 0
    writing = subprocess.Popen(
        [sys.executable, "-c", _WRITING, str(site / "out")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writing.stdin is not None and writing.stdout is not None
    try:
        held = Path(writing.stdout.readline().strip())
        assert held.exists(), "the writer failed"
        # another container's publish: its pid means nothing here
        held = held.rename(held.with_name(held.name.replace(str(writing.pid), str(gone_pid()), 1)))
        result = publish(site, "--no-build", "--verify", "--json")  # lists the folder
        assert result.exit_code == 0, result.output
        assert held.exists()
        assert held.name not in result.stdout
        plan = json.loads(result.stdout)["plan"]
        assert plan["deletes"] == [] and plan["foreign"]["kept"] == []
    finally:
        writing.kill()
        writing.wait()


def gone_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert not os.path.exists(f"/proc/{gone.pid}")
    return gone.pid
