"""`sitegen serve` as a user runs it: the mistakes that stop it before it serves anything."""

from __future__ import annotations

import errno
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from serve_support import public_written, said_until, start_serve

from sitegen import watch
from sitegen.cli import cli
from sitegen_fixtures import TmpSite, alert_text, run_sitegen, unprivileged


def test_no_site_toml_exits_1_with_the_usual_message(tmp_path: Path) -> None:
    """It kept running, answering every page with 404 'No good build yet'."""
    result = run_sitegen("serve", "--port", "0", cwd=tmp_path)
    assert result.returncode == 1
    assert "no site.toml here" in result.stderr


def test_a_bad_host_is_not_told_to_try_another_port(tmp_site: TmpSite) -> None:
    result = run_sitegen("serve", "--host", "no-such-host.invalid", cwd=tmp_site.root)
    assert result.returncode == 1
    assert "try another port" not in result.stderr
    assert "try --host 127.0.0.1" in result.stderr


def test_a_port_in_use_names_a_free_one_to_try(tmp_site: TmpSite) -> None:
    """It said "try another --port": an official had to guess a number, and might guess
    another busy one."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_sitegen("serve", "--port", str(port), cwd=tmp_site.root)
        found = re.search(r"try another port: --port (\d+) \(free now\)", result.stderr)
        assert result.returncode == 1 and found, result.stderr
        with socket.create_server(("127.0.0.1", int(found[1]))):  # it is free indeed
            pass


def test_every_serve_option_is_explained(tmp_site: TmpSite) -> None:
    result = run_sitegen("serve", "--help", cwd=tmp_site.root)
    assert "Port to listen on" in result.stdout


def serve_stopped_while_writing(site: TmpSite, stop: signal.Signals) -> bool:
    """Start `sitegen serve`, send `stop` as soon as its first build is being written to
    public/, wait for it to end as Ctrl-C ends it (killed: ends); whether the signal came
    before the write was done."""
    toml = str(site.root / "site.toml")
    serve = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from sitegen.cli import main; main()",
            "serve",
            "--site",
            toml,
            "--port",
            "0",
        ],
        cwd=site.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".public.") for p in site.root.iterdir()):
            assert serve.poll() is None and time.monotonic() < deadline
            time.sleep(0.001)
        serve.send_signal(stop)
        _, stderr = serve.communicate(timeout=10)
        if stop != signal.SIGKILL:
            assert (serve.returncode, stderr.splitlines()[-1:]) == (0, ["stopped"]), stderr
    finally:
        serve.kill()
        serve.wait()
    return not (site.root / "public").exists()  # the write's folder was not swapped in yet


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_preview_stopped_while_writing_public_leaves_no_copy_behind(
    tmp_site: TmpSite, stop: signal.Signals
) -> None:
    """The first good build is written to public/ through a folder beside it. Stopped then
    (Ctrl-C, SIGTERM, or killed), serve left that folder, a whole copy of the site, and
    nothing ever removed it: it has no process id in its name, as a build's staging has."""
    for i in range(300):
        tmp_site.add(f"a{i:03d}.md", alert_text(title=f"Flood watch {i}"))
    caught = False
    for _ in range(5):  # the signal may come after the write: then try again
        if serve_stopped_while_writing(tmp_site, stop):
            caught = True
            break
        shutil.rmtree(tmp_site.root / "public")
    assert caught, "never stopped while writing"
    if stop == signal.SIGKILL:  # nothing can clean up in the process: the next one does
        assert run_sitegen("build", "--site", "site.toml", cwd=tmp_site.root).returncode == 0
    left = [p.name for p in tmp_site.root.iterdir() if p.name.startswith(".public.")]
    assert left == []


def test_a_system_out_of_file_watches_is_not_called_a_port_problem(
    tmp_site: TmpSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linux limits the folders programs may watch (editors and file sync use many): when
    that limit was reached, serve said "cannot listen on 127.0.0.1:8000 (inotify watch limit
    reached)", as if the port were the problem. (Watchdog raises as here: the limit cannot
    be reached in a test without changing the machine's settings for everyone.)"""

    class FullObserver(watch.Observer):  # type: ignore[misc, valid-type]
        def start(self) -> None:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watch, "Observer", FullObserver)
    toml = str(tmp_site.root / "site.toml")
    result = CliRunner().invoke(cli, ["serve", "--site", toml, "--port", "0"])
    assert result.exit_code == 1, result.output
    assert "cannot listen" not in result.output
    assert "cannot watch" in result.output and "content" in result.output
    assert "inotify watch limit reached" in result.output


