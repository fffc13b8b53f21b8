"""`make bench`: each figure of the system against the fastest way to do the same job, same run.

Writes bench/results.json (rows: name, system, baseline, unit, ratio, goal, meets_goal, notes,
plus the machine, date and data sizes) and prints a table. --smoke runs every benchmark at a tiny
scale only to prove the harness works (CI); smoke runs never overwrite results.json.

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/gaoxin_bench,
recreated each run unless --reuse) and, for the HTTP benchmark, `wrk` (Debian package).

    python -m bench.run                     # the province (scale 1.0), every benchmark
    python -m bench.run --only ledger_export --reuse   # one benchmark on the last generated data
"""

import argparse
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.harness import DEFAULT_URL, ROOT, fresh_database, server_env

# Each module has run(database_url, *, smoke) -> list[Row].
BENCHMARKS = [
    "http_submit",
    "stats_overview",
    "reminder_sweep",
    "ledger_export",
    "ledger_append",
    "imports",
]


def _table(rows) -> str:
    lines = [f"{'benchmark':<62} {'system':>12} {'baseline':>12} {'ratio':>7}  goal"]
    for row in rows:
        mark = "met" if row.meets_goal else "MISSED"
        lines.append(
            f"{row.name[:62]:<62} {row.system:>12} {row.baseline:>12} {row.ratio:>7}  "
            f"{row.goal} {mark}"
        )
    return "\n".join(lines)


def _malformed(rows) -> list[str]:
    """Figures that are not measurements: nothing timed, nothing to compare against."""
    problems = []
    for row in rows:
        if not (row.system > 0 and row.baseline > 0 and math.isfinite(row.ratio)):
            problems.append(f"{row.name}: system {row.system}, baseline {row.baseline}")
    return problems


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny scale: prove it runs")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", action="append", choices=BENCHMARKS)
    parser.add_argument("--reuse", action="store_true", help="keep the generated database")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=["reminders", "ledger"],
        help="generate without these rows (while developing one benchmark)",
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.update(server_env(database_url))
    scale = 0.01 if args.smoke else args.scale
    counts = {}
    if not args.reuse:
        fresh_database(database_url)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            check=True,
            env=server_env(database_url),
        )
    import django

    django.setup()
    if not args.reuse:
        from bench.generate import generate

        started = time.monotonic()
        counts = generate(scale=scale, seed=7, without=tuple(args.without)).rows
        print(f"generated {counts} in {time.monotonic() - started:.1f}s", flush=True)
    rows, empty = [], []
    for name in args.only or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        started = time.monotonic()
        produced = module.run(database_url, smoke=args.smoke)
        if not produced:
            empty.append(name)
        for row in produced:
            print(
                f"{row.name}: {row.system} vs {row.baseline} {row.unit}, ratio {row.ratio} "
                f"({row.goal}: {'met' if row.meets_goal else 'MISSED'}) {row.notes}",
                flush=True,
            )
            rows.append(row)
        print(f"  ({name} took {time.monotonic() - started:.0f}s)", flush=True)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": _cpu_model(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "smoke": args.smoke,
        "scale": scale,
        "data": counts,
        "rows": [asdict(r) for r in rows],
    }
    print(_table(rows))
    problems = _malformed(rows) + [f"bench.{name} gave no rows" for name in empty]
    if problems:
        print("FAIL: " + "; ".join(problems), file=sys.stderr)
        return 1
    if not args.smoke and not args.only:
        Path(args.output).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
