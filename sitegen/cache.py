"""The persistent build cache in `<site>/.sitegen/cache/`: what the last build read and wrote,
so the next one re-reads only changed content files and re-renders only outputs whose inputs
changed (docs/architecture.md, "Incremental builds").

Safe to delete at any time. Each cache file is one header line naming the cache format and the
exact sitegen build that wrote it (version, a digest of sitegen's own files, Python and the
libraries that shape output), a line with the CRC-32 and length of the payload and a random
name for this writing of the file, then a `marshal` payload of plain tuples. A file that is
truncated, corrupt, or written by another build is ignored, never trusted: the checksum is
verified before the payload is decoded. (CRC-32 guards against accidents: torn writes, bad
blocks, stray edits; whoever can write this folder can write the output anyway. It checks
~3x faster than sha256: a one-alert rebuild reads ~35 MB of cache.)

Two kinds of files:
- `sources-NN.bin` (NN < SOURCE_SHARDS, chosen by a stable hash of the path): per content
  file, its stat signature, the digest of its bytes, and the parsed Alert or Page with its
  problems (encoded by `Codec`, because unpickling 10,000 dataclasses costs more than parsing
  them faster).
- `state.bin`: per render unit, the digest of its inputs and the paths it wrote; per output
  file, its sha256, size and the stat signature it had once written; the digest of the whole
  input of the last build (to skip a build that has nothing to do); the site's structure
  as alert ids (for a build that may patch only what a few changed alerts show).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import marshal
import operator
import os
import sys
import types
import typing
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, cast

try:  # hashlib's own blake2b, without hashlib's OpenSSL set-up (~7 ms of every command; a
    # build with nothing to do needs no sha256, so it never imports hashlib)
    from _blake2 import blake2b as blake2b
except ImportError:  # a Python built without it
    from hashlib import blake2b as blake2b

from sitegen import __version__, owned
from sitegen.errors import Problem
from sitegen.model import Alert, Page

CACHE_DIR = ".sitegen/cache"
# In the name of a temporary file or folder a build locks while it runs (`owned`); names
# without it (older versions) are of a process id, removed once no such process runs.
LOCKED = "locked-"
FORMAT = 8  # 2: the build state records the output's folders; 3: and what patch builds need;
# 4: `folders_ns` is the racy threshold itself (build._fs_clock), no longer a time to subtract
# from; 5: so are `racy_from` (was read_ns) in the state and in each source entry; 6: CRC-32
# checksums, and state.bin holds each field as its own marshal blob (decoded when first read);
# 7: `content_warnings`, and sites with content warnings record their structure (patch builds);
# 8: `scanned_folders`, `scanned`, `scanned_ns` (what the scan of content/ found, for the next one)
MAGIC = b"sitegen-cache"
# A file whose mtime is this close to the moment it was read may change again within the same
# timestamp tick; such files are checked by content digest, never by stat alone (as git does).
# Only when the file system's own clock cannot be read (build._fs_clock): that gives the tick.
RACY_NS = 2_000_000_000
# Libraries whose version can change the bytes of the output.
OUTPUT_LIBRARIES = ("jinja2", "markdown", "markupsafe", "babel", "yaml", "brotli")

Signature = tuple[int, int, int, int]  # (mtime_ns, size, inode, ctime_ns)
# An output file as last written: (sha256 hex, its stat signature, brotli size or -1)
Output = tuple[str, Signature, int]


def digest(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


# A stat's Signature; an attrgetter is one C call, cheap enough to map over 35,000 stats
# (build._outputs_as_recorded).
signature: Callable[[os.stat_result], Signature] = operator.attrgetter(
    "st_mtime_ns", "st_size", "st_ino", "st_ctime_ns"
)


_CODE_KEY: str | None = None


def code_key() -> str:
    """Names the build of sitegen that renders: a change to any of its files (code, message
    catalogs, default templates) or to an output-shaping library invalidates every cache."""
    global _CODE_KEY
    if _CODE_KEY is None:
        package = Path(__file__).resolve().parent
        h = blake2b(digest_size=16)
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(package).as_posix().encode() + b"\0")
                h.update(path.read_bytes())
        libraries = [f"{name}={_library_stamp(name)}" for name in OUTPUT_LIBRARIES]
        python = sys.version.split()[0]
        _CODE_KEY = f"{__version__} {h.hexdigest()} py{python} {' '.join(libraries)}"
    return _CODE_KEY


def _library_stamp(name: str) -> str:
    """Where a library is installed and when its files changed: a new version changes it.
    (importlib.metadata.version costs ~5 ms a call; find_spec does not import the library.)"""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return "none"
    try:
        stat = os.stat(spec.origin)
    except OSError:
        return spec.origin
    return f"{spec.origin}:{stat.st_size}:{stat.st_mtime_ns}"


# --- files ----------------------------------------------------------------------------------


def read_payload(path: Path) -> Any | None:
    """The payload of a cache file, or None when it is missing, corrupt or foreign."""
    found = read_payload_checked(path)
    return None if found is None else found[0]


def read_payload_checked(path: Path) -> tuple[Any, str] | None:
    """(payload, the name of this writing of the file) of a cache file, or None when it is
    missing, corrupt or foreign."""
    try:
        raw = path.read_bytes()
        first = raw.index(b"\n")
        second = raw.index(b"\n", first + 1)
        payload = memoryview(raw)[second + 1 :]  # not a copy of megabytes
        if raw[:first] != _header():
            return None
        check = raw[first + 1 : second]
        if check.rpartition(b" ")[0] != _checksum(payload):
            return None
        value = marshal.loads(payload)  # noqa: S302 - our own file, checksum verified above
        return value, check.decode()
    except (OSError, ValueError, EOFError, TypeError):
        return None


def write_payload(path: Path, value: Any) -> str:
    """Write atomically (temp file + rename): a crash leaves the old file or none. Returns
    the name of this writing (its checksum line)."""
    tmp, written = _write_aside(path, value)
    let_go_aside(tmp, path)
    return written


def write_payload_aside(path: Path, value: Any, tmp: Path | None = None) -> Path:
    """Write what `write_payload` would into a temporary file beside `path` (or `tmp`);
    returns it."""
    return _write_aside(path, value, tmp)[0]


def aside_path(path: Path) -> Path:
    """A new, empty temporary file beside `path`, which `path` is written to before it is
    renamed into place; locked by this process (`owned`) until `let_go_aside`."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def make() -> Path:
        tmp = path.with_name(f".{path.name}.{LOCKED}{owned.token()}.tmp")
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666))
        return tmp

    return owned.made_held(make, _unlink)


