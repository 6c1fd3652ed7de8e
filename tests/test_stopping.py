"""Every command stopped by Ctrl-C or SIGTERM, run as users run it (a subprocess): one line
naming the command and what it did or did not change, exit code 130, never click's
"Aborted!" (exit 1), a traceback, or a half-written file (sitegen/stopping.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen_fixtures import TmpSite, alert_text

# `sitegen ARGS` in which the `CALL`th call of MODULE.NAME first sends SIGNUM to the process
# itself: the stop comes at that point of the command's work, as a Ctrl-C would.
_STOPPED_AT = """
import importlib, os, sys, time
module, name, signum, call = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
del sys.argv[1:5]
target = importlib.import_module(module)
original = getattr(target, name)
calls = []

def stop(*args, **kwargs):
    calls.append(1)
    if len(calls) == call:
        os.kill(os.getpid(), signum)
        time.sleep(10)  # the signal is handled first
    return original(*args, **kwargs)

setattr(target, name, stop)
from sitegen.cli import main
main()
"""


def stopped_at(
    where: str, signum: int, *args: str, cwd: Path, call: int = 1
) -> subprocess.CompletedProcess[str]:
    """`sitegen ARGS` stopped by ``signum`` at the ``call``th call of ``where`` (module:name)."""
    module, name = where.split(":")
    command = [sys.executable, "-c", _STOPPED_AT, module, name, str(int(signum)), str(call)]
    return subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def said_once(done: subprocess.CompletedProcess[str], command: str) -> str:
    """The one line an interrupted ``command`` ended with (exit code 130), without its prefix:
    no traceback, no "Aborted!" (notes the command gave before may precede it)."""
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "Aborted" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    prefix = f"Error: interrupted: `sitegen {command}` was stopped; "
    assert last.startswith(prefix), done.stderr
    return last.removeprefix(prefix)


@pytest.fixture
def site(tmp_path: Path) -> TmpSite:
    return TmpSite(tmp_path / "site")


# Each command, stopped as it reads site.toml: what it says it had (not) changed then
COMMANDS = {
    "status": ([], "it changes no file, so nothing needs undoing."),
    "check": ([], "it changes no file, so nothing needs undoing. Run `sitegen check` again"),
    "build": ([], "the output folder is as it was, or fully built"),
    "new": (["Flood watch", "--severity", "Minor"], "no alert file was written."),
    "import-cap": (["site.toml"], "no alert file was written."),
    "infra": (
        ["cloudformation", "--site", "site.toml"],
        "nothing was changed (a file given with --out is written whole",
    ),
    "doctor": ([], "it changed nothing, except that with --write-test"),
    "publish": (["--target", "folder:out"], "nothing was published."),
    "rollback": (["--previous", "--target", "folder:out"], "nothing was changed where the site is"),
    "serve": (["--port", "0"], "the preview was stopped before it began; nothing was written."),
}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_stopped_says_so_in_one_line(
    site: TmpSite, command: str, signum: int
) -> None:
    """Ctrl-C printed click's "Aborted!" with exit code 1 for most commands, and SIGTERM
    killed them without a word (exit -15)."""
    args, words = COMMANDS[command]
    done = stopped_at("sitegen.options:load_config", signum, command, *args, cwd=site.root)
    assert said_once(done, command).startswith(words)
    assert not (site.root / "public").exists()


def test_new_stopped_while_writing_leaves_no_alert_file(site: TmpSite) -> None:
    """Stopped as it made the file's text (the file was open then: it was left empty, and
    `sitegen check` failed on it), `new` leaves no file, nor its temporary one."""
    done = stopped_at(
        "sitegen.scaffold:alert_file_text",
        signal.SIGINT,
        *("new", "Flood watch", "--severity", "Minor", "--area", "Seoul"),
        cwd=site.root,
    )
    assert said_once(done, "new") == "no alert file was written."
    assert list((site.root / "content" / "alerts").iterdir()) == []


def test_new_stopped_between_two_files_writes_neither(site: TmpSite) -> None:
    """A follow-up of an alert in two languages is two files: stopped after the first, it
    was left alone, now neither is."""
    site.add("2026-11-25-flood.md", alert_text())
    site.add("2026-11-25-flood.ko.md", alert_text())
    before = sorted(p.name for p in (site.root / "content" / "alerts").iterdir())
    done = stopped_at(
        "sitegen.scaffold:alert_file_text",
        signal.SIGTERM,
        *("new", "--update", "2026-11-25-flood"),
        cwd=site.root,
        call=2,
    )
    assert said_once(done, "new") == "no alert file was written."
    assert sorted(p.name for p in (site.root / "content" / "alerts").iterdir()) == before


def test_init_stopped_part_way_leaves_no_half_site(tmp_path: Path) -> None:
    """Stopped after copying site.toml and templates/, init left them: the next `sitegen
    init` refused the folder ("already there"). Now it removes what it made."""
    done = stopped_at("sitegen.new_site:alert_file_text", signal.SIGINT, "init", cwd=tmp_path)
    assert said_once(done, "init") == "no site was created."
    assert list(tmp_path.iterdir()) == []


def test_a_stopped_command_with_json_prints_its_document(site: TmpSite) -> None:
    done = stopped_at(
        "sitegen.options:load_config", signal.SIGINT, "status", "--json", cwd=site.root
    )
    said_once(done, "status")
    error = json.loads(done.stdout)["error"]
    assert (error["kind"], error["exit_code"]) == ("interrupted", 130)


def test_ctrl_c_at_a_question_of_new_is_an_interruption(site: TmpSite) -> None:
    """Ctrl-C typed at one of `sitegen new`'s questions (click turns it into its Abort: it said
    "Aborted!", exit 1): the same one line and 130, on a line of its own, no file written."""
    import os
    import pty
    import select
    import time

    before = sorted((site.root / "content").rglob("*"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: `sitegen new` on a terminal, so that it asks
        os.chdir(site.root)
        os.execv(
            sys.executable, [sys.executable, "-c", "from sitegen.cli import main; main()", "new"]
        )
    out = b""
    deadline = time.monotonic() + 60
    try:
        while b"Title" not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                out += os.read(fd, 4096)
        assert b"Title" in out, out
        # Wait until it waits for the answer: a SIGINT that lands after the question is shown
        # but before Python's readline blocks in select() is only acted on at the next key
        # (CPython's readline checks for signals when select() is interrupted), so a test that
        # typed Ctrl-C at once lost it about one run in six on a loaded machine.
        asleep = 0
        while asleep < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
            asleep = asleep + 1 if state == "S" else 0
        os.write(fd, b"\x03")  # the terminal sends SIGINT, as Ctrl-C does
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child ended: its terminal is gone
                    break
                if not chunk:
                    break
                out += chunk
    finally:
        done, status = os.waitpid(pid, os.WNOHANG)
        while not done and time.monotonic() < deadline:
            time.sleep(0.1)
            done, status = os.waitpid(pid, os.WNOHANG)
        if not done:  # it never asked, or never ended: no test left waiting for it
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = out.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 130, text
    assert "Aborted" not in text and "Traceback" not in text, text
    lines = [line.strip() for line in text.splitlines()]
    assert any(
        line.startswith("Error: interrupted: `sitegen new` was stopped; no alert file")
        for line in lines
    ), text
    assert sorted((site.root / "content").rglob("*")) == before
