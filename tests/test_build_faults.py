"""`sitegen build` meeting a failing file system, a stop or a kill, run as users run it (a
subprocess), mostly on a site big enough for the forked parse and render pools: one clear
line naming the path and the cause, the previous build intact (or, killed, nothing publish
would upload half-made), nothing left behind, and the next build equal to a clean one.
(docs/reliability.md, "Building")"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from sitegen import owned
from sitegen.build import PARALLEL_MIN
from sitegen_fixtures import (
    NOW,
    TmpSite,
    alert_text,
    assert_no_other_thread,
    file_size_limit,
    run_sitegen,
    unprivileged,
)

ALERTS = PARALLEL_MIN + 50  # content files and render units: both pools fork


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def build(site: TmpSite, preexec: Callable[[], None] | None = None) -> tuple[int, str]:
    """`sitegen build` in a fresh process: (exit code, stderr)."""
    toml = str(site.root / "site.toml")
    done = run_sitegen(
        "build", "--site", toml, "--now", NOW.isoformat(), cwd=site.root, preexec_fn=preexec
    )
    return done.returncode, done.stderr


def clean_build(site: TmpSite, tmp_path: Path) -> dict[str, bytes]:
    """What a build of the same input from nothing makes."""
    copy = TmpSite.__new__(TmpSite)
    copy.root = tmp_path / "clean"
    shutil.copytree(site.root, copy.root, ignore=shutil.ignore_patterns("public", ".sitegen"))
    assert build(copy) == (0, "")
    return tree(copy.root / "public")


def leftovers(site: TmpSite) -> list[str]:
    return [p.name for p in site.root.iterdir() if ".tmp-" in p.name]


@pytest.fixture
def big_site(tmp_path: Path) -> TmpSite:
    site = TmpSite(tmp_path / "site")
    for i in range(ALERTS):
        sent = (NOW - timedelta(minutes=i)).isoformat()
        site.add(f"a{i:04d}.md", alert_text(title=f"Flood watch {i}", sent=sent))
    return site


def read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)


def writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)


def staged(site: TmpSite) -> bool:
    return any(os.listdir(site.root / name) for name in leftovers(site))


def cache_leftovers(site: TmpSite) -> list[str]:
    """Temporary files in the cache folder: `cache.aside_path`'s, and those the build reads
    the file system's clock by (`build._fs_clock`: ".clock-…" until 2026-12-07)."""
    folder = site.root / ".sitegen" / "cache"
    if not folder.is_dir():
        return []
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name[:6] == ".clock"]


def start_build(site: TmpSite) -> subprocess.Popen[str]:
    toml = str(site.root / "site.toml")
    return subprocess.Popen(
        [sys.executable, "-c", "from sitegen.cli import main; main()", "build", "--site", toml],
        cwd=site.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal or CI job gives
    )


def when(running: subprocess.Popen[str], ready: Callable[[], bool]) -> None:
    """Wait until `ready()` (polled every 2 ms) while the build runs."""
    deadline = time.monotonic() + 60
    while not ready() and running.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert running.poll() is None, running.communicate()


def refused_or_whole(public: Path) -> None:
    """`sitegen publish --no-build` refuses this folder (its files' sizes differ from its
    manifest), or every file is as its manifest says (publish also checks each sha256 it
    uploads, so what would go online is whole either way)."""
    import hashlib

    from publish.local import read_local
    from sitegen.errors import PublishError

    try:
        bundle = read_local(public)
    except PublishError:
        return
    for path, entry in bundle.files.items():
        assert hashlib.sha256((public / path).read_bytes()).hexdigest() == entry.sha256, path