def let_go_aside(tmp: Path, final: Path | None) -> None:
    """Rename an `aside_path` file to `final` (None: remove it), and release its lock."""
    try:
        if final is None:
            tmp.unlink(missing_ok=True)
        else:
            os.replace(tmp, final)
    finally:
        owned.let_go(tmp)


def remove_leftovers(folder: Path) -> None:
    """Remove the temporary files (`aside_path`) of builds killed before they could (SIGKILL,
    the OOM killer, a power cut): those no process holds, and those of older versions named by
    a process that no longer runs."""
    for path in left_by_dead_processes(folder, _old_pid):
        path.unlink(missing_ok=True)
    owned.remove_abandoned(folder, _is_aside, _unlink)


def _is_aside(name: str) -> bool:
    """An `aside_path` name: ".NAME.locked-PID-RANDOM.tmp"."""
    return name.startswith(".") and name.endswith(".tmp") and f".{LOCKED}" in name


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def _old_pid(name: str) -> str:
    """The process id in an older version's temporary name, else "": an `aside_path`
    (".NAME.PID.tmp") or a file `build._fs_clock` read the clock by (".clock-PID-…", never
    removed until 2026-12-07)."""
    if name.startswith(".clock-"):
        return name.split("-")[1]
    if not (name.startswith(".") and name.endswith(".tmp")):
        return ""
    return name.removesuffix(".tmp").rpartition(".")[2]


def left_by_dead_processes(folder: Path, pid_of: Callable[[str], str]) -> Iterator[Path]:
    """The entries of `folder` whose name holds (as `pid_of` reads it, "" for none) the id
    of a process that no longer runs: what a killed build left (see `remove_leftovers` and
    `bundle.staging_dir`)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = pid_of(name)
        if pid.isdigit() and process_gone(int(pid)):
            yield folder / name


def process_gone(pid: int) -> bool:
    """No process of this machine has this id (one alive under another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        pass
    return False


def _write_aside(path: Path, value: Any, tmp: Path | None = None) -> tuple[Path, str]:
    payload = marshal.dumps(value)
    tmp = tmp or aside_path(path)
    # the checksum, then a random name: what names this writing (a state delta applies to the
    # state.bin it was made from, and two writings may hold the same payload)
    check = _checksum(payload) + b" " + os.urandom(8).hex().encode()
    try:
        tmp.write_bytes(_header() + b"\n" + check + b"\n" + payload)
    except OSError as exc:  # a full disk: the write names no file
        let_go_aside(tmp, None)
        exc.filename = exc.filename or str(path)
        raise
    return tmp, check.decode()


def _checksum(payload: bytes | memoryview) -> bytes:
    """A cache file's checksum line, without the name of its writing: CRC-32 and length."""
    return b"%08x %08x" % (zlib.crc32(payload), len(payload) & 0xFFFFFFFF)


def _header() -> bytes:
    return b"%s %d %s" % (MAGIC, FORMAT, code_key().encode())


# --- encoding the model as plain tuples -------------------------------------------------------


class Codec:
    """Dataclass ⇄ tuple of marshal-able values, derived from the dataclass's type hints, so a
    field added to the model is encoded without anyone remembering this module. A field type
    it does not know makes the codec refuse (TypeError) and the source cache stays off."""

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)
        pairs = [_converters(hints[f.name]) for f in fields]
        self._encoders = [enc for enc, _ in pairs]
        self._decoders = [(i, dec) for i, (_, dec) in enumerate(pairs) if dec is not None]
        self._names = [f.name for f in fields]

    def encode(self, value: Any) -> tuple[Any, ...]:
        return tuple(
            enc(getattr(value, name)) if enc is not None else getattr(value, name)
            for name, enc in zip(self._names, self._encoders, strict=True)
        )

    def decode(self, data: tuple[Any, ...]) -> Any:
        values = list(data)
        for index, dec in self._decoders:
            values[index] = dec(values[index])
        return self.cls(*values)


