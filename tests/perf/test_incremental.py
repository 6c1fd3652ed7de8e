"""An incremental build is byte-identical to a clean build of the same input.

A random site is edited step by step (content, translations, references, templates, site.toml,
`now`, the output folder, the cache itself); after every step the incremental build's output
folder must equal a clean in-memory build (`build_bundle`) file for file, byte for byte.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sitegen import build as build_module
from sitegen import cache as cache_module
from sitegen import render
from sitegen.build import build_bundle, build_site
from sitegen.bundle import MANIFEST_PATH
from sitegen.cache import CACHE_DIR, FORMAT
from sitegen.config import load_config
from sitegen.errors import ContentError, SitegenError
from sitegen_fixtures import assert_no_other_thread

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
SITE_TOML = """\
[site]
title = "{title}"
base_url = "https://alerts.test/"
default_language = "en"
languages = ["en", "ko"]
sender = "alerts@test.invalid"
"""
AREAS = [("Seoul", "KR-11"), ("Busan", "KR-26"), ("Ulsan", "KR-31"), ("Jeju", "KR-49")]
SEVERITIES = ["Extreme", "Severe", "Moderate", "Minor"]
CURRENT = b"sitegen-cache %d" % FORMAT  # how a cache file of this sitegen begins
NEWER = b"sitegen-cache %d" % (FORMAT + 1)


def alert(
    rng: random.Random,
    sent: datetime,
    msg_type: str = "Alert",
    refs: str = "[]",
    lang: str = "",
    status: str = "",
) -> str:
    areas = rng.sample(AREAS, rng.randint(1, 2))
    area_text = "\n".join(f"  - name: {n}\n    geocodes: {{ISO3166-2: {c}}}" for n, c in areas)
    expires = sent + timedelta(hours=rng.choice([2, 12, 48]))
    word = rng.choice(["river", "wind", "snow", "heat", "smoke"])
    number, severity = rng.randint(1, 999), rng.choice(SEVERITIES)
    status = status or rng.choice(["Actual"] * 9 + ["Exercise"])
    return (
        f"---\ntitle: {word.title()} warning {number}{lang}\nevent: {word}\n"
        f"severity: {severity}\nurgency: Expected\ncertainty: Likely\n"
        f"status: {status}\nmsg_type: {msg_type}\n"
        f"sent: {sent.isoformat()}\nexpires: {expires.isoformat()}\nareas:\n{area_text}\n"
        f"references: {refs}\n---\nThe {word} is getting worse near the **coast**.\n\n"
        "## What to do\n\n- Stay inside.\n- Listen to the radio.\n"
    )


class Site:
    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.now = NOW
        self.alerts = root / "content" / "alerts"
        self.alerts.mkdir(parents=True)
        shutil.copytree(REPO / "templates", root / "templates")
        (root / "site.toml").write_text(SITE_TOML.format(title="Test Alerts"), "utf-8")
        for i in range(40):
            self.add(f"a{i:03d}", NOW - timedelta(hours=rng.randint(0, 24 * 20)))

    def add(self, name: str, sent: datetime, **kw: str) -> None:
        (self.alerts / f"{name}.md").write_text(alert(self.rng, sent, **kw), "utf-8")

    def files(self) -> list[Path]:
        return sorted(self.alerts.glob("*.md"))

    def build(self) -> build_module.BuildReport:
        return build_site(load_config(self.root / "site.toml"), self.now)

    def assert_equals_clean_build(self, report: build_module.BuildReport | None = None) -> None:
        """The output equals a clean build's, and so do `report`'s warnings (the test sites'
        pages and feeds are far from their size limits: a clean build's are content's only)."""
        config = load_config(self.root / "site.toml")
        bundle, manifest, warnings = build_bundle(config, self.now)
        if report is not None:
            assert report.warnings == warnings
        expected = {path: f.data for path, f in bundle.items()}
        expected[MANIFEST_PATH] = manifest
        out = config.output_path
        actual = {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
        assert sorted(actual) == sorted(expected)
        differ = [p for p in expected if actual[p] != expected[p]]
        assert not differ, differ[:5]
        leftovers = [p.name for p in self.root.iterdir() if ".tmp-" in p.name]
        assert not leftovers


def edit_title(site: Site) -> None:
    path = site.rng.choice(site.files())
    text = path.read_text("utf-8")
    path.write_text(text.replace("title: ", "title: Corrected ", 1), "utf-8")


def edit_body(site: Site) -> None:
    path = site.rng.choice(site.files())
    path.write_text(path.read_text("utf-8") + "\nMore news at 6.\n", "utf-8")


def edit_severity(site: Site) -> None:
    path = site.rng.choice(site.files())
    text = path.read_text("utf-8")
    for old in SEVERITIES:
        text = text.replace(f"severity: {old}\n", f"severity: {site.rng.choice(SEVERITIES)}\n")
    path.write_text(text, "utf-8")


CURLY_TITLE = re.compile(r"^title: (.*)$", re.MULTILINE)
MARKUP = "\nStay <b>inside</b>.\n"  # shown as written: a warning
MISNAMED = "notes.md.txt"  # not read: a warning


def add_warning(site: Site) -> None:
    """A warning of one file: a title in curly quotes, Windows line endings, HTML in the
    body, or a misnamed file beside the alerts."""
    path = site.rng.choice(site.files())
    text = path.read_text("utf-8")
    kind = site.rng.choice(["quotes", "crlf", "markup", "misnamed"])
    if kind == "quotes":
        path.write_text(CURLY_TITLE.sub("title: \u201c\\1\u201d", text, 1), "utf-8")
    elif kind == "crlf":
        path.write_bytes(text.replace("\n", "\r\n").encode())
    elif kind == "markup":
        path.write_text(text + MARKUP, "utf-8")
    else:
        (site.alerts / MISNAMED).write_text(text, "utf-8")


def remove_warning(site: Site) -> None:
    """Fix what add_warning did to one file."""
    warned = [p for p in site.alerts.iterdir() if p.name == MISNAMED or warning_in(p)]
    if not warned:
        return
    path = site.rng.choice(sorted(warned))
    if path.name == MISNAMED:
        path.unlink()
        return
    text = path.read_bytes().decode().replace("\r\n", "\n").replace(MARKUP, "")
    path.write_text(text.replace("\u201c", "").replace("\u201d", ""), "utf-8")


def warning_in(path: Path) -> bool:
    data = path.read_bytes()
    return any(mark in data for mark in (b"\r", MARKUP.encode(), "\u201c".encode()))


def add_alert(site: Site) -> None:
    site.add(f"n{site.rng.randint(0, 10**6):07d}", site.now - timedelta(hours=1))


def front(path: Path) -> dict[str, str]:
    """The one-line fields of an alert this test wrote."""
    return dict(
        line.split(": ", 1)
        for line in path.read_text("utf-8").split("\n---\n")[0].splitlines()
        if ": " in line and not line.startswith(" ")
    )


def references(path: Path) -> list[str]:
    return [r for r in front(path)["references"].strip("[]").split(", ") if r]


def add_update(site: Site) -> None:
    """An Update or Cancel as `sitegen check` wants it: sent after what it references, of the
    same status, listing every earlier message of the chain."""
    target = site.rng.choice([p for p in site.files() if "." not in p.stem])
    kind = site.rng.choice(["Update", "Cancel"])
    sent = site.now - timedelta(minutes=site.rng.randint(1, 600))
    fields = front(target)
    sent = max(sent, datetime.fromisoformat(fields["sent"]) + timedelta(minutes=1))
    refs = "[" + ", ".join([*references(target), target.stem]) + "]"
    site.add(
        f"u{site.rng.randint(0, 10**6):07d}",
        sent,
        msg_type=kind,
        refs=refs,
        status=fields["status"],
    )


def schedule_message(site: Site) -> None:
    """An alert or an Update sent later: published nowhere until `now` passes its `sent`."""
    sent = site.now + timedelta(hours=site.rng.choice([1, 5, 20]))
    if site.rng.random() < 0.5:
        site.add(f"s{site.rng.randint(0, 10**6):07d}", sent)
        return
    target = site.rng.choice([p for p in site.files() if "." not in p.stem])
    site.add(f"s{site.rng.randint(0, 10**6):07d}", sent, msg_type="Update", refs=f"[{target.stem}]")


def add_translation(site: Site) -> None:
    base = site.rng.choice([p for p in site.files() if "." not in p.stem])
    text = base.read_text("utf-8").replace("\ntitle: ", "\ntitle: (ko) ", 1)
    (site.alerts / f"{base.stem}.ko.md").write_text(text, "utf-8")


def delete_unreferenced(site: Site) -> None:
    referenced = {ref for p in site.files() for ref in references(p)}
    free = [p for p in site.files() if p.stem.split(".")[0] not in referenced]
    if free:
        site.rng.choice(free).unlink()


def touch(site: Site) -> None:
    os.utime(site.rng.choice(site.files()))


def advance_time(site: Site) -> None:
    site.now += timedelta(hours=site.rng.choice([1, 7, 30]))


def edit_template(site: Site) -> None:
    name = site.rng.choice(["base.html", "archive.html", "alert.html", "style.css"])
    path = site.root / "templates" / name
    marker = "/* x */" if name.endswith(".css") else "<!-- x -->"
    path.write_text(path.read_text("utf-8") + marker + "\n", "utf-8")


def edit_config(site: Site) -> None:
    title = f"Alerts {site.rng.randint(0, 99)}"
    (site.root / "site.toml").write_text(SITE_TOML.format(title=title), "utf-8")


def tamper_output(site: Site) -> None:
    out = site.root / "public"
    pages = sorted(out.rglob("index.html"))
    victim = site.rng.choice(pages)
    action = site.rng.choice(["delete", "rewrite", "same-size", "stray"])
    if action == "delete":
        victim.unlink()
    elif action == "rewrite":
        victim.write_bytes(b"defaced")
    elif action == "same-size":  # same size, mtime put back: only the content differs
        stat = victim.stat()
        data = victim.read_bytes()
        victim.write_bytes(data[:-2] + b"!!")
        os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    else:
        (out / "alerts" / "stray.html").write_bytes(b"not ours")


def damage_cache(site: Site) -> None:
    folder = site.root / CACHE_DIR
    for path in sorted(folder.glob("*.bin")):
        data = path.read_bytes()
        choice = site.rng.choice(["truncate", "flip", "foreign", "garbage"])
        if choice == "truncate":
            path.write_bytes(data[: len(data) // 2])
        elif choice == "flip":
            index = len(data) - 10
            path.write_bytes(data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1 :])
        elif choice == "foreign":
            header, rest = data.split(b"\n", 1)
            older = header.replace(CURRENT, b"sitegen-cache %d" % (FORMAT - 1))
            path.write_bytes(older + b"\n" + rest)
        else:
            path.write_bytes(os.urandom(200))


EDITS: list[Callable[[Site], None]] = [
    edit_title,
    edit_body,
    edit_severity,
    add_alert,
    add_update,
    schedule_message,
    add_translation,
    delete_unreferenced,
    touch,
    add_warning,
    remove_warning,
    advance_time,
    edit_template,
    edit_config,
    tamper_output,
    damage_cache,
]


def always_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let builds fork workers: a build forks only when it runs no other thread, and in a full
    test run other tests' servers may still run (the forked code paths would go untested)."""
    assert_no_other_thread()  # the test is marked `forks`: it runs before any server starts
    monkeypatch.setattr(build_module._Build, "_can_fork", lambda self: True)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "LIST_PAGE_SIZE", 4)  # many archive pages on a small site
    # a feed that does not list every alert: a patch build then assembles only a few
    monkeypatch.setattr(render, "FEED_ENTRIES", 6)