def serve_until_serving(
    site: TmpSite, *args: str, preexec_fn: Callable[[], None] | None = None
) -> str:
    """Start `sitegen serve ARGS`, read its output until it serves, stop it; that output."""
    serve = start_serve(site, "--site", str(site.root / "site.toml"), *args, preexec_fn=preexec_fn)
    assert serve.stderr is not None
    lines = []
    try:
        for line in serve.stderr:
            lines.append(line)
            if line.startswith(("serving ", "Error")):
                break
    finally:
        serve.terminate()
        serve.wait(10)
    return "".join(lines)


def test_listening_on_every_network_is_said_and_the_address_given_works(
    tmp_site: TmpSite,
) -> None:
    """--host 0.0.0.0 put drafts on the network without a word, and gave
    http://0.0.0.0:PORT/ to open, an address browsers now refuse."""
    output = serve_until_serving(tmp_site, "--host", "0.0.0.0")
    assert "warning: the preview is open to other computers" in output
    assert "serving http://127.0.0.1:" in output
    assert "warning" not in serve_until_serving(tmp_site, "--host", "127.0.0.1")


def test_an_ipv6_address_is_listened_on(tmp_site: TmpSite) -> None:
    """--host ::1 was refused as "not an address of this machine"."""
    try:  # a container may have no IPv6 at all: then there is nothing to listen on
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"this machine has no IPv6 loopback ({exc.strerror})")
    output = serve_until_serving(tmp_site, "--host", "::1")
    assert "serving http://[::1]:" in output, output


def test_a_file_in_templates_it_may_not_read_does_not_stop_the_preview(tmp_site: TmpSite) -> None:
    """A file of templates/ sitegen may not read (left by an editor run as another user)
    and no page uses: `sitegen build` builds, but serve stopped with "cannot listen on
    127.0.0.1:8000 (Permission denied)", blaming the port."""
    tmp_site.add("flood.md", alert_text())
    (tmp_site.root / "templates" / "old-draft.html").write_text("<p>")
    (tmp_site.root / "templates" / "old-draft.html").chmod(0)
    toml = str(tmp_site.root / "site.toml")
    assert (
        run_sitegen("build", "--site", toml, cwd=tmp_site.root, preexec_fn=unprivileged).returncode
        == 0
    )
    output = serve_until_serving(tmp_site, preexec_fn=unprivileged)
    assert "serving http://127.0.0.1:" in output, output


def test_a_template_it_may_not_read_is_a_problem_named_not_a_crash(tmp_site: TmpSite) -> None:
    """A page template sitegen may not read: serve stopped with "cannot listen on
    127.0.0.1:8000 (Permission denied)" and `sitegen check` called it a bug in sitegen."""
    tmp_site.add("flood.md", alert_text())
    (tmp_site.root / "templates" / "alert.html").chmod(0)
    said = "templates/alert.html: cannot read the file: Permission denied"
    check = run_sitegen("check", "--site", "site.toml", cwd=tmp_site.root, preexec_fn=unprivileged)
    assert check.returncode == 1 and said in check.stderr, check.stderr
    output = serve_until_serving(tmp_site, preexec_fn=unprivileged)
    assert said in output and "serving http://127.0.0.1:" in output, output


def test_the_preview_gives_the_warnings_check_gives(tmp_site: TmpSite) -> None:
    """serve said nothing of an alert sent a year ahead (a mistyped year) nor of check's advice
    (a title too long for a phone, an alert expired as it is sent). The chain warnings are
    advice too, not the build's (a warning found across files keeps a site from patching)."""
    now = "2026-11-25T12:00:00+09:00"
    tmp_site.add(
        "far.md", alert_text(sent="2027-11-25T07:00:00+09:00", expires="2027-11-26T07:00:00+09:00")
    )
    tmp_site.add("long.md", alert_text(title="A" * 61))
    tmp_site.add(
        "past.md",
        alert_text(sent="2026-11-24T07:00:00+09:00", expires="2026-11-24T09:00:00+09:00"),
    )
    tmp_site.add("chain.md", alert_text())
    tmp_site.add("chain-update.md", alert_text(msg_type="Update", references="[chain]"))
    tmp_site.add(
        "chain-cancel.md",
        alert_text(
            msg_type="Cancel", references="[chain-update]", sent="2026-11-25T08:00:00+09:00"
        ),
    )
    checked = run_sitegen("check", "--now", now, cwd=tmp_site.root)
    assert checked.returncode == 0, checked.stderr
    warnings = {line for line in checked.stderr.splitlines() if ": warning: " in line}
    assert any("far.md" in w and "days from now" in w for w in warnings), warnings
    assert any("chain-update.md:10:" in w and "same time as" in w for w in warnings), warnings
    assert any("chain-cancel.md:15:" in w and "not reference 'chain'" in w for w in warnings)
    assert any("long.md" in w for w in warnings) and any("past.md" in w for w in warnings)
    served = set(serve_until_serving(tmp_site, "--now", now).splitlines())
    assert warnings <= served, warnings - served