def test_a_file_too_large_to_write_fails_the_build_cleanly(
    big_site: TmpSite, tmp_path: Path
) -> None:
    assert build(big_site) == (0, "")
    public = big_site.root / "public"
    before = tree(public)
    # the larger feed (Korean words take more bytes): what a render worker writes fails
    feed = max(("feed.atom", "ko/feed.atom"), key=lambda path: len(before[path]))
    limit = len(before[feed]) - 1
    compiled = big_site.root / ".sitegen" / "cache" / "jinja"
    assert max(p.stat().st_size for p in compiled.rglob("*") if p.is_file()) < limit
    toml = big_site.root / "site.toml"
    toml.write_text(toml.read_text("utf-8").replace("Test Alerts", "Test Alerts Service"), "utf-8")
    code, err = build(big_site, file_size_limit(limit))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"{public / feed}: File too large" in lines[0]
    assert f"Nothing in {public} was changed" in lines[0]
    assert tree(public) == before
    assert not leftovers(big_site)
    assert build(big_site) == (0, "")
    assert tree(public) == clean_build(big_site, tmp_path)


def test_a_cache_too_large_to_save_says_the_site_was_built(
    big_site: TmpSite, tmp_path: Path
) -> None:
    assert build(big_site) == (0, "")
    public = big_site.root / "public"
    state = big_site.root / ".sitegen" / "cache" / "state.bin"
    largest = max(len(data) for data in tree(public).values())
    assert state.stat().st_size > largest
    shutil.rmtree(big_site.root / ".sitegen")
    shutil.rmtree(public)
    code, err = build(big_site, file_size_limit(largest + 1))  # all but the build state
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"{state}: File too large. {public} holds the new build, but its cache" in lines[0]
    assert build(big_site) == (0, "")
    assert tree(public) == clean_build(big_site, tmp_path)


@pytest.mark.parametrize(
    ("folder", "named", "output"),
    [
        ("site", "", "Nothing in {public} was changed"),
        (".sitegen/cache", ".sitegen/cache/state-unsettled", "Nothing in {public} was changed"),
        ("public", "public/alerts/a0000/cap.xml", "the next build finishes the job"),
    ],
)
def test_a_folder_the_build_cannot_write_fails_it_cleanly(
    tmp_site: TmpSite,
    tmp_path: Path,
    enforced_permissions: None,
    folder: str,
    named: str,
    output: str,
) -> None:
    for i in range(3):
        tmp_site.add(f"a{i:04d}.md", alert_text(title=f"Flood watch {i}"))
    assert build(tmp_site, unprivileged) == (0, "")
    public = tmp_site.root / "public"
    before = tree(public)
    alert = tmp_site.root / "content" / "alerts" / "a0000.md"
    alert.write_text(alert.read_text("utf-8").replace("Flood watch", "Flash flood"), "utf-8")
    locked = tmp_site.root / folder if folder != "site" else tmp_site.root
    read_only(locked)
    try:
        code, err = build(tmp_site, unprivileged)
    finally:
        writable(locked)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"{tmp_site.root / named}: Permission denied. " in lines[0]
    assert output.format(public=public) in lines[0]
    assert "Give the user who builds the right to write there, then build again." in lines[0]
    if folder != "public":
        assert tree(public) == before
    assert not leftovers(tmp_site)
    assert build(tmp_site, unprivileged) == (0, "")
    assert tree(public) == clean_build(tmp_site, tmp_path)


_SITEGEN = "from sitegen.cli import main; main()"


def _owner_cannot_read_what_it_makes() -> None:
    unprivileged()
    os.umask(0o400)  # folders 0o300, files 0o266: made, written, never opened to be read


def test_a_temporary_folder_it_cannot_open_fails_the_build_in_one_line(
    tmp_site: TmpSite, enforced_permissions: None
) -> None:
    """A staging folder the build makes but may not open to lock (here: a umask taking the
    owner's right to read; an LSM or no descriptor left do the same) ends the build with one
    line. Until then it made another one for ever: 112,000 folders beside public/ in 8 s."""
    tmp_site.add("a0000.md", alert_text())
    toml = str(tmp_site.root / "site.toml")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _SITEGEN, "build", "--site", toml, "--now", NOW.isoformat()],
            capture_output=True,
            text=True,
            timeout=15,
            preexec_fn=_owner_cannot_read_what_it_makes,  # noqa: PLW1509 - no threads here
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after 15 s; {len(leftovers(tmp_site)):,} folders made")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{tmp_site.root}{os.sep}.public.tmp-locked-" in lines[0]
    assert ": Permission denied. Nothing in " in lines[0]
    assert len(leftovers(tmp_site)) <= 1  # the one it made: empty, and could not list


