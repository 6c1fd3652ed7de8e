"""build = load → render → write. The one function the CLI, serve and publish all call.

`build_site` is incremental (docs/architecture.md, "Incremental builds"): it re-reads only
content files whose bytes changed, re-renders only units whose inputs changed, writes only
files whose bytes changed, and renders across cores when there is much to do. Its output is
byte-identical to a clean build's (`build_bundle` + write), which tests/perf checks.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import gc
import heapq
import itertools
import marshal
import operator
import os
import select
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import brotli

from sitegen import cache, i18n
from sitegen.bundle import (
    MANIFEST_PATH,
    Bundle,
    commit_staged,
    discard_staged,
    list_outputs,
    manifest_bytes,
    manifest_from_entries,
    patch_manifest,
    stage_file,
    staging_dir,
)
from sitegen.cache import BuildState, Fingerprint, SourceEntry, SourceStore
from sitegen.config import SiteConfig
from sitegen.content import (
    ContentFile,
    Reader,
    ScanRecord,
    _group,
    files_as_recorded,
    load_site,
    read_content_file,
    require_site,
    scan_content,
)
from sitegen.errors import (
    BuildError,
    ContentError,
    Problem,
    TemplateError,
    WorkerLost,
    in_the_way,
    plural,
    problem_order,
    system_advice,
)
from sitegen.model import Alert, Site, shape

if TYPE_CHECKING:  # rendering (Jinja, Markdown, Babel) is imported only when there is some
    from multiprocessing.context import BaseContext
    from multiprocessing.pool import IMapIterator, Pool
    from multiprocessing.process import BaseProcess

    from sitegen.render import SiteView, Unit

T = TypeVar("T")

PAGE_BUDGET_BYTES = 14_000  # brotli-compressed HTML: one request, first TCP round trips
LATER = "later"  # a unit key not computed yet (see _Build._keys)
PATCH_MAX = 32  # changed content files up to which a build may patch (see _Build._patch)
STAT_FORK_MIN = 4000  # output files from which the output check runs in a forked process
DATES_FILE = "dates.bin"  # in .sitegen/cache: long dates Babel formatted (Build._save_dates)
PARALLEL_MIN = 400  # files to parse or units to render below which forking costs more
CHUNK = 64  # units per task sent to a render worker
# content files per task sent to a parse worker: each is cheap (~0.13 ms), so fewer, larger
# tasks (less pickling and waking in the parent, which shares the two cores) end sooner
PARSE_CHUNK = 256
# Settled racy output folders from which a no-change build records the folders anew: listing
# one costs ~17 µs, a state write ~65 ms at 10,000 alerts, and any real build records anyway.
REFRESH_RACY = 4000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BuildReport:
    files: int
    bytes: int
    written: int
    seconds: float
    warnings: tuple[Problem, ...]
    largest_page: tuple[str, int]  # (path, brotli bytes) of the heaviest HTML page
    pages: int = 0  # HTML pages among the files
    rendered: int = 0  # units rendered by this build
    reused: int = 0  # units whose files the last build already wrote (cache hits)
    parsed: int = 0  # content files parsed (the others came from the cache)
    removed: int = 0  # files deleted because the site no longer has them
    # alerts assembled into this build's model: all of them, or for a patch build only those
    # the changed alerts' units show (see _Build._patch)
    loaded: int = 0

    def summary(self) -> str:
        """One line: pages, bytes, time, what was written and what the cache saved."""
        path, size = self.largest_page
        units = self.rendered + self.reused
        return (
            f"built {plural(self.pages, 'page')}, {plural(self.files, 'file')} "
            f"({_size(self.bytes)}) in "
            f"{self.seconds:.2f} s: {self.written:,} written, {self.removed:,} removed, "
            f"cache hits {self.reused:,}/{units:,} units and "
            f"{max(0, self.files - self.written):,}/{self.files:,} files; "
            f"largest page {path} = {size:,} bytes brotli"
        )


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KiB" if count < 10 * 1024 * 1024 else f"{count / 2**20:.1f} MiB"


class Progress:
    """One line of progress on a terminal, drawn only once a build has run for `delay` seconds
    (a quick build prints nothing but its summary)."""

    def __init__(self, stream: TextIO | None, delay: float = 1.0) -> None:
        self.stream = stream
        self.delay = delay
        self.started = time.perf_counter()
        self._drawn = 0.0
        self._width = 0

    def step(self, label: str, done: int, total: int) -> None:
        if self.stream is None:
            return
        now = time.perf_counter()
        if now - self.started < self.delay or (now - self._drawn < 0.1 and done < total):
            return
        self._drawn = now
        text = f"{label} {done:,}/{total:,} ({100 * done // max(total, 1)} %)"
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def close(self) -> None:
        if self.stream is not None and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def build_bundle(config: SiteConfig, now: datetime) -> tuple[Bundle, bytes, tuple[Problem, ...]]:
    """Pure part of a clean build: content → (bundle, manifest bytes, warnings), in memory.
    Raises on errors."""
    site, warnings = require_site(config, now)
    from sitegen.render import render_site

    bundle, updated = render_site(site, config)
    return bundle, manifest_bytes(bundle, config.cache, updated), warnings


# Builds kept alive until the process ends (`build_site(linger=True)`).
_LINGERING: list[object] = []


def build_site(
    config: SiteConfig,
    now: datetime,
    progress: Progress | None = None,
    jobs: int | None = None,
    linger: bool = False,
) -> BuildReport:
    """Build the site into config.output_path, incrementally (see the module docstring).

    A failed build (content or template errors) writes nothing: every changed file is rendered
    into a staging folder before the first one is moved into place.

    `linger`: for a process that ends without tearing the interpreter down once its command is
    done (the CLI's build, and its publish after building): the build's ~1,000,000 cached
    objects are not freed one by one (~27 ms at 10,000 alerts) but left to the end of the
    process.
    """
    started = time.perf_counter()
    progress = progress or Progress(None)
    # The cyclic garbage collector off while building: the decoded model, source store and
    # state are ~500,000 acyclic containers that every full collection walks again (0.3 s of
    # a 1.3 s one-alert rebuild at 10,000 alerts). Rendering makes cycles: forked workers turn
    # it back on at once, and so does rendering many units here (`_collecting`); the few a
    # small build makes are reclaimed once it is back on.
    collecting = gc.isenabled()
    gc.disable()
    try:
        build = _Build(config, now, progress, jobs or os.cpu_count() or 1)
        if linger:
            _LINGERING.append(build)
        report = build.run()
    finally:
        if collecting:
            if linger:
                # Everything allocated while the collector was off is still in its youngest
                # generation: the first collection after enabling it would walk all of it
                # (~1,000,000 objects, ~20 ms) for a process that is about to end.
                gc.freeze()
            gc.enable()
        progress.close()
    return _with_time(report, time.perf_counter() - started)


@contextlib.contextmanager
def _collecting(bulk: bool) -> Iterator[None]:
    """Around rendering in this process: when it renders many units (it could not fork), the
    garbage collector is on for their cycles (Jinja makes some per page: ~60 MiB at 10,000
    alerts), with what exists already frozen so collections do not walk the model again."""
    if not bulk:
        yield
        return
    gc.freeze()
    gc.enable()
    try:
        yield
    finally:
        gc.disable()
        gc.unfreeze()


@contextlib.contextmanager
def _frozen() -> Iterator[None]:
    """Around forking workers: what the parent holds is frozen, so the workers' collections
    never touch it (and never copy its pages: the model is shared, not duplicated)."""
    cache.release_free_memory()  # freed heap pages still mapped would count in every worker
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def fork_workers(jobs: int, command: str = "build") -> Iterator[_Watched]:
    """A pool of forked worker processes (`_start_worker`), this process's objects frozen
    first (`_frozen`); `command`: the sitegen command a lost worker's message names. Ctrl-C
    and SIGTERM wait while it forks (the pool's threads, which fork any worker replaced
    later, keep them waiting), so each worker sets itself up first."""
    import ctypes
    from multiprocessing.sharedctypes import RawValue  # only for builds that fork (~7 ms)

    with _frozen():
        _WORK.stop = RawValue(ctypes.c_bool, False)  # shared with the workers forked next
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
        try:
            workers: list[BaseProcess] = []  # every one the pool starts, replacements too
            context = _recording(workers)
            with context.Pool(jobs, _start_worker, (held,)) as pool:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a stop now ends the pool
                try:
                    yield _Watched(pool, workers, command)
                except WorkerLost:
                    # Its task will never be done, so the pool would not end in order (below):
                    # terminated, with a bounded wait, as a worker killed at any point may
                    # have kept a queue's lock, which terminate() takes (_help_stuff_finish).
                    _WORK.stop.value = True
                    ender = threading.Thread(target=pool.terminate, daemon=True)
                    ender.start()
                    ender.join(LOST_WORKER_WAIT)
                    for worker in workers:
                        worker.kill()  # still waiting for that lock: it would never end
                    raise
                except BaseException:
                    # Ended in order, the tasks left skipped (pool_stopped): terminate() kills
                    # busy workers, and one killed while it sent a result kept the result
                    # queue's lock, which the pool then waited for for ever (seen on a full
                    # disk, a failure in one worker while the other sent its results).
                    _WORK.stop.value = True
                    pool.close()
                    pool.join()
                    raise
                else:
                    # Ended in order too, not by terminate() (the pool's __exit__): a worker
                    # still starting has SIGTERM held, then ignored while it leaves the group
                    # (`_start_worker`), so terminate()'s was lost; it then waited for ever for
                    # the task queue's lock terminate() keeps, and the build for it (a pool
                    # with nothing to render, ended as it forked: a test hung 50 minutes).
                    pool.close()
                    pool.join()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            _WORK.stop = None


def _recording(workers: list[BaseProcess]) -> BaseContext:
    """A fork context whose every process started (by the pool, or by its thread replacing
    one that ended) is added to `workers`. Taken from `active_children()` once the pool was
    made, the workers missed any killed by then: that call reaps them, and the pool's
    replacements then waited for ever for the task queue's lock a killed one kept.
    Its pools' worker handler thread sleeps until a worker ends or the pool changes:
    CPython's also wakes whenever a result waits in the result pipe, so it spun for as long
    as results waited there for the result thread (~0.1–0.2 s of CPU a pool at 10,000
    alerts, on cores the workers need: session 21). Its loop needs none of those wake-ups:
    an emptied task cache notifies it, as ThreadPool, which waits on nothing else, relies on."""
    from multiprocessing.context import ForkContext, ForkProcess
    from multiprocessing.pool import Pool

    class Worker(ForkProcess):
        def start(self) -> None:
            super().start()
            workers.append(self)

    class QuietPool(Pool):
        def _get_sentinels(self) -> list[Any]:
            return [self._change_notifier._reader]  # type: ignore[attr-defined]

    class Recording(ForkContext):
        Process = Worker

        def Pool(  # noqa: N802 - BaseContext's name
            self,
            processes: int | None = None,
            initializer: Callable[..., object] | None = None,
            initargs: Iterable[Any] = (),
            maxtasksperchild: int | None = None,
        ) -> Pool:
            return QuietPool(processes, initializer, initargs, maxtasksperchild, context=self)

    return Recording()


_STOPS = {signal.SIGINT, signal.SIGTERM}
LOST_WORKER_WAIT = 10.0  # seconds the pool may take to end once a worker was lost
WATCH_EVERY = 0.5  # seconds without a result after which the workers are looked at


class _Watched:
    """A pool whose results come with its workers watched. A worker killed (the OOM killer,
    `kill -9`) took its task with it: multiprocessing forks a replacement and waits for that
    task's result for ever. Every `WATCH_EVERY` seconds without a result, a worker that
    ended (none does while the pool runs) fails the build instead (`WorkerLost`)."""

    def __init__(self, pool: Pool, workers: list[BaseProcess], command: str = "build") -> None:
        self.pool = pool
        self.workers = workers
        self.command = command

    def imap_unordered(self, func: Callable[[Any], T], chunks: Iterable[Any]) -> Iterator[T]:
        return self._watched(self.pool.imap_unordered(func, chunks))  # submitted now

    def _watched(self, results: IMapIterator[T]) -> Iterator[T]:
        from multiprocessing import TimeoutError as NoResultYet

        while True:
            try:
                yield results.next(WATCH_EVERY)
            except StopIteration:
                return
            except NoResultYet:
                lost = [w.exitcode for w in self.workers if w.exitcode is not None]
                if lost:
                    raise WorkerLost(_lost_message(lost[0], self.command)) from None


def _lost_message(exitcode: int, command: str = "build") -> str:
    cause = f"it exited with code {exitcode}"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            cause = f"it was stopped by signal {signal.Signals(-exitcode).name}"
        if exitcode == -signal.SIGKILL:
            cause += ", often because the computer ran out of memory"
    if command == "build":
        return (
            f"a process helping the build ended before its work was done ({cause}); the output "
            "folder was left as it was. Run `sitegen build` again; if this happens again, free "
            "some memory first."
        )
    if command == "serve":  # the preview's first build: the preview shows this and runs on
        return (
            f"a process helping the preview ended before its work was done ({cause}). Save a "
            "file to try again; if this happens again, free some memory first."
        )
    # check writes nothing: no folder to speak of, and a build is not what to run again
    return (
        f"a process helping `sitegen {command}` ended before its work was done ({cause}), "
        f"so not every page was looked at. Run `sitegen {command}` again; if this happens "
        "again, free some memory first."
    )


def _start_worker(held: set[signal.Signals]) -> None:
    """A forked worker collects its own garbage (Jinja makes cycles), less often than by
    default: what it allocates is mostly short-lived and acyclic, and a young collection every
    700 allocations cost ~5 % of rendering.

    It leaves the build's process group: Ctrl-C, or a SIGTERM to the group (a cancelled CI
    job), reaches the parent alone, which ends the pool in order. A worker stopped at any
    point could die holding the task queue's lock; then the parent, ending the pool, waited
    for that lock for ever, or the workers the pool had forked in replacement outlived the
    build, waiting for it (both seen); and each worker printed a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # drops a stop sent before it left the group
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # what the pool ends its workers with
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    gc.set_threshold(20_000, 10, 10)
    gc.enable()