@pytest.mark.parametrize("seed", range(3))
def test_incremental_equals_clean_over_random_edits(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one seed checks the output from a forked process, as large sites do, and reads all the
    # cache it can while that runs (the check never ends first)
    monkeypatch.setattr(build_module, "STAT_FORK_MIN", 1 if seed == 2 else 10**9)
    monkeypatch.setattr(build_module._OutputCheck, "done", lambda check: False)
    if seed == 1:  # a sitemap index, whose parts the edits shift, add and remove
        monkeypatch.setattr(render, "SITEMAP_MAX_URLS", 30)
    site = Site(tmp_path / "site", random.Random(seed))
    site.build()
    site.assert_equals_clean_build()
    for _ in range(14):
        edit = site.rng.choice(EDITS)
        edit(site)
        site.assert_equals_clean_build(site.build())


@pytest.mark.forks
def test_parallel_cold_build_equals_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)  # fork workers even for a small site
    always_fork(monkeypatch)
    site = Site(tmp_path / "site", random.Random(7))
    report = build_site(load_config(site.root / "site.toml"), site.now, jobs=2)
    assert report.written == report.files
    site.assert_equals_clean_build()
    edit_body(site)  # the other entries come from the store the workers' blobs were saved in
    report = build_site(load_config(site.root / "site.toml"), site.now, jobs=2)
    assert report.parsed == 1
    # patched: the layout made while the workers rendered holds the site's structure
    assert report.loaded < 40
    site.assert_equals_clean_build()
    add_update(site)
    edit_template(site)
    build_site(load_config(site.root / "site.toml"), site.now, jobs=2)
    site.assert_equals_clean_build()


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.forks
def test_the_state_records_each_output_as_it_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """Signatures come from the staged files when the staging folder becomes the output whole
    (a clean build), from a stat after the move otherwise: either way, the files' own."""
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)
    always_fork(monkeypatch)
    commit = build_module.commit_staged

    def later_commit(*args: Any) -> bool:
        time.sleep(0.05)  # past the clock tick of the writes: a moved file's ctime differs
        return commit(*args)

    monkeypatch.setattr(build_module, "commit_staged", later_commit)
    site = Site(tmp_path / "site", random.Random(3))
    out = site.root / "public"

    def recorded_as_on_disk() -> None:
        state = cache_module.BuildState.load(site.root)
        assert state.outputs, "no state saved"
        for path, (_, sig, _) in state.outputs.items():
            assert sig == cache_module.signature(os.stat(out / path)), path

    build_site(load_config(site.root / "site.toml"), site.now, jobs=jobs)
    recorded_as_on_disk()
    base = site.root / "templates" / "base.html"
    base.write_text(base.read_text("utf-8") + "<!-- x -->\n", "utf-8")
    report = build_site(load_config(site.root / "site.toml"), site.now, jobs=jobs)
    assert report.written == report.pages  # each page moved alone into the existing folder
    recorded_as_on_disk()


def test_no_change_rebuild_writes_nothing(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(1))
    site.build()
    out = site.root / "public"
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    report = site.build()
    assert report.written == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    touch(site)  # a newer mtime with the same bytes is not a change either
    assert site.build().written == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_one_changed_alert_rewrites_only_what_shows_it(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(2))
    site.build()
    path = site.files()[0]
    path.write_text(path.read_text("utf-8") + "\nUpdated advice.\n", "utf-8")
    report = site.build()
    assert report.written == 2  # its page and its CAP message; listings show no body text
    assert report.rendered < 10
    site.assert_equals_clean_build()


def oldest(site: Site, besides: Path | None = None) -> Path:
    """The alert file sent first (but `besides`): listed on one archive page, in no feed."""
    return min((p for p in site.files() if p != besides), key=sent)