def test_a_python_without_fcntl_builds_unlocked(tmp_site: TmpSite) -> None:
    """Windows has no `fcntl`: sitegen still imports and builds there, its temporary folders
    and files unlocked (nobody can tell them abandoned: left, never removed on a guess).
    Until fix/rev1 `sitegen build` stopped there with an internal error (no fcntl)."""
    tmp_site.add("a0000.md", alert_text())
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['fcntl'] = None\n" + _SITEGEN, "build"]
        + ["--site", str(tmp_site.root / "site.toml"), "--now", NOW.isoformat()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_site.root / "public" / "alerts" / "a0000" / "index.html").is_file()
    assert not leftovers(tmp_site)
    assert not cache_leftovers(tmp_site)


def test_a_temporary_name_taken_each_time_is_given_up(tmp_path: Path) -> None:
    """Made, then gone before it is locked (another build's clean-up), every time: a few
    tries, then an OSError, never a loop without end."""
    made: list[Path] = []

    def make() -> Path:  # names nothing: as if removed at once
        made.append(tmp_path / f"tmp-{len(made)}")
        return made[-1]

    with pytest.raises(OSError, match="kept removing"):
        owned.made_held(make, lambda path: None)
    assert 1 < len(made) <= 20


@pytest.mark.parametrize(
    "path",
    [
        ".sitegen/cache",  # a damaged cache: ignored, as the folder is always safe to delete
        "public/alerts",  # where the next build writes folders: left from nothing it made
    ],
)
def test_a_file_where_the_build_needs_a_folder_is_replaced(
    tmp_site: TmpSite, tmp_path: Path, path: str
) -> None:
    for i in range(3):
        tmp_site.add(f"a{i:04d}.md", alert_text(title=f"Flood watch {i}"))
    assert build(tmp_site) == (0, "")
    shutil.rmtree(tmp_site.root / path)
    (tmp_site.root / path).write_text("not a folder", "utf-8")
    assert build(tmp_site) == (0, "")
    assert tree(tmp_site.root / "public") == clean_build(tmp_site, tmp_path)


@pytest.mark.parametrize("path", [".sitegen", "public"])
def test_a_file_where_the_site_needs_a_folder_is_named(tmp_site: TmpSite, path: str) -> None:
    tmp_site.add("a0000.md", alert_text())
    (tmp_site.root / path).write_text("not a folder", "utf-8")
    code, err = build(tmp_site)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0] == (
        f"Error: {tmp_site.root / path}: a file where sitegen needs a folder. "
        "Move it away, then build again."
    )
    assert not leftovers(tmp_site)
    (tmp_site.root / path).unlink()
    assert build(tmp_site) == (0, "")


@pytest.mark.parametrize(
    ("signum", "group", "moment"),
    [
        (signal.SIGINT, True, "rendering"),  # Ctrl-C in a terminal: to every process
        (signal.SIGTERM, True, "rendering"),  # a CI job cancelled
        (signal.SIGTERM, False, "rendering"),  # `kill PID`, `timeout`
        (signal.SIGINT, True, "parsing"),
    ],
    ids=["ctrl-c-rendering", "sigterm-to-group-rendering", "sigterm-rendering", "ctrl-c-parsing"],
)
def test_an_interrupted_build_ends_cleanly(
    big_site: TmpSite, tmp_path: Path, signum: int, group: bool, moment: str
) -> None:
    """Stopped while its workers parse or render, a build says so in a line, leaves no
    staged files nor temporary cache files, and the next build is right."""
    running = start_build(big_site)
    compiled = big_site.root / ".sitegen" / "cache" / "jinja"  # while the workers parse
    when(running, compiled.is_dir if moment == "parsing" else lambda: staged(big_site))
    (os.killpg if group else os.kill)(running.pid, signum)
    _, err = running.communicate(timeout=60)
    assert running.returncode == 130, err  # as an interrupted publish (sitegen/errors.py)
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("Error: interrupted: the build stopped")
    assert not leftovers(big_site)
    assert not cache_leftovers(big_site)
    assert not (big_site.root / "public").exists()
    assert build(big_site) == (0, "")
    assert tree(big_site.root / "public") == clean_build(big_site, tmp_path)