def _with_time(report: BuildReport, seconds: float) -> BuildReport:
    fields = {name: getattr(report, name) for name in BuildReport.__dataclass_fields__}
    return BuildReport(**{**fields, "seconds": seconds})


@dataclass(slots=True)
class _Layout:
    """What a new build state records about the site's shape (a patch build keeps the last's)."""

    instants: tuple[int, ...]
    structure: tuple[Any, ...]  # render.Structure as a tuple; () when no build may patch it
    components: dict[str, tuple[str, ...]]
    members: dict[str, tuple[str, ...]]  # alert id → its files


# One render task's result per file: (path, sha256, size, its stat signature once staged or
# None when the file on disk holds those bytes already, brotli size or -1)
Written = tuple[str, str, int, cache.Signature | None, int]


@dataclass(slots=True)
class _Work:
    """What forked workers need; set in the parent just before the fork (workers inherit it)."""

    units: list[Unit] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    fingerprint: Fingerprint | None = None
    global_key: str = ""
    known: dict[str, str] = field(default_factory=dict)  # path → sha256 of the file on disk
    on_disk: dict[str, cache.Signature] = field(default_factory=dict)
    out_dir: Path = Path()
    staging: Path = Path()
    files: list[ContentFile] = field(default_factory=list)
    config: SiteConfig | None = None
    racy_from: int = 0  # this build's racy threshold for content files (see _fs_clock)
    stop: Any = None  # a shared c_bool: set when the pool is ended early (see fork_workers)


_WORK = _Work()

# What a build that met a file system failure says of its output folder (_Build._failure)
_OUTPUT_AFTER = {
    "untouched": "Nothing in {out} was changed",
    "writing": "{out} may hold new files beside old ones, each one whole; the next build "
    "finishes the job",
    "written": "{out} holds the new build, but its cache in {cache} could not be saved",
}
_IN_THE_WAY = "a file where sitegen needs a folder"