def test_a_text_edit_patches_only_what_shows_the_alert(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(2))
    assert site.build().loaded == 40
    path = oldest(site)
    text = path.read_text("utf-8").replace("title: ", "title: Corrected ", 1)
    path.write_text(text + "\nUpdated advice.\n", "utf-8")
    report = site.build()
    # its page and CAP message, the archive page listing it in each language: those pages'
    # alerts are all this build assembled, not the site's 40
    assert report.loaded <= 8
    assert report.rendered == 3 and report.written == 4
    site.assert_equals_clean_build()


def test_a_site_whose_chain_forks_still_patches(tmp_path: Path) -> None:
    """Two Updates of one alert, the later not referencing the earlier: `check` warns (advice),
    builds do not, as a build warning found across files kept every build of the site from
    patching (the bench's 10,000 alerts have 124 such forks: a one-alert rebuild took 0.99 s
    instead of 0.46)."""
    site = Site(tmp_path / "site", random.Random(2))
    target = oldest(site)
    for n, minutes in ((1, 20), (2, 10)):
        site.add(
            f"u000000{n}",
            site.now - timedelta(minutes=minutes),
            msg_type="Update",
            refs=f"[{target.stem}]",
            status=front(target)["status"],
        )
    assert_an_edit_patches(site, 42, target)


def test_a_site_with_an_alert_sent_far_ahead_still_patches(tmp_path: Path) -> None:
    """An alert sent over 30 days ahead (a mistyped year?): `check` warns (advice), builds do
    not; as a build warning it kept every build of the site from patching."""
    site = Site(tmp_path / "site", random.Random(2))
    site.add("f0000001", site.now + timedelta(days=400))
    assert site.build().loaded == 40  # the alerts sent by now
    path = oldest(site)
    path.write_text(path.read_text("utf-8") + "\nUpdated advice.\n", "utf-8")
    assert site.build().loaded < 40  # patched: only what shows that alert was assembled
    site.assert_equals_clean_build()


def test_a_site_whose_update_leaves_out_part_of_its_chain_still_patches(tmp_path: Path) -> None:
    """An Update referencing only the Update before it, not the alert both follow: `check`
    warns (advice), builds do not; as a build warning found across files it kept every build
    of the site from patching."""
    site = Site(tmp_path / "site", random.Random(2))
    target = oldest(site)
    status = front(target)["status"]
    for n, refs in ((1, target.stem), (2, "u0000001")):
        when = site.now - timedelta(minutes=30 - 10 * n)
        site.add(f"u000000{n}", when, msg_type="Update", refs=f"[{refs}]", status=status)
    assert_an_edit_patches(site, 42, target)


def test_a_site_with_an_update_sent_with_its_alert_still_patches(tmp_path: Path) -> None:
    """An Update sent at the very time of the alert it follows: `check` warns (advice), builds
    do not; as a build warning found across files it kept every build of the site from
    patching."""
    site = Site(tmp_path / "site", random.Random(2))
    target = oldest(site)
    at = datetime.fromisoformat(sent(target))
    site.add(
        "u0000001", at, msg_type="Update", refs=f"[{target.stem}]", status=front(target)["status"]
    )
    assert_an_edit_patches(site, 41, target)


def test_a_cancel_in_force_on_the_home_page_patches_and_leaves_it_when_it_expires(
    tmp_path: Path,
) -> None:
    """The home and area pages name each Cancel in force (fourth walkthrough): an edit of
    its title re-renders them in a patch build, and its expiry takes it off them; each
    build equals a clean one."""
    site = Site(tmp_path / "site", random.Random(2))
    site.add("b0000001", site.now - timedelta(hours=1), status="Actual")
    site.add(
        "c0000001",
        site.now - timedelta(minutes=30),
        msg_type="Cancel",
        refs="[b0000001]",
        status="Actual",
    )
    cancel = site.alerts / "c0000001.md"
    assert site.build().loaded == 42
    home = site.root / "public" / "index.html"
    assert 'href="/alerts/c0000001/"' in home.read_text("utf-8")
    cancel.write_text(cancel.read_text("utf-8").replace("title: ", "title: Corrected ", 1))
    report = site.build()
    assert report.loaded < 40  # patched: only what shows the Cancel
    assert "Corrected" in home.read_text("utf-8")
    site.assert_equals_clean_build(report)
    site.now = datetime.fromisoformat(front(cancel)["expires"])
    site.assert_equals_clean_build(site.build())
    assert "c0000001" not in home.read_text("utf-8")


def assert_an_edit_patches(site: Site, alerts: int, target: Path) -> None:
    """A full build loads the site's `alerts`; then an edit of the oldest alert outside
    `target`'s chain patches (assembles only what shows it) and equals a clean build."""
    assert site.build().loaded == alerts
    path = min((p for p in site.files() if p != target and not p.stem.startswith("u")), key=sent)
    path.write_text(path.read_text("utf-8") + "\nUpdated advice.\n", "utf-8")
    report = site.build()
    assert report.loaded < alerts  # patched: only what shows that alert was assembled
    site.assert_equals_clean_build(report)


def quote_title(path: Path) -> None:
    """Put the title of alert file `path` in curly quotes: a warning of that file alone."""
    text = path.read_text("utf-8")
    path.write_text(CURLY_TITLE.sub("title: \u201c\\1\u201d", text, 1), "utf-8")


def test_a_site_with_a_warned_alert_still_patches(tmp_path: Path) -> None:
    """A title in curly quotes is a warning of its file alone: an edit of another alert
    patches, and reports that warning as a clean build does. Until 2026-12-07 any content
    warning made every build of the site a full one (warnings were once found across files)."""
    site = Site(tmp_path / "site", random.Random(2))
    target = oldest(site)
    quote_title(target)
    assert_an_edit_patches(site, 40, target)


@pytest.mark.parametrize("edit", ["keep", "fix", "add", "another", "misnamed"])
def test_editing_a_warned_site_patches_with_a_clean_build_s_warnings(
    tmp_path: Path, edit: str
) -> None:
    """The oldest alert's text is edited, keeping, fixing or adding a warning (or a misnamed
    file appears beside it); another file keeps its warning (Windows line endings). The patch
    reports what a clean build does: the same warnings, files, lines and order."""
    site = Site(tmp_path / "site", random.Random(2))
    path, other = oldest(site), max(site.files(), key=sent)
    other.write_bytes(other.read_text("utf-8").replace("\n", "\r\n").encode())
    if edit != "add":
        quote_title(path)
    assert site.build().loaded == 40
    text = path.read_text("utf-8")
    if edit == "fix":
        text = text.replace("\u201c", "").replace("\u201d", "")
    elif edit in ("add", "another"):
        text += MARKUP
    elif edit == "misnamed":
        (site.alerts / MISNAMED).write_text(text, "utf-8")
    path.write_text(text + "\nUpdated advice.\n", "utf-8")
    report = site.build()
    assert report.loaded < 40  # patched
    expected = {"keep": 2, "fix": 1, "add": 2, "another": 3, "misnamed": 3}[edit]
    assert len(report.warnings) == expected
    site.assert_equals_clean_build(report)


def test_a_patch_keeps_budget_warnings_apart_from_content_warnings(tmp_path: Path) -> None:
    """An alert in curly quotes whose page is over the brotli budget: both warnings are at its
    file. A patch of another alert keeps the content warning from the last build and makes
    the budget warning anew from the recorded sizes, each once."""
    site = Site(tmp_path / "site", random.Random(2))
    target = oldest(site)
    quote_title(target)
    words = " ".join("".join(site.rng.choices("abcdefghij", k=7)) for _ in range(6000))
    target.write_text(target.read_text("utf-8") + f"\n{words}\n", "utf-8")
    first = site.build()
    assert [w.line > 0 for w in first.warnings] == [True, False]  # the title's line; the file
    path = oldest(site, besides=target)
    path.write_text(path.read_text("utf-8") + "\nUpdated advice.\n", "utf-8")
    report = site.build()
    assert report.loaded < first.loaded
    assert report.warnings == first.warnings
    site.assert_equals_clean_build()


