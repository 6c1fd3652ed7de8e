"""`sitegen serve`'s start on a big site: rendered across cores, the site served as `sitegen
build` makes it, and the one line that matters (where it is served) not buried in notes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from serve_support import get, public_written, said_until, start_serve, wait_until

from sitegen.build import PARALLEL_MIN
from sitegen.rebuild import Rebuilder
from sitegen.serve import ADVICE_SHOWN, SCRIPT_PATH, PreviewServer
from sitegen_fixtures import NOW, TmpSite, alert_text, run_sitegen

LIVE_TAG = re.compile(
    rb'<script src="' + SCRIPT_PATH.encode() + rb'" data-build="[^"]*"></script>\n'
)


def _children_cpu(pid: int) -> float:
    """CPU seconds of the processes `pid` waited for (its forked workers), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_big_site_is_rendered_in_workers_and_served_as_built(tmp_site: TmpSite) -> None:
    """The first build rendered every page in the one process that serves (~19 s at 10,000
    alerts before the first page). Now its content comes from the build's store (never
    written) and its pages from forked workers: what is served is byte for byte what
    `sitegen build` wrote and what the serial path renders."""
    for n in range(PARALLEL_MIN + 20):
        sent = (NOW - timedelta(hours=1, minutes=n)).isoformat()
        tmp_site.add(f"a{n:03}.md", alert_text(title=f"Flood watch {n}", sent=sent))
    built = run_sitegen("build", "--now", NOW.isoformat(), cwd=tmp_site.root)
    assert built.returncode == 0, built.stderr
    expected = _files(tmp_site.public)
    store = tmp_site.root / ".sitegen" / "cache"
    kept = _stamped(store)
    manifest_file = tmp_site.public / ".sitegen" / "manifest.json"
    written = manifest_file.stat().st_ino
    serial = Rebuilder(tmp_site.root / "site.toml", NOW, drafts=True)  # one process
    assert serial.rebuild([]).ok
    assert {p: f.data for p, f in serial.bundle.items()} == {
        p: data for p, data in expected.items() if p != ".sitegen/manifest.json"
    }

    serve = start_serve(tmp_site, "--now", NOW.isoformat())
    try:
        said = said_until(serve, lambda line: line.startswith(("serving ", "Error")))
        url = said[-1].split()[1]
        assert _children_cpu(serve.pid) > 0, "".join(said)  # its workers rendered
        manifest = json.loads(get(url + ".sitegen/manifest.json").body)
        assert set(manifest["files"]) == set(expected) - {".sitegen/manifest.json"}
        for path in manifest["files"]:
            answer = get(url + path)
            assert answer.status == 200, path
            assert LIVE_TAG.sub(b"", answer.body) == expected[path], path
        # public/ is written once pages are served: it holds the same bytes, so nothing is
        # written (every file was rewritten); the store is not written either
        said_until(serve, public_written, said)
        assert said[-1].startswith("public holds this build: 0 files written"), "".join(said)
        assert _inode(manifest_file) == written
    finally:
        serve.terminate()
        serve.wait(10)
    assert _files(tmp_site.public) == expected
    assert _stamped(store) == kept


def _stamped(folder: Path) -> dict[Path, tuple[int, bytes]]:
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def test_the_terminal_gives_a_few_notes_then_how_many_more(tmp_site: TmpSite) -> None:
    """124 notes of check's advice (a big site's chains that fork), several lines each,
    scrolled the address served and any error out of sight. Now the first few, then how many
    more and where to see them; drafts (and errors, warnings) are still given in full, at the
    start as at each save."""
    long_titles = ADVICE_SHOWN + 3
    for n in range(long_titles):
        tmp_site.add(f"long{n}.md", alert_text(title=f"{n} " + "A" * 70))
    drafts = ADVICE_SHOWN + 1
    for n in range(drafts):
        todo = alert_text(title=f"Draft {n}").replace("The river is rising.", "TODO: say it")
        tmp_site.add(f"draft{n}.md", todo)
    lines: list[str] = []
    server = PreviewServer(tmp_site.root / "site.toml", port=0, now=NOW, echo=lines.append)
    server.start()
    try:
        _assert_notes(lines, long_titles, drafts)
        assert any(line.startswith("built in") for line in lines), lines
        del lines[:]
        tmp_site.add("draft0.md", alert_text(title="Draft 0").replace("rising.", "TODO: now"))
        wait_until(lambda: any(line.startswith("rebuilt in") for line in lines), timeout=10)
        _assert_notes(lines, long_titles, drafts)
    finally:
        server.stop()