Convert = Callable[[Any], Any] | None


def _converters(hint: Any) -> tuple[Convert, Convert]:
    """(encode, decode) for one type; None means 'as is'."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint in (str, int, bool, float):
        return None, None
    if isinstance(hint, type) and issubclass(hint, Enum):
        members = {m.value: m for m in hint}
        return (lambda v: v.value), members.__getitem__
    if hint is datetime:
        return (lambda v: v.isoformat()), datetime.fromisoformat
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        codec = Codec(hint)
        frozen = hint.__dataclass_params__.frozen  # type: ignore[attr-defined]
        return codec.encode, _shared(codec.decode) if frozen else codec.decode
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        inner_enc, inner_dec = _converters(next(a for a in args if a is not type(None)))
        return _optional(inner_enc), _optional(inner_dec)
    if origin is tuple:
        inner_enc, inner_dec = _converters(args[0]) if args[-1] is Ellipsis else (None, None)
        if args[-1] is not Ellipsis:
            parts = [_converters(a) for a in args]
            if any(e is not None or d is not None for e, d in parts):
                raise TypeError(f"cannot cache a field of type {hint}")
        return _each(inner_enc, tuple), _each(inner_dec, tuple)
    if origin is dict and args[0] is str and args[1] in (str, int):
        return (lambda v: tuple(v.items())), dict
    raise TypeError(f"cannot cache a field of type {hint}")


SHARED_MAX = 100_000  # distinct nested values a decoder shares before it starts afresh


def _shared(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`decode` for a nested frozen dataclass (an alert's Areas), giving equal encodings one
    shared object: 10,000 alerts name a few hundred areas, and one Area per alert was ~6 MB
    that every forked render worker counted again."""
    made: dict[Any, Any] = {}

    def shared(value: Any) -> Any:
        try:
            found = made.get(value)
        except TypeError:  # not hashable: not shared
            return decode(value)
        if found is None:
            if len(made) >= SHARED_MAX:
                made.clear()
            found = made[value] = decode(value)
        return found

    return shared


def _optional(convert: Convert) -> Convert:
    if convert is None:
        return None
    return lambda v: None if v is None else convert(v)


def _each(convert: Convert, kind: type[tuple[Any, ...]]) -> Convert:
    if convert is None:
        return kind
    return lambda v: kind(convert(x) for x in v)


_CODECS: dict[str, Codec] | None = None


def codecs() -> dict[str, Codec] | None:
    """One codec per cached kind, or None when the model cannot be cached (see Codec)."""
    global _CODECS
    if _CODECS is None:
        try:
            _CODECS = {"alerts": Codec(Alert), "pages": Codec(Page), "problem": Codec(Problem)}
        except TypeError:
            return None
    return _CODECS


# --- content files --------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class SourceEntry:
    signature: Signature
    racy_from: int  # the build's racy threshold when the file was read (build._fs_clock)
    digest: str  # of the file's bytes
    kind: str  # "alerts" | "pages"
    value: Any  # encoded Alert or Page, or None when the file had errors
    problems: tuple[Any, ...]  # encoded Problems
    links: tuple[str, ...]  # an alert's id and the ids it references: whose outputs it touches


SOURCE_SHARDS = 64  # sources-00.bin … sources-63.bin


def source_shard(rel: str) -> int:
    """Which sources-NN.bin holds a content file's entry (stable across runs and machines)."""
    return zlib.crc32(rel.encode("utf-8", "surrogatepass")) % SOURCE_SHARDS


