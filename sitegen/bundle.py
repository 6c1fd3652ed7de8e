"""The built site as data (`Bundle`), its manifest, and writing it to disk atomically."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from sitegen import __version__, owned
from sitegen.cache import LOCKED, Signature, left_by_dead_processes, signature
from sitegen.config import CachePolicy
from sitegen.errors import BuildError

MANIFEST_PATH = ".sitegen/manifest.json"
MANIFEST_FORMAT = 1

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
}


@dataclass(frozen=True, slots=True)
class File:
    """One output file: its bytes and how it must be served."""

    data: bytes
    content_type: str
    cache_class: str  # "immutable" | "alert" | "meta"


Bundle = dict[str, File]  # bundle-relative path ("alerts/x/index.html") → File


def content_type_for(path: str) -> str:
    """Content-Type (with charset for text) from the file's extension."""
    if path.endswith("/cap.xml"):
        return "application/cap+xml; charset=utf-8"
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    # PurePosixPath.suffix, without building a path object per file
    suffix = name[dot:] if 0 < dot < len(name) - 1 else ""
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def cache_class_for(path: str) -> str:
    """Cache class from the path (DESIGN.md cache policy)."""
    if path.startswith("assets/"):
        return "immutable"
    if path.startswith(".sitegen/"):
        return "meta"
    return "alert"


def make_file(path: str, data: bytes) -> File:
    return File(data, content_type_for(path), cache_class_for(path))


def url_to_path(url: str) -> str:
    """Site URL ("/alerts/x/") → bundle path ("alerts/x/index.html")."""
    path = url.lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


def manifest_bytes(bundle: Bundle, cache: CachePolicy, updated: datetime) -> bytes:
    """Stable JSON listing every file's sha256, size and headers (see architecture.md)."""
    import hashlib  # here: see cache.blake2b

    entries = {
        path: (hashlib.sha256(f.data).hexdigest(), len(f.data)) for path, f in bundle.items()
    }
    return manifest_from_entries(entries, cache, updated)


# What json.dumps(ensure_ascii=False) escapes in a string (json.encoder.ESCAPE).
_JSON_ESCAPED = re.compile(r'[\x00-\x1f\\"]')


def manifest_from_entries(
    entries: Mapping[str, tuple[str, int]], cache: CachePolicy, updated: datetime
) -> bytes:
    """The manifest from each path's (sha256, size): what an incremental build knows without
    holding every file. Byte for byte `json.dumps(document, sort_keys=True, indent=1,
    ensure_ascii=False)`, written out directly because json's indenting encoder is pure Python
    and costs ~0.3 s on a 25,000-file site (tests/perf holds the two equal)."""
    quote = _quote
    headers: dict[str, str] = {}
    out = ['{\n "files": {']
    rows = []
    for path in sorted(entries):
        sha, size = entries[path]
        content_type = content_type_for(path)
        cache_class = cache_class_for(path)
        key = content_type + "\0" + cache_class
        if key not in headers:
            headers[key] = (
                f'   "cache_class": {quote(cache_class)},\n'
                f'   "cache_control": {quote(cache.for_class(cache_class))},\n'
                f'   "content_type": {quote(content_type)},\n'
            )
        rows.append(
            f'\n  {quote(path)}: {{\n{headers[key]}   "sha256": "{sha}",\n   "size": {size}\n  }}'
        )
    out.append(",".join(rows))
    out.append("\n }" if rows else "}")
    out.append(
        f',\n "format": {MANIFEST_FORMAT},\n "generator": {quote(f"sitegen {__version__}")},'
        f'\n "updated": {quote(updated.isoformat())}\n}}\n'
    )
    return "".join(out).encode()


def _quote(text: str) -> str:
    """json.dumps(text, ensure_ascii=False); a string that needs no escapes is "text"."""
    return json.dumps(text, ensure_ascii=False) if _JSON_ESCAPED.search(text) else f'"{text}"'


def patch_manifest(
    old: bytes, changes: Mapping[str, tuple[str, int]], updated: datetime
) -> bytes | None:
    """What `manifest_from_entries` gives for a site that differs from the one `old` was made
    for only in these paths' (sha256, size), all of them listed in `old`, with the same
    `updated`: `old` with those two fields replaced (a patch build changes a few files of
    25,000). None when `old` is not such a manifest."""
    tail = f'\n "updated": {_quote(updated.isoformat())}\n}}\n'.encode()
    if not old.endswith(tail):
        return None
    spans = []
    for path, (sha, size) in changes.items():
        head = f"\n  {_quote(path)}: {{\n".encode()
        start = old.find(head)
        if start < 0:
            return None
        field = old.find(b'   "sha256": "', start + len(head))
        end = old.find(b"\n  }", start + len(head))
        if field < 0 or end < field:
            return None
        spans.append((field, end, f'   "sha256": "{sha}",\n   "size": {size}'.encode()))
    parts, at = [], 0
    for field, end, text in sorted(spans):
        parts += [old[at:field], text]
        at = end
    parts.append(old[at:])
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class WriteReport:
    files: int
    bytes: int
    written: int  # files whose bytes differ from the previous bundle
    removed: int = 0  # files of the previous bundle that this one has not