def test_the_preview_gives_checks_advice_while_another_file_has_an_error(
    tmp_site: TmpSite,
) -> None:
    """`sitegen check` advises on the valid alerts even while another file has an error;
    serve gave its advice only once every file was right, so an official fixing a colleague's
    typo never saw that their own title was too long for a phone."""
    now = "2026-11-25T12:00:00+09:00"
    tmp_site.add("long.md", alert_text(title="A" * 61))
    tmp_site.add("typo.md", alert_text(severity="Severe!"))
    checked = run_sitegen("check", "--now", now, cwd=tmp_site.root)
    assert checked.returncode == 1, checked.stderr
    advice = [line for line in checked.stderr.splitlines() if "long.md" in line]
    assert advice and all(": warning: " in line for line in advice), checked.stderr
    served = serve_until_serving(tmp_site, "--now", now).splitlines()
    assert any("typo.md" in line and "Severe!" in line for line in served), served
    assert set(advice) <= set(served), set(advice) - set(served)


def test_the_first_build_is_said_built_and_a_save_rebuilt(tmp_site: TmpSite) -> None:
    """The preview's first line said "rebuilt in 283 ms: 39 pages rendered, 39 files
    changed": nothing had been built before it, and nothing changed. It says "built in"
    now, and "rebuilt in …, N files changed" after a save (fourth walkthrough). Its N counted
    files as pages: it says the figures `sitegen build` says (fix/walk5)."""
    tmp_site.add("flood.md", alert_text())
    built = run_sitegen("build", cwd=tmp_site.root)
    figures = re.search(r"built (\d+ pages, \d+ files) ", built.stdout + built.stderr)
    assert figures, built.stderr
    serve = start_serve(tmp_site, "--site", str(tmp_site.root / "site.toml"))
    try:
        said = said_until(serve, public_written)
        first = [line for line in said if "built in" in line]
        # the figures `sitegen build` says (it said "N pages rendered", N counting files)
        assert len(first) == 1 and re.fullmatch(rf"built in \d+ ms: {figures[1]}\n", first[0])
        tmp_site.add("flood.md", alert_text(title="River still rising"))
        saved = said_until(serve, lambda line: "built in" in line)[-1]
        assert re.fullmatch(r"rebuilt in \d+ ms: \d+ files? rendered, \d+ files? changed\n", saved)
    finally:
        serve.terminate()
        serve.wait(10)


# Runs `sitegen serve` with one more thread, which sends SIGINT to itself once the preview
# waits to be stopped: Python's handler then runs on that thread, as it does when the signal
# comes the instant before the main thread blocks. Nothing wakes the main thread then.
_CAUGHT_ELSEWHERE = """
import signal, sys, threading, time

def stop_once_serving():
    main = threading.main_thread().ident
    while True:  # until the main thread is in serve() past start(): waiting to be stopped
        frame, names = sys._current_frames().get(main), []
        while frame is not None:
            names.append(frame.f_code.co_name)
            frame = frame.f_back
        if "serve" in names and "start" not in names:
            break
        time.sleep(0.01)
    time.sleep(0.3)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)

threading.Thread(target=stop_once_serving, daemon=True).start()
from sitegen.cli import main
main()
"""


def test_a_ctrl_c_that_did_not_wake_the_waiting_thread_still_stops_the_preview(
    tmp_site: TmpSite,
) -> None:
    """Python runs a signal's handler in the main thread, between instructions: a Ctrl-C
    that came just before the main thread went to sleep for good (or that another thread
    caught) never woke it, and the preview ran on (CI, about one run in 30 under load)."""
    tmp_site.add("flood.md", alert_text())
    serve = subprocess.Popen(
        [sys.executable, "-c", _CAUGHT_ELSEWHERE, "serve", "--port", "0"],
        cwd=tmp_site.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, stderr = serve.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        serve.kill()
        _, stderr = serve.communicate()
        pytest.fail(f"the preview did not stop:\n{stderr}")
    assert (serve.returncode, stderr.splitlines()[-1:]) == (0, ["stopped"]), stderr