class SourceStore:
    """Parsed content files by site-relative path, reused while their bytes are unchanged.

    Each entry is stored as its own marshal blob and decoded on first use, so saving after a
    one-file change re-encodes one entry, not ten thousand; entries are spread over
    SOURCE_SHARDS files by path, and a save rewrites only the files holding a changed entry
    (one edited alert: ~1/64 of the store, not 26 MB at 10,000 alerts). A shard that is
    missing, corrupt or foreign loses only its own entries (those files are parsed again)."""

    def __init__(self, root: Path, parse_key: str) -> None:
        self.folder = root / CACHE_DIR
        self.parse_key = parse_key  # what parsing depends on besides the file (site languages)
        self._blobs: dict[str, bytes] = {}
        self._entries: dict[str, SourceEntry] = {}
        self._modified: set[str] = set()
        self._stale_shards: set[int] = set()  # shards to rewrite: an entry left them
        self._aside: list[tuple[Path, Path]] | None = None  # (written, to become) by write_aside
        self._writer: int | None = None  # pid of the process writing them (start_write_aside)
        self.dirty = False
        # alert ids whose files changed since the last build: recorded anew, or held by an
        # entry not recorded for the stat the last build read (see `get`)
        self.changed: set[str] = set()
        self._loaded: set[int] = set()  # shards read so far (a patch build reads a few)
        # each file's stat as the last build read it (BuildState.sources), set by the build
        # before it looks anything up
        self.last_read: dict[str, Signature] = {}

    def _shard_path(self, shard: int) -> Path:
        return self.folder / f"sources-{shard:02d}.bin"

    def _load(self, shard: int) -> None:
        if shard in self._loaded:
            return
        self._loaded.add(shard)
        payload = read_payload(self._shard_path(shard))
        if isinstance(payload, tuple) and len(payload) == 2 and payload[0] == self.parse_key:
            for rel, blob in payload[1].items():
                self._blobs.setdefault(rel, blob)

    def preload(self) -> Iterator[None]:
        """Read the shards not read yet, one per step (see build._Build.run)."""
        for shard in range(SOURCE_SHARDS):
            if shard not in self._loaded:
                self._load(shard)
                yield

    def _load_all(self) -> None:
        for shard in range(SOURCE_SHARDS):
            self._load(shard)

    def get(self, rel: str) -> SourceEntry | None:
        if self._aside is not None:
            raise RuntimeError("the source store was written aside and let go of its entries")
        entry = self._entries.get(rel)
        if entry is None:
            self._load(source_shard(rel))
        if entry is None and rel in self._blobs:
            try:
                entry = SourceEntry(*marshal.loads(self._blobs[rel]))  # noqa: S302 - checked
            except (ValueError, EOFError, TypeError):
                return None
            self._entries[rel] = entry
            if entry.signature != self.last_read.get(rel):
                # Not what the last build read: the state is saved before the shards, so a
                # build killed in between, or whose shard writer failed, leaves older entries.
                # Right for the bytes they were parsed from, but the last build's output was
                # made from others: what shows this alert is looked at again.
                self.changed.update(entry.links)
        return entry

    def digests(self) -> dict[str, str]:
        """rel → digest of the file's bytes, for every entry decoded so far."""
        return {rel: e.digest for rel, e in self._entries.items()}

    def lookup(
        self, rel: str, sig: Signature, path: Path | str, racy_from: int
    ) -> SourceEntry | None:
        """The cached entry when the file's bytes are those it was parsed from (by stat, unless
        the file was modified at or after the racy threshold of its reading; then by digest).
        `racy_from`: this build's threshold, recorded with the new stat when only that changed."""
        entry = self.get(rel)
        if entry is None:
            return None
        if entry.signature == sig and sig[0] < entry.racy_from:
            return entry
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError:
            return None
        if digest(data) != entry.digest:
            return None
        entry.signature, entry.racy_from = sig, racy_from  # same bytes: trust the new stat
        self._modified.add(rel)
        self.dirty = True
        return entry

    def record(self, rel: str, entry: SourceEntry) -> None:
        old = self.get(rel)
        if old is None or old.digest != entry.digest:
            self.changed.update(entry.links, old.links if old else ())
        self._entries[rel] = entry
        self._modified.add(rel)
        self.dirty = True

    def keep_only(self, rels: Iterable[str]) -> None:
        self._load_all()
        wanted = set(rels)
        for rel in [r for r in self._blobs.keys() | self._entries.keys() if r not in wanted]:
            old = self.get(rel)
            if old is not None:
                self.changed.update(old.links)
            self._blobs.pop(rel, None)
            self._entries.pop(rel, None)
            self._modified.discard(rel)
            self._stale_shards.add(source_shard(rel))
            self.dirty = True

    def save(self) -> None:
        """Saved only after a successful build, so `changed` is always relative to the files
        the last successful build was made from."""
        self._wait_for_writer()
        if self._aside is not None:
            for written, final in self._aside:
                let_go_aside(written, final)
            self._aside = None
        elif self.dirty:
            for shard, part in self._changed_shards():
                write_payload(self._shard_path(shard), (self.parse_key, part))
        else:
            return
        (self.folder / "sources.bin").unlink(missing_ok=True)  # the unsharded format
        self._modified.clear()
        self._stale_shards.clear()
        self.dirty = False
        self.changed.clear()

    def write_aside(self) -> None:
        """Before forking render workers: write what `save` will write into temporary files
        (`save` renames them; `discard` removes them), then let go of every entry. The workers
        reuse the freed memory instead of adding their own (build._frozen hands freed heap
        pages back just before forking). Nothing may read the store afterwards (`get`
        raises). After `start_write_aside`, this waits for that process instead."""
        if self._aside is None:
            aside = []
            if self.dirty:
                for shard, part in self._changed_shards():
                    final = self._shard_path(shard)
                    aside.append((write_payload_aside(final, (self.parse_key, part)), final))
            self._aside = aside
        self._wait_for_writer()
        self._entries.clear()
        self._blobs.clear()

    def start_write_aside(self) -> None:
        """What `write_aside` writes, written by a forked process while this one goes on (a
        clean build's 12,000 entries take ~0.15 s to encode and write). Only once the store
        holds everything this build reads from it: it must not change afterwards. The caller
        makes sure no other thread runs (fork copies only the calling thread)."""
        if not self.dirty or self._aside is not None:
            return
        # named here (the names hold this process's pid), written there
        written_as = {final: aside_path(final) for final in map(self._shard_path, self._shards())}
        self.folder.mkdir(parents=True, exist_ok=True)
        pid = os.fork()
        if pid == 0:  # the writer: write every file, then leave without any clean-up of ours
            status = 1
            try:
                for shard, part in self._changed_shards():
                    final = self._shard_path(shard)
                    write_payload_aside(final, (self.parse_key, part), written_as[final])
                status = 0
            finally:
                os._exit(status)
        self._aside = [(written, final) for final, written in written_as.items()]
        self._writer = pid

    def _wait_for_writer(self) -> None:
        """Reap the writer. If it failed, nothing it wrote is kept and nothing is saved: the
        store's entries may be gone already, and a file missing from the store is parsed
        again, never trusted."""
        if self._writer is None:
            return
        try:
            status = os.waitpid(self._writer, 0)[1]
        except ChildProcessError:  # reaped by a wait that Ctrl-C or SIGTERM then cut short
            status = 1
        self._writer = None
        if status != 0:
            for written, _ in self._aside or []:
                let_go_aside(written, None)
            self._aside = []

    def discard(self) -> None:
        """The build failed: remove what `write_aside` wrote (the shards stay as they were)."""
        self._wait_for_writer()
        for written, _ in self._aside or []:
            let_go_aside(written, None)
        self._aside = None

    def _shards(self) -> set[int]:
        """The shards a save rewrites: those holding a modified entry or one that left."""
        return self._stale_shards | {source_shard(rel) for rel in self._modified}

    def _changed_shards(self) -> Iterator[tuple[int, dict[str, bytes]]]:
        for rel in self._modified:
            if rel in self._entries:
                self._blobs[rel] = marshal.dumps(shallow(self._entries[rel]))
        shards = self._shards()
        parts: dict[int, dict[str, bytes]] = {shard: {} for shard in shards}
        for rel, blob in self._blobs.items():
            part = parts.get(source_shard(rel))
            if part is not None:
                part[rel] = blob
        for shard in sorted(shards):
            yield shard, parts[shard]