def sent(path: Path) -> str:
    return path.read_text("utf-8").split("\nsent: ")[1][:25]


def test_a_translation_edit_patches_only_its_language_feed(tmp_path: Path) -> None:
    """Each site language has a feed of its own (/ko/feed.atom), one unit each: editing the
    Korean text of an alert in the feeds re-renders the Korean feed, not the English one,
    and the patch equals a clean build."""
    site = Site(tmp_path / "site", random.Random(6))
    newest = max(site.files(), key=lambda p: p.read_text("utf-8").split("\nsent: ")[1][:25])
    korean = site.alerts / f"{newest.stem}.ko.md"
    korean.write_text(newest.read_text("utf-8").replace("\ntitle: ", "\ntitle: (ko) ", 1))
    site.build()
    out = site.root / "public"
    feeds = {name: (out / name).read_bytes() for name in ("feed.atom", "ko/feed.atom")}
    assert b"<title>" in feeds["ko/feed.atom"] and b"(ko) " in feeds["ko/feed.atom"]
    assert b"(ko) " not in feeds["feed.atom"]
    korean.write_text(korean.read_text("utf-8").replace("(ko) ", "(ko, corrected) ", 1))
    report = site.build()
    assert report.loaded < 40  # patched: only what shows the alert was assembled
    assert (out / "feed.atom").read_bytes() == feeds["feed.atom"]
    assert b"(ko, corrected) " in (out / "ko" / "feed.atom").read_bytes()
    site.assert_equals_clean_build()


def test_a_patch_holds_the_whole_update_chain(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(3))
    target = oldest(site)
    site.add(
        "u0000001",
        site.now - timedelta(minutes=5),
        msg_type="Update",
        refs=f"[{target.stem}]",
        status=front(target)["status"],
    )
    site.build()
    target.write_text(target.read_text("utf-8") + "\nSee the update.\n", "utf-8")
    report = site.build()
    assert report.loaded < 41  # patched: the update came along with the alert it updates
    assert report.written >= 2
    site.assert_equals_clean_build()


def timed(
    site: Site, name: str, sent: timedelta, effective: timedelta, expires: timedelta, **kw: str
) -> None:
    """An alert file with its times given relative to the site's `now`."""
    times = {
        k: (site.now + v).isoformat() for k, v in (("effective", effective), ("expires", expires))
    }
    site.add(name, site.now + sent, **kw)
    path = site.alerts / f"{name}.md"
    text = re.sub(
        r"\nexpires: [^\n]*",
        f"\neffective: {times['effective']}\nexpires: {times['expires']}",
        path.read_text("utf-8"),
    )
    path.write_text(text, "utf-8")


def test_builds_as_the_clock_passes_each_instant_equal_clean_builds(tmp_path: Path) -> None:
    """Only `now` moves, onto each alert's sending, taking effect and expiry in turn (and once
    with an unrelated text edit, the patch path): every incremental build equals a clean one.

    e0000001 is superseded by an Update before it takes effect: when it does, its page's
    "Last updated" and its entry in the Update's history change, though no phase of the chain
    does. So an alert unit's inputs must say which instants have passed, not only phases
    (`render._alert_inputs`), and a build whose `now` crossed an instant must look again
    (`build._rank`): dropping either fails this test."""
    site = Site(tmp_path / "site", random.Random(11))
    hour = timedelta(hours=1)
    timed(site, "e0000001", -2 * hour, 2 * hour, 30 * hour)
    update = {
        "msg_type": "Update",
        "refs": "[e0000001]",
        "status": front(site.alerts / "e0000001.md")["status"],
    }
    timed(site, "e0000002", -hour, -hour, 20 * hour, **update)
    timed(site, "e0000003", -hour, 3 * hour, 5 * hour)  # upcoming, then active, then expired
    timed(site, "e0000004", hour, 4 * hour, 9 * hour)  # sent later, in force later still
    start = site.now
    site.build()
    site.assert_equals_clean_build()
    for step in [2, 3, 4, 5, 9, 20, 30]:
        site.now = start + step * hour
        if step == 4:  # a text edit elsewhere: the build would patch if its `now` crossed nothing
            path = site.alerts / "a000.md"
            path.write_text(path.read_text("utf-8") + "\nMore news at 6.\n", "utf-8")
        site.build()
        site.assert_equals_clean_build()


def test_a_message_appears_when_its_sent_passes(tmp_path: Path) -> None:
    """A message sent later is in no output; editing it changes nothing published; once
    `now` passes its `sent` the incremental build shows it, as a clean build does."""
    site = Site(tmp_path / "site", random.Random(5))
    target = oldest(site)
    site.add("s0000001", site.now + timedelta(hours=2), msg_type="Update", refs=f"[{target.stem}]")
    site.build()
    out = site.root / "public"
    assert not [p for p in out.rglob("*") if "s0000001" in p.as_posix()]
    assert not [p for p in out.rglob("*") if p.is_file() and b"s0000001" in p.read_bytes()]
    site.assert_equals_clean_build()
    scheduled = site.alerts / "s0000001.md"
    scheduled.write_text(scheduled.read_text("utf-8") + "\nMore to come.\n", "utf-8")
    assert site.build().written == 0
    site.assert_equals_clean_build()
    site.now += timedelta(hours=2)
    assert site.build().written > 4  # its page and CAP, the updated alert, listings, feeds
    assert (out / "alerts" / "s0000001" / "cap.xml").is_file()
    site.assert_equals_clean_build()


@pytest.mark.parametrize("change", ["severity", "new file", "page"])
def test_what_changes_the_structure_builds_in_full(tmp_path: Path, change: str) -> None:
    site = Site(tmp_path / "site", random.Random(4))
    site.build()
    path = oldest(site)
    text = path.read_text("utf-8")
    if change == "severity":
        for old in SEVERITIES:  # another severity moves it on the home and area pages
            text = text.replace(f"severity: {old}\n", "severity: Unknown\n")
        path.write_text(text, "utf-8")
    elif change == "new file":
        site.add("n0000001", site.now - timedelta(hours=1))
    else:
        (site.root / "content" / "pages").mkdir()
        (site.root / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nUs.\n")
    report = site.build()
    assert report.loaded >= 40
    site.assert_equals_clean_build()


def sitemap_parts(site: Site) -> list[str]:
    """The sitemap's parts on disk and in the manifest (which must agree), in order."""
    out = site.root / "public"
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.glob("sitemaps/*"))
    manifest = (out / MANIFEST_PATH).read_text("utf-8")
    listed = sorted(set(re.findall(r'"(sitemaps/[^"]+)"', manifest)))
    assert on_disk == listed
    return sorted(on_disk, key=lambda p: int(p.split("/")[1].split(".")[0]))