@pytest.mark.parametrize("moment", ["parsing", "rendering", "committing"])
def test_a_killed_build_is_finished_by_the_next(
    big_site: TmpSite, tmp_path: Path, moment: str
) -> None:
    """SIGKILL (the OOM killer, a CI job's last word) at three moments of a build using the
    forked pools: public/ is never something publish would upload half-made, and the next
    build equals a clean one."""
    cache = big_site.root / ".sitegen" / "cache"
    if moment == "committing":  # an incremental build that rewrites every page
        assert build(big_site) == (0, "")
        base = big_site.root / "templates" / "base.html"
        base.write_text(base.read_text("utf-8") + "<!-- v2 -->\n", "utf-8")
    running = start_build(big_site)
    ready = {
        "parsing": lambda: (cache / "jinja").is_dir(),  # compiled while the workers parse
        "rendering": lambda: staged(big_site),
        "committing": lambda: (cache / "state-unsettled").exists(),
    }[moment]
    when(running, ready)
    os.kill(running.pid, signal.SIGKILL)
    running.communicate(timeout=60)
    public = big_site.root / "public"
    if public.exists():
        refused_or_whole(public)
    assert build(big_site) == (0, "")
    assert tree(public) == clean_build(big_site, tmp_path)
    assert not leftovers(big_site)  # what the killed build staged is gone too
    assert not cache_leftovers(big_site)


# `sitegen build` SIGKILLed the instant it has made the file it reads the clock by
_KILLED_AT_THE_CLOCK = """
import os, signal
real = os.open
def killed_once_made(path, *args, **kwargs):
    fd = real(path, *args, **kwargs)
    if str(os.path.basename(path)).startswith(".clock"):
        os.kill(os.getpid(), signal.SIGKILL)
    return fd
os.open = killed_once_made
from sitegen.cli import main
main()
"""


def test_the_clock_file_of_a_killed_build_goes_with_the_next(tmp_site: TmpSite) -> None:
    """The file a build reads the file system's clock by, left by a SIGKILL: was never
    removed (one more in .sitegen/cache per killed build)."""
    toml = str(tmp_site.root / "site.toml")
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_AT_THE_CLOCK, "build", "--site", toml],
        cwd=tmp_site.root,
        capture_output=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert cache_leftovers(tmp_site)  # what it left
    older = tmp_site.root / ".sitegen" / "cache" / f".clock-{_dead_pid()}-0123abcd-140211"
    older.touch()  # as sitegen before 2026-12-07 left it
    assert build(tmp_site) == (0, "")
    assert not cache_leftovers(tmp_site)


@pytest.mark.forks
def test_a_pool_ended_early_lets_its_workers_end_on_their_own() -> None:
    """A failure or a stop while workers are busy ends the pool in order, the tasks left
    skipped. Pool.terminate() SIGTERMs busy workers, and one killed while sending its
    result kept the result queue's lock: the build then waited for it for ever (seen once
    on a full disk: a worker failed while the other sent its results)."""
    import multiprocessing

    from sitegen import build as build_module

    assert_no_other_thread()
    with pytest.raises(RuntimeError), build_module.fork_workers(2) as pool:
        workers = multiprocessing.active_children()
        results = pool.imap_unordered(time.sleep, [0.02] * 40)
        next(results)
        raise RuntimeError("a failure while the workers are busy")
    assert len(workers) == 2
    assert [worker.exitcode for worker in workers] == [0, 0]  # not -SIGTERM


def _die_on_second(seconds: float) -> None:
    if seconds == 0:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    time.sleep(seconds)


