"""A local folder that behaves like a bucket (the default target, and a twin of S3 for tests).

Objects are plain files, so the folder can be served as is. Headers and our sha256 live in a
sidecar store, ``.sitegen/meta/<path>.json``. Writes go to a temp file in ``.sitegen/tmp`` then
``os.replace``, so a reader sees the old or the new file. The lock is written whole to a
temporary file, then linked to its name (``O_EXCL`` where there are no hard links); each of its
conditional writes (compare, then write or remove) holds the lock's guard
(`GUARD_PATH`), so that it is one step for every other process, as S3's one request is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from publish.history import OBJECTS_PREFIX, PUBLISHED_AT
from publish.manifest import MANIFEST_PATH, STATE_PREFIX, kept_path
from publish.targets.base import LOCK_PATH, Listed, ObjectMeta, StoredObject, TargetError
from sitegen import owned
from sitegen.cache import LOCKED, left_by_dead_processes

try:
    from fcntl import LOCK_EX, flock
except ImportError:  # Windows (not a target): the lock's writes go unguarded, as before
    flock = None  # type: ignore[assignment]

META_DIR = ".sitegen/meta"
_TMP_MARK = ".sitegen-tmp-"
# Temporary files (`_atomic_write`) are ".sitegen-tmp-NAME.locked-PID-RANDOM" in TMP_DIR, never
# in the folder served nor listed; until 2026-12-07 ".sitegen-tmp-NAME.PID-RANDOM.THREAD"
# (before: ".sitegen-tmp-NAME.PID.THREAD") beside each file, unlocked, left by a killed publish
TMP_DIR = ".sitegen/tmp"
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)  # not on Windows
# Held (flock) by each process while it compares the lock, then writes or removes it: no other
# compare comes in between (docs/architecture.md, "The folder's lock"). Empty, never removed:
# a process waiting on a guard another one removed would hold a lock no one else sees.
GUARD_PATH = f"{LOCK_PATH}.guard"
_TMP_NAME = re.compile(rf"{re.escape(_TMP_MARK)}.+\.{LOCKED}[0-9]+-[0-9a-f]{{8}}")
_OLD_TMP_NAME = re.compile(rf"{re.escape(_TMP_MARK)}.+\.([0-9]+)(?:-[0-9a-f]{{8}})?\.[0-9]+")


class FolderTarget:
    """``folder:PATH`` target."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.name = f"folder:{self.root}"
        self._ops = 0
        self._ops_lock = threading.Lock()
        self._lock_body: bytes | None = None

    @property
    def requests(self) -> int:
        return self._ops

    def _count(self) -> None:
        with self._ops_lock:
            self._ops += 1

    def _file(self, path: str) -> Path:
        full = (self.root / path).resolve()
        if not full.is_relative_to(self.root) or full == self.root:
            raise TargetError(f"{self.name}: refusing a path outside the folder: {path!r}")
        return full

    def _sidecar(self, path: str) -> Path:
        return self._file(f"{META_DIR}/{path}.json")

    def put(self, path: str, body: bytes, meta: ObjectMeta) -> None:
        self._count()
        try:
            self._write(self._file(path), body)
            # The sidecar goes second: a crash in between leaves an old sha256 beside new bytes,
            # which only causes a harmless re-upload, never a missed one.
            self._write(self._sidecar(path), _meta_json(meta))
            self._keep(path, meta.sha256)
            if path == MANIFEST_PATH:
                self._keep_manifest(body, meta)
        except OSError as exc:
            raise TargetError(f"{self.name}: cannot write {path}: {exc}") from exc

    def _keep_manifest(self, body: bytes, meta: ObjectMeta) -> None:
        """Keep every live manifest at .sitegen/manifests/<id>.json with the instant it went
        live, for `sitegen rollback` (S3 keeps them as versions of the live manifest)."""
        at = {PUBLISHED_AT: datetime.now(UTC).isoformat(timespec="microseconds")}
        path = kept_path(meta.sha256)
        self._write(self._file(path), body)
        self._write(self._sidecar(path), _meta_json(replace(meta, extra={**meta.extra, **at})))

    def _keep(self, path: str, sha256: str) -> None:
        """Keep these bytes under their sha256 for rollback (publish/history.py): a hard link,
        so no extra space, and later writes (temp file + rename) leave it untouched."""
        if not sha256 or path.startswith(STATE_PREFIX):
            return
        kept = self._file(f"{OBJECTS_PREFIX}{sha256}")
        if kept.exists():
            return
        kept.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self._file(path), kept)
        except FileExistsError:
            pass  # the same bytes, kept meanwhile by another upload
        except OSError:  # no hard links on this file system
            self._write(kept, self._file(path).read_bytes())

    def delete(self, paths: Sequence[str]) -> None:
        self._count()
        try:
            for path in paths:
                for file in (self._file(path), self._sidecar(path)):
                    file.unlink(missing_ok=True)
                    _prune_empty_dirs(file.parent, self.root)
        except OSError as exc:
            raise TargetError(f"{self.name}: cannot delete: {exc}") from exc

    def read(self, path: str) -> StoredObject | None:
        self._count()
        body = self._bytes(path)
        if body is None:
            return None
        etag = hashlib.sha256(body).hexdigest()
        return StoredObject(
            body=body, meta=self._read_meta(path), etag=etag, modified=self._modified(path)
        )

    def _modified(self, path: str) -> datetime | None:
        try:
            return datetime.fromtimestamp(self._file(path).stat().st_mtime, UTC)
        except OSError:
            return None

    def _read_meta(self, path: str) -> ObjectMeta:
        try:
            raw = json.loads(self._sidecar(path).read_bytes())
            return ObjectMeta(
                content_type=str(raw["content_type"]),
                cache_control=str(raw["cache_control"]),
                sha256=str(raw["sha256"]),
                extra={str(k): str(v) for k, v in dict(raw.get("extra", {})).items()},
            )
        except (OSError, ValueError, KeyError, TypeError):
            return ObjectMeta(content_type="", cache_control="", sha256="")

    def list(self) -> Iterator[Listed]:
        self._count()
        state = self._file(STATE_PREFIX.rstrip("/"))  # sidecars, lock, manifests, kept bytes
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if here / d != state)
            for filename in sorted(filenames):
                if filename.startswith(_TMP_MARK):
                    continue
                path = (here / filename).relative_to(self.root).as_posix()
                yield self._listed(here / filename, path)

    def _listed(self, file: Path, path: str) -> Listed:
        """A listed file with its metadata; its sha256 is of the bytes on disk, so a file
        edited by hand since we wrote it is seen as changed (S3 objects cannot be edited in
        place; a local folder can). A file without a sidecar keeps sha256 "" (not ours)."""
        meta = self._read_meta(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise TargetError(f"{self.name}: cannot read {path}: {exc}") from exc
        if meta.sha256:
            meta = replace(meta, sha256=hashlib.sha256(data).hexdigest())
        return Listed(path=path, size=len(data), meta=meta)

    def lock(self, body: bytes) -> StoredObject | None:
        self._count()
        first = self._first()
        with self._guarded("create the lock"):
            while not self._created(body):
                held = self.read(LOCK_PATH)
                if held is not None:
                    return held
                # gone once seen: removed unguarded (a sitegen before fix/folderlock, a person)
        self._taken(body, first)
        return None

    def _created(self, body: bytes) -> bool:
        """Create the lock holding `body`, seen whole by every reader (it takes no guard);
        False when one is there. Where no hard link can be made (FAT, some SMB mounts), or
        the temporary file cannot be written, as before: created empty, then written."""
        file = self._file(LOCK_PATH)
        try:
            return self._linked(file, body)
        except OSError:
            return self._created_empty(file, body)
        except BaseException:  # Ctrl-C: a lock holding our body (its nonce) is ours to remove
            if self._bytes(LOCK_PATH) == body:
                file.unlink(missing_ok=True)
            raise

    def _linked(self, file: Path, body: bytes) -> bool:
        """Write `body` to a temporary file, then link it to `file`'s name: it appears whole,
        and, as with ``O_EXCL``, not over one that is there (False). OSError: no link."""
        tmp = _held_tmp(file, self.root / TMP_DIR)
        try:
            tmp.write_bytes(body)
            try:
                os.link(tmp, file)
            except FileExistsError:
                return False
        finally:
            _unlink(tmp)
            owned.let_go(tmp)
        return True

    def _created_empty(self, file: Path, body: bytes) -> bool:
        """``O_EXCL``, then the body: a reader may see the lock empty in between."""
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        except OSError as exc:  # a read-only or foreign-owned folder, a full disk
            raise TargetError(f"{self.name}: cannot create the lock {LOCK_PATH}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
        except BaseException as exc:  # Ctrl-C too: an empty lock would name no holder
            file.unlink(missing_ok=True)
            if not isinstance(exc, OSError):
                raise
            raise TargetError(f"{self.name}: cannot write the lock {LOCK_PATH}: {exc}") from exc
        return True

    @contextlib.contextmanager
    def _guarded(self, doing: str) -> Iterator[None]:
        """Hold the lock's guard (`GUARD_PATH`) while the lock is compared and written: other
        processes of this machine, and of others where the folder's file system shares its
        locks (NFS, SMB), wait. Where it takes no locks, goes on unguarded, as before."""
        guard = self._file(GUARD_PATH)
        try:
            fd = _open_guard(guard)
        except OSError as exc:  # a read-only or foreign-owned folder, a file in the way
            raise TargetError(f"{self.name}: cannot {doing} {LOCK_PATH}: {exc}") from exc
        try:
            if flock is not None:
                with contextlib.suppress(OSError):  # ENOLCK: an NFS mount without locking
                    flock(fd, LOCK_EX)
            yield
        finally:
            os.close(fd)  # and with it the guard

    def _first(self) -> bool:
        """No TMP_DIR yet: the first publish here since older versions (`_remove_abandoned`);
        asked before taking the lock, which makes TMP_DIR."""
        return not (self.root / TMP_DIR).is_dir()

    def _taken(self, body: bytes, first: bool) -> None:
        self._lock_body = body
        self._remove_abandoned(first)  # the target is ours now: no other publish should write

    def _write(self, file: Path, data: bytes) -> None:
        _atomic_write(file, data, self.root / TMP_DIR)

    def _remove_abandoned(self, first: bool) -> None:
        """Remove the temporary files of publishes killed while writing (SIGKILL, the OOM
        killer, a power cut): those in TMP_DIR no process holds. Older versions wrote them
        beside each file, in the folder served, unlocked: the first publish that makes TMP_DIR
        looks through the whole folder once for those named by a process no longer running.
        One that cannot be removed stays, never listed, for the next publish."""
        tmp_dir = self.root / TMP_DIR
        if first:
            for dirpath, _, filenames in os.walk(self.root):
                if any(name.startswith(_TMP_MARK) for name in filenames):
                    for path in left_by_dead_processes(Path(dirpath), _old_tmp_pid):
                        _unlink(path)
            with contextlib.suppress(OSError):  # then `_write` says what is wrong
                tmp_dir.mkdir()
        owned.remove_abandoned(tmp_dir, _is_tmp, _unlink)

    # relock, unlock and break_lock are S3's conditional writes (If-Match): one request each
    # there, and so one operation each here, whatever the comparison finds.

    def relock(self, body: bytes) -> bool:
        if not self._replace_lock(self._lock_body, body):
            self._lock_body = None
            return False
        self._lock_body = body
        return True

    def unlock(self) -> bool:
        if self._lock_body is None:
            return False  # never taken: nothing asked (S3 sends nothing either)
        self._count()
        with self._guarded("release the lock"):
            if self._bytes(LOCK_PATH) != self._lock_body:
                return False
            self._file(LOCK_PATH).unlink(missing_ok=True)
        self._lock_body = None
        return True

    def break_lock(self, seen: StoredObject) -> None:
        self._count()
        with self._guarded("break the lock"):
            if self._bytes(LOCK_PATH) == seen.body:
                self._file(LOCK_PATH).unlink(missing_ok=True)

    def take_over(self, seen: StoredObject, body: bytes) -> bool:
        first = self._first()
        if not self._replace_lock(seen.body, body):
            return False
        self._taken(body, first)
        return True

    def _replace_lock(self, expected: bytes | None, body: bytes) -> bool:
        """Write the lock only if it still holds `expected` (one counted operation)."""
        self._count()
        with self._guarded("write the lock"):
            if self._bytes(LOCK_PATH) != expected:
                return False
            self._write(self._file(LOCK_PATH), body)
        return True

    def _bytes(self, path: str) -> bytes | None:
        """A stored file's bytes (None: absent), not counted: callers count their operation."""
        try:
            return self._file(path).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TargetError(f"{self.name}: cannot read {path}: {exc}") from exc


def _meta_json(meta: ObjectMeta) -> bytes:
    doc = {
        "content_type": meta.content_type,
        "cache_control": meta.cache_control,
        "sha256": meta.sha256,
        "extra": dict(meta.extra),
    }
    return json.dumps(doc, sort_keys=True).encode()


def _open_guard(guard: Path) -> int:
    """A descriptor of the lock's guard, made if missing. Opened for writing, as an NFS
    client needs to place an exclusive lock; read-only when another account made it."""
    try:
        return os.open(guard, os.O_RDWR | os.O_CREAT | _CLOEXEC, 0o666)
    except FileNotFoundError:  # the first lock here: no .sitegen yet
        guard.parent.mkdir(parents=True, exist_ok=True)
        return os.open(guard, os.O_RDWR | os.O_CREAT | _CLOEXEC, 0o666)
    except PermissionError:
        return os.open(guard, os.O_RDONLY | _CLOEXEC)


def _atomic_write(file: Path, data: bytes, tmp_dir: Path) -> None:
    """Write `file` through a temporary file in `tmp_dir` (renamed into place: a reader sees
    the old or the new file), held until renamed or removed: a publish killed meanwhile leaves
    it to the next one (`FolderTarget._remove_abandoned`), which never takes a live one."""
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = _held_tmp(file, tmp_dir)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, file)
    finally:
        tmp.unlink(missing_ok=True)
        owned.let_go(tmp)


def _held_tmp(file: Path, tmp_dir: Path) -> Path:
    """A new empty temporary file for `file` in `tmp_dir`, held until `owned.let_go`."""
    tmp_dir.mkdir(parents=True, exist_ok=True)

    def make() -> Path:
        # random: two containers' publishes may share one pid
        tmp = tmp_dir / f"{_TMP_MARK}{file.name}.{LOCKED}{owned.token()}"
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o666))
        return tmp

    return owned.made_held(make, _unlink)


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):  # gone, or not ours to remove: never listed anyway
        path.unlink()


def _is_tmp(name: str) -> bool:
    return _TMP_NAME.fullmatch(name) is not None


def _old_tmp_pid(name: str) -> str:
    """The process id in an older version's temporary name, else ""."""
    match = _OLD_TMP_NAME.fullmatch(name)
    return match[1] if match else ""


def _prune_empty_dirs(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
