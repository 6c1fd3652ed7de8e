"""`bundle.write_bundle` (how `sitegen serve` writes public/) stopped by Ctrl-C at the worst
instants: between making its staging folder and locking it (that left a copy of the site
beside public/), and with the changed files staged, before they are moved in."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from sitegen import bundle as bundle_module
from sitegen import owned
from sitegen.bundle import File, write_bundle


def bundle(text: str) -> dict[str, File]:
    return {"index.html": File(text.encode(), "text/html; charset=utf-8", "meta")}


def beside(public: Path) -> list[str]:
    return sorted(p.name for p in public.parent.iterdir() if p.name != public.name)


def test_ctrl_c_between_making_and_locking_leaves_no_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = tmp_path / "site" / "public"
    public.parent.mkdir()
    write_bundle(bundle("v1"), b"{}", public)
    real = tempfile.mkdtemp

    def made_then_stopped(*args: Any, **kwargs: Any) -> str:
        real(*args, **kwargs)
        raise KeyboardInterrupt  # the folder exists; `made_held` has not seen its name

    monkeypatch.setattr(tempfile, "mkdtemp", made_then_stopped)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(bundle("v2"), b"{}", public)
    assert beside(public) == []
    assert (public / "index.html").read_text() == "v1"


def test_ctrl_c_before_the_staged_files_are_moved_in_leaves_public_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = tmp_path / "site" / "public"
    public.parent.mkdir()
    write_bundle(bundle("v1"), b"{}", public)

    def stopped(*args: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(bundle_module, "commit_staged", stopped)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(bundle("v2"), b"{}", public)
    assert (public / "index.html").read_text() == "v1"
    assert beside(public) == []
    assert not owned.held_in(public.parent, ".public.")