def release_free_memory() -> None:
    """Give freed heap pages back to the system (glibc's malloc_trim), so processes forked next
    do not count them; elsewhere, nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def shallow(value: Any) -> tuple[Any, ...]:
    """A dataclass's fields as a tuple, those marked transient left out (not saved)."""
    # dataclasses.astuple deep-copies every nested value: far too slow for 25,000 entries;
    # the fields' getter is made once per class (dataclasses.fields costs ~2 us a call).
    getter = _SAVED_FIELDS.get(type(value))
    if getter is None:
        getter = _SAVED_FIELDS[type(value)] = _saved_fields_getter(type(value))
    return getter(value)


def _saved_fields_getter(kind: type) -> Callable[[Any], tuple[Any, ...]]:
    names = [f.name for f in dataclasses.fields(kind) if not f.metadata.get("transient")]
    if len(names) > 1:
        return cast(Callable[[Any], tuple[Any, ...]], operator.attrgetter(*names))
    return lambda value: tuple(getattr(value, name) for name in names)


_SAVED_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


# --- what the last build wrote --------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class BuildState:
    """What the last successful build read and wrote (all plain data, see the module doc)."""

    inputs: str = ""  # digest of everything it read: sitegen, config, templates, content stats
    global_key: str = ""  # digest of sitegen, config and templates alone
    instants: tuple[int, ...] = ()  # every sent/effective/expires (µs since the epoch), sorted
    now_rank: int = -1  # how many of `instants` were ≤ its `now`: the only way `now` renders
    racy_from: int = 0  # content modified at or after this is checked by digest (build._fs_clock)
    racy: dict[str, str] = dataclasses.field(default_factory=dict)  # such files → digest
    # unit name → (key, paths it wrote, alert ids its inputs are made of, its token)
    units: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], str]] = dataclasses.field(
        default_factory=dict
    )
    outputs: dict[str, Output] = dataclasses.field(default_factory=dict)
    warnings: tuple[Any, ...] = ()  # encoded Problems it reported
    # how many of `warnings`, first, were content's (load_site): each one file's, so a patch
    # build keeps those of the files it did not reread (build._Build._patch_warnings)
    content_warnings: int = 0
    brotli: dict[str, int] = dataclasses.field(default_factory=dict)  # sha256 → brotli size
    # every folder of the output (bundle path, "" for the output folder itself) → its mtime_ns:
    # a file added or removed anywhere changes one of them, so the next build can stat what it
    # knows instead of listing 10,000 folders (see build._outputs_as_recorded)
    folders: dict[str, int] = dataclasses.field(default_factory=dict)
    folders_ns: int = 0  # folders with an mtime at or after this are racy (build._fs_clock)
    # what its report said: (files, bytes, pages, largest page, its brotli size, units)
    summary: tuple[int, int, int, str, int, int] = (0, 0, 0, "", 0, 0)
    # For patch builds (build.py): each content file's stat signature as read; each alert
    # id's files; render.Structure as a tuple and the reference components
    # (lifecycle.reference_components), or () when the last build may not be patched.
    sources: dict[str, Signature] = dataclasses.field(default_factory=dict)
    members: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    structure: tuple[Any, ...] = ()
    components: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # What its scan of content/ found, when that scan was plain (content.ScanRecord): each
    # folder's signature (its path under content/, "" for content/) and the files' paths in
    # scan order. While every folder keeps its signature, and none was modified at or after
    # `scanned_ns` (that scan's racy threshold), the files are exactly these
    # (build._Build._scan); else empty.
    scanned_folders: dict[str, Signature] = dataclasses.field(default_factory=dict)
    scanned: tuple[str, ...] = ()
    scanned_ns: int = 0

    # (not saved) where it was loaded from: the name of the writing of state.bin (see
    # write_payload) and the delta applied
    origin: tuple[str, dict[str, Any]] | None = dataclasses.field(
        default=None, compare=False, repr=False, metadata={"transient": True}
    )
    # (not saved) fields `load` left encoded: decoded when first read (see __getattr__)
    encoded: dict[str, bytes] = dataclasses.field(
        default_factory=dict, init=False, compare=False, repr=False, metadata={"transient": True}
    )

    @classmethod
    def load(cls, root: Path) -> BuildState:
        """The last build's state: state.bin, with state-delta.bin applied when it was made
        from this very state.bin; nothing while a build's writing is unsettled.

        The big fields (LAZY) stay encoded until first read: a build with nothing to do never
        reads most of them (~25 ms of decoding at 10,000 alerts), and the output check forked
        early decodes only the two it needs."""
        folder = root / CACHE_DIR
        if (folder / UNSETTLED).exists():
            return cls()
        found = read_payload_checked(folder / STATE)
        if found is None:
            return cls()
        payload, written = found
        if not (
            isinstance(payload, tuple)
            and len(payload) == len(_SAVED)
            and all(type(blob) is bytes for blob in payload)
        ):
            return cls()
        delta = read_payload(folder / DELTA)
        changes: dict[str, Any] = {}
        if isinstance(delta, tuple) and len(delta) == 2 and delta[0] == written:
            changes = delta[1]
        state = cls()
        state.origin = (written, changes)
        for name, blob in zip(_SAVED, payload, strict=True):
            if name in LAZY and name not in changes:
                delattr(state, name)  # read through __getattr__
                state.encoded[name] = blob
            else:
                setattr(state, name, _changed(name, blob, changes))
        return state

    def decode(self) -> Iterator[None]:
        """Decode the fields `load` left encoded, one per step (see build._Build.run)."""
        for name in list(self.encoded):
            getattr(self, name)
            yield

    if not typing.TYPE_CHECKING:  # (for mypy, every other attribute stays an error)

        def __getattr__(self, name: str) -> Any:
            """Reached only for an unset slot: a field `load` left encoded, decoded now."""
            blob = object.__getattribute__(self, "encoded").pop(name, None)
            if blob is None:
                raise AttributeError(name)
            value = _changed(name, blob, object.__getattribute__(self, "origin")[1])
            setattr(self, name, value)
            return value

    def save(self, root: Path, since: BuildState | None = None) -> None:
        """Write the state. `since`: the state this one was made from (as loaded); when it
        came from a state.bin still there, only what changed since that file is written, to
        state-delta.bin (a one-alert rebuild changes a few of 60,000 entries: ~1 ms instead
        of ~35 ms), until the delta grows past DELTA_MAX entries."""
        folder = root / CACHE_DIR
        if since is not None and since.origin is not None and (folder / STATE).exists():
            origin = since.origin
            changes = _delta(self, since, origin[1])
            if sum(_size_of(name, change) for name, change in changes.items()) <= DELTA_MAX:
                write_payload(folder / DELTA, (origin[0], changes))
                self.origin = (origin[0], changes)
                (folder / UNSETTLED).unlink(missing_ok=True)
                return
        written = write_payload(folder / STATE, tuple(map(marshal.dumps, shallow(self))))
        (folder / DELTA).unlink(missing_ok=True)
        (folder / UNSETTLED).unlink(missing_ok=True)
        self.origin = (written, {})

    @staticmethod
    def forget(root: Path) -> None:
        """Mark the state unsettled before touching the output, so a build interrupted while
        writing is followed by one that trusts nothing it did not verify (`save` settles)."""
        folder = root / CACHE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        (folder / UNSETTLED).touch()


