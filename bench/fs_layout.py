"""How the file system's cost per alert grows with the archive, without sitegen.

    /tmp/venv/bin/python bench/fs_layout.py [--alerts 10000,50000] [--workdir DIR]

A build writes each alert as a folder under one `alerts/` folder (`alerts/<id>/index.html`
and `cap.xml`: the URL layout of docs/architecture.md). This writes the same shape (one
mkdir and two 8 KB files per alert, in one parent folder) for each N and prints the time per
alert folder, so that `bench/build.py`'s ms/alert at 50,000 can be read against what the file
system alone does at that size. Folders are written into a fresh directory and removed at the
end (deleting ~150,000 files slows the next minutes of clean builds on this ext4: run it
apart from bench/build.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def per_folder_us(root: Path, n: int) -> float:
    parent = root / f"n{n}" / "alerts"
    parent.mkdir(parents=True)
    data = b"x" * 8000
    started = time.perf_counter()
    for i in range(n):
        folder = f"{parent}/2026-11-25-flood-{i:06d}"
        os.mkdir(folder)
        for name in ("index.html", "cap.xml"):
            fd = os.open(f"{folder}/{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, data)
            os.close(fd)
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", default="10000,50000", help="comma-separated sizes")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write (a temp dir)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.alerts.split(",")]
    root = Path(tempfile.mkdtemp(prefix="sitegen-fs-", dir=args.workdir))
    try:
        results = [(n, per_folder_us(root, n)) for n in sizes]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base = results[0][1]
    print(f"{'alerts':>8}  {'us per alert folder':>20}  {'vs first':>8}")
    for n, us in results:
        print(f"{n:>8,}  {us:>20.1f}  {us / base:>7.2f}x")


if __name__ == "__main__":
    main()