def _assert_notes(lines: list[str], notes: int, drafts: int) -> None:
    long = [line for line in lines if re.match(r"content/alerts/long\d\.md:\d+: ", line)]
    assert len(long) == ADVICE_SHOWN, lines
    more = f"… and {notes - ADVICE_SHOWN} more notes: run `sitegen check` to see them all"
    assert lines.count(more) == 1, lines
    assert len([line for line in lines if re.match(r"content/alerts/draft\d\.md", line)]) == drafts


def test_a_few_notes_are_all_given(tmp_site: TmpSite) -> None:
    """Up to ADVICE_SHOWN, every note is given, with no count line."""
    tmp_site.add("long.md", alert_text(title="A" * 70))
    said = subprocess.run(
        [sys.executable, "-c", "from sitegen.cli import main; main()", "check"]
        + ["--now", NOW.isoformat()],
        cwd=tmp_site.root,
        capture_output=True,
        text=True,
        check=False,
    ).stderr
    note = next(line for line in said.splitlines() if line.startswith("content/alerts/long.md"))
    lines: list[str] = []
    server = PreviewServer(tmp_site.root / "site.toml", port=0, now=NOW, echo=lines.append)
    server.start()
    try:
        assert note in lines and not any("more note" in line for line in lines), lines
    finally:
        server.stop()


def test_a_draft_the_build_refused_is_still_a_draft_in_the_preview(tmp_site: TmpSite) -> None:
    """The preview reads unchanged files from the build's store, where a TODO is an error
    (the build refuses it): there, it is parsed again as the draft it is."""
    tmp_site.add("flood.md", alert_text())
    tmp_site.add("draft.md", alert_text().replace("The river is rising.", "TODO: say it"))
    built = run_sitegen("build", "--now", NOW.isoformat(), cwd=tmp_site.root)
    assert built.returncode == 1 and "draft.md" in built.stderr, built.stderr
    lines: list[str] = []
    server = PreviewServer(tmp_site.root / "site.toml", port=0, now=NOW, echo=lines.append)
    server.start()
    try:
        snap = server.preview.snapshot
        assert snap.errors == () and [p.path for p in snap.drafts] == ["content/alerts/draft.md"]
        assert b"TODO: say it" in get(server.url + "alerts/draft/").body
    finally:
        server.stop()


def test_a_mistake_is_given_once_at_the_start(tmp_site: TmpSite) -> None:
    """What the watcher missed during the first build is rebuilt once it runs: a file saved
    just before (as here) is read again, and the same mistake was given twice."""
    tmp_site.add("flood.md", alert_text(severity="Severe!"))
    lines: list[str] = []
    server = PreviewServer(tmp_site.root / "site.toml", port=0, now=NOW, echo=lines.append)
    server.start()
    try:
        mistakes = [line for line in lines if line.startswith("content/alerts/flood.md:")]
        assert len(mistakes) == 1, lines
        assert len([line for line in lines if "nothing to serve" in line]) == 1, lines
    finally:
        server.stop()


def test_a_file_saved_as_it_starts_is_written_after_the_address_is_given(
    tmp_site: TmpSite,
) -> None:
    """A file saved during the first build is built again once the watcher runs; that
    rebuild wrote public/ before the address was given, so the official waited for the write
    (2 s at 10,000 alerts) to learn where the preview was, though it was served already.
    (A time ahead of the clock: the file counts as saved during the build, every run.)"""
    flood = tmp_site.add("flood.md", alert_text())
    ahead = time.time() + 3600
    os.utime(flood, (ahead, ahead))
    serve = start_serve(tmp_site, "--now", NOW.isoformat())
    try:
        said = said_until(serve, public_written)
    finally:
        serve.terminate()
        serve.wait(10)
    served = [n for n, line in enumerate(said) if line.startswith("serving ")]
    assert served and served[0] < len(said) - 1, "".join(said)
    assert "holds this build" in said[-1], "".join(said)
