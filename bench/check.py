"""`sitegen check` on the bench's synthetic site: with no cache, right after a build, and after
one alert changed since that build (what an official runs after every edit).

    /tmp/venv/bin/python bench/check.py [--alerts 10000] [--seed 1] [--runs 3] [--json]

Each run is the real command in a subprocess (`sitegen check --now …`, Python start-up
included), measured as bench/build.py measures (`measure`: wall time, and the CPU of the
command and of every worker it waited for, from wait4). Rounds are interleaved, one run of
each case per round:

    no cache      .sitegen/ and public/ set aside (renamed, as bench/build.py does)
    after build   a clean `sitegen build` (untimed), then check
    one changed   one alert's title edited after that build (a different alert each round),
                  then check

The medians of the runs are printed. Check writes nothing, so the cases do not disturb each
other; the site is written once per (N, seed) under --workdir and left to age past sitegen's
racy window (2.5 s) before the first run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402
from build import (  # noqa: E402
    SETTLE_S,
    SITEGEN,
    compile_sitegen,
    delete_aside,
    measure,
    move_aside,
    settle,
)

CASES = ("no cache", "after build", "one changed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=10_000, help="synthetic site size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sitegen-bench-check"))
    parser.add_argument("--no-settle", action="store_true", help="as bench/build.py's")
    args = parser.parse_args()
    compile_sitegen()
    deleted_mark = args.workdir.with_name(args.workdir.name + ".deleted")
    settle(deleted_mark, 0 if args.no_settle else SETTLE_S)
    root = args.workdir / f"n{args.alerts}-seed{args.seed}"
    items = synthetic.alerts(args.alerts, args.seed)
    print(f"writing {args.alerts:,} alerts to {root}", file=sys.stderr)
    synthetic.write_sitegen(root, items)
    os.sync()
    time.sleep(2.5)  # past sitegen's racy window, as bench/build.py waits
    now = ["--now", synthetic.NOW.isoformat()]
    site = ["--site", str(root / "site.toml")]
    trash = args.workdir / "set-aside"
    times: dict[str, list[tuple[float, float]]] = {case: [] for case in CASES}
    for run in range(args.runs):
        move_aside(trash, root / "public", root / ".sitegen")
        for case in CASES:
            if case == "after build":
                measure([str(SITEGEN), "build", "-q", *site, *now], root)
            elif case == "one changed":
                edited = items[run * 7 % len(items)]
                text = synthetic.sitegen_text(edited, edit=f" (corrected {run})")
                synthetic.sitegen_path(root, edited).write_text(text, encoding="utf-8")
            done = measure([str(SITEGEN), "check", *site, *now], root)
            times[case].append((done.seconds, done.user_s + done.sys_s))
            print(f"  run {run + 1} {case}: {done.seconds:.2f} s", file=sys.stderr)
    delete_aside(deleted_mark, trash)
    rows = [
        {
            "case": case,
            "alerts": args.alerts,
            "median_s": round(statistics.median(t[0] for t in times[case]), 3),
            "cpu_s": round(statistics.median(t[1] for t in times[case]), 3),
            "runs_s": [round(t[0], 3) for t in times[case]],
        }
        for case in CASES
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'alerts':>7}  {'case':<12} {'median s':>9} {'CPU s':>7}  runs")
    for row in rows:
        runs = ", ".join(f"{s:.2f}" for s in row["runs_s"])  # type: ignore[attr-defined]
        print(
            f"{row['alerts']:>7,}  {row['case']:<12} {row['median_s']:>9.3f} "
            f"{row['cpu_s']:>7.3f}  {runs}"
        )


if __name__ == "__main__":
    main()
