"""What `sitegen serve` writes to public/ once it serves: only what differs from what is there.

It wrote every file (22,668 at 10,000 alerts) into a folder beside public/ and swapped it in:
~10 s of CPU while the official was reading pages, and every file got a new stat, so the next
`sitegen build` found nothing as it recorded it and compared the whole site again."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from serve_support import public_written, said_until, start_serve

from sitegen_fixtures import (
    NOW,
    TmpSite,
    alert_text,
    permissions_apply,
    run_sitegen,
    unprivileged,
)

Stats = dict[str, tuple[int, int, int]]


def _site(tmp_site: TmpSite) -> TmpSite:
    for n in range(3):
        tmp_site.add(f"a{n}.md", alert_text(title=f"Flood watch {n}"))
    built = run_sitegen("build", "--now", NOW.isoformat(), cwd=tmp_site.root)
    assert built.returncode == 0, built.stderr
    return tmp_site


def _stats(folder: Path) -> Stats:
    """Each file's (mtime, inode, ctime): any write or rename changes one of them."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            found[path.relative_to(folder).as_posix()] = (st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    return found


def _bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _serve_until_written(
    site: TmpSite, preexec_fn: Callable[[], None] | None = None, said_so: str = "holds this build"
) -> str:
    """Run `sitegen serve` until it has written public/, then Ctrl-C; the line it said so."""
    serve = start_serve(site, "--now", NOW.isoformat(), preexec_fn=preexec_fn)
    try:
        said = said_until(serve, public_written)
        serve.send_signal(signal.SIGINT)
        serve.wait(30)
    finally:
        serve.kill()
        serve.wait()
    assert said_so in said[-1], "".join(said)
    return said[-1].strip()


def _build_after(site: TmpSite) -> str:
    built = run_sitegen("build", "--now", NOW.isoformat(), cwd=site.root)
    assert built.returncode == 0, built.stderr
    return built.stderr + built.stdout


def test_serving_an_unchanged_site_writes_nothing(tmp_site: TmpSite) -> None:
    site = _site(tmp_site)
    public, store = site.public, site.root / ".sitegen" / "cache"
    before, kept = _stats(public), _stats(store)
    said = _serve_until_written(site)
    assert said == "public holds this build: 0 files written, 0 removed"
    assert _stats(public) == before  # the next build finds every file as it recorded it
    assert _stats(store) == kept  # the preview never writes the build's cache
    assert "0 written, 0 removed" in _build_after(site)


def test_an_edited_alert_rewrites_only_the_files_that_differ(tmp_site: TmpSite) -> None:
    site = _site(tmp_site)
    public = site.public
    before, old = _stats(public), _bytes(public)
    site.add("a1.md", alert_text(title="Flood warning 1"))
    _serve_until_written(site)
    after, new = _stats(public), _bytes(public)
    differ = {p for p in new if old.get(p) != new[p]}
    assert {"alerts/a1/index.html", "alerts/a1/cap.xml"} <= differ
    assert "alerts/a0/index.html" not in differ
    assert ".sitegen/manifest.json" in differ
    assert {p for p in after if after[p] != before.get(p)} == differ  # the others untouched
    written = _build_after(site)
    assert "0 written, 0 removed" in written  # public/ is what the build makes
    assert _bytes(public) == new


def test_a_removed_alert_s_files_go_and_no_other_is_touched(tmp_site: TmpSite) -> None:
    site = _site(tmp_site)
    public = site.public
    before, old = _stats(public), _bytes(public)
    os.remove(site.root / "content" / "alerts" / "a2.md")
    said = _serve_until_written(site)
    after, new = _stats(public), _bytes(public)
    gone = set(old) - set(new)
    assert gone == {"alerts/a2/index.html", "alerts/a2/cap.xml"}
    assert said.endswith(f"{len(gone)} removed")
    differ = {p for p in new if old.get(p) != new[p]}
    assert {p for p in after if after[p] != before.get(p)} == differ
    assert "0 written, 0 removed" in _build_after(site)
    assert not [p.name for p in site.root.iterdir() if p.name.startswith(".public.")]


def test_a_write_refused_halfway_leaves_whole_files_and_the_old_manifest(
    tmp_site: TmpSite,
) -> None:
    """As for `sitegen build`: the files moved in before the failure are whole, the others
    as they were, the manifest (which the publisher trusts) still the old one; the next build
    finishes the job."""
    site = _site(tmp_site)
    if not permissions_apply(site.root):
        pytest.skip("file permissions do not apply to this user")
    public = site.public
    old = _bytes(public)
    site.add("a1.md", alert_text(title="Flood warning 1"))
    public.chmod(0o555)  # alerts/a1/'s files can be replaced, index.html (later) cannot
    try:
        said = _serve_until_written(site, unprivileged, said_so="could not write")
    finally:
        public.chmod(0o755)
    assert "run `sitegen build`" in said
    new = _bytes(public)
    assert new.keys() == old.keys()
    assert new[".sitegen/manifest.json"] == old[".sitegen/manifest.json"]
    assert b"Flood warning 1" in new["alerts/a1/index.html"]  # moved in whole
    assert new["index.html"] == old["index.html"]  # refused: as it was
    assert not [p.name for p in site.root.iterdir() if p.name.startswith(".public.")]
    written = _build_after(site)
    assert "0 written" not in written
    assert b"Flood warning 1" in (public / "alerts" / "a1" / "index.html").read_bytes()