def test_crossing_the_sitemap_limit_equals_a_clean_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SITEMAP_MAX_URLS the sitemap becomes an index of parts, parts come and go as the
    site grows and shrinks, and under the limit it is one file again: every step, patch
    builds included, equals a clean build, with no part left behind on disk or in the
    manifest."""
    site = Site(tmp_path / "site", random.Random(8))
    site.build()
    count = (site.root / "public" / "sitemap.xml").read_text("utf-8").count("<url>")
    monkeypatch.setattr(render, "SITEMAP_MAX_URLS", count)  # at the limit: one file still
    site.build()
    site.assert_equals_clean_build()
    assert sitemap_parts(site) == []
    site.add("n0000000", site.now - timedelta(hours=1))
    site.build()  # over it: an index of two parts
    site.assert_equals_clean_build()
    assert sitemap_parts(site) == ["sitemaps/1.xml", "sitemaps/2.xml"]
    path = oldest(site)  # a text edit patches; the parts are as they were
    path.write_text(path.read_text("utf-8").replace("title: ", "title: Fixed ", 1), "utf-8")
    assert site.build().loaded < 40
    site.assert_equals_clean_build()
    for i in range(1, count + 1):
        site.add(f"n{i:07d}", site.now - timedelta(hours=1, minutes=i))
    site.build()  # over twice the limit: a third part
    site.assert_equals_clean_build()
    assert sitemap_parts(site) == [f"sitemaps/{n}.xml" for n in (1, 2, 3)]
    for i in range(1, count + 1):
        (site.alerts / f"n{i:07d}.md").unlink()
    site.build()  # the third part goes
    site.assert_equals_clean_build()
    assert sitemap_parts(site) == ["sitemaps/1.xml", "sitemaps/2.xml"]
    (site.alerts / "n0000000.md").unlink()
    report = site.build()  # under the limit again: one file, no parts
    site.assert_equals_clean_build()
    assert sitemap_parts(site) == [] and report.removed >= 2
    assert not (site.root / "public" / "sitemaps").exists()
    assert "<urlset" in (site.root / "public" / "sitemap.xml").read_text("utf-8")


def test_a_new_base_url_renders_the_links_in_bodies_again(tmp_path: Path) -> None:
    """A root-relative link in a body carries the base path: moving the site under a path
    renders every body again (base_url is in the configuration every unit's key holds), so
    the build after the move equals a clean one."""
    site = Site(tmp_path / "site", random.Random(5))
    path = site.files()[0]
    path.write_text(path.read_text("utf-8") + "\nSee [the shelters](/areas/kr-11/).\n", "utf-8")
    (site.root / "content" / "pages").mkdir()
    (site.root / "content" / "pages" / "help.md").write_text(
        "---\ntitle: Help\n---\nSee [the areas](/areas/).\n", "utf-8"
    )
    site.build()
    toml = site.root / "site.toml"
    moved = toml.read_text("utf-8").replace(
        "https://alerts.test/", "https://alerts.test/emergency/"
    )
    toml.write_text(moved, "utf-8")
    site.build()
    site.assert_equals_clean_build()
    out = site.root / "public"
    page = (out / "alerts" / path.stem / "index.html").read_text("utf-8")
    assert '<a href="/emergency/areas/kr-11/">the shelters</a>' in page
    assert 'href="/emergency/areas/"' in (out / "pages" / "help" / "index.html").read_text("utf-8")


def test_a_new_base_url_changes_the_addresses_in_cap_text(tmp_path: Path) -> None:
    """CAP text says a root-relative link's address in full: a new host changes it even
    where the page's href ("/areas/kr-11/") stays as it was, and a path changes both."""
    site = Site(tmp_path / "site", random.Random(6))
    path = site.files()[0]
    path.write_text(path.read_text("utf-8") + "\nSee [the shelters](/areas/kr-11/).\n", "utf-8")
    site.build()
    cap = site.root / "public" / "alerts" / path.stem / "cap.xml"
    assert "See the shelters (https://alerts.test/areas/kr-11/)." in cap.read_text("utf-8")
    toml = site.root / "site.toml"
    for old, new in [
        ("https://alerts.test/", "https://www.alerts.test/"),  # the host alone
        ("https://www.alerts.test/", "https://www.alerts.test/emergency/"),
    ]:
        toml.write_text(toml.read_text("utf-8").replace(old, new), "utf-8")
        site.build()
        site.assert_equals_clean_build()
        assert f"See the shelters ({new}areas/kr-11/)." in cap.read_text("utf-8")


def test_failed_build_leaves_the_previous_output_intact(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(3))
    site.build()
    out = site.root / "public"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    edit_title(site)  # a change that would be written...
    (site.root / "templates" / "alert.html").write_text("{% if %}", "utf-8")  # ...but breaks
    with pytest.raises(SitegenError):
        site.build()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not [p for p in site.root.iterdir() if ".tmp-" in p.name]
    shutil.copy(REPO / "templates" / "alert.html", site.root / "templates" / "alert.html")
    site.build()
    site.assert_equals_clean_build()


@pytest.mark.parametrize("damage", ["garbage", "truncate", "foreign", "flip"])
def test_damaged_or_foreign_cache_is_ignored(tmp_path: Path, damage: str) -> None:
    site = Site(tmp_path / "site", random.Random(4))
    site.build()
    edit_title(site)
    for path in sorted((site.root / CACHE_DIR).glob("*.bin")):
        data = path.read_bytes()
        header, rest = data.split(b"\n", 1)
        assert header.startswith(CURRENT)
        path.write_bytes(
            {
                "garbage": os.urandom(300),
                "truncate": data[: len(data) // 2],
                "foreign": header.replace(CURRENT, NEWER) + b"\n" + rest,
                "flip": data[:-5] + bytes([data[-5] ^ 1]) + data[-4:],
            }[damage]
        )
    site.build()
    site.assert_equals_clean_build()


def test_one_damaged_source_shard_is_ignored(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(6))
    site.build()
    shards = sorted((site.root / CACHE_DIR).glob("sources-*.bin"))
    assert len(shards) > 1  # entries are spread over several files
    shards[len(shards) // 2].write_bytes(os.urandom(200))
    edit_body(site)
    site.build()
    site.assert_equals_clean_build()


def test_deleting_the_cache_is_safe(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", random.Random(5))
    site.build()
    shutil.rmtree(site.root / ".sitegen")
    edit_body(site)
    site.build()
    site.assert_equals_clean_build()


def test_no_change_rebuild_does_not_list_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = Site(tmp_path / "site", random.Random(5))
    site.build()

    def no_listing(out_dir: Path) -> None:
        raise AssertionError(f"listed {out_dir}")

    monkeypatch.setattr(build_module, "list_outputs", no_listing)
    assert site.build().written == 0  # folders stat'ed by name (racy ones listed alone)
    edit_body(site)
    assert site.build().written > 0
    site.assert_equals_clean_build()


def test_outputs_touched_with_the_same_bytes_are_recorded_anew(tmp_path: Path) -> None:
    """Output files given new mtimes, bytes unchanged (a copy without -p, a backup tool): the
    next build compares their bytes and writes nothing, and records their stat as it is now,
    so the build after it is a no-change build again (it read every file, every build)."""
    site = Site(tmp_path / "site", random.Random(6))
    site.build()
    out = site.root / "public"
    files = [p for p in out.rglob("*") if p.is_file()]
    for path in files:
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert site.build().written == 0
    after = cache_module.BuildState.load(site.root)
    assert after is not None
    on_disk = {
        path.relative_to(out).as_posix(): cache_module.signature(path.stat()) for path in files
    }
    assert build_module._as_recorded(on_disk, after.outputs)
    site.assert_equals_clean_build()


def test_a_no_change_build_decodes_only_what_it_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """state.bin's big fields stay encoded until read: a build with nothing to do reads the
    outputs and folders it checks (here, not forked: a small site) and the content files
    its scan found last time (stat'ed by name, content/ not listed), never the rest."""
    site = Site(tmp_path / "site", random.Random(5))
    site.build()
    loaded = cache_module.BuildState.load(site.root)
    assert set(loaded.encoded) == cache_module.LAZY
    decoded: list[str] = []
    real = cache_module.BuildState.__getattr__

    def spy(state: cache_module.BuildState, name: str) -> Any:
        decoded.append(name)
        return real(state, name)

    monkeypatch.setattr(cache_module.BuildState, "__getattr__", spy)
    assert site.build().written == 0
    assert set(decoded) == {"outputs", "folders", "scanned"}
    edit_title(site)  # a patch build reads what it patches with
    assert site.build().written > 0
    assert {"units", "sources", "members", "structure", "components"} <= set(decoded)
    site.assert_equals_clean_build()


def test_the_build_command_imports_no_hashlib_until_it_renders() -> None:
    """hashlib's OpenSSL set-up costs ~7 ms of every command; a build with nothing to do
    needs only blake2b (cache.blake2b), so the modules it runs must not import hashlib."""
    code = "import sys, sitegen.cli, sitegen.build; sys.exit('hashlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("forked", [False, True])
@pytest.mark.parametrize("change", ["stray file", "stray folder", "rewrite", "delete", "emptied"])
@pytest.mark.forks
def test_output_changes_are_found_by_folder_mtimes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, forked: bool
) -> None:
    """With no racy window, only the recorded folder mtimes and file stats can notice; the
    same when the check runs in a forked process (as it does for large sites)."""
    monkeypatch.setattr(build_module, "_fs_clock", lambda folder, cache_dir: None)
    monkeypatch.setattr(build_module.cache, "RACY_NS", 0)  # the fallback's window: none
    monkeypatch.setattr(build_module, "STAT_FORK_MIN", 1 if forked else 10**9)
    always_fork(monkeypatch)
    checks = []
    start = build_module._OutputCheck.start
    monkeypatch.setattr(
        build_module._OutputCheck, "start", lambda *a: checks.append(1) or start(*a)
    )
    site = Site(tmp_path / "site", random.Random(6))
    site.build()
    site.build()
    time.sleep(0.05)  # past the file system's clock tick, so the change gets a new mtime
    out = site.root / "public"
    page = sorted(out.glob("alerts/*/index.html"))[0]
    if change == "stray file":
        (page.parent / "stray.html").write_bytes(b"not ours")
    elif change == "stray folder":
        (page.parent / "deep" / "er").mkdir(parents=True)
        (page.parent / "deep" / "er" / "stray.html").write_bytes(b"not ours")
    elif change == "rewrite":
        page.write_bytes(b"defaced")
    elif change == "delete":
        page.unlink()
    else:
        shutil.rmtree(page.parent)
    site.build()
    site.assert_equals_clean_build()
    assert bool(checks) == forked


@pytest.mark.parametrize("clock", ["file system", "none"])
def test_folders_are_racy_only_in_the_tick_they_were_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: str
) -> None:
    """A clean build writes every folder in the seconds before it records them. With the
    file system's own clock (a file made in the cache folder), only folders modified in the
    recording's timestamp tick count as racy, so the next build lists none of them; without
    it (cache and output on different devices), the 2-second window makes them all racy."""
    real = build_module._fs_clock

    def later_tick(out_dir: Path, cache_dir: Path) -> int | None:
        time.sleep(0.03)  # past the tick of the last folder the build wrote (ext4: ~4 ms)
        return real(out_dir, cache_dir) if clock == "file system" else None

    monkeypatch.setattr(build_module, "_fs_clock", later_tick)
    site = Site(tmp_path / "site", random.Random(7))
    site.build()
    state = cache_module.BuildState.load(site.root)
    assert len(state.folders) > 10
    racy = build_module._racy_folders(state)
    assert racy == [] if clock == "file system" else len(racy) == len(state.folders)
    assert not list((site.root / CACHE_DIR).glob(".clock-*"))  # the clock file is gone
    listed: list[str] = []
    hold = build_module._hold_only_known
    monkeypatch.setattr(
        build_module,
        "_hold_only_known",
        lambda out, folders, st: listed.extend(folders) or hold(out, folders, st),
    )
    edit_body(site)
    site.build()
    site.assert_equals_clean_build()
    assert (listed == []) == (clock == "file system")


def test_a_no_change_build_records_racy_folders_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folders left racy by the last build (here: recorded without the file system's clock,
    so the 2-second window made them all racy) are recorded again by a no-change build, with
    one state write and nothing in the output touched; then none is racy."""
    real = build_module._fs_clock
    clock: list[bool] = [False]
    monkeypatch.setattr(
        build_module, "_fs_clock", lambda out, cache_dir: real(out, cache_dir) if clock[0] else None
    )
    monkeypatch.setattr(build_module, "REFRESH_RACY", 1)
    site = Site(tmp_path / "site", random.Random(8))
    site.build()
    before = cache_module.BuildState.load(site.root)
    assert len(build_module._racy_folders(before)) == len(before.folders)
    clock[0] = True
    time.sleep(0.03)  # the folders' tick is over
    assert site.build().written == 0
    after = cache_module.BuildState.load(site.root)
    assert after.folders == before.folders and build_module._racy_folders(after) == []
    site.assert_equals_clean_build()


@pytest.mark.parametrize("clock", ["file system", "none"])
def test_content_written_just_before_a_build_is_racy_only_in_its_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: str
) -> None:
    """Content files written in the seconds before a build (a checkout, a restore, the bench's
    generator) are not all re-read by the next build when the file system's clock can be read:
    only a file modified in the tick of the build's reading is racy. Without the clock, the
    2-second window makes them all racy and the next build reads every one again."""
    if clock == "none":
        monkeypatch.setattr(build_module, "_fs_clock", lambda folder, cache_dir: None)
    site = Site(tmp_path / "site", random.Random(10))  # writes 40 alerts now
    time.sleep(0.03)  # past their tick
    site.build()
    state = cache_module.BuildState.load(site.root)
    assert len(state.racy) == (0 if clock == "file system" else len(site.files()))
    reads: list[str] = []
    real_read = build_module._read
    monkeypatch.setattr(
        build_module, "_read", lambda path: reads.append(str(path)) or real_read(path)
    )
    edit_body(site)
    site.build()
    content = [r for r in reads if r.endswith(".md")]
    assert len(content) == (1 if clock == "file system" else len(site.files()))
    site.assert_equals_clean_build()


def test_the_file_system_clock_is_the_output_folder_s(tmp_path: Path) -> None:
    out, cache_dir = tmp_path / "public", tmp_path / CACHE_DIR
    out.mkdir()
    cache_dir.mkdir(parents=True)
    (out / "before").write_bytes(b"")
    time.sleep(0.03)
    now = build_module._fs_clock(out, cache_dir)
    assert now is not None
    (out / "after").write_bytes(b"")
    assert (out / "before").stat().st_mtime_ns < now <= (out / "after").stat().st_mtime_ns
    assert build_module._fs_clock(out, tmp_path / "missing") is None


@pytest.mark.forks
def test_a_failed_output_check_process_is_redone_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "STAT_FORK_MIN", 1)
    always_fork(monkeypatch)
    site = Site(tmp_path / "site", random.Random(6))
    site.build()
    (site.root / "public" / "index.html").write_bytes(b"defaced")

    original = build_module._files_as_recorded  # what the check process runs
    parent = os.getpid()
    calls = []

    def crashing_in_the_child(out_dir: Path, state: build_module.BuildState) -> object:
        if os.getpid() != parent:
            raise RuntimeError("the check process fails")
        calls.append(parent)
        return original(out_dir, state)

    monkeypatch.setattr(build_module, "_files_as_recorded", crashing_in_the_child)
    site.build()
    assert calls == [parent]  # the child failed; the parent checked the output itself
    site.assert_equals_clean_build()


@pytest.mark.forks
def test_a_build_failing_in_its_workers_keeps_the_source_cache_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source store is written aside before render workers fork (SourceStore.write_aside);
    a render failure must leave the saved shards untouched and no temporary files behind."""
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)  # fork workers even for a small site
    always_fork(monkeypatch)
    site = Site(tmp_path / "site", random.Random(8))
    config = load_config(site.root / "site.toml")
    build_site(config, site.now, jobs=2)
    cache_dir = site.root / CACHE_DIR
    shards = {p.name: p.read_bytes() for p in cache_dir.glob("sources-*.bin")}
    for path in site.files():  # every source changes: every shard would be rewritten
        path.write_text(path.read_text("utf-8") + "\nMore advice.\n", "utf-8")
    alert_html = site.root / "templates" / "alert.html"
    good = alert_html.read_text("utf-8")
    broken = good.replace("{% block main %}", "{% block main %}{{ no_such_variable }}", 1)
    assert broken != good
    alert_html.write_text(broken, "utf-8")  # fails while rendering, in a worker
    with pytest.raises(SitegenError):
        build_site(config, site.now, jobs=2)
    assert {p.name: p.read_bytes() for p in cache_dir.glob("sources-*.bin")} == shards
    assert not [p.name for p in cache_dir.iterdir() if p.name.endswith(".tmp")]
    alert_html.write_text(good, "utf-8")
    build_site(config, site.now, jobs=2)
    site.assert_equals_clean_build()
    assert {p.name: p.read_bytes() for p in cache_dir.glob("sources-*.bin")} != shards


@pytest.mark.forks
def test_a_failed_source_writer_costs_a_reparse_not_a_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clean build's new source entries are written by a forked process
    (SourceStore.start_write_aside). If it fails, the build still succeeds, leaves no
    temporary files, and the next build parses those files again."""
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)
    always_fork(monkeypatch)
    site = Site(tmp_path / "site", random.Random(9))
    config = load_config(site.root / "site.toml")

    def fail(*args: object, **kwargs: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module, "write_payload_aside", fail)  # in the writer process
    report = build_site(config, site.now, jobs=2)
    assert report.written == report.files
    site.assert_equals_clean_build()
    cache_dir = site.root / CACHE_DIR
    assert not list(cache_dir.glob("sources-*.bin"))
    assert not [p.name for p in cache_dir.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)
    always_fork(monkeypatch)
    edit_body(site)
    assert build_site(config, site.now, jobs=2).parsed == len(site.files())
    site.assert_equals_clean_build()
    edit_body(site)
    assert build_site(config, site.now, jobs=2).parsed == 1


@pytest.mark.parametrize("next_build", ["patch", "full"])
@pytest.mark.parametrize("fault", ["killed before the shards", "shard writer failed"])
@pytest.mark.forks
def test_source_shards_older_than_the_state_are_never_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str, next_build: str
) -> None:
    """The build state is saved before the source shards: a build killed in between, or one
    whose forked shard writer failed (disk full), leaves shards holding older entries for
    files the state records as read. No later build may render those entries as current."""
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)  # the shards are written aside
    always_fork(monkeypatch)
    site = Site(tmp_path / "site", random.Random(11))
    config = load_config(site.root / "site.toml")
    build_site(config, site.now, jobs=2)
    shards = {p: p.read_bytes() for p in (site.root / CACHE_DIR).glob("sources-*.bin")}
    for path in site.files():  # every title: each listing shows an alert changed here
        path.write_text(path.read_text("utf-8").replace("title: ", "title: New ", 1), "utf-8")
    if fault == "shard writer failed":

        def fail(*args: object, **kwargs: object) -> Path:
            raise OSError(28, "No space left on device")

        with monkeypatch.context() as failing:
            failing.setattr(cache_module, "write_payload_aside", fail)  # in the writer process
            build_site(config, site.now, jobs=2)
    else:
        build_site(config, site.now, jobs=2)
        for path, data in shards.items():  # as SIGKILL leaves them after the state's save
            path.write_bytes(data)
    if next_build == "patch":
        edit_title(site)  # one alert: a patch, whose listing pages show the others
    else:
        for path in site.files()[:3]:  # back to the bytes the old shards hold, and a new
            text = path.read_text("utf-8")  # file: a full build, which parses only the rest
            path.write_text(text.replace("title: New ", "title: ", 1), "utf-8")
        add_alert(site)
    build_site(config, site.now, jobs=2)
    site.assert_equals_clean_build()


def test_a_one_alert_rebuild_reuses_the_dates_babel_formatted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long dates formatted by a build are kept in .sitegen/cache/dates.bin: the next build
    (a new process) needs no Babel for the dates it shows again. A damaged file is ignored."""
    import babel.dates

    from sitegen import i18n

    monkeypatch.setattr(i18n, "_DATES", {})  # a new process: nothing formatted yet
    monkeypatch.setattr(i18n, "_NEW_DATES", {})
    site = Site(tmp_path / "site", random.Random(10))
    site.build()
    dates_file = site.root / CACHE_DIR / build_module.DATES_FILE
    assert dates_file.is_file()
    monkeypatch.setattr(i18n, "_DATES", {})  # as in a new process

    def no_babel(*args: object, **kwargs: object) -> str:
        raise AssertionError("Babel was needed")

    monkeypatch.setattr(babel.dates, "format_date", no_babel)
    edit_title(site)
    site.build()
    site.assert_equals_clean_build()  # (the clean build here reuses the remembered dates)
    monkeypatch.undo()
    dates_file.write_bytes(b"garbage")
    monkeypatch.setattr(i18n, "_DATES", {})
    monkeypatch.setattr(i18n, "_NEW_DATES", {})
    edit_body(site)
    site.build()
    site.assert_equals_clean_build()
    assert cache_module.read_payload(dates_file)  # written again


def test_state_deltas_load_as_what_was_saved(tmp_path: Path) -> None:
    """A build that changes a few entries saves them to state-delta.bin; loading applies the
    (cumulative) delta to state.bin and gives exactly the state that was saved."""
    rng = random.Random(9)
    first = build_module.BuildState(
        inputs="a",
        outputs={f"p{i}": (f"{i:064x}", (i, i, i, i), -1) for i in range(50)},
        units={f"u{i}": ("k", (f"p{i}",), (), "") for i in range(20)},
        folders={"": 1, "a": 2},
    )
    first.save(tmp_path)
    loaded = build_module.BuildState.load(tmp_path)
    for step in range(6):
        new = build_module.BuildState(**{n: getattr(loaded, n) for n in cache_module._SAVED})
        new.outputs = dict(loaded.outputs)
        for _ in range(5):  # change, remove and (re-)add entries
            key = f"p{rng.randint(0, 60)}"
            if rng.random() < 0.3:
                new.outputs.pop(key, None)
            else:
                new.outputs[key] = (f"{step:064x}", (step, 1, 2, 3), step)
        new.inputs = f"step {step}"
        new.save(tmp_path, since=loaded)
        assert (tmp_path / CACHE_DIR / "state-delta.bin").exists()
        loaded = build_module.BuildState.load(tmp_path)
        assert cache_module.shallow(loaded) == cache_module.shallow(new)
    # a delta made for another state.bin is not applied
    stale = (tmp_path / CACHE_DIR / "state-delta.bin").read_bytes()
    first.inputs = "b"
    first.save(tmp_path)  # another whole state (and the delta removed)
    assert not (tmp_path / CACHE_DIR / "state-delta.bin").exists()
    (tmp_path / CACHE_DIR / "state-delta.bin").write_bytes(stale)
    assert build_module.BuildState.load(tmp_path).inputs == "b"


def test_a_build_interrupted_while_writing_trusts_nothing_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = Site(tmp_path / "site", random.Random(10))
    site.build()
    edit_title(site)
    real = build_module.commit_staged

    def interrupted(staging: Path, out_dir: Path, changed: list[str], *rest: object) -> None:
        (out_dir / changed[0]).write_bytes(b"half written")
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "commit_staged", interrupted)
    with pytest.raises(KeyboardInterrupt):
        site.build()
    monkeypatch.setattr(build_module, "commit_staged", real)
    assert build_module.BuildState.load(site.root).outputs == {}  # unsettled: not trusted
    site.build()
    site.assert_equals_clean_build()