@pytest.mark.forks
def test_a_killed_worker_fails_the_pool_instead_of_waiting_for_ever() -> None:
    """multiprocessing replaces a killed worker and waits for the result of the task it
    took for ever: the build's pool notices the worker is gone and says so."""
    from sitegen import build as build_module
    from sitegen.errors import WorkerLost

    assert_no_other_thread()
    started = time.monotonic()
    with pytest.raises(WorkerLost, match="signal SIGKILL"), build_module.fork_workers(2) as pool:
        for _ in pool.imap_unordered(_die_on_second, [0.01, 0, 0.01, 0.01]):
            pass
    assert time.monotonic() - started < 5


def workers_of(pid: int) -> list[int]:
    """The pool workers of `pid` (Linux): the processes any of its threads forked (the pool's
    thread forks replacements) that left its process group, as each worker does first. The
    main thread's children alone counted the cache writer (`cache.start_write_aside`) and
    workers not set up yet: "two workers" while a build ran none or one (seen), and missed
    the replacements forked by the pool's thread."""
    workers = []
    for child in all_workers_of(pid):
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            if os.getpgid(child) == child:
                workers.append(child)
    return workers


def busy(worker: int, cpu_seconds: float = 0.05) -> bool:
    """Has `worker` used `cpu_seconds` of CPU (set up, it is then in its tasks)? A wall-clock
    wait instead let a loaded machine stop the workers before their first task: killed idle,
    none was lost, and the command could end well."""
    try:
        fields = Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return True  # it ended: what comes next finds out how
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks >= cpu_seconds * os.sysconf("SC_CLK_TCK")


def end_with_workers(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)  # its pool forks no replacement worker while they are ended
    workers = all_workers_of(pid)
    os.killpg(pid, signal.SIGKILL)
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_a_killed_worker_fails_the_build_with_a_clear_line(
    big_site: TmpSite, tmp_path: Path
) -> None:
    """A render worker killed (the OOM killer, `kill -9`) while the build renders: the build
    ends in a line that says what happened and what to do, not in a wait for ever; nothing is
    left staged and the next build is right."""
    running = start_build(big_site)
    when(running, lambda: staged(big_site) and len(workers_of(running.pid)) >= 2)
    workers = workers_of(running.pid)
    when(running, lambda: all(busy(pid) for pid in workers))
    for pid in workers:  # held mid-task first: killed idle, once the work was done, none is lost
        os.kill(pid, signal.SIGSTOP)
    assert running.poll() is None
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    try:
        _, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:  # it waits for ever (as before build._Watched): end it
            end_with_workers(running.pid)
    assert running.returncode == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: a process helping the build ended"), err
    assert "SIGKILL" in last and "sitegen build` again" in last
    assert not leftovers(big_site)
    assert not (big_site.root / "public").exists()
    assert build(big_site) == (0, "")
    assert tree(big_site.root / "public") == clean_build(big_site, tmp_path)


@pytest.fixture
def bigger_site(tmp_path: Path) -> TmpSite:
    """Enough alerts (~1.5 s of rendering on two cores) for check's workers to be caught
    mid-task."""
    site = TmpSite(tmp_path / "site")
    for i in range(4000):
        sent = (NOW - timedelta(minutes=i)).isoformat()
        site.add(f"a{i:04d}.md", alert_text(title=f"Flood watch {i}", sent=sent))
    return site