def _changed(name: str, blob: bytes, changes: dict[str, Any]) -> Any:
    """A state field decoded from state.bin, with the delta's change to it applied."""
    if name in changes:  # the field whole
        return changes[name]
    value = marshal.loads(blob)  # noqa: S302 - from a verified cache file
    change = changes.get("+" + name)
    if change is not None:  # a dict field's (updated entries, removed keys)
        updates, removed = change
        value.update(updates)
        for key in removed:
            value.pop(key, None)
    return value


STATE = "state.bin"
DELTA = "state-delta.bin"
UNSETTLED = "state-unsettled"  # present while a build writes the output
DELTA_MAX = 5_000  # changed entries a delta may hold before the whole state is written
_SAVED = [f.name for f in dataclasses.fields(BuildState) if not f.metadata.get("transient")]
# BuildState fields left encoded by `load` (those a build with nothing to do does not read)
LAZY = frozenset(
    {"units", "outputs", "folders", "sources", "members", "structure", "components", "scanned"}
)


def _delta(new: BuildState, old: BuildState, before: dict[str, Any]) -> dict[str, Any]:
    """What changed from the state.bin `old` was loaded from to `new`: `before` (the delta
    `old` was loaded with) merged with what changed from `old` to `new`. A dict field as
    "+name": (updated entries, removed keys); any other field whole, by name."""
    changes = dict(before)
    for name in _SAVED:
        value, previous = getattr(new, name), getattr(old, name)
        if value is previous:
            continue
        if isinstance(value, dict) and isinstance(previous, dict):
            missing = object()
            updates = {
                k: v
                for k, v in value.items()
                if (p := previous.get(k, missing)) is not v and p != v
            }
            gone = previous.keys() - value.keys()
            if not updates and not gone:
                continue
            earlier, removed = changes.get("+" + name, ({}, ()))
            merged = {k: v for k, v in earlier.items() if k not in gone}
            merged.update(updates)
            changes["+" + name] = (merged, tuple(sorted((set(removed) - updates.keys()) | gone)))
        elif value != previous:
            changes[name] = value
    return changes


