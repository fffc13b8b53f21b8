"""`make bench`: each figure of the system against the fastest way to do the same job, same run.

Writes bench/results.json (rows: name, system, baseline, unit, ratio, goal, meets_goal, notes,
plus the machine, date and data sizes) and prints a table. --smoke runs every benchmark at a tiny
scale only to prove the harness works (CI); smoke runs never overwrite results.json.

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/gaoxin_bench,
recreated each run unless --reuse) and, for the HTTP benchmark, `wrk` (Debian package).

    python -m bench.run                     # the province (scale 1.0), every benchmark
    python -m bench.run --only ledger_export --reuse   # one benchmark on the last generated data
    python -m bench.run --scales 0.5,2      # then the scaling rows at those province sizes

After a full run it also rewrites bench/RESULTS.md from results.json (bench.report).
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
# The scaling ones are run again on provinces of other sizes (--scales).
BENCHMARKS = [
    "http_submit",
    "stats_overview",
    "reminder_sweep",
    "ledger_export",
    "ledger_append",
    "ledger_governments",
    "imports",
]
SCALING = ["stats_overview", "reminder_sweep", "ledger_export"]


def _table(rows) -> str:
    lines = [f"{'benchmark':<62} {'scale':>5} {'system':>12} {'baseline':>12} {'ratio':>7}  goal"]
    for row in rows:
        mark = "met" if row.meets_goal else "MISSED"
        lines.append(
            f"{row.name[:62]:<62} {row.scale:>5} {row.system:>12} {row.baseline:>12} "
            f"{row.ratio:>7}  {row.goal} {mark}"
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


def _province(database_url: str, scale: float, without) -> dict:
    """A fresh database holding a generated province of the given size: its row counts."""
    from django.db import connections

    connections.close_all()
    fresh_database(database_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        check=True,
        env=server_env(database_url),
    )
    import django

    django.setup()
    from bench.generate import generate

    started = time.monotonic()
    # At least 9 governments: benchmark 7 (ledger_governments) needs 8 writers' governments and
    # one more, at the smoke run's tiny scale too.
    counts = generate(scale=scale, seed=7, without=tuple(without), min_governments=9).rows
    print(f"generated scale {scale}: {counts} in {time.monotonic() - started:.1f}s", flush=True)
    return counts


def _benchmark(
    name: str, database_url: str, smoke: bool, scale: float, empty: list, scaling: bool = False
) -> list:
    module = importlib.import_module(f"bench.{name}")
    started = time.monotonic()
    extra = {"scaling": True} if scaling else {}
    produced = module.run(database_url, smoke=smoke, **extra)
    if not produced:
        empty.append(f"{name} (scale {scale})")
    for row in produced:
        row.scale = scale
        print(
            f"[scale {scale}] {row.name}: {row.system} vs {row.baseline} {row.unit}, ratio "
            f"{row.ratio} ({row.goal}: {'met' if row.meets_goal else 'MISSED'}) {row.notes}",
            flush=True,
        )
    print(f"  ({name} at scale {scale} took {time.monotonic() - started:.0f}s)", flush=True)
    return produced


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
    parser.add_argument(
        "--scales",
        default="",
        help="comma-separated extra province sizes for the scaling benchmarks, e.g. 0.5,2",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="only the scaling benchmarks, as a scaling run, at --scale (alongside another run; "
        "bench.report --merge adds its rows)",
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.update(server_env(database_url))
    scale = 0.01 if args.smoke else args.scale
    extra_scales = [float(s) for s in args.scales.split(",") if s.strip()]
    import django

    counts = {} if args.reuse else _province(database_url, scale, args.without)
    django.setup()
    rows, empty, failures = [], [], []
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
        "data_by_scale": {str(scale): counts},
        "rows": [],
    }
    # One benchmark's run (--only) writes results only where --output names a file (to be
    # put in place of its rows by bench.report --rerun), never over results.json.
    default_output = str(ROOT / "bench" / "results.json")
    keep = not args.smoke and (args.scaling or not args.only or args.output != default_output)

    def save() -> None:
        """results.json after every benchmark: a run cut short keeps what it measured."""
        report["rows"] = [asdict(r) for r in rows]
        if keep:
            Path(args.output).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")

    for name in SCALING if args.scaling else args.only or BENCHMARKS:
        try:
            rows += _benchmark(name, database_url, args.smoke, scale, empty, args.scaling)
        except Exception as error:  # noqa: BLE001 - reported, fails the run, the rest still runs
            import traceback

            traceback.print_exc()
            failures.append(f"{name}: {error!r}")
        save()
    for extra in extra_scales:
        try:
            report["data_by_scale"][str(extra)] = _province(database_url, extra, [])
            for name in [n for n in SCALING if n in (args.only or BENCHMARKS)]:
                rows += _benchmark(name, database_url, args.smoke, extra, empty, scaling=True)
                save()
        except Exception as error:  # noqa: BLE001 - the other scales' rows still count
            import traceback

            traceback.print_exc()
            failures.append(f"scale {extra}: {error!r}")
    report["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    save()
    print(_table(rows))
    problems = _malformed(rows) + [f"bench.{name} gave no rows" for name in empty] + failures
    if problems:
        print("FAIL: " + "; ".join(problems), file=sys.stderr)
        return 1
    from bench import report as results_report

    rendered = results_report.render(report)  # the smoke run proves the report renders too
    if keep and not args.scaling and not args.only:
        (ROOT / "bench" / "RESULTS.md").write_text(rendered, encoding="utf-8")
        print(f"wrote {args.output} and bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
