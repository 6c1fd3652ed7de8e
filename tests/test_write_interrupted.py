"""`bundle.write_bundle` (how `sitegen serve` writes public/) stopped by Ctrl-C at the worst
instants: between making its folder and locking it, and between moving the previous bundle
aside and knowing it by that name. Either left a copy of the site beside public/, or public/
gone with the previous bundle stranded aside."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from sitegen import owned
from sitegen.bundle import File, write_bundle


def bundle(text: str) -> dict[str, File]:
    return {"index.html": File(text.encode(), "text/html; charset=utf-8", "meta")}


def beside(public: Path) -> list[str]:
    return sorted(p.name for p in public.parent.iterdir() if p.name != public.name)


def interrupt_once(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Ctrl-C just before the first call of `owned.<name>`."""
    real = getattr(owned, name)
    calls = []

    def stopped(*args: object) -> object:
        calls.append(args)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(owned, name, stopped)


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


def test_ctrl_c_while_the_previous_bundle_is_moved_aside_puts_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = tmp_path / "site" / "public"
    public.parent.mkdir()
    write_bundle(bundle("v1"), b"{}", public)
    interrupt_once(monkeypatch, "moved")  # renamed aside, not yet known so
    with pytest.raises(KeyboardInterrupt):
        write_bundle(bundle("v2"), b"{}", public)
    assert (public / "index.html").read_text() == "v1"
    assert beside(public) == []
    assert not owned.held_in(public.parent, ".public.") and not owned.holds(public)