def _size_of(name: str, change: Any) -> int:
    return len(change[0]) + len(change[1]) if name.startswith("+") else 1


# --- digests of render inputs ---------------------------------------------------------------


class Fingerprint:
    """Digests of render inputs (`Unit.inputs()`): plain data, model objects and the view's
    Items and Standings. An Alert is named by the digest of the file it was parsed from when the
    source store knows it (fast), else by its fields. Standings, AlertGroups and Items have a
    dedicated encoding of the same fields (`_DEDICATED`): a listing page's 50 Items walked
    field by field were ~0.3 ms a key. A value of a type not listed here raises TypeError, and
    the caller renders that unit every time rather than guess."""

    def __init__(self, alert_digests: dict[str, str]) -> None:
        self.alert_digests = alert_digests  # Alert.source → digest of its file's bytes
        self._memo: dict[int, tuple[object, bytes]] = {}

    def digest(self, value: Any) -> str:
        return blake2b(self._bytes(value), digest_size=16).hexdigest()

    def _bytes(self, value: Any) -> bytes:
        kind = type(value)
        category = _CATEGORIES.get(kind)
        if category is None:
            category = _CATEGORIES[kind] = _category(kind)
        if category == _OBJECT:
            return self._object(value)
        if category == _TEXT:  # Markup is not escaped when rendered: tell it from str
            text: str = str(value)
            mark = b"s" if kind is str else b"m"
            return mark + b"%d:" % len(text) + text.encode("utf-8", "surrogatepass")
        if category == _SEQUENCE:
            return b"[" + b"".join([self._bytes(v) for v in value]) + b"]"
        if category == _PLAIN:
            return b"v" + repr(value).encode() + b";"
        if category == _ENUM:
            return _enum_bytes(value)
        if category == _TIME:
            return b"t" + str(value.isoformat()).encode() + b";"
        if category == _MAPPING:
            return (
                b"{"
                + b"".join(self._bytes(str(k)) + self._bytes(value[k]) for k in sorted(value))
                + b"}"
            )
        raise TypeError(f"no fingerprint for a {kind.__name__}")

    def _known(self, value: Any) -> bytes:
        """`_bytes` of a value of a model type, from the memo when it was encoded already."""
        memo = self._memo.get(id(value))
        if memo is not None and memo[0] is value:
            return memo[1]
        return self._bytes(value)

    def _object(self, value: Any) -> bytes:
        memo = self._memo.get(id(value))
        if memo is not None and memo[0] is value:
            return memo[1]
        data: bytes
        kind = type(value)
        encoder = _ENCODERS.get(kind)
        if encoder is not None:  # a type with a dedicated encoding (`_DEDICATED`)
            data = encoder(self, value)
        elif kind is Alert and value.source in self.alert_digests:
            source = value.source.encode("utf-8", "surrogatepass")
            data = b"A" + self.alert_digests[value.source].encode() + b"%d:" % len(source) + source
        else:
            names = _FIELDS.get(kind)
            if names is None:
                # fields left out of equality (source line maps) do not render
                names = _FIELDS[kind] = tuple(
                    f.name for f in dataclasses.fields(value) if f.compare
                )
            inner = b"".join([self._bytes(getattr(value, name)) for name in names])
            data = b"D" + blake2b(kind.__name__.encode() + inner, digest_size=16).digest()
        self._memo[id(value)] = (value, data)  # keeps `value` alive, so its id is not reused
        return data