def test_loading_locales_before_forking_formats_no_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """i18n.load_locales warms Babel up for the render workers: it must not add to the dates a
    build keeps (new_dates), nor fail on a language Babel does not know (the page reports it)."""
    from sitegen import i18n

    monkeypatch.setattr(i18n, "_DATES", {})
    monkeypatch.setattr(i18n, "_NEW_DATES", {})
    i18n.load_locales(("en", "ko", "zz", "x-y", ""))
    assert i18n.new_dates() == {} and i18n.known_dates() == {}


@pytest.mark.parametrize("minutes", [0, 60, -60, 330, 345, 570, -210, -570, 840, -720, None])
def test_local_time_is_the_long_date_a_24_hour_clock_and_the_offset(minutes: int | None) -> None:
    from datetime import timezone

    from babel.dates import format_date

    from sitegen import i18n

    zone = None if minutes is None else timezone(timedelta(minutes=minutes))
    for value in (datetime(2026, 1, 2, 0, 5, tzinfo=zone), datetime(2025, 12, 31, 23, 59, 7)):
        value = value.replace(tzinfo=zone)
        offset = (value.utcoffset() or timedelta(0)).total_seconds() // 60
        sign = "+" if offset >= 0 else "-"
        expected = (
            f"{format_date(value.date(), 'long', locale='ko')} {value:%H:%M} "
            f"(UTC{sign}{int(abs(offset)) // 60:02d}:{int(abs(offset)) % 60:02d})"
        )
        assert i18n.local_time(value, "ko") == expected