class _Build:
    def __init__(self, config: SiteConfig, now: datetime, progress: Progress, jobs: int) -> None:
        self.config = config
        self.now = now
        self.progress = progress
        self.jobs = jobs
        self.root = config.root
        self.out_dir = config.output_path.resolve()
        self.state = BuildState.load(self.root)
        self.global_key = _global_key(config)
        self.files: list[ContentFile] = []
        self.store_digests: dict[str, str] = {}
        self.fingerprint = Fingerprint({})
        self.listed_folders: set[str] | None = None  # folders found by listing the output
        self.racy_sources: dict[str, str] | None = None  # see _racy_sources
        self.sources: dict[str, cache.Signature] = {}  # content file → its stat signature
        # BuildState.scanned_folders for the next build (see _scan; its .scanned: _note_scan)
        self.scanned: dict[str, cache.Signature] = {}
        self.scanned_ns = 0  # and BuildState.scanned_ns: set by run() unless kept (_scan)
        self.sources_aside = b""  # `sources`, marshalled while render workers run
        self.parsed = 0  # content files parsed by a patch attempt
        # rel → (entry, its problems, its value) decoded while the parse workers ran (see _sources)
        self.decoded: dict[str, tuple[SourceEntry, list[Problem], Any]] = {}
        self.environments: dict[str, Any] = {}  # made early by _warm_up, else by _render
        self.found_in_templates: list[Problem] | None = None  # see _template_problems
        self.verified: dict[str, str] = {}  # rel → digest of racy files a patch found unchanged
        self.dates_loaded = False
        self.known_dates = 0  # long dates read from DATES_FILE
        self.new_dates: dict[tuple[int, str], str] = {}  # formatted by this build's rendering
        # content modified at or after this may change again unseen within the same timestamp
        # tick: such files are compared by digest next time (set by run(), see _fs_clock)
        self.racy_from = 0
        self.as_recorded = False  # every output file is as the last build left it (run())
        self.staging: Path | None = None  # where this build stages its files (_write)
        self.output = "untouched"  # then "writing" (_commit), then "written"

    def run(self) -> BuildReport:
        try:
            return self._run()
        except OSError as exc:  # a full disk, a folder without permission...
            raise BuildError(self._failure(exc)) from exc

    def _failure(self, exc: OSError) -> str:
        """One line for a file system failure: where and why, what became of the output and
        what to do. A file being staged is named where it was going."""
        where = str(exc.filename2 or exc.filename or self.root)  # unnamed: in the site
        if self.staging is not None and where.startswith(f"{self.staging}{os.sep}"):
            where = str(self.out_dir) + where[len(str(self.staging)) :]
        output = _OUTPUT_AFTER[self.output].format(
            out=self.out_dir, cache=self.root / cache.CACHE_DIR
        )
        if exc.errno in (errno.ENOTDIR, errno.EEXIST):  # name the file that is in the way
            found = in_the_way(Path(where))
            if found is not None:
                return f"{found}: {_IN_THE_WAY}. Move it away, then build again."
        # content/ and templates/ the build only reads; the rest it writes (output, cache)
        sources = [p.resolve() for p in self.config.source_paths]
        reading = any(Path(where).resolve().is_relative_to(s) for s in sources)
        advice = system_advice(exc, reading=reading, who="builds")
        return f"{where}: {exc.strerror or exc}. {output}. {advice}, then build again."

    def _run(self) -> BuildReport:
        # before the scan: it covers every read of this build (_parse reads it from _WORK)
        self.racy_from = _WORK.racy_from = _content_racy_from(self.config, self.root)
        self.scanned_ns = self.racy_from  # content/'s folders are stat'ed after it (_scan)
        # The output check (~35,000 lstat at 10,000 alerts) is shared: a forked process
        # stats the files while this one scans content/, then stats the output's folders
        # (threads would serialise on the GIL between system calls).
        checking = None
        folders_as_recorded = True
        if self.state.summary[0] >= STAT_FORK_MIN and self._can_fork():  # [0]: files
            checking = _OutputCheck.start(self.out_dir, self.state)
        store = _source_store(self.root, self.global_key)
        try:
            files, scan_problems = self._scan()
            self.sources = {f.rel: cache.signature(f.stat) for f in files}
            # marshal format 2 has no back-references: the same data, the same bytes, every
            # run (let go once digested: 1.2 MB at 10,000 alerts, else held through rendering)
            stats = marshal.dumps((self.global_key, list(self.sources.items())), 2)
            inputs = cache.digest(stats + repr(scan_problems).encode())
            del stats
            if checking is not None:
                folders_as_recorded = _folders_as_recorded(self.out_dir, self.state)
            if checking is not None and inputs != self.state.inputs:
                # Something changed: while the check runs, read what comes next (a patch build
                # reads most of it, a full build all of it), one step at a time until it ends.
                import sitegen.render  # noqa: F401 - needed next, like the rest

                for _ in itertools.chain(self.state.decode(), store.preload()):
                    if checking.done():
                        break
        except BaseException:
            if checking is not None:
                checking.result()  # reap the child
            raise
        found = _FAILED if checking is None else checking.result()
        if not folders_as_recorded:
            found = None
        elif found is _FAILED:
            found = _outputs_as_recorded(self.out_dir, self.state)
        if found is None:
            found, self.listed_folders = list_outputs(self.out_dir)
        self.as_recorded = found is _RECORDED or _as_recorded(found, self.state.outputs)
        if self._nothing_to_do(inputs, files):
            self._refresh_record()
            return self._unchanged_report()
        # only now: a build with nothing to do never decodes the recorded outputs
        on_disk = _recorded_signatures(self.state) if found is _RECORDED else found
        store.last_read = self.state.sources
        self.files = files
        scan_errors = any(p.severity == "error" for p in scan_problems)
        patched = None if scan_errors else self._patch(store, on_disk, inputs, scan_problems)
        if patched is not None:
            store.save()
            return patched
        parsed = self._sources(files, store)
        loaded = load_site(self.config, self.now, self._reader(store), (files, scan_problems))
        store.keep_only(f.rel for f in files)
        if loaded.site is None:  # with what is wrong in templates, as `check` reports it
            in_templates = (*self._template_problems(), *self._unescaped_warnings(cache.codecs()))
            raise ContentError((*loaded.problems, *in_templates))
        del files  # self.files only, so that it can be let go before forking (see _write)
        if parsed >= PARALLEL_MIN and self._can_fork():
            # many new entries: written by a forked process while the units are made
            store.start_write_aside()
        try:
            report = self._render(loaded.site, loaded.problems, store, on_disk, inputs, parsed)
        except BaseException:
            store.discard()
            raise
        store.save()
        return report

    # -- finding content ------------------------------------------------------------------

    def _scan(self) -> tuple[list[ContentFile], list[Problem]]:
        """`scan_content`'s answer, without listing content/ when the last build's scan was
        plain and none of its folders changed since (adding, removing or renaming an entry
        changes its folder's mtime; the files are then stat'ed by name). Notes the folders
        the next build needs in `self.scanned` (the files' paths: see _note_scan)."""
        state = self.state
        if state.scanned_folders and self._folders_as_scanned(state.scanned_folders):
            files = files_as_recorded(self.config, state.scanned)
            if files is not None:
                self.scanned = state.scanned_folders
                self.scanned_ns = state.scanned_ns
                return files, []
        record = ScanRecord()
        files, problems = scan_content(self.config, record)
        if record.plain and not problems:
            self.scanned = {key: cache.signature(stat) for key, stat in record.folders.items()}
        return files, problems

    def _folders_as_scanned(self, folders: dict[str, cache.Signature]) -> bool:
        """Has every folder of content/ the last build's scan listed the signature it had
        then, taken before a change in the same timestamp tick could hide (`scanned_ns`)?"""
        base = str(self.config.content_path)
        since = self.state.scanned_ns
        if any(sig[0] >= since for sig in folders.values()):
            return False  # modified in the tick of that scan: listed again
        try:
            stats = [os.stat(f"{base}{os.sep}{key}" if key else base) for key in folders]
        except OSError:
            return False
        return list(map(cache.signature, stats)) == list(folders.values())

    # -- nothing changed ------------------------------------------------------------------

    def _nothing_to_do(self, inputs: str, files: list[ContentFile]) -> bool:
        """Same inputs as the last build (by stat, for files not modified around it), `now` on
        the same side of every instant, and its output untouched: the output is already right."""
        state = self.state
        if state.inputs != inputs or _rank(state.instants, self.now) != state.now_rank:
            return False
        for f in files:  # modified around the last build: same stat is not enough, compare bytes
            if f.stat.st_mtime_ns >= state.racy_from:
                data = _read(f.fspath)
                if data is None or state.racy.get(f.rel) != cache.digest(data):
                    return False
        return self.as_recorded

    def _refresh_record(self) -> None:
        """After a build that had to list the output (or had racy folders), or content/ (a
        folder of it changed, its files did not: an editor's swap file came and went), record
        those folders now, so the next no-change build stats instead of lists. Costs one
        state write, once; nothing in the output is touched."""
        state = self.state
        folders = self.scanned
        scanned = folders != state.scanned_folders or (
            bool(folders) and self.scanned_ns != state.scanned_ns  # was racy
        )
        if scanned:
            self._note_scan(state)
        if self._refresh_folders() or scanned:
            state.save(self.root)

    def _note_scan(self, state: BuildState) -> None:
        """Record this build's scan in `state`, for the next build's (`_scan`). The files'
        paths are `self.sources`' keys (in scan order), not a tuple kept from the scan: through
        rendering, that kept 12,000 strings in the memory pools of the files let go before
        forking, 8 MiB at 10,000 alerts held in this process and so counted in every worker."""
        state.scanned_folders, state.scanned_ns = self.scanned, self.scanned_ns
        state.scanned = tuple(self.sources) if self.scanned else ()

    def _refresh_folders(self) -> bool:
        """Record the output's folders anew when that is worth a state write (see above)."""
        state = self.state
        if self.listed_folders is None:
            # Worth a state write only if enough racy folders would stop being racy: those
            # modified at or after the threshold a recording now would get stay racy.
            racy = _racy_folders(state)
            if len(racy) < REFRESH_RACY:
                return False  # listing a few racy folders costs less than writing the state
            settled = _racy_threshold(self.out_dir, self.root / cache.CACHE_DIR)
            if sum(1 for folder in racy if state.folders[folder] < settled) < REFRESH_RACY:
                return False
        folders = self.listed_folders if self.listed_folders is not None else set(state.folders)
        state.folders, state.folders_ns = _folder_mtimes(self.out_dir, folders, self.root)
        return True

    def _unchanged_report(self) -> BuildReport:
        state = self.state
        codec = cache.codecs()
        warnings = tuple(codec["problem"].decode(w) for w in state.warnings) if codec else ()
        files, size, pages, largest_path, largest_size, units = state.summary
        return BuildReport(
            files=files,
            bytes=size,
            written=0,
            seconds=0.0,
            warnings=warnings,
            largest_page=(largest_path, largest_size),
            pages=pages,
            reused=units,
        )

    # -- content --------------------------------------------------------------------------

    def _sources(self, files: list[ContentFile], store: SourceStore) -> int:
        """Parse into the source store every file it does not hold (across cores when there
        are many). Returns how many files were parsed, here or by a patch attempt."""
        missing = [
            f
            for f in files
            if store.lookup(f.rel, cache.signature(f.stat), f.fspath, self.racy_from) is None
        ]
        codecs = cache.codecs()
        if codecs is None:
            return len(missing) + self.parsed
        if len(missing) >= PARALLEL_MIN and self._can_fork():
            _WORK.files, _WORK.config = missing, self.config
            chunks = [
                list(range(i, min(i + PARSE_CHUNK, len(missing))))
                for i in range(0, len(missing), PARSE_CHUNK)
            ]
            done = 0
            with fork_workers(self.jobs) as pool:
                parsing = pool.imap_unordered(_parse_chunk, chunks)
                self._warm_up()  # while the workers parse: results wait in the pool's queue
                for results in parsing:
                    for rel, fields in results:
                        store.record(rel, entry := SourceEntry(*fields))
                        # decoded now, between the workers' chunks, rather than after the
                        # pool, when this process would work alone
                        self.decoded[rel] = (entry, *_decode_entry(entry, codecs))
                    done += len(results)
                    self.progress.step("reading content", done, len(missing))
            _WORK.files = []
        return len(missing) + self.parsed

    def _warm_up(self) -> None:
        """What each render worker would otherwise do again after forking (~0.1 s each):
        compile the templates and load Babel's locale data. Done once, by this process, while
        the parse workers keep both cores busy and it mostly waits for their results."""
        from sitegen.render import compile_templates

        try:
            environments = self._environments()
        except BuildError:
            return  # raised again by _render, after any content errors, as without this
        self.environments = environments
        self._template_problems()  # reported after any content errors, as without this
        compile_templates(environments)
        i18n.load_locales(self.config.languages)

    def _template_problems(self) -> list[Problem]:
        """What template_check finds, looked for once a build."""
        if self.found_in_templates is None:
            self.found_in_templates = self._check_templates()
        return self.found_in_templates

    def _check_templates(self) -> list[Problem]:
        from sitegen.template_check import site_template_problems

        if self.state.global_key == self.global_key:
            return []  # sitegen, config and templates of the last good build: it found none
        with contextlib.suppress(BuildError):  # no templates/: site_template_problems says so
            self.environments = self.environments or self._environments()
        return site_template_problems(self.config, self.environments)

    def _reader(
        self, store: SourceStore
    ) -> Callable[[ContentFile, SiteConfig, list[Problem]], Any]:
        codecs = cache.codecs()
        if codecs is None:
            return read_content_file

        def read(file: ContentFile, config: SiteConfig, problems: list[Problem]) -> Any:
            entry = store.lookup(file.rel, cache.signature(file.stat), file.fspath, self.racy_from)
            if entry is None:
                parsed = _parse(file, config)
                if parsed is None:  # changed while being read: parse, but do not cache
                    return read_content_file(file, config, problems)
                entry = SourceEntry(*parsed)
                store.record(file.rel, entry)
            early = self.decoded.pop(file.rel, None)  # decoded by _sources, if for this entry
            found, value = (
                early[1:] if early and early[0] is entry else _decode_entry(entry, codecs)
            )
            problems.extend(found)
            return value

        return read

    # -- rendering and writing ------------------------------------------------------------

    def _render(
        self,
        site: Site,
        problems: tuple[Problem, ...],
        store: SourceStore,
        on_disk: dict[str, cache.Signature],
        inputs: str,
        parsed: int,
    ) -> BuildReport:
        from sitegen.render import SiteView, site_units

        view = SiteView(site, self.config)
        environments = self.environments = self.environments or self._environments()
        found = self._template_problems()
        if found:
            raise TemplateError(found)
        units = site_units(view, environments)
        keys = self._keys(units, store)
        known = self._verified(on_disk)
        dirty = [
            i
            for i, unit in enumerate(units)
            if keys[i] is None
            or keys[i] == LATER
            or unit.name not in self.state.units
            or self.state.units[unit.name][0] != keys[i]
            or any(p not in known for p in self.state.units[unit.name][1])
        ]

        def layout() -> _Layout:  # made while forked workers render: they need none of it
            from sitegen.lifecycle import reference_components

            return _Layout(
                _instants(site),
                cache.shallow(view.structure()),
                reference_components(site),
                {g.id: tuple(a.source for a in g.versions) for g in site.groups},
            )

        return self._write(
            view,
            units,
            keys,
            dirty,
            known,
            on_disk,
            store,
            problems,
            inputs,
            parsed,
            layout,
            [],
        )

    def _write(
        self,
        view: SiteView,
        units: list[Unit],
        keys: list[str | None],
        chosen: list[int],
        known: dict[str, str],
        on_disk: dict[str, cache.Signature],
        store: SourceStore,
        problems: tuple[Problem, ...],
        inputs: str,
        parsed: int,
        layout: Callable[[], _Layout],
        kept: list[str],
    ) -> BuildReport:
        """Render the chosen units into a staging folder, then commit (full and patch builds
        alike); on any failure nothing is written and the source store stays as it was."""
        cache.remove_leftovers(self.root / cache.CACHE_DIR)  # of builds killed while writing
        staging = self.staging = staging_dir(self.out_dir)
        try:
            if len(chosen) >= PARALLEL_MIN and self._can_fork():
                # free what rendering does not need, for the workers to reuse
                self._racy_sources()
                self.files = []
                self.sources_aside = marshal.dumps(self.sources)  # one object, not 12,000
                self.sources = {}
                store.write_aside()
            made: list[_Layout] = []
            written = self._render_units(
                units, keys, chosen, known, on_disk, staging, lambda: made.append(layout())
            )
            if self.sources_aside:
                self.sources = marshal.loads(self.sources_aside)  # noqa: S302 - made above
            report = self._commit(
                view,
                units,
                keys,
                chosen,
                written,
                known,
                on_disk,
                staging,
                problems,
                inputs,
                parsed,
                made[0] if made else layout(),
                kept,
            )
        except BaseException:
            discard_staged(staging)
            store.discard()
            raise
        self._save_dates()
        return report

    # -- patch builds ---------------------------------------------------------------------

    def _patch(
        self,
        store: SourceStore,
        on_disk: dict[str, cache.Signature],
        inputs: str,
        scanned: list[Problem],
    ) -> BuildReport | None:
        """Rebuild what a few changed alerts show without assembling the whole site, when the
        last build's structure still holds (docs/architecture.md, "Patch builds"); None when
        it may not (the caller then builds in full, reusing what this parsed).

        It may when sitegen, config, templates and `now` are as they were, no content file
        was added or removed, at most PATCH_MAX changed, each is an alert that parses without
        error and keeps its shape (model.shape: only its text changed), and every output file
        is as it was written. Content warnings are each one file's: the unchanged files' are
        the last build's, the changed files' their parse's (`_patch_warnings`). Then every unit and
        its `groups` are the last build's, the units to look at are those whose groups hold
        a changed alert, and those show only the alerts in their groups: those alerts, each
        with its reference component, are all this build decodes (`render.PartialView`)."""
        state = self.state
        codecs = cache.codecs()
        if (
            codecs is None
            or not state.structure
            or state.global_key != self.global_key
            or _rank(state.instants, self.now) != state.now_rank
            or self.sources.keys() != state.sources.keys()
            or on_disk.keys() != state.outputs.keys()
        ):
            return None
        since = state.racy_from
        candidates = [
            f
            for f in self.files
            if state.sources[f.rel] != self.sources[f.rel] or f.stat.st_mtime_ns >= since
        ]
        changed: dict[str, Alert] = {}
        warned: list[Problem] = []  # the changed files' warnings
        verified: dict[str, str] = {}  # racy files found unchanged: rel → digest
        for f in candidates:
            sig = self.sources[f.rel]
            if sig == state.sources[f.rel] and f.rel in state.racy:
                # racy at the last build, the same stat: its digest decides, as in a
                # no-change build (no cache entry decoded or rewritten for it)
                data = _read(f.fspath)
                if data is not None and cache.digest(data) == state.racy[f.rel]:
                    verified[f.rel] = state.racy[f.rel]
                    continue
            before = _as_read(store.get(f.rel), state.sources[f.rel])
            if before is None:
                return None  # the cache lacks what the last build read: compare with nothing
            if store.lookup(f.rel, sig, f.fspath, self.racy_from) is not None:
                continue  # the same bytes
            if len(changed) == PATCH_MAX:
                return None
            parsed = _parse(f, self.config)
            if parsed is None or f.kind != "alerts" or before.value is None:
                return None
            entry = SourceEntry(*parsed)
            store.record(f.rel, entry)
            self.parsed += 1
            found, after = _decode_entry(entry, codecs)
            if after is None or any(p.severity != "warning" for p in found):
                return None
            if shape(codecs["alerts"].decode(before.value)) != shape(after):
                return None
            changed[f.rel] = after
            warned += found
        partial = self._partial_site({a.id for a in changed.values()}, changed, store)
        if partial is None:
            return None
        self.verified = verified
        warnings = self._patch_warnings(changed.keys(), [*scanned, *warned])
        return self._render_patch(*partial, store, on_disk, inputs, warnings)

    def _patch_warnings(self, changed: Iterable[str], fresh: list[Problem]) -> tuple[Problem, ...]:
        """The content warnings a full build would report: each concerns one file (warnings
        found across files are `check`'s advice), so the unchanged files' are the last
        build's and `fresh` (the scan's and the changed files') replace the rest."""
        codec = cache.codecs()
        assert codec is not None
        state = self.state
        replaced = set(changed)
        last = map(codec["problem"].decode, state.warnings[: state.content_warnings])
        # a path not among the content files is the last scan's (a misnamed file): `fresh`
        kept = [w for w in last if w.path in self.sources and w.path not in replaced]
        return tuple(sorted([*kept, *fresh], key=problem_order))

    def _partial_site(
        self, ids: set[str], changed: dict[str, Alert], store: SourceStore
    ) -> tuple[Site, list[str]] | None:
        """(The alerts that the units showing `ids` show, with their components; the names
        of those units), or None when the cache lacks any of them."""
        codecs = cache.codecs()
        assert codecs is not None
        state = self.state
        # a long chain's units name only the messages their pages list, but hold a digest of
        # the whole chain (render.SiteView.chain_digest): any unit naming an alert of a
        # changed alert's component is looked at (one whose token is as it was keeps its key)
        touched = set(ids)
        for group_id in ids:
            touched.update(state.components.get(group_id, ()))
        dirty = [name for name, unit in state.units.items() if not touched.isdisjoint(unit[2])]
        needed = set(touched)
        for name in dirty:
            needed.update(state.units[name][2])
        for group_id in list(needed):
            needed.update(state.components.get(group_id, ()))
        alerts = []
        for group_id in sorted(needed):
            for rel in state.members.get(group_id, ()):
                if rel in changed:
                    alerts.append(changed[rel])
                    continue
                entry = _as_read(store.get(rel), self.sources.get(rel))
                if entry is None or entry.value is None:
                    return None
                alerts.append(codecs["alerts"].decode(entry.value))
        problems: list[Problem] = []
        groups = _group(alerts, self.config, problems)
        if problems or {g.id for g in groups} != needed:
            return None
        site = Site(tuple(groups), self.now, (), {g.id: g for g in groups})
        return site, dirty

    def _render_patch(
        self,
        site: Site,
        dirty: list[str],
        store: SourceStore,
        on_disk: dict[str, cache.Signature],
        inputs: str,
        warnings: tuple[Problem, ...],
    ) -> BuildReport | None:
        from sitegen.render import PartialView, Structure, site_units

        state = self.state
        view = PartialView(site, self.config, Structure(*state.structure))
        units = site_units(view, self._environments(), set(dirty))
        if len(units) != len(dirty):
            return None
        self.store_digests = {**self.verified, **store.digests()}
        self.fingerprint = Fingerprint(self.store_digests)
        keys = [_unit_key(self.global_key, unit, self.fingerprint) for unit in units]
        known = self._verified(on_disk)
        if len(known) != len(state.outputs):
            return None  # an output file was changed by hand: the full build finds which
        chosen = [
            i for i, u in enumerate(units) if keys[i] is None or keys[i] != state.units[u.name][0]
        ]
        wanted = set(dirty)
        kept = [name for name in state.units if name not in wanted]
        layout = _Layout(state.instants, state.structure, state.components, state.members)
        return self._write(
            view,
            units,
            keys,
            chosen,
            known,
            on_disk,
            store,
            warnings,
            inputs,
            self.parsed,
            lambda: layout,
            kept,
        )

    def _environments(self) -> dict[str, Any]:
        """A Jinja environment per language, with its compiled templates cached on disk."""
        import jinja2

        from sitegen.render import make_environment

        environments = {lang: make_environment(self.config, lang) for lang in self.config.languages}
        # Compiled templates, checked by Jinja against their own source. One folder per
        # language and global key (sitegen, config, every template file): compiling folds in
        # the language's translations (render._ConstantGettext) and the text of included plain
        # files (render._StaticInclude), which Jinja's check of the including template's
        # source cannot see.
        current = compiled_templates(self.root, self.global_key)
        compiled = current.parent
        if compiled.is_dir():
            for old in compiled.iterdir():
                if old == current:
                    continue
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink(missing_ok=True)
        for lang, env in environments.items():
            (current / lang).mkdir(parents=True, exist_ok=True)
            env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(current / lang))
        if not self.dates_loaded:  # long dates formatted by earlier builds (see _save_dates)
            self.dates_loaded = True
            dates = cache.read_payload(self.root / cache.CACHE_DIR / DATES_FILE)
            if isinstance(dates, dict) and all(
                isinstance(k, tuple) and len(k) == 2 and isinstance(v, str)
                for k, v in dates.items()
            ):
                i18n.remember_dates(dates)
                self.known_dates = len(dates)
        return environments

    def _save_dates(self) -> None:
        """Keep the long dates Babel formatted for this build's pages, so that the next build
        (usually a few pages) needs neither Babel's import nor its locale data (~30 ms).
        Everything this process knows is written when it knows more than the file held (a
        long-lived process may have formatted them for an earlier build). The file's header
        names sitegen's and Babel's versions (cache.code_key)."""
        i18n.remember_dates(self.new_dates)  # formatted by forked workers
        self.new_dates = {}
        i18n.new_dates()
        dates = i18n.known_dates()
        if len(dates) <= self.known_dates:
            return
        with contextlib.suppress(OSError):  # a cache: the next build formats them again
            cache.write_payload(self.root / cache.CACHE_DIR / DATES_FILE, dates)
        self.known_dates = len(dates)

    def _keys(self, units: list[Unit], store: SourceStore) -> list[str | None]:
        """Each unit's key. A unit made of named alerts keeps its last key, uncomputed, when
        sitegen, config and templates are the same, `now` crossed none of the last build's
        instants, and none of its alerts' files changed (nor any file naming them)."""
        state = self.state
        same_world = (
            state.global_key == self.global_key
            and _rank(state.instants, self.now) == state.now_rank
        )
        self.store_digests = store.digests()
        fingerprint = Fingerprint(self.store_digests)
        keys: list[str | None] = []
        for unit in units:
            last = state.units.get(unit.name)
            if same_world and last is not None and _keeps_key(unit, last, store.changed):
                keys.append(last[0])
            elif last is None:
                keys.append(LATER)  # rendered anyway: its key is computed by whoever renders it
            else:
                keys.append(_unit_key(self.global_key, unit, fingerprint))
        self.fingerprint = fingerprint
        return keys

    def _verified(self, on_disk: dict[str, cache.Signature]) -> dict[str, str]:
        """path → sha256 of every output file known to hold what the last build wrote: by
        stat when it is untouched, else by reading it."""
        import hashlib  # here, not at the top: see cache.blake2b

        outputs = self.state.outputs
        if self.as_recorded:  # the usual case
            return dict(zip(outputs, map(_SHA, outputs.values()), strict=True))
        known: dict[str, str] = {}
        for path, (sha, sig, _) in outputs.items():
            current = on_disk.get(path)
            if current == sig:
                known[path] = sha
            elif current is not None and current[1] == sig[1]:
                data = _read(self.out_dir / path)
                if data is not None and hashlib.sha256(data).hexdigest() == sha:
                    known[path] = sha
        return known

    def _render_units(
        self,
        units: list[Unit],
        keys: list[str | None],
        dirty: list[int],
        known: dict[str, str],
        on_disk: dict[str, cache.Signature],
        staging: Path,
        meanwhile: Callable[[], None] = lambda: None,
    ) -> dict[int, list[Written]]:
        """Render the dirty units (in forked workers when there are many); fills in the keys
        left for later. Returns each rendered unit's files. `meanwhile` runs once forked workers
        have started (this process's own work that rendering does not need; not at all when
        the units render here)."""
        _WORK.units, _WORK.keys, _WORK.known, _WORK.on_disk = units, keys, known, on_disk
        _WORK.out_dir, _WORK.staging = self.out_dir, staging
        _WORK.fingerprint, _WORK.global_key = self.fingerprint, self.global_key
        # The costly units first (site_units ends with the sitemap, feeds and listing pages):
        # what is left for the end is the alerts' small, even chunks, so the workers end together.
        chunks = costly_first(dirty)
        results: dict[int, list[Written]] = {}
        failures: list[tuple[int, tuple[Problem, ...]]] = []

        def take(chunk: _Rendered) -> None:
            rendered, dates, failed = chunk
            for i, files, key in rendered:
                results[i] = files
                keys[i] = key
            failures.extend(failed)
            self.new_dates.update(dates)
            self.progress.step("rendering", len(results) + len(failures), len(dirty))

        try:
            if len(dirty) >= PARALLEL_MIN and self._can_fork():
                with fork_workers(self.jobs) as pool:
                    rendering = pool.imap_unordered(_render_chunk, chunks)
                    meanwhile()  # results wait in the pool's queue
                    for chunk in rendering:
                        take(chunk)
            else:
                with _collecting(len(dirty) >= PARALLEL_MIN):
                    for chunk_indices in chunks:
                        take(_render_chunk(chunk_indices))
        finally:
            _WORK.units, _WORK.keys, _WORK.known, _WORK.on_disk = [], [], {}, {}
            _WORK.fingerprint = None
        if failures:  # every unit was rendered: the same problems as `check` finds
            from sitegen.render import first_per_line

            raise TemplateError(first_per_line(failures))
        return results

    def _feed_warnings(
        self, view: SiteView, rendered: list[str], codec: dict[str, cache.Codec] | None
    ) -> tuple[Problem, ...]:
        """feed_check's warnings: for each feed this build rendered (`rendered`: unit names),
        from its file as written; for the others, the last build's (same inputs, same bytes)."""
        from sitegen.feed_check import feed_paths, feed_warnings

        paths = feed_paths(view.config)
        fresh = {path for path in paths if f"page:{path}" in rendered}
        out = self.out_dir
        found = feed_warnings(view, lambda path: (out / path).read_bytes(), fresh)
        if codec:
            last = map(codec["problem"].decode, self.state.warnings)
            found += [w for w in last if w.path in paths and w.path not in fresh]
        return tuple(sorted(found, key=lambda w: w.path))

    def _unescaped_warnings(self, codec: dict[str, cache.Codec] | None) -> tuple[Problem, ...]:
        """template_check's warnings at each `|safe` in templates/, as `check` gives them: the
        last build's when templates/ is as it was then (its global key), since looking costs
        ~24 ms of parsing; else looked for now."""
        from sitegen.template_check import unescaped_warnings

        state = self.state
        if codec and state.global_key == self.global_key:
            last = map(codec["problem"].decode, state.warnings[state.content_warnings :])
            return tuple(w for w in last if w.path.startswith("templates/"))
        return tuple(unescaped_warnings(self.config))

    def _can_fork(self) -> bool:
        return can_fork(self.jobs)

    def _commit(
        self,
        view: SiteView,
        units: list[Unit],
        keys: list[str | None],
        dirty: list[int],
        written: dict[int, list[Written]],
        known: dict[str, str],
        on_disk: dict[str, cache.Signature],
        staging: Path,
        problems: tuple[Problem, ...],
        inputs: str,
        parsed: int,
        layout: _Layout,
        kept: list[str],
    ) -> BuildReport:
        """Write the changed files, then the new state. `units`: those this build made (all of
        them, or a patch build's few); `kept`: the last build's other units, as they were."""
        import hashlib  # here, not at the top: see cache.blake2b

        state = self.state
        entries: dict[str, tuple[str, int]] = {}  # path → (sha256, size) of the new site
        brotli_sizes: dict[str, int] = {}
        unit_paths: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], str]] = {}
        changed: list[str] = []
        staged_as: dict[str, cache.Signature] = {}
        for i, unit in enumerate(units):
            if i in written:
                files = written[i]
                for path, sha, size, staged, br in files:
                    entries[path] = (sha, size)
                    brotli_sizes[path] = br
                    if staged is not None:
                        changed.append(path)
                        staged_as[path] = staged
                paths = tuple(f[0] for f in files)
            else:
                paths = state.units[unit.name][1]
                for path in paths:
                    sha, sig, br = state.outputs[path]
                    entries[path] = (sha, sig[1])
                    brotli_sizes[path] = br
            key = keys[i]
            if key is not None:
                unit_paths[unit.name] = (key, paths, unit.groups, unit.token)
        # files of kept units: as recorded (a patch build verified every output file)
        kept_paths = [path for name in kept for path in state.units[name][1]]
        unit_paths.update(zip(kept, map(state.units.__getitem__, kept), strict=True))
        for path in kept_paths:
            sha, sig, br = state.outputs[path]
            entries[path] = (sha, sig[1])
        # the heaviest pages compress on threads while the manifest and the state are made
        largest = self._largest(entries, staging, set(staged_as))
        manifest = self._manifest(entries, written, known, view.updated, bool(kept))
        manifest_sha = hashlib.sha256(manifest).hexdigest()
        manifest_changed = known.get(MANIFEST_PATH) != manifest_sha
        removed = sorted(p for p in on_disk if p not in entries and p != MANIFEST_PATH)
        renamed_whole = False
        if changed or removed or manifest_changed:
            BuildState.forget(self.root)
            self.output = "writing"
            renamed_whole = commit_staged(
                staging,
                self.out_dir,
                changed,
                removed,
                manifest if manifest_changed else None,
            )
        else:
            discard_staged(staging)
        self.output = "written"
        if not renamed_whole:
            staged_as = {}  # each file was renamed alone: its ctime changed
        entries[MANIFEST_PATH] = (manifest_sha, len(manifest))
        brotli_sizes[MANIFEST_PATH] = -1
        rewritten = set(changed) | ({MANIFEST_PATH} if manifest_changed else set())
        outputs: dict[str, cache.Output] = dict(
            zip(kept_paths, map(state.outputs.__getitem__, kept_paths), strict=True)
        )
        if not self.as_recorded:
            # Files found with a new stat and their bytes (`_verified`), e.g. copied back
            # without their times: recorded as they are now, or every later build reads them.
            for path in kept_paths:
                found = on_disk.get(path)
                sha, sig, br = outputs[path]
                if found is not None and found != sig and known.get(path) == sha:
                    outputs[path] = (sha, found, br)
        out = f"{self.out_dir}{os.sep}"
        for path, br in brotli_sizes.items():
            sha = entries[path][0]
            found = on_disk.get(path) if path not in rewritten else staged_as.get(path)
            sig = found if found is not None else cache.signature(os.stat(out + path))
            outputs[path] = (sha, sig, br)
        budget = _budget_warnings(outputs, layout.members)
        codec = cache.codecs()
        feeds = self._feed_warnings(view, [units[i].name for i in written], codec)
        warnings = tuple(problems) + self._unescaped_warnings(codec) + budget + feeds
        new_state = BuildState(
            inputs=inputs,
            global_key=self.global_key,
            racy=self._racy_sources(),
            instants=layout.instants,
            now_rank=0,
            racy_from=self.racy_from,
            units=unit_paths,
            outputs=outputs,
            warnings=tuple(codec["problem"].encode(w) for w in warnings) if codec else (),
            content_warnings=len(problems),
            brotli={},  # state.brotli, once `largest` has added to it
        )
        new_state.folders, new_state.folders_ns = self._folders(entries, rewritten, removed)
        new_state.sources = self.sources
        self._note_scan(new_state)
        new_state.members, new_state.components = layout.members, layout.components
        # a unit without a key is rendered every build: a patch would leave it out
        patchable = len(unit_paths) == len(units) + len(kept)
        new_state.structure = layout.structure if patchable else ()
        new_state.now_rank = _rank(new_state.instants, self.now)
        heaviest = largest()
        self.state = new_state
        shas = set(map(_SHA, entries.values()))
        new_state.brotli = {sha: n for sha, n in state.brotli.items() if sha in shas}
        new_state.summary = (
            len(entries) - 1,  # the manifest is not a file of the site
            sum(map(_SIZE, entries.values())) - len(manifest),
            sum(map(operator.methodcaller("endswith", ".html"), entries)),
            *heaviest,
            len(unit_paths),
        )
        new_state.save(self.root, since=state)
        return BuildReport(
            files=new_state.summary[0],
            bytes=new_state.summary[1],
            written=len(changed),
            seconds=0.0,
            warnings=warnings,
            largest_page=heaviest,
            pages=new_state.summary[2],
            rendered=len(dirty),
            reused=len(units) + len(kept) - len(dirty),
            parsed=parsed,
            removed=len(removed),
            loaded=len(view.site.groups),
        )

    def _manifest(
        self,
        entries: dict[str, tuple[str, int]],
        written: dict[int, list[Written]],
        known: dict[str, str],
        updated: datetime,
        patch: bool,
    ) -> bytes:
        """The new manifest: for a patch build (same paths, same `updated`), the last one with
        the rewritten files' rows changed (building 25,000 rows costs ~40 ms)."""
        import hashlib  # here, not at the top: see cache.blake2b

        outputs = self.state.outputs
        files = [file for files in written.values() for file in files]
        if patch and MANIFEST_PATH in known and all(f[0] in outputs for f in files):
            changes = {
                path: (sha, size)
                for path, sha, size, _, _ in files
                if (sha, size) != (outputs[path][0], outputs[path][1][1])
            }
            old = _read(self.out_dir / MANIFEST_PATH)
            if old is not None and hashlib.sha256(old).hexdigest() == known[MANIFEST_PATH]:
                patched = patch_manifest(old, changes, updated)
                if patched is not None:
                    return patched
        return manifest_from_entries(entries, self.config.cache, updated)

    def _racy_sources(self) -> dict[str, str]:
        """Content files modified around this build's listing → digest of the bytes it read."""
        if self.racy_sources is None:
            self.racy_sources = {
                f.rel: self.store_digests[f.rel]
                for f in self.files
                if f.stat.st_mtime_ns >= self.racy_from and f.rel in self.store_digests
            }
        return self.racy_sources

    def _folders(
        self, entries: dict[str, Any], rewritten: set[str], removed: list[str]
    ) -> tuple[dict[str, int], int]:
        """Every folder of the output now, with its mtime: when this build trusted the last
        build's record (`_outputs_as_recorded`), that record for the folders it did not touch
        and a stat for those it wrote into, made or emptied; after a listing, a stat of all."""
        keep: dict[str, int] = {}
        if self.listed_folders is None:
            folders = _ancestors(itertools.chain(rewritten, removed))
            keep = {f: m for f, m in self.state.folders.items() if f not in folders}
        else:
            folders = self.listed_folders | _ancestors(entries)
        stated, since = _folder_mtimes(self.out_dir, folders, self.root)
        keep.update(stated)
        return keep, since

    def _largest(
        self, entries: dict[str, tuple[str, int]], staging: Path, staged: set[str]
    ) -> Callable[[], tuple[str, int]]:
        """The heaviest HTML page after brotli, as a function that waits for the answer. Only
        the largest few raw pages are compressed (each result remembered by content: brotli at
        quality 11 costs ~20 ms a page), on a thread per core while the caller goes on (brotli
        lets go of the GIL). Call it before the commit: the pages are read here, `staged` ones
        from the staging folder, the others from the output folder."""
        pages = heapq.nlargest(
            5, ((size, path) for path, (_, size) in entries.items() if path.endswith(".html"))
        )
        known = self.state.brotli
        missing: dict[str, bytes] = {}
        for _, path in pages:
            sha = entries[path][0]
            if sha not in known and sha not in missing:
                data = _read((staging if path in staged else self.out_dir) / path)
                if data is not None:
                    missing[sha] = data
        todo = iter(list(missing))
        found: dict[str, int] = {}  # written by the threads, read after they end

        def compress() -> None:
            for sha in todo:  # shared: each thread takes the next page
                found[sha] = compressed_size(missing[sha])

        threads = [threading.Thread(target=compress) for _ in range(min(self.jobs, len(missing)))]
        for thread in threads:
            thread.start()

        def answer() -> tuple[str, int]:
            for thread in threads:
                thread.join()
            known.update(found)
            sizes = [(known[sha], path) for _, path in pages if (sha := entries[path][0]) in known]
            size, path = max(sizes, default=(0, ""))
            return path, size

        return answer