_FIELDS: dict[type, tuple[str, ...]] = {}
# How Fingerprint encodes a value, by its exact type (decided once per type, in this order).
_TEXT, _PLAIN, _SEQUENCE, _MAPPING, _TIME, _ENUM, _OBJECT, _UNKNOWN = range(8)
_CATEGORIES: dict[type, int] = {}


def _enum_bytes(value: Enum) -> bytes:
    found = _ENUMS.get(value)
    if found is None:
        found = _ENUMS[value] = f"e{type(value).__name__}.{value.name};".encode()
    return found


_ENUMS: dict[Enum, bytes] = {}


# The dedicated encodings: what `Fingerprint._object` makes of the same fields, without its
# per-field dispatch, one digest fewer per Item, and each object encoded once a build (they
# are shared: an alert's Standing is in its own unit and in its Items, its Item on an archive
# page, an area page and perhaps the home page and a feed).


def _group_bytes(fp: Fingerprint, group: Any) -> bytes:
    """An AlertGroup: its id and its versions (each Alert as `_object` names it)."""
    versions = b"".join([fp._object(alert) for alert in group.versions])
    return b"G" + blake2b(fp._bytes(group.id) + versions, digest_size=16).digest()


def _standing_bytes(fp: Fingerprint, standing: Any) -> bytes:
    """A lifecycle.Standing: every field. The messages of a chain share its history (one
    tuple, lifecycle.standings), digested once: N standings of N messages each were N²."""
    known = fp._known
    parts = [known(standing.group), _enum_bytes(standing.phase), known(standing.latest)]
    history = standing.history
    memo = fp._memo.get(id(history))
    if memo is None or memo[0] is not history:
        chain = b"".join([known(group) for group in history])
        memo = fp._memo[id(history)] = (history, b"H" + blake2b(chain, digest_size=16).digest())
    parts.append(memo[1])
    parts.append(fp._bytes(standing.changed))
    return b"S" + blake2b(b"".join(parts), digest_size=16).digest()


def _item_bytes(fp: Fingerprint, item: Any) -> bytes:
    """A render.Item: every field, not digested again (a listing's key digests its Items' bytes
    together). Its group is its standing's and the url its language's (`SiteView.item`), but
    they are encoded all the same: the encoding must not rest on how Items are made."""
    return (
        b"I"
        + fp._known(item.standing)
        + fp._known(item.group)
        + fp._known(item.alert)
        + fp._bytes(item.url)
        + _enum_bytes(item.shown_phase)
    )


# Types with a dedicated encoding, by qualified name (cache.py does not import render.py):
# (their fields, the encoder). A type whose compared fields are not exactly these (a field
# added or renamed) falls back to the generic encoding, which covers every field.
_DEDICATED: dict[str, tuple[tuple[str, ...], Callable[[Fingerprint, Any], bytes]]] = {
    "sitegen.model.AlertGroup": (("id", "versions"), _group_bytes),
    "sitegen.lifecycle.Standing": (
        ("group", "phase", "latest", "history", "changed"),
        _standing_bytes,
    ),
    "sitegen.render.Item": (("group", "alert", "standing", "url", "shown_phase"), _item_bytes),
}
_ENCODERS: dict[type, Callable[[Fingerprint, Any], bytes]] = {}


def _category(kind: type) -> int:
    if issubclass(kind, str):
        return _TEXT
    if kind is type(None) or kind is bool or kind is int or kind is float:
        return _PLAIN
    if kind is tuple or kind is list:
        return _SEQUENCE
    if kind is dict:
        return _MAPPING
    if kind is datetime:
        return _TIME
    if issubclass(kind, Enum):
        return _ENUM
    if dataclasses.is_dataclass(kind) and not issubclass(kind, type):
        dedicated = _DEDICATED.get(f"{kind.__module__}.{kind.__qualname__}")
        compared = tuple(f.name for f in dataclasses.fields(kind) if f.compare)
        if dedicated is not None and dedicated[0] == compared:
            _ENCODERS[kind] = dedicated[1]
        return _OBJECT
    return _UNKNOWN
