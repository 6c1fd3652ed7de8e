"""Watch the site's sources and call back once per burst of saves.

Editors save in bursts (write a temp file, rename it, touch a backup, update metadata): the
`Debouncer` turns such a burst into one batch. It is a plain object driven by an explicit
clock, so its timing is unit-tested without sleeping; `Watcher` runs it on a thread fed by
watchdog.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Generic, TypeVar

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

T = TypeVar("T")

IGNORED_EVENTS = {"opened", "closed_no_write"}  # reading a file is not a change

# Editors' swap, auto-save, lock, backup and atomic-save files: never content nor a template,
# yet rewritten while one types (vim's swap file, emacs's auto-save). A save through one of
# them (write it, rename it over the file) still counts, by the name it ends under.
TEMPORARY = re.compile(
    r"(^\..*\.sw[a-px]$)|~$|^4913$|^\.#|^#.*#$|___jb_(tmp|old)___$|^\.goutputstream-"
    r"|\.kate-swp$|^\.~lock\."
)


class Debouncer(Generic[T]):
    """Collect items; a batch is due `quiet` seconds after the last item arrived, or `longest`
    seconds after the first one, whichever comes first (so a file written continuously still
    gets previewed)."""

    def __init__(
        self, quiet: float = 0.05, longest: float = 0.5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if quiet <= 0 or longest < quiet:
            raise ValueError("need 0 < quiet <= longest")
        self.quiet = quiet
        self.longest = longest
        self.clock = clock
        self._items: dict[T, None] = {}  # insertion-ordered set
        self._first = 0.0
        self._last = 0.0

    def add(self, item: T) -> None:
        now = self.clock()
        if not self._items:
            self._first = now
        self._last = now
        self._items[item] = None

    def wait_time(self) -> float | None:
        """Seconds until the batch is due (0 when due now); None when nothing is pending."""
        if not self._items:
            return None
        now = self.clock()
        due = min(self._last + self.quiet, self._first + self.longest)
        return max(0.0, due - now)

    def take(self) -> list[T]:
        """The pending batch if it is due (and forget it); else an empty list."""
        if self.wait_time() != 0.0:
            return []
        batch = list(self._items)
        self._items.clear()
        return batch


class Watcher:
    """Watch `root` and the folders between it and each of `folders` (not recursively:
    `files` such as site.toml, and `folders` being created, renamed or deleted) and
    `folders` (recursively);
    call `on_change(paths)` from one background thread, once per debounced burst.

    `on_change` runs serially: saves made during a rebuild form the next batch. An exception
    from it is passed to `on_error` and the watcher carries on.
    """

    def __init__(
        self,
        root: Path,
        folders: Iterable[Path],
        on_change: Callable[[list[Path]], object],
        on_error: Callable[[BaseException], None],
        debouncer: Debouncer[Path] | None = None,
        ignore: Iterable[Path] = (),
        files: Iterable[Path] = (),
    ) -> None:
        self.root = root
        self.folders = [Path(f) for f in folders]
        self.on_change = on_change
        self.on_error = on_error
        self.debouncer: Debouncer[Path] = debouncer or Debouncer()
        self.ignore = [Path(p) for p in ignore]
        self.files = [Path(p) for p in files]  # files directly in root that matter (site.toml)
        self._cond = threading.Condition()
        self._stopping = False
        self._reschedule = False
        self._observer = Observer()
        self._thread = threading.Thread(target=self._run, name="sitegen-watch", daemon=True)

    def start(self) -> None:
        self._schedule()
        self._observer.start()
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._observer.stop()
        self._observer.join(timeout=5)
        self._thread.join(timeout=5)

    def retarget(self, folders: Iterable[Path], ignore: Iterable[Path]) -> None:
        """Watch these folders instead, from now on; call it from `on_change` only (it runs
        on this watcher's thread, which may reschedule: watchdog's may not)."""
        folders, ignore = [Path(f) for f in folders], [Path(p) for p in ignore]
        if (folders, ignore) != (self.folders, self.ignore):
            self.folders, self.ignore = folders, ignore
            self._schedule()

    def _schedule(self) -> None:
        handler = _Handler(self)
        self._observer.unschedule_all()
        self._observer.schedule(handler, str(self.root), recursive=False)
        holding = {p for f in self.folders for p in _holding(f, self.root)} - {self.root}
        for parent in sorted(holding):  # to see a nested folder made, moved or deleted
            if parent.is_dir() and parent not in self.folders:
                self._observer.schedule(handler, str(parent), recursive=False)
        for folder in self.folders:
            if folder.is_dir():
                self._observer.schedule(handler, str(folder), recursive=True)

    def notice(self, path: Path, is_directory: bool) -> None:
        """Record one changed path (called from watchdog's thread)."""
        if TEMPORARY.search(path.name) or any(
            path == p or path.is_relative_to(p) for p in self.ignore
        ):
            return
        if path == self.root:
            return  # "the folder's listing changed": the entry itself is reported too
        holds = any(path in _holding(f, self.root) or path == f for f in self.folders)
        inside = any(path.is_relative_to(f) for f in self.folders)
        if not (holds or inside or path in self.files):
            return  # e.g. a log file next to site.toml: only site.toml matters up there
        if is_directory and holds:
            # content/ or templates/, or a folder holding one (content_dir = "src/content"),
            # was created, moved or deleted: watch it afresh (from our thread; watchdog's
            # own thread must not reschedule itself).
            self._reschedule = True
        with self._cond:
            self.debouncer.add(path)
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self.debouncer.wait_time() != 0.0:
                    self._cond.wait(self.debouncer.wait_time())
                if self._stopping:
                    return
                batch = self.debouncer.take()
            try:
                if self._reschedule:
                    self._reschedule = False
                    self._schedule()
                self.on_change(batch)
            except Exception as exc:  # noqa: BLE001 - a preview must outlive any rebuild bug
                self.on_error(exc)


def _holding(folder: Path, root: Path) -> list[Path]:
    """The folders that hold `folder`, from its parent up to `root` (its parent alone when
    it is elsewhere)."""
    if not folder.is_relative_to(root):
        return [folder.parent]
    return [p for p in folder.parents if p.is_relative_to(root)]


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in IGNORED_EVENTS:
            return
        if event.is_directory and event.event_type == "modified":
            return  # a folder's listing changed: each entry that changed is reported too
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                text = raw.decode() if isinstance(raw, bytes) else raw
                self.watcher.notice(Path(text), event.is_directory)