def write_bundle(bundle: Bundle, manifest: bytes, out_dir: Path) -> WriteReport:
    """Make `out_dir` hold `bundle` and its manifest, writing only the files whose bytes
    differ, as `sitegen build` does: those are staged beside it, then moved in one rename each,
    the manifest after them, and files the bundle has not are deleted last (`commit_staged`).

    An untouched file keeps its stat, so the next build finds the output as it recorded it.
    A failure before the moves leaves the previous bundle untouched; during them, each file
    is whole, old or new, and the manifest (written after the files) still the old one. An
    interruption (Ctrl-C, SIGTERM) leaves no staged copy behind. Into a missing `out_dir` the
    staging folder is renamed whole.
    """
    out_dir = out_dir.resolve()
    on_disk, _ = list_outputs(out_dir)
    changed = [
        path for path, file in sorted(bundle.items()) if _differs(out_dir, path, on_disk, file.data)
    ]
    removed = [path for path in on_disk if path not in bundle and path != MANIFEST_PATH]
    new_manifest = _differs(out_dir, MANIFEST_PATH, on_disk, manifest)
    committing = False
    try:
        if changed or removed or new_manifest or not out_dir.exists():
            staging = staging_dir(out_dir)
            for path in changed:  # stage_file refuses a path that would leave the folder
                stage_file(staging, path, bundle[path].data)
            committing = True
            commit_staged(staging, out_dir, changed, removed, manifest if new_manifest else None)
    except OSError as exc:
        _abandon(out_dir)
        state = (
            "some of its files are new, each whole: run `sitegen build` once it is fixed"
            if committing
            else "the previous build is unchanged"
        )
        raise BuildError(f"{out_dir}: could not write the site ({exc.strerror}); {state}") from exc
    except BaseException:
        _abandon(out_dir)
        raise
    total = sum(len(f.data) for f in bundle.values())
    return WriteReport(len(bundle), total, len(changed), len(removed))


def list_outputs(out_dir: Path) -> tuple[dict[str, Signature], set[str]]:
    """Every file under the output folder with its stat signature, by bundle path; and every
    folder ("" for the output folder itself, if it exists)."""
    found: dict[str, Signature] = {}
    folders: set[str] = set()

    def walk(folder: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        folders.add(prefix[:-1])
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, prefix + entry.name + "/")
            else:
                try:
                    found[prefix + entry.name] = signature(entry.stat(follow_symlinks=False))
                except OSError:
                    continue

    walk(str(out_dir), "")
    return found, folders


def _safe_join(root: Path, rel: str) -> Path:
    """Join a bundle path under root, refusing anything that would escape it."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not rel:
        raise BuildError(f"refusing to write {rel!r}: outside the output folder")
    return root.joinpath(*pure.parts)


def _differs(out_dir: Path, path: str, on_disk: dict[str, Signature], data: bytes) -> bool:
    """Whether the file at `path` holds other bytes than `data`. Only a path listed in
    `on_disk` is read: one with `..` never is."""
    found = on_disk.get(path)
    if found is None or found[1] != len(data):  # [1]: its size
        return True
    try:
        with open(f"{out_dir}{os.sep}{path}", "rb") as file:
            return file.read() != data
    except OSError:
        return True


def _abandon(out_dir: Path) -> None:
    """Remove what an unfinished `write_bundle` left beside `out_dir`: the staging folders
    this process holds, and those named with its pid that no one holds (Ctrl-C may come
    between making a folder and locking it: it was left behind, a copy of the site)."""
    prefix = f".{out_dir.name}.tmp-"
    for path in owned.held_in(out_dir.parent, prefix):
        discard_staged(path)
    mine = f"{prefix}{LOCKED}{os.getpid()}-"  # ours made but not locked yet: no one holds them
    owned.remove_abandoned(out_dir.parent, lambda name: name.startswith(mine), _rmtree)


# --- incremental writing ----------------------------------------------------------------------
# An incremental build renders every changed file into a staging folder beside the output
# first; only when everything rendered does `commit_staged` move the files in (one rename each,
# so no reader ever sees half a file), then the manifest, then deletes removed files last.
# See docs/architecture.md, "Writing only what changed".


def staging_dir(out_dir: Path) -> Path:
    """A fresh, empty staging folder beside `out_dir` (same filesystem, so renames are atomic),
    locked by this process until it commits or discards it (`owned`): those of builds killed
    before they could remove theirs (SIGKILL, the OOM killer, a power cut; a whole site's
    files, each time) are removed first."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{out_dir.name}.tmp-"
    _remove_abandoned(out_dir.parent, prefix)

    def make() -> Path:
        try:
            return Path(
                tempfile.mkdtemp(prefix=f"{prefix}{LOCKED}{os.getpid()}-", dir=out_dir.parent)
            )
        except OSError as exc:  # named by the folder that refused it, not by a random name
            exc.filename = str(out_dir.parent)
            raise

    tmp = owned.made_held(make, _rmtree)
    tmp.chmod(0o755)  # mkdtemp makes it private; the site is public
    _MADE.clear()
    return tmp


