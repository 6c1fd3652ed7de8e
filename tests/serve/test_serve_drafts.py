"""A new alert in the preview while its TODO lines from `sitegen new` remain: its page is shown
with the TODO text and the TODOs listed as drafts (terminal and overlay, at file and line);
nothing of it is written out, and check, build and publish still refuse it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from serve_support import get

from sitegen.cli import cli
from sitegen.serve import EVENTS_PATH, PreviewServer
from sitegen_fixtures import TmpSite, alert_text

TODO_REFUSED = "replace the 'TODO:' text"


def sitegen(site: TmpSite, *args: str) -> Result:
    return CliRunner().invoke(cli, [args[0], "--site", str(site.root / "site.toml"), *args[1:]])


def new_alert(site: TmpSite, *options: str) -> Path:
    made = sitegen(
        site, "new", "Flood in Seoul", "--severity", "Severe", "--urgency", "Expected",
        "--certainty", "Likely", "--category", "Met", *options,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    (path,) = (site.root / "content" / "alerts").glob("*flood-in-seoul.md")
    return path


@pytest.fixture
def folder_target(tmp_site: TmpSite) -> TmpSite:
    with (tmp_site.root / "site.toml").open("a") as toml:
        toml.write('[publish]\ntarget = "folder:out"\n')
    return tmp_site


@pytest.fixture
def serving(folder_target: TmpSite) -> Iterator[PreviewServer]:
    lines: list[str] = []
    srv = PreviewServer(folder_target.root / "site.toml", port=0, echo=lines.append)
    srv.lines = lines  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def test_a_new_alert_is_shown_with_its_todo_lines_listed(
    folder_target: TmpSite, serving: PreviewServer
) -> None:
    """Its TODOs were errors: no page of the site was served until every one was replaced."""
    path = new_alert(folder_target)  # no --area: the area's name is a TODO too
    serving.start()
    page = get(f"{serving.url}alerts/{path.stem}/")
    assert page.status == 200
    assert b"TODO: the first thing people must do now." in page.body
    assert b"TODO: area name" in page.body
    snap = serving.preview.snapshot
    assert snap.errors == ()
    rel = f"content/alerts/{path.name}"
    lines = path.read_text().splitlines()
    todo_lines = [n for n, text in enumerate(lines, 1) if "TODO:" in text]
    assert [(p.path, p.line) for p in snap.drafts] == [(rel, n) for n in todo_lines]
    for problem in snap.drafts:
        shown = str(problem)
        assert "before publishing" in shown and "sitegen publish` refuse" in shown
        assert shown in serving.lines  # type: ignore[attr-defined]  # the terminal's
    with urllib.request.urlopen(serving.url + EVENTS_PATH.lstrip("/"), timeout=5) as stream:
        state = json.loads(stream.readline().removeprefix(b"data: "))
    assert state["errors"] == [] and state["drafts"] == [str(p) for p in snap.drafts]
    assert not folder_target.public.exists()  # `publish --no-build` sends public/ as it is


def test_any_other_mistake_still_blocks_the_page(
    folder_target: TmpSite, serving: PreviewServer
) -> None:
    path = new_alert(folder_target, "--area", "Seoul")
    path.write_text(path.read_text().replace("severity: Severe", "severity: Severe!"))
    serving.start()
    assert b"TODO: the first" not in get(f"{serving.url}alerts/{path.stem}/").body
    errors = serving.preview.snapshot.errors
    assert [(p.line, p.severity) for p in errors] == [(5, "error")]
    assert serving.preview.snapshot.drafts  # listed too: the file still has them


def test_after_a_draft_was_previewed_build_and_publish_still_refuse_it(
    folder_target: TmpSite, serving: PreviewServer
) -> None:
    """The sequence an official may follow: a good build and publish, then `sitegen new`,
    the preview, Ctrl-C, publish. The preview leaves public/, the build cache and the target
    as they were: nothing lets a later command skip the TODO check or send the draft."""
    folder_target.add("quake.md", alert_text())
    assert sitegen(folder_target, "publish").exit_code == 0
    before = {p: p.read_bytes() for p in folder_target.public.rglob("*") if p.is_file()}
    out = folder_target.root / "out"
    sent = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    draft = new_alert(folder_target, "--area", "Seoul")
    serving.start()
    assert get(f"{serving.url}alerts/{draft.stem}/").status == 200
    serving.stop()

    after = {p: p.read_bytes() for p in folder_target.public.rglob("*") if p.is_file()}
    assert after == before
    for args in [("build",), ("publish",), ("check",)]:
        refused = sitegen(folder_target, *args)
        assert refused.exit_code == 1 and TODO_REFUSED in refused.output, args
    assert sitegen(folder_target, "publish", "--no-build").exit_code == 0  # the last good one
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == sent
    assert not list(out.rglob(f"*{draft.stem}*"))