def compiled_templates(root: Path, global_key: str) -> Path:
    """Where builds keep the templates compiled, a folder per language, for sitegen, config
    and templates `global_key` (see _Build._environments)."""
    return root / cache.CACHE_DIR / "jinja" / global_key[:16]


def _global_key(config: SiteConfig) -> str:
    """sitegen itself, the configuration and every template file: a change to any of them
    changes every unit's key (templates include each other; a precise map is not worth it)."""
    h = cache.blake2b(digest_size=16)
    h.update(cache.code_key().encode())
    h.update(repr(config).encode())
    folder = config.templates_path
    for dirpath, dirnames, filenames in sorted(os.walk(folder)):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            h.update(_read(path) or b"")
    return h.hexdigest()


def _unit_key(global_key: str, unit: Unit, fingerprint: Fingerprint) -> str | None:
    try:
        return f"{global_key}:{fingerprint.digest(unit.inputs())}"
    except TypeError:  # inputs the cache cannot digest: render this unit every time
        return None


# What a build records of a unit (BuildState.units): (key, paths it wrote, alert ids its inputs
# are made of, its token)
_UnitRecord = tuple[str, tuple[str, ...], tuple[str, ...], str]


def _keeps_key(unit: Unit, last: _UnitRecord, changed: AbstractSet[str]) -> bool:
    """Whether `unit` still has the key `last` recorded, without computing it, when sitegen,
    config and templates are as then and `now` crossed none of the recorded instants: it is
    made of named alerts, the same ones with the same token, and none of their files changed
    (nor any file naming them: `changed`, as `SourceStore.changed`)."""
    return (
        bool(unit.groups)
        and last[2] == unit.groups
        and last[3] == unit.token
        and changed.isdisjoint(unit.groups)
    )