def start_check(site: TmpSite) -> subprocess.Popen[str]:
    """`sitegen check` of a big site in its own process group, as a terminal or CI runs it."""
    toml = str(site.root / "site.toml")
    command = "from sitegen.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", command, "check", "--site", toml, "--now", NOW.isoformat()],
        cwd=site.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def check_with_workers_held(site: TmpSite) -> tuple[subprocess.Popen[str], list[int]]:
    """`sitegen check` running, and its two render workers, stopped (SIGSTOP) while they
    render: what comes next (a stop, a kill) comes while check waits for their results."""
    running = start_check(site)
    when(running, lambda: len(workers_of(running.pid)) >= 2)
    workers = workers_of(running.pid)
    when(running, lambda: all(busy(pid) for pid in workers))  # killed idle, none loses a task
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    assert running.poll() is None
    return running, workers


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGINT, True), (signal.SIGTERM, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "sigterm-to-group", "sigterm"],
)
def test_an_interrupted_check_ends_cleanly(bigger_site: TmpSite, signum: int, group: bool) -> None:
    """Stopped while its workers render the site, check ends as an interrupted build does:
    exit code 130 and one line, no traceback from it nor from each worker (it said
    "Aborted!" with code 1 to Ctrl-C, and a SIGTERM killed it as workers printed tracebacks)."""
    running, workers = check_with_workers_held(bigger_site)
    (os.killpg if group else os.kill)(running.pid, signum)
    for pid in workers:
        os.kill(pid, signal.SIGCONT)
    try:
        _, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            end_with_workers(running.pid)
    assert running.returncode == 130, err
    assert "Traceback" not in err
    said = "Error: interrupted: `sitegen check` was stopped; it changes no file"
    assert err.strip().splitlines()[-1].startswith(said), err
    time.sleep(0.5)
    assert not [w for w in workers if Path(f"/proc/{w}/cmdline").is_file()]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_a_killed_worker_fails_the_check_with_a_clear_line(bigger_site: TmpSite) -> None:
    """A worker killed while check renders: check says so in its own words, not "Run
    `sitegen build` again" and "the output folder was left as it was" (check builds nothing)."""
    # held mid-task first: killed idle, once the work was done, none is lost
    running, workers = check_with_workers_held(bigger_site)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    try:
        _, err = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            end_with_workers(running.pid)
    assert running.returncode == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: a process helping `sitegen check` ended"), err
    assert "SIGKILL" in last and "`sitegen check` again" in last
    assert "build" not in last


# A process holding a temporary folder or file of a build, as a build in another container
# would (pid namespaces: its pid means nothing here), made by sitegen's own code; renamed to
# carry the pid given on stdin, the lock goes along (it is on the folder, not on its name).
_HOLDER = """
import os, sys, time
from pathlib import Path
from sitegen import bundle, cache
root, kind, workers = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
if kind == "staging":
    made = bundle.staging_dir(root / "public")
    (made / "index.html").write_text("half a site")
else:
    (root / cache.CACHE_DIR).mkdir(parents=True, exist_ok=True)
    made = cache.aside_path(root / cache.CACHE_DIR / "state.bin")
    made.touch()  # as a writing of it would
pid = sys.stdin.readline().strip()
shown = made.with_name(made.name.replace(str(os.getpid()), pid, 1))
made.rename(shown)
if workers and os.fork() == 0:  # a forked worker, outliving its parent
    time.sleep(60)
    os._exit(0)
print(shown, flush=True)
sys.stdin.readline()
"""


def _hold(
    site: TmpSite, kind: str, pid: int, workers: bool = False
) -> tuple[subprocess.Popen[str], Path]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(site.root), kind, str(int(workers))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its worker can be ended with it (os.killpg)
    )
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write(f"{pid}\n")
    holder.stdin.flush()
    shown = holder.stdout.readline().strip()
    assert shown, "the holder failed"
    return holder, Path(shown)


def _dead_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    return gone.pid


@pytest.mark.parametrize("kind", ["staging", "aside"])
def test_what_a_live_build_elsewhere_holds_is_left_alone(tmp_site: TmpSite, kind: str) -> None:
    """Another container's build, whose pid runs no process here, keeps its staging folder
    and cache files while it runs: a build here must not take them from under it."""
    holder, held = _hold(tmp_site, kind, _dead_pid())
    try:
        assert build(tmp_site) == (0, "")
        assert held.exists()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("workers", [False, True], ids=["alone", "with-a-worker-left"])
@pytest.mark.parametrize("kind", ["staging", "aside"])
def test_what_a_killed_build_left_is_removed_though_its_pid_runs(
    tmp_site: TmpSite, kind: str, workers: bool
) -> None:
    """SIGKILLed, a build's leftovers go with the next build, even when its pid was given to
    another process since (here: this one), or a forked worker of it still runs."""
    holder, held = _hold(tmp_site, kind, os.getpid(), workers)
    holder.kill()
    holder.wait()
    try:
        assert build(tmp_site) == (0, "")
        assert not held.exists()
    finally:
        if workers:
            with contextlib.suppress(ProcessLookupError):  # the worker left running
                os.killpg(holder.pid, signal.SIGKILL)