@pytest.mark.forks
def test_a_forked_build_reports_content_errors_before_missing_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent compiles templates while the parse workers run (_Build._warm_up); a
    templates problem found then must not hide the content's own problems, which a build
    reports first."""
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 5)
    always_fork(monkeypatch)
    site = Site(tmp_path / "site", random.Random(11))
    broken = site.files()[3]
    broken.write_text(broken.read_text("utf-8").replace("severity:", "severity: Huge\nx:"), "utf-8")
    shutil.rmtree(site.root / "templates")
    with pytest.raises(ContentError) as raised:
        build_site(load_config(site.root / "site.toml"), site.now, jobs=2)
    assert broken.name in str(raised.value)
    shutil.copytree(REPO / "templates", site.root / "templates")
    broken.unlink()
    build_site(load_config(site.root / "site.toml"), site.now, jobs=2)
    site.assert_equals_clean_build()


def long_chain(site: Site, count: int) -> list[Path]:
    """A watch updated every 10 minutes up to `now`: an Alert, then Updates, each referencing
    the one before (past render.HISTORY_SHOWN, so pages list part of it and the first message
    has history pages)."""
    for i in range(count):
        refs = "[]" if i == 0 else f"[c{i - 1:03d}]"
        sent = site.now - timedelta(minutes=10 * (count - i))
        kind = "Alert" if i == 0 else "Update"
        site.add(f"c{i:03d}", sent, msg_type=kind, refs=refs, status="Actual")
    return sorted(site.alerts.glob("c*.md"))


def retitle(path: Path, words: str = "Corrected ") -> None:
    path.write_text(path.read_text("utf-8").replace("title: ", f"title: {words}", 1), "utf-8")


def test_a_long_chain_builds_as_a_clean_build_through_appends_edits_a_cancel_and_a_translation(
    tmp_path: Path,
) -> None:
    """Issue 7: an alert unit's inputs name only the messages its pages list of a long
    chain (and a digest of the rest), so each step must still equal a clean build."""
    site = Site(tmp_path / "site", random.Random(3))
    chain = long_chain(site, 40)
    site.assert_equals_clean_build(site.build())
    site.add(
        "c040", site.now - timedelta(minutes=1), msg_type="Update", refs="[c039]", status="Actual"
    )
    site.assert_equals_clean_build(site.build())
    retitle(chain[20])
    site.assert_equals_clean_build(site.build())
    assert site.build().rendered == 0  # the chain's digest is the same from build to build
    fields = front(chain[10])
    site.add(
        "c041", site.now - timedelta(seconds=30), msg_type="Cancel", refs="[c040]", status="Actual"
    )
    site.assert_equals_clean_build(site.build())
    text = chain[30].read_text("utf-8").replace("\ntitle: ", "\ntitle: (ko) ", 1)
    (site.alerts / "c030.ko.md").write_text(text, "utf-8")
    site.assert_equals_clean_build(site.build())
    # a fork: an Update of a middle message, sent last (every page's latest and count move)
    site.add(
        "c042", site.now - timedelta(seconds=10), msg_type="Update", refs="[c010]", status="Actual"
    )
    site.add("c043", datetime.fromisoformat(fields["sent"]) + timedelta(minutes=1))
    site.assert_equals_clean_build(site.build())


def unit_keys(site: Site) -> dict[str, str]:
    return {name: unit[0] for name, unit in cache_module.BuildState.load(site.root).units.items()}


@pytest.mark.parametrize(
    ("edit", "changes"),
    [
        ("title of the first message", True),
        ("title of a neighbour", True),
        ("title of the latest", True),
        ("title of one of the latest four", True),
        ("translation of a neighbour", True),
        ("one more message", True),
        ("a cancel", True),
        ("title of an unlisted message", True),
    ],
)
def test_a_long_chain_page_s_key_changes_with_each_thing_it_shows(
    tmp_path: Path, edit: str, changes: bool
) -> None:
    """The page of message 20 of 40 lists messages 0, 18-22 and 36-39, the chain's length,
    its latest message (the banner) and its own phase: editing any of them changes its key
    and its page. Editing a message it does not list (10) changes its key too (a template
    may show the whole chain: `SiteView.chain_digest`), not its page."""
    site = Site(tmp_path / "site", random.Random(4))
    chain = long_chain(site, 40)
    site.build()
    before = unit_keys(site)
    page = load_config(site.root / "site.toml").output_path / "alerts" / "c020" / "index.html"
    html = page.read_bytes()
    if edit.startswith("title of"):
        shown = ("the first message", "a neighbour", "the latest", "one of the latest four")
        target = {**dict(zip(shown, (0, 22, 39, 37), strict=True)), "an unlisted message": 10}
        retitle(chain[target[edit.removeprefix("title of ")]])
    elif edit.startswith("translation"):
        text = chain[21].read_text("utf-8").replace("\ntitle: ", "\ntitle: (ko) ", 1)
        (site.alerts / "c021.ko.md").write_text(text, "utf-8")
    else:
        kind = "Update" if edit == "one more message" else "Cancel"
        site.add(
            "c040", site.now - timedelta(minutes=1), msg_type=kind, refs="[c039]", status="Actual"
        )
    site.build()
    assert (unit_keys(site)["alert:c020"] != before["alert:c020"]) is changes
    # the English page lists c021 in English still, and does not list c010
    if not edit.startswith("translation") and edit != "title of an unlisted message":
        assert (page.read_bytes() != html) is changes
    site.assert_equals_clean_build()


def test_a_template_that_shows_a_whole_long_chain_stays_as_a_clean_build(tmp_path: Path) -> None:
    """A site's own templates may read the whole chain through `standing.history` (the
    alert page) or an Item's standing (a listing), where sitegen's list only part of a long
    chain: an edit to a message no page lists must still reach every page that shows it."""
    site = Site(tmp_path / "site", random.Random(5))
    chain = long_chain(site, 30)
    templates = site.root / "templates"
    every = (
        "<ul class=whole>{% for g in standing.history %}<li>{{ g.primary.title }}</li>"
        "{% endfor %}</ul>"
    )
    listed = (
        "{% for item in items %}{% for g in item.standing.history %}{{ g.primary.title }}"
        "{% endfor %}{% endfor %}"
    )
    for name, extra in (("alert.html", every), ("archive.html", listed)):
        text = (templates / name).read_text("utf-8")
        assert "{% block main %}" in text
        (templates / name).write_text(
            text.replace("{% block main %}", "{% block main %}" + extra, 1), "utf-8"
        )
    site.assert_equals_clean_build(site.build())
    retitle(chain[5], "Moved ")  # listed by c000-c008's pages only (HISTORY_AROUND, latest)
    site.assert_equals_clean_build(site.build())
    page = load_config(site.root / "site.toml").output_path / "alerts" / "c020" / "index.html"
    assert "Moved " in page.read_text("utf-8")