def _remove_abandoned(folder: Path, prefix: str) -> None:
    """Remove the staging folders `<prefix>locked-<pid>-<random>` (and their `-old`) that no
    process holds, and those of older versions, `<prefix><pid>-<random>`, of processes no
    longer running."""

    def pid_of(name: str) -> str:
        pid, dash, _ = name.removeprefix(prefix).partition("-")
        return pid if name.startswith(prefix) and dash else ""

    for path in left_by_dead_processes(folder, pid_of):
        shutil.rmtree(path, ignore_errors=True)
    owned.remove_abandoned(folder, lambda name: name.startswith(prefix + LOCKED), _rmtree)


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def stage_file(staging: Path, rel: str, data: bytes) -> os.stat_result:
    """Write one file under the staging folder; returns its stat once written. Plain paths
    (every path a build makes) skip the Path objects and buffered file: os.open/os.write/
    os.close are 3 system calls where Path.write_bytes makes 6, for 22,000 files at 10,000
    alerts."""
    if _PLAIN_REL.fullmatch(rel) is None:
        _safe_join(staging, rel)  # raises for anything that could leave the folder
    path = f"{staging}{os.sep}{rel}"
    folder = path.rpartition("/")[0]
    if folder not in _MADE:  # one mkdir per folder, not per file: 25,000 files on a big site
        try:
            os.mkdir(folder)  # the parent usually exists: makedirs would stat it first
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
        except FileExistsError:
            pass
        _MADE.add(folder)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        return os.fstat(fd)
    except OSError as exc:  # a full disk: os.write names no file
        exc.filename = exc.filename or path
        raise
    finally:
        os.close(fd)


_MADE: set[str] = set()
# A relative path whose segments are neither "." nor "..", without NUL or backslash.
_PLAIN_REL = re.compile(r"(?:(?!\.\.?/)[^/\\\x00]+/)*(?!\.\.?$)[^/\\\x00]+")


def commit_staged(
    staging: Path, out_dir: Path, changed: list[str], removed: list[str], manifest: bytes | None
) -> bool:
    """Move the staged `changed` files into `out_dir`, then the manifest (None: unchanged), then
    delete `removed` files. Into a missing `out_dir`, the staging folder is renamed whole: then
    returns True (the files keep the stat they had when staged; a file renamed alone gets a
    new ctime)."""
    out_dir = out_dir.resolve()
    try:
        if manifest is not None:
            stage_file(staging, MANIFEST_PATH, manifest)
        if not out_dir.exists():
            staging.rename(out_dir)
            return True
        made: set[Path] = set()
        leaving = set(removed)
        for rel in sorted(changed):
            target = _safe_join(out_dir, rel)
            if target.parent not in made:
                _make_folder(out_dir, target.parent, leaving)
                made.add(target.parent)
            os.replace(_safe_join(staging, rel), target)
        if manifest is not None:
            _safe_join(out_dir, MANIFEST_PATH).parent.mkdir(parents=True, exist_ok=True)
            os.replace(_safe_join(staging, MANIFEST_PATH), _safe_join(out_dir, MANIFEST_PATH))
        for rel in sorted(leaving, reverse=True):
            _remove(out_dir, rel)
        return False
    finally:  # on an OSError too: the files moved so far are whole, the next build goes on
        discard_staged(staging)


def _make_folder(out_dir: Path, folder: Path, removed: set[str]) -> None:
    """`mkdir -p` under `out_dir`, deleting first a file the new site removes anyway where it
    needs a folder (else every later build would stop there too); that file leaves `removed`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        for path in (folder, *folder.parents):
            if path == out_dir:
                raise
            rel = path.relative_to(out_dir).as_posix()
            if rel in removed and not path.is_dir():
                path.unlink()
                removed.discard(rel)
                break
        folder.mkdir(parents=True, exist_ok=True)


def discard_staged(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    owned.let_go(staging)


def _remove(out_dir: Path, rel: str) -> None:
    target = _safe_join(out_dir, rel)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)
    parent = target.parent
    while parent != out_dir:  # prune folders the removal emptied
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
