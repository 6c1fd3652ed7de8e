"""The temporary files and folders a running build owns, told apart from those a killed build
left by a lock the owner holds (docs/architecture.md, "Leftovers of killed builds").

A process id in a name says nothing across pid namespaces: two containers sharing one site
folder each see the other's build as "not running" (and a reused pid kept a dead build's
folder for ever). So each such file or folder is locked (`flock`) on a descriptor this process
keeps open until it lets go of it (`let_go`) or ends, however it ends: the kernel releases the
lock of a killed process. Whoever takes the lock without waiting knows the owner is gone.

Forked children (render workers, the cache writer) close their copies of the descriptors at
once: a worker's exit never releases the parent's lock (a flock belongs to the open file, not
to a descriptor), and workers outliving a SIGKILLed parent do not keep its folder "alive".
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

try:
    from fcntl import LOCK_EX, LOCK_NB, flock
except ImportError:  # Windows: nothing to lock by, as on a file system without locks
    flock = None  # type: ignore[assignment]

_HELD: dict[str, int] = {}  # path → the descriptor whose flock says its owner runs
# Fresh names a clean-up may take before they are locked, in a row, before giving up: only
# another build's clean-up running at that very moment takes one, so 2 in a row are rare.
_TRIES = 20


def token() -> str:
    """What names one temporary file or folder: this process's id (for people reading the
    folder) and a random part (two containers may run builds under the same pid)."""
    return f"{os.getpid()}-{os.urandom(4).hex()}"


def made_held(make: Callable[[], Path], remove: Callable[[Path], None]) -> Path:
    """A new file or folder from `make`, held (`hold`). Another build's clean-up may take it
    between the two: then it is made again, a few times at most. What cannot be opened to be
    locked (no right to read it, no descriptor left) is removed and the OSError raised: a
    build that made new folders for ever filled its site's folder (112,000 in 8 s)."""
    for _ in range(_TRIES):
        path = make()
        try:
            if hold(path):
                return path
        except BaseException:
            remove(path)
            raise
        remove(path)  # gone, or going: a clean-up holds it
    raise OSError(errno.EAGAIN, "another build kept removing the temporary files made here", path)


def hold(path: Path) -> bool:
    """Lock `path`, a file or folder this process has just made, until `let_go(path)` or the
    end of this process. False when a clean-up removed it before it could be locked (make
    another: `made_held`); an OSError when it cannot be opened. On a file system without
    locks it is kept unlocked: nobody can then tell it abandoned (`remove_if_abandoned`)."""
    if flock is None:
        _HELD[str(path)] = -1
        return True
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        return False
    try:
        flock(fd, LOCK_EX | LOCK_NB)
        mine = os.fstat(fd)
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino) or mine.st_nlink == 0:
            raise FileNotFoundError(path)
    except (BlockingIOError, FileNotFoundError):  # a clean-up holds it, or has removed it
        os.close(fd)
        return False
    except OSError:  # no locks here (some NFS mounts): go on unlocked
        pass
    let_go(path)
    _HELD[str(path)] = fd
    return True


def let_go(path: Path) -> None:
    """Release the lock on `path` (removed, renamed into place, or no longer temporary)."""
    fd = _HELD.pop(str(path), -1)
    if fd >= 0:
        os.close(fd)


def moved(old: Path, new: Path) -> None:
    """`old`, held, was renamed to `new`: the lock (on the same file) is known by its new name."""
    fd = _HELD.pop(str(old), None)
    if fd is not None:
        let_go(new)
        _HELD[str(new)] = fd


def holds(path: Path) -> bool:
    """This process holds `path` (made it, or moved it aside, and has not let go)."""
    return str(path) in _HELD


def held_in(folder: Path, prefix: str) -> list[Path]:
    """What this process holds in `folder` whose name starts with `prefix`, sorted."""
    found = (Path(name) for name in _HELD)
    return sorted(p for p in found if p.parent == folder and p.name.startswith(prefix))


def remove_abandoned(
    folder: Path, ours: Callable[[str], bool], remove: Callable[[Path], None]
) -> None:
    """Remove with `remove` each entry of `folder` whose name `ours` accepts and that no
    process holds (`remove_if_abandoned`)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return
    for name in names:
        if ours(name):
            remove_if_abandoned(folder / name, remove)


def remove_if_abandoned(path: Path, remove: Callable[[Path], None]) -> bool:
    """Remove `path` with `remove` if no process holds its lock (its owner is gone), holding
    the lock meanwhile; True if removed. Left alone when it is held, or cannot be locked."""
    fd = None if flock is None else _open(path)
    if fd is None:
        return False
    try:
        flock(fd, LOCK_EX | LOCK_NB)
    except OSError:  # held: its owner runs (or no locks here: nobody can tell)
        os.close(fd)
        return False
    try:
        remove(path)
    finally:
        os.close(fd)
    return True


# never follows a symbolic link nor waits on a pipe someone named like our files (POSIX
# names: only where there is `flock`)
_FLAGS = os.O_RDONLY
for _name in ("O_NOFOLLOW", "O_NONBLOCK", "O_CLOEXEC"):
    _FLAGS |= getattr(os, _name, 0)


def _open(path: Path) -> int | None:
    """A descriptor to lock `path` by, or None if it is gone or cannot be opened."""
    try:
        return os.open(path, _FLAGS)
    except OSError:
        return None


def _forget_in_child() -> None:
    for fd in _HELD.values():
        if fd >= 0:
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_in_child)