def all_workers_of(pid: int) -> list[int]:
    """The processes forked by any thread of `pid` (the pool's thread forks replacements)."""
    children: list[int] = []
    with contextlib.suppress(FileNotFoundError):  # `pid` ended
        for thread in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):  # that thread ended: not the others
                children += map(int, (thread / "children").read_text().split())
    return children


def start_held(site: TmpSite, command: str, *args: str) -> subprocess.Popen[str]:
    """`sitegen COMMAND` whose first workers were killed as soon as forked, waiting for their
    first task (the parent held meanwhile, so that it does not list them first)."""
    toml = str(site.root / "site.toml")
    running = subprocess.Popen(
        [sys.executable, "-c", "from sitegen.cli import main; main()", command, "--site", toml]
        + list(args),
        cwd=site.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    when(running, lambda: bool(all_workers_of(running.pid)))
    os.kill(running.pid, signal.SIGSTOP)  # before it lists the workers it forked
    time.sleep(0.3)  # they wait for a task, one holding the task queue's lock
    for pid in all_workers_of(running.pid):
        os.kill(pid, signal.SIGKILL)
    os.kill(running.pid, signal.SIGCONT)
    return running


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("command", ["build", "check"])
def test_a_worker_killed_before_its_first_task_fails_in_bounded_time(
    big_site: TmpSite, command: str
) -> None:
    """A worker killed as soon as forked, waiting for its first task: it kept the task queue's
    lock, and the pool (reaping it unseen when it listed its workers) waited for ever for
    replacements stuck on that lock. The parent is held while its workers are killed."""
    running = start_held(big_site, command)
    try:
        _, err = running.communicate(timeout=40)
    finally:
        if running.poll() is None:  # it waits for ever (as before build._recording): end it
            os.kill(running.pid, signal.SIGSTOP)
            for worker in all_workers_of(running.pid):
                os.kill(worker, signal.SIGKILL)
            os.killpg(running.pid, signal.SIGKILL)
    assert running.returncode == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    words = "the build" if command == "build" else "`sitegen check`"
    assert last.startswith(f"Error: a process helping {words} ended"), err
    assert "SIGKILL" in last and f"`sitegen {command}` again" in last
    assert not leftovers(big_site)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_a_worker_lost_in_the_previews_first_build_speaks_of_the_preview(
    big_site: TmpSite,
) -> None:
    """The preview shows the failure and keeps serving: it said "Run `sitegen build` again"
    and "the output folder was left as it was" (the build's words), not what to do here."""
    running = start_held(big_site, "serve", "--port", "0")
    try:
        said = _line_with(running, "a process helping", timeout=40)
        running.send_signal(signal.SIGINT)
        running.communicate(timeout=30)
    finally:
        if running.poll() is None:
            end_with_workers(running.pid)
    assert "the preview" in said and "SIGKILL" in said, said
    assert "build" not in said and "Save a file" in said, said


def _line_with(running: subprocess.Popen[str], words: str, timeout: float) -> str:
    """The first line of the process's stderr holding ``words``, within ``timeout`` s."""
    assert running.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([running.stderr], [], [], 0.5)[0]:
            line = running.stderr.readline()
            if words in line:
                return line
    raise AssertionError(f"no line with {words!r} in {timeout} s")


_POOLS_ENDED_AS_THEY_FORK = """
from sitegen.build import fork_workers
for _ in range(300):
    with fork_workers(2):
        pass  # nothing to do: the pool ends while its workers are still starting
"""


def test_a_pool_that_ends_as_its_workers_start_never_hangs() -> None:
    """The pool was ended by terminate(), whose SIGTERM a worker still starting lost (held,
    then ignored while it left the group); that worker then waited for ever for the task
    queue's lock terminate() keeps, and the build waited for it (a test hung 50 minutes;
    here 300 pools hung within 30 s, every run)."""
    done = subprocess.run(
        [sys.executable, "-c", _POOLS_ENDED_AS_THEY_FORK], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
