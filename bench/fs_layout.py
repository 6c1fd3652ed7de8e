"""How the file system's cost per alert grows with the archive, without sitegen.

    /tmp/venv/bin/python bench/fs_layout.py [--alerts 10000,50000] [--procs 1,2] [--workdir DIR]

A build writes each alert as a folder under one `alerts/` folder (`alerts/<id>/index.html`
and `cap.xml`: the URL layout of docs/architecture.md). This writes the same shape (one
mkdir and two 6 KB files per alert, in one parent folder) for each N and each number of
processes (with 2, forked processes take 256-alert chunks in turn, as the render pool does)
and prints wall and kernel time per alert folder, so that `bench/build.py`'s ms/alert at
50,000 can be read against what the file system alone does at that size. Folders are written
into a fresh directory and removed at the end (deleting ~150,000 files slows the next minutes
of clean builds on this ext4: run it apart from bench/build.py). Sizes run in the order given:
give them twice in opposite orders (`--alerts 50000,10000,50000`) to tell growth with N from
growth with what was written just before.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

DATA = b"x" * 6000
CHUNK = 256


def write_chunk(job: tuple[str, int, int]) -> float:
    """Write alerts [start, end) under `parent`; the kernel time it took."""
    parent, start, end = job
    before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    for i in range(start, end):
        folder = f"{parent}/2026-11-25-flood-{i:06d}"
        os.mkdir(folder)
        for name in ("index.html", "cap.xml"):
            fd = os.open(f"{folder}/{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, DATA)
            os.close(fd)
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime - before


def per_folder_us(parent: Path, n: int, procs: int) -> tuple[float, float]:
    """(wall µs, kernel µs) per alert folder, writing n of them with `procs` processes."""
    parent.mkdir(parents=True)
    jobs = [(str(parent), start, min(n, start + CHUNK)) for start in range(0, n, CHUNK)]
    started = time.perf_counter()
    if procs == 1:
        kernel = sum(map(write_chunk, jobs))
    else:
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            kernel = sum(pool.imap(write_chunk, jobs))
    wall = time.perf_counter() - started
    return wall / n * 1e6, kernel / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", default="10000,50000", help="comma-separated sizes")
    parser.add_argument("--procs", default="1,2", help="comma-separated process counts")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write (a temp dir)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.alerts.split(",")]
    procs = [int(p) for p in args.procs.split(",")]
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)  # as bench/build.py does
    root = Path(tempfile.mkdtemp(prefix="sitegen-fs-", dir=args.workdir))
    results = []
    try:
        for run, n in enumerate(sizes):
            for p in procs:
                wall, kernel = per_folder_us(root / f"{run}-n{n}-p{p}" / "alerts", n, p)
                results.append((n, p, wall, kernel))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'alerts':>8}  {'procs':>5}  {'wall us/folder':>14}  {'kernel us/folder':>16}")
    for n, p, wall, kernel in results:
        print(f"{n:>8,}  {p:>5}  {wall:>14.1f}  {kernel:>16.1f}")


if __name__ == "__main__":
    main()
