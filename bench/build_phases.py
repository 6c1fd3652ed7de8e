"""Where a clean build's time goes: wall time and CPU of each phase, this process and workers.

    /tmp/venv/bin/python bench/build_phases.py [--alerts 10000] [--seed 1] [--runs 3]
    /tmp/venv/bin/python bench/build_phases.py --site path/to/site.toml [--now ISO]

bench/build.py says how long a clean build takes; this says where the time goes, which tells
a change that saves CPU from one that only moves it (on 2 cores, both worker pools are
CPU-bound: less CPU helps, more overlap does not). Each run is a real `sitegen build` in a
fresh Python process, with no output folder and no .sitegen/cache (set aside by renaming,
then `sync`, and deleted at the end: see bench/build.py's move_aside), and with a few of
sitegen.build's functions wrapped to note when they start and end:

    start-up      interpreter, imports, configuration        (before build_site)
    prepare       state, content scan, plan                  (build_site .. the parse pool)
    parse pool    content files parsed by forked workers     (_Build._sources)
    assemble      site model, views, units, keys             (.. the render pool)
    render pool   units rendered and staged by workers       (_Build._render_units)
    commit        manifest, rename into place, state, caches (.. build_site returns)

For each phase: median wall ms, and the CPU ms of this process and of the workers it waited
for in that phase (getrusage; a pool's workers are waited for when it closes, so their CPU
shows in the pool's phase; the process that writes the parsed sources to the cache is forked
and waited for while the site is assembled). `busy` is all that CPU over the phase's wall
time times the cores: 100 % means the phase could only get faster by needing less CPU.

It wraps private functions of sitegen.build: when one is renamed, this says which.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402

PHASES = ("start-up", "prepare", "parse pool", "assemble", "render pool", "commit")
# what is wrapped: the phase boundaries are their starts and ends
WRAPPED = ("build_site", "_Build._sources", "_Build._render_units")


def child(site: str, now: str | None) -> None:
    """Run `sitegen build` in this process; print the marks as JSON just before it exits."""
    marks: list[tuple[str, float, tuple[float, ...]]] = [("start", time.perf_counter(), _usage())]
    pid = os.getpid()  # forked workers run the same wrapped code: they note nothing
    import sitegen.build as build
    import sitegen.cli as cli

    def wrap(owner: object, name: str) -> None:
        function = getattr(owner, name, None)
        if function is None:
            sys.exit(f"build_phases: sitegen.build has no {name} any more: update WRAPPED")

        def wrapped(*args: object, **kwargs: object) -> object:
            if os.getpid() == pid:
                marks.append((f"{name} start", time.perf_counter(), _usage()))
            try:
                return function(*args, **kwargs)
            finally:
                if os.getpid() == pid:
                    marks.append((f"{name} end", time.perf_counter(), _usage()))

        setattr(owner, name, wrapped)

    for dotted in WRAPPED:
        *owner_name, name = dotted.split(".")
        owner = getattr(build, owner_name[0]) if owner_name else build
        wrap(owner, name)
    real_exit = os._exit

    def exit_with_marks(code: int) -> None:
        if os.getpid() == pid:  # forked workers and writers leave through os._exit too
            marks.append(("exit", time.perf_counter(), _usage()))
            print(json.dumps({"code": code, "marks": marks}), flush=True)
        real_exit(code)

    os._exit = exit_with_marks  # type: ignore[assignment]
    sys.argv = ["sitegen", "build", "--site", site, "-q", *(["--now", now] if now else [])]
    cli.main()
    exit_with_marks(0)  # main returned instead of leaving through os._exit


def _usage() -> tuple[float, ...]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (own.ru_utime + own.ru_stime, workers.ru_utime, workers.ru_stime)


def phases(marks: list[list[object]], process_s: float) -> dict[str, tuple[float, ...]]:
    """Phase → (wall s, own CPU s, workers' user s, workers' sys s)."""
    at = {str(m[0]): (float(m[1]), tuple(m[2])) for m in marks}  # type: ignore[arg-type]
    names = [
        "start",
        "build_site start",
        "_sources start",
        "_sources end",
        "_render_units start",
        "_render_units end",
        "build_site end",
    ]
    missing = [n for n in names if n not in at]
    if missing:
        raise SystemExit(f"build_phases: no mark {missing}: not a clean build with workers?")
    result = {}
    for phase, (a, b) in zip(PHASES, itertools.pairwise(names), strict=True):
        (ta, ua), (tb, ub) = at[a], at[b]
        result[phase] = (tb - ta, ub[0] - ua[0], ub[1] - ua[1], ub[2] - ua[2])
    # start-up also holds the interpreter's own start, before `start` could be noted
    wall, *cpu = result["start-up"]
    inside = at["exit"][0] - at["start"][0]
    result["start-up"] = (wall + max(0.0, process_s - inside), *cpu)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=10_000, help="synthetic site size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--site", type=Path, help="an existing site.toml (its output and cache are rebuilt)"
    )
    parser.add_argument("--now", help="as `sitegen build --now` (default: the synthetic site's)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sitegen-bench-phases"))
    parser.add_argument("--no-settle", action="store_true", help="as bench/build.py's")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.now)
        return
    # bench/build.py's: .pyc files as an installed package has them, and moving output aside
    from build import SETTLE_S, compile_sitegen, delete_aside, move_aside, settle

    compile_sitegen()
    deleted_mark = args.workdir.with_name(args.workdir.name + ".deleted")
    settle(deleted_mark, 0 if args.no_settle else SETTLE_S)
    if args.site:
        site_file, now = args.site.resolve(), args.now
    else:
        root = args.workdir / f"n{args.alerts}-seed{args.seed}"
        if not (root / "site.toml").exists():
            print(f"writing {args.alerts:,} alerts to {root}", file=sys.stderr)
            synthetic.write_sitegen(root, synthetic.alerts(args.alerts, args.seed))
            os.sync()
            time.sleep(2.5)  # past sitegen's racy window, as bench/build.py waits
        site_file, now = root / "site.toml", args.now or synthetic.NOW.isoformat()
    site = site_file.parent
    trash = args.workdir / "set-aside"
    runs: list[dict[str, tuple[float, ...]]] = []
    for run in range(args.runs):
        move_aside(trash, site / "public", site / ".sitegen")
        command = [sys.executable, __file__, "--child", str(site_file)]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, *(["--now", now] if now else [])], capture_output=True, text=True
        )
        seconds = time.perf_counter() - started
        lines = [line for line in done.stdout.splitlines() if line.startswith('{"code"')]
        if done.returncode != 0 or not lines:
            sys.exit(f"build_phases: the build failed (exit {done.returncode}):\n{done.stderr}")
        runs.append(phases(json.loads(lines[-1])["marks"], seconds))
        print(f"  run {run + 1}: {seconds:.2f} s", file=sys.stderr)
    delete_aside(deleted_mark, trash)
    cores = os.cpu_count() or 1
    print(f"{'phase':<12} {'wall ms':>8} {'own CPU':>8} {'workers u/s ms':>15} {'busy':>5}")
    total = [0.0, 0.0, 0.0, 0.0]
    for phase in PHASES:
        values = [statistics.median(r[phase][i] for r in runs) for i in range(4)]
        total = [t + v for t, v in zip(total, values, strict=True)]
        print(_row(phase, values, cores))
    print(_row("total", total, cores))
    print(f"medians of {args.runs} runs on {cores} cores; site {site_file}")


def _row(name: str, values: list[float], cores: int) -> str:
    wall, own, user, kernel = values
    busy = (own + user + kernel) / (wall * cores) if wall > 0 else 0.0
    workers = f"{1e3 * user:.0f}/{1e3 * kernel:.0f}"
    return f"{name:<12} {1e3 * wall:>8.0f} {1e3 * own:>8.0f} {workers:>15} {busy:>5.0%}"


if __name__ == "__main__":
    main()