def _instants(site: Site) -> tuple[int, ...]:
    return tuple(
        sorted(
            _micros(t)
            for g in site.groups
            for a in g.versions
            for t in (a.sent, a.effective, a.expires)
            if t is not None
        )
    )


def _micros(value: datetime) -> int:
    return (value - EPOCH) // _MICRO


_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - EPOCH


def _rank(instants: tuple[int, ...], now: datetime) -> int:
    return bisect.bisect_right(instants, _micros(now))


_FAILED: dict[str, cache.Signature] = {}  # _OutputCheck.result when the check process failed
_RECORDED: dict[str, cache.Signature] = {}  # _OutputCheck.result: as recorded (a stand-in)


def _recorded_signatures(state: BuildState) -> dict[str, cache.Signature]:
    outputs = state.outputs
    return dict(zip(outputs, map(_SIG, outputs.values()), strict=True))


class _OutputCheck:
    """`_files_as_recorded` in a forked child process while the parent scans content/ and
    then checks the output's folders (`_folders_as_recorded`); the parent collects it."""

    def __init__(self, pid: int, fd: int, state: BuildState) -> None:
        self.pid = pid
        self.fd = fd
        self.state = state

    @classmethod
    def start(cls, out_dir: Path, state: BuildState) -> _OutputCheck:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: check, send, and leave without running any exit handler
            code = 1
            try:
                os.close(read)
                found = _files_as_recorded(out_dir, state)
                recorded = found is not None and _as_recorded(found, state.outputs)
                # "as recorded" (the usual case) is one byte, not 35,000 signatures
                message = (
                    "recorded" if recorded else None if found is None else list(found.values())
                )
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(marshal.dumps(message))
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        return cls(pid, read, state)

    def done(self) -> bool:
        """Has the child answered (or ended)? Never waits."""
        return bool(select.select([self.fd], [], [], 0)[0])

    def result(self) -> dict[str, cache.Signature] | None:
        """What `_files_as_recorded` returned in the child (_RECORDED when that was exactly
        the recorded signatures), or _FAILED."""
        with os.fdopen(self.fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if status != 0:
            return _FAILED
        try:
            message = marshal.loads(data)  # noqa: S302 - from our own child process
        except (EOFError, ValueError, TypeError):
            return _FAILED
        if message is None:
            return None
        if message == "recorded":
            return _RECORDED
        outputs = self.state.outputs
        if not isinstance(message, list) or len(message) != len(outputs):
            return _FAILED
        return dict(zip(outputs, message, strict=True))


def _outputs_as_recorded(out_dir: Path, state: BuildState) -> dict[str, cache.Signature] | None:
    """What `list_outputs` would find, without listing 10,000 folders: when every folder the
    last build recorded has the mtime it had then (adding, removing or renaming an entry
    changes its folder's mtime), the files are exactly the recorded ones, stat'ed by name.
    None when anything differs: list everything."""
    if not _folders_as_recorded(out_dir, state):
        return None
    return _files_as_recorded(out_dir, state)


def _folders_as_recorded(out_dir: Path, state: BuildState) -> bool:
    """Has every folder the last build recorded the mtime it had then? A folder whose
    recorded mtime is at or after the racy threshold of its recording (`_folder_mtimes`) is
    listed anyway (a change in the same timestamp tick would not show)."""
    if not state.folders:
        return False
    base = str(out_dir) + os.sep  # base + "" names the output folder itself
    # map() over C functions: no Python frame per folder (12,657 lstat at 10,000 alerts)
    try:
        mtimes = map(_MTIME, map(os.lstat, map(base.__add__, state.folders)))
        if not all(map(operator.eq, mtimes, state.folders.values())):
            return False
    except OSError:
        return False
    racy = _racy_folders(state)
    return not racy or _hold_only_known(out_dir, racy, state)


def _files_as_recorded(out_dir: Path, state: BuildState) -> dict[str, cache.Signature] | None:
    """Each recorded output file's signature, stat'ed by name (None: one is gone). Exactly
    the output's files when `_folders_as_recorded` holds, whether checked before or after:
    a change between the two shows in a folder's mtime to the next build."""
    if not state.outputs:
        return None
    base = str(out_dir) + os.sep
    try:  # map() over C functions: 22,661 lstat at 10,000 alerts, no Python frame each
        signatures = map(cache.signature, map(os.lstat, map(base.__add__, state.outputs)))
        return dict(zip(state.outputs, signatures, strict=True))
    except OSError:
        return None


_MTIME = operator.attrgetter("st_mtime_ns")
_SHA = operator.itemgetter(0)  # of a cache.Output
_SIG = operator.itemgetter(1)
_SIZE = operator.itemgetter(1)  # of an (sha256, size) entry


def _as_recorded(on_disk: dict[str, cache.Signature], outputs: dict[str, cache.Output]) -> bool:
    """Is every output file there with the stat its last writing left, and nothing else?
    (Checked without a Python frame per file: 22,661 of them at 10,000 alerts.)"""
    return on_disk.keys() == outputs.keys() and all(
        map(operator.eq, map(on_disk.__getitem__, outputs), map(_SIG, outputs.values()))
    )


def _racy_folders(state: BuildState) -> list[str]:
    since = state.folders_ns
    return [folder for folder, mtime in state.folders.items() if mtime >= since]


def _hold_only_known(out_dir: Path, folders: list[str], state: BuildState) -> bool:
    """Do these folders hold nothing the state does not record? (Everything it records was
    just found by lstat, so no extra entry means exactly the recorded ones.)"""
    known_files, known_folders = state.outputs, state.folders
    base = str(out_dir) + os.sep  # base + "" names the output folder itself
    for folder in folders:
        prefix = folder + "/" if folder else ""
        try:
            names = os.listdir(base + folder)
        except OSError:
            return False
        for name in names:
            path = prefix + name
            if path not in known_files and path not in known_folders:
                return False
    return True


def _ancestors(paths: Iterable[str]) -> set[str]:
    """Every folder containing one of these bundle paths, up to "" (the output folder)."""
    found = {""}
    for path in paths:
        folder = path.rpartition("/")[0]
        while folder not in found:
            found.add(folder)
            folder = folder.rpartition("/")[0]
    return found


def _folder_mtimes(out_dir: Path, folders: Iterable[str], root: Path) -> tuple[dict[str, int], int]:
    """(folder → mtime_ns for those that exist, the racy threshold: a folder whose mtime is at
    or after it may change again without its mtime changing, so the next build lists it)."""
    since = _racy_threshold(out_dir, root / cache.CACHE_DIR)  # before the stats: see _fs_clock
    base = str(out_dir) + os.sep  # base + "" names the output folder itself
    mtimes: dict[str, int] = {}
    for folder in folders:
        try:
            mtimes[folder] = os.lstat(base + folder).st_mtime_ns
        except OSError:
            continue  # emptied by a removal and pruned
    return mtimes, since


def _racy_threshold(folder: Path, cache_dir: Path) -> int:
    """The racy threshold for what is stat'ed from now on under `folder`: the file system's
    clock when it can be read, else the wall clock minus RACY_NS."""
    since = _fs_clock(folder, cache_dir)
    return time.time_ns() - cache.RACY_NS if since is None else since


def _content_racy_from(config: SiteConfig, root: Path) -> int:
    """The racy threshold of this build's reading of content/ (made before the scan)."""
    cache_dir = root / cache.CACHE_DIR
    with contextlib.suppress(OSError):  # _fs_clock then falls back to the wall clock
        if cache_dir.is_file():  # a damaged cache (the folder is always safe to delete)
            cache_dir.unlink()
        cache_dir.mkdir(parents=True, exist_ok=True)
    return _racy_threshold(config.content_path, cache_dir)


def _fs_clock(folder: Path, cache_dir: Path) -> int | None:
    """`folder`'s file system's clock now, in its own timestamp ticks: the mtime of a file
    created in the cache folder, when that folder is on `folder`'s device; else None.

    A folder's recorded mtime cannot be trusted when a change made after it was stat'ed could
    carry the same timestamp, i.e. when it falls in the tick the stat happened in. Git
    compares with the index file's own mtime for the same reason. Taken before the stats, this
    is a threshold that covers the whole tick whatever the tick is (~4 ms on ext4, 2 s on
    FAT), where the fallback assumes ticks of at most RACY_NS: after a clean build every
    folder was written in the last few seconds, and 2 s made the next build list all 12,657
    of them (~70 ms of waiting in a 0.4 s one-alert rebuild at 10,000 alerts). Content files
    are judged the same way: a site whose files were all written in the seconds before a
    build (a checkout, a restore) no longer has every one of them re-read by the next."""
    try:
        if os.stat(cache_dir).st_dev != os.stat(folder).st_dev:
            return None
        # held like the cache's own temporary files: one a killed build left goes with the
        # next build's `cache.remove_leftovers`, and never one a live build is reading
        clock = cache.aside_path(cache_dir / "clock")
        try:
            return os.stat(clock).st_mtime_ns
        finally:
            cache.let_go_aside(clock, None)
    except OSError:
        return None


def _as_read(entry: SourceEntry | None, sig: cache.Signature | None) -> SourceEntry | None:
    """`entry` if it was recorded for the file as stat'ed `sig`, else None. A patch build
    trusts the source store to hold what the build state says was read; the state is saved
    before the shards, so a build killed in between (or whose forked shard writer failed,
    say on a full disk) leaves older entries there, which must not be rendered or compared
    with as the last build's."""
    return entry if entry is not None and entry.signature == sig else None


def _decode_entry(entry: SourceEntry, codecs: dict[str, cache.Codec]) -> tuple[list[Problem], Any]:
    """A source entry's problems and value, decoded."""
    value = None if entry.value is None else codecs[entry.kind].decode(entry.value)
    return [codecs["problem"].decode(p) for p in entry.problems], value


def _read(path: Path | str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None


def _parse(file: ContentFile, config: SiteConfig) -> tuple[Any, ...] | None:
    """A SourceEntry (as a tuple) for a content file, or None when it changed while read."""
    codecs = cache.codecs()
    assert codecs is not None
    data = _read(file.fspath)
    if data is None:
        return None
    problems: list[Problem] = []
    value = read_content_file(file, config, problems, data)  # the bytes digested below
    try:
        if cache.signature(os.stat(file.fspath)) != cache.signature(file.stat):
            return None
    except OSError:
        return None
    encoded = None if value is None else codecs[file.kind].encode(value)
    links = (value.id, *value.references) if isinstance(value, Alert) else ()
    return (
        cache.signature(file.stat),
        _WORK.racy_from,  # taken before this read, so it covers it
        cache.digest(data),
        file.kind,
        encoded,
        tuple(codecs["problem"].encode(p) for p in problems),
        links,
    )


def _source_store(root: Path, global_key: str) -> SourceStore:
    """The source store of the site at `root` for sitegen, config and templates `global_key`
    (a build's, which writes it, and `stored_reader`'s, which only reads it)."""
    return SourceStore(root, cache.digest(repr((global_key,)).encode()))


@dataclass(slots=True)
class StoredReads:
    """What `stored_reader` found in the last build's source store, for check's `last_render`
    (which content files hold the bytes the last build read)."""

    digests: dict[str, str] = field(default_factory=dict)  # file taken from it → its digest
    # file it held an entry for → the stat that entry was recorded for, before this read
    # (which may trust a new stat for the same bytes: a file touched, not changed)
    recorded: dict[str, cache.Signature] = field(default_factory=dict)
    store: SourceStore | None = None  # the store read (None: no codecs, nothing read)


def stored_reader(config: SiteConfig, found: StoredReads | None = None) -> Reader:
    """A Reader for the commands that only read content (check, status, new, import-cap): a
    file whose bytes the last build parsed comes from its source store, judged as a build
    judges it (by stat, by digest when racy or re-stamped); the others are parsed here. The
    store is only read, never written nor locked, so a concurrent build goes on (its shards
    are replaced whole); missing, corrupt or foreign (another sitegen, config or templates),
    it holds nothing and every file is parsed. Not across cores as a build parses: a build
    keeps what workers parse, these commands would only pay for sending it back (~+1.3 s of
    CPU for 10,000 files, no faster on two busy cores). `found`: filled with what was taken
    from the store (check's `last_render` names alerts by their digests)."""
    codecs = cache.codecs()
    if codecs is None:
        return read_content_file
    store = _source_store(config.root, _global_key(config))
    if found is not None:
        found.store = store

    def read(file: ContentFile, config: SiteConfig, problems: list[Problem]) -> Any:
        if found is not None and (stored := store.get(file.rel)) is not None:
            found.recorded[file.rel] = stored.signature
        # racy_from 0: an entry found by digest under a new stat is checked so again
        entry = store.lookup(file.rel, cache.signature(file.stat), file.fspath, 0)
        if entry is None:  # not in the store, or not for these bytes
            return read_content_file(file, config, problems)
        if found is not None:
            found.digests[file.rel] = entry.digest
        decoded, value = _decode_entry(entry, codecs)
        problems.extend(decoded)
        return value

    return read


@dataclass(frozen=True, slots=True)
class LastRender:
    """What the last build recorded of its units, for a command that renders the site to look
    at it without writing it (check): a unit whose key is the one recorded need not be
    rendered, its files are those the last build made of it."""

    global_key: str
    fingerprint: Fingerprint
    units: Mapping[str, _UnitRecord]
    outputs: Mapping[str, cache.Output]  # path → (sha256, signature, budget_size)
    compiled: Path  # its templates, compiled (`compiled_templates`)
    # the alerts whose files changed since (`_changed_since`), when `now` crossed none of
    # its instants; None: every unit's key is computed
    changed: AbstractSet[str] | None = None

    def kept(self, unit: Unit) -> tuple[str, ...] | None:
        """`paths`, when the recorded key holds without computing it, as a build keeps it
        (`_keeps_key`); else None (its key may still be the one recorded: `paths`)."""
        last = self.units.get(unit.name)
        if self.changed is None or last is None or not _keeps_key(unit, last, self.changed):
            return None
        return self._recorded(last)

    def paths(self, unit: Unit) -> tuple[str, ...] | None:
        """The files the last build made of `unit` when its key, computed now as a build
        computes it, is the one recorded then and each of them is recorded; else None."""
        last = self.units.get(unit.name)
        if last is None or _unit_key(self.global_key, unit, self.fingerprint) != last[0]:
            return None
        return self._recorded(last)

    def _recorded(self, last: _UnitRecord) -> tuple[str, ...] | None:
        return last[1] if all(path in self.outputs for path in last[1]) else None


def last_render(config: SiteConfig, stored: StoredReads, site: Site) -> LastRender | None:
    """The last build's record of its units, only read, when it was made with this sitegen,
    config and templates (else None: missing, unsettled, corrupt or foreign, it holds
    nothing). `stored`: what `stored_reader` took from the source store, in loading `site`;
    the files it holds the digests of are named by them, the others' alerts by their fields,
    so the units showing them get other keys than the recorded ones."""
    state = BuildState.load(config.root)
    global_key = _global_key(config)
    if state.global_key != global_key or not state.units:
        return None
    compiled = compiled_templates(config.root, global_key)
    same_now = _rank(state.instants, site.now) == state.now_rank
    changed = _changed_since(state, stored, site) if same_now else None
    fingerprint = Fingerprint(stored.digests)
    return LastRender(global_key, fingerprint, state.units, state.outputs, compiled, changed)


def _changed_since(state: BuildState, stored: StoredReads, site: Site) -> set[str] | None:
    """What a build's `SourceStore.changed` would be, from what check read: the ids of the
    alerts of every content file that does not hold the bytes the last build read (edited,
    added, removed), with the ids they reference, as the last build read them and as `site`
    has them; None when the store lacks what the last build read of such a file."""
    store = stored.store
    if store is None:
        return None
    now_read = {alert.source: alert for group in site.groups for alert in group.versions}
    changed: set[str] = set()
    for rel in state.sources.keys() | now_read.keys():
        then = state.sources.get(rel)
        digest = stored.digests.get(rel)
        if (
            digest is not None
            and stored.recorded.get(rel) == then
            and state.racy.get(rel, digest) == digest  # racy then: its digest as read then
        ):
            continue  # the bytes the last build read
        alert = now_read.get(rel)
        if alert is not None:
            changed.update((alert.id, *alert.references))
        if then is None:
            continue  # a new file
        entry = store.get(rel)
        if entry is None or stored.recorded.get(rel, entry.signature) != then:
            return None
        changed.update(entry.links)
    return changed


def _parse_chunk(indices: list[int]) -> list[tuple[str, tuple[Any, ...]]]:
    """Worker: parse some of `_WORK.files`."""
    assert _WORK.config is not None
    results: list[tuple[str, tuple[Any, ...]]] = []
    if pool_stopped():
        return results
    for i in indices:
        file = _WORK.files[i]
        entry = _parse(file, _WORK.config)
        if entry is not None:
            results.append((file.rel, entry))
    return results


# A render task's result: (unit index, its files, its key) per unit, the long dates the
# task formatted with Babel (i18n.new_dates), for the build to keep, and (unit index, its
# template problems) per unit that could not be rendered.
_Rendered = tuple[
    list[tuple[int, list[Written], str | None]],
    dict[tuple[int, str], str],
    list[tuple[int, tuple[Problem, ...]]],
]


def _render_chunk(indices: list[int]) -> _Rendered:
    """Worker (or the parent, when the work is small): render units and stage every file
    whose bytes differ from the file on disk; compute the keys left for later."""
    import hashlib  # here, not at the top: see cache.blake2b

    work = _WORK
    assert work.fingerprint is not None
    results: list[tuple[int, list[Written], str | None]] = []
    failures: list[tuple[int, tuple[Problem, ...]]] = []
    if pool_stopped():
        return results, {}, failures
    for i in indices:
        key = work.keys[i]
        if key == LATER:
            key = _unit_key(work.global_key, work.units[i], work.fingerprint)
        files: list[Written] = []
        try:
            rendered = work.units[i].render()
        except TemplateError as exc:  # the others are rendered still: see first_per_line
            failures.append((i, exc.problems))
            continue
        for path, data in rendered:
            sha = hashlib.sha256(data).hexdigest()
            staged = None
            if not _same_on_disk(work, path, data, sha):
                staged = cache.signature(stage_file(work.staging, path, data))
            files.append((path, sha, len(data), staged, budget_size(path, data)))
        results.append((i, files, key))
    return results, i18n.new_dates(), failures


def costly_first(indices: list[int]) -> list[list[int]]:
    """Units `indices` (in site_units' order, which ends with the sitemap, feeds and listing
    pages) in chunks of CHUNK, the costly ones first: what is left for the end is the alerts'
    small, even chunks, so the workers end together."""
    order = indices[::-1]
    return [order[i : i + CHUNK] for i in range(0, len(order), CHUNK)]


def map_chunks(
    func: Callable[[list[int]], T],
    indices: list[int],
    jobs: int,
    command: str,
    meanwhile: Callable[[], None] = lambda: None,
) -> list[T]:
    """`func` over `costly_first(indices)`: in forked workers (`fork_workers`) when there are
    PARALLEL_MIN or more and this process may fork, else here. For commands that render
    without a build's staging (check, the preview's first build); `func` reads what it needs
    from module state set before the fork. `meanwhile`: this process's own work, done while
    the workers run (when there are none, first)."""
    chunks = costly_first(indices)
    if len(indices) >= PARALLEL_MIN and can_fork(jobs):
        with fork_workers(jobs, command) as pool:
            results = pool.imap_unordered(func, chunks)
            meanwhile()  # results wait in the pool's queue
            return list(results)
    meanwhile()
    return [func(chunk) for chunk in chunks]


def can_fork(jobs: int) -> bool:
    """May this process fork `jobs` workers? fork() copies only the calling thread: never
    fork a process that runs others."""
    return jobs > 1 and threading.active_count() == 1 and sys.platform != "win32"


def pool_stopped() -> bool:
    """In a worker: has the build ended the pool early (see fork_workers)?"""
    return _WORK.stop is not None and bool(_WORK.stop.value)


def _same_on_disk(work: _Work, path: str, data: bytes, sha: str) -> bool:
    if path in work.known:
        return work.known[path] == sha
    sig = work.on_disk.get(path)
    if sig is None or sig[1] != len(data):
        return False
    return _read(work.out_dir / path) == data


def compressed_size(data: bytes) -> int:
    return len(brotli.compress(data, quality=11))


def budget_size(path: str, data: bytes) -> int:
    """Brotli size of an HTML page that may be over the budget, else -1. Quality 11 costs
    ~60 ms on a 25 KB page, so a page is first compressed at quality 4 (~1 ms): quality 11
    never does worse than that in practice, so a page within budget there is within it."""
    if not path.endswith(".html") or len(data) <= PAGE_BUDGET_BYTES:
        return -1
    if len(brotli.compress(data, quality=4)) <= PAGE_BUDGET_BYTES:
        return -1
    return compressed_size(data)


def _budget_warnings(
    outputs: dict[str, cache.Output], members: dict[str, tuple[str, ...]]
) -> tuple[Problem, ...]:
    """A warning for each HTML page over the 14,000-byte brotli budget."""
    return tuple(
        over_budget(path, br, members)
        for path, br in sorted(
            (p, out[2]) for p, out in outputs.items() if out[2] > PAGE_BUDGET_BYTES
        )
    )


_LISTS = ("archive", "areas")  # first folders of list pages (under a language's folder too)


def over_budget(
    path: str, size: int, members: Mapping[str, tuple[str, ...]] = MappingProxyType({})
) -> Problem:
    """The warning for page `path`, `size` bytes after brotli: what it costs citizens and what
    to shorten, by the kind of page (alert pages, the home page, list pages). An alert page's
    warning is at the content file an official shortens (`members`: alert id → its files,
    primary first), naming the page and the alert."""
    source = alert_source(path, members)
    page = "this page" if source is None else f"the page of alert '{path.split('/')[1]}' ({path})"
    if path.startswith("alerts/") or "/alerts/" in path:
        shorten = (
            "shorten this alert's text; a long list of areas or a long chain of updates also "
            "adds to every page of the chain"
        )
    elif (parts := path.split("/"))[0] == "pages" or parts[1:2] == ["pages"] and len(parts) == 4:
        shorten = "shorten this page's text (its file is in content/pages/)"
    elif path.endswith("404.html"):
        shorten = "shorten templates/404.html or what base.html adds to every page"
    elif len(parts) == 1 or len(parts) == 2 and parts[0] not in _LISTS:
        shorten = (  # index.html, ko/index.html: the home page lists the active alerts
            "lower [site] home_max_alerts in site.toml, or shorten the titles of active alerts"
        )
    else:
        shorten = "shorten the titles of the alerts it lists, or the templates' shared parts"
    return Problem(
        source or path,
        0,
        # "after brotli" and "budget" meant nothing to an official, whose file is far under
        # the 1,000,000 bytes an alert file may have: say it is the page, compressed
        f"{page} is {size:,} bytes as sent to readers (compressed), over the "
        f"{PAGE_BUDGET_BYTES:,} bytes a page should stay under to arrive at once: "
        f"citizens on slow networks wait longer for it; {shorten}",
        "warning",
    )


def alert_source(path: str, members: Mapping[str, tuple[str, ...]]) -> str | None:
    """The content file alert page `path` is made from: `alerts/<id>/index.html` from the
    alert's primary file, `alerts/<id>/<lang>/index.html` from `<…>.<lang>.md`."""
    parts = path.split("/")
    if parts[0] != "alerts" or len(parts) not in (3, 4) or parts[-1] != "index.html":
        return None
    files = members.get(parts[1], ())
    if len(parts) == 3:
        return files[0] if files else None
    return next((f for f in files if f.endswith(f".{parts[2]}.md")), None)


def largest_page(bundle: Bundle) -> tuple[str, int]:
    """The heaviest HTML page of an in-memory bundle after brotli (the largest few raw pages)."""
    pages = sorted(
        ((len(f.data), path) for path, f in bundle.items() if path.endswith(".html")), reverse=True
    )[:5]
    sizes = [(compressed_size(bundle[path].data), path) for _, path in pages]
    size, path = max(sizes, default=(0, ""))
    return path, size


def page_budget_warnings(sizes: Mapping[str, int], site: Site) -> list[Problem]:
    """A warning for each HTML page over the 14,000-byte brotli budget; `sizes`: path →
    `budget_size` of every file rendered."""
    members = {g.id: tuple(a.source for a in g.versions) for g in site.groups}
    return [
        over_budget(path, size, members)
        for path, size in sorted(sizes.items())
        if size > PAGE_BUDGET_BYTES
    ]
