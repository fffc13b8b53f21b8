"""bench/RESULTS.md, written from bench/results.json by code: every figure in it is the run's.

    python -m bench.report            # rewrite bench/RESULTS.md from bench/results.json
    python -m bench.report --merge bench/results_scale2.json
        # first add the rows of another run at scales results.json lacks (a scaling run made
        # alongside, or an earlier full run's scaling rows), then rewrite RESULTS.md
    python -m bench.report --rerun bench/results_rerun.json
        # a benchmark run again (--only, --output): its rows replace the rows of the same
        # benchmark and scale, marked as measured by that run; the rows replaced are kept
        # under "replaced", figures and all

What was changed because of earlier figures (prose without figures of this run) is kept by hand
in bench/HISTORY.md; this file only links to it.
"""

import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _figure(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _side(row: dict, side: str) -> str:
    median = _figure(row[side])
    spread = row.get(f"{side}_range") or []
    if len(spread) == 2:
        return f"{median} ({_figure(spread[0])}-{_figure(spread[1])})"
    return median


def _verdict(row: dict) -> str:
    if row["goal"].startswith("recorded"):
        return "recorded"
    return "met" if row["meets_goal"] else "**missed**"


def _main_table(rows: list[dict]) -> list[str]:
    lines = [
        "| benchmark | system, median (min-max) | baseline, median (min-max) | unit | runs "
        "| ratio | goal | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | {_side(row, 'system')} | {_side(row, 'baseline')} | "
            f"{row['unit']} | {len(row.get('runs') or []) or 1} | {row['ratio']} | "
            f"{row['goal']} | {_verdict(row)} |"
        )
    return lines


def _growth(points: list[tuple[float, float]]) -> str:
    """How a side's cost grows with the province: the exponent k of cost ~ scale^k between the
    smallest and the largest scale (1 = linear). The baseline's beside the system's tells the
    data's own growth (the same rows, sorted and joined) from the system's."""
    points = sorted(points)
    (s0, c0), (s1, c1) = points[0], points[-1]
    if c0 <= 0 or c1 <= 0 or s0 == s1:
        return "n/a"
    exponent = math.log(c1 / c0) / math.log(s1 / s0)
    shape = "linear or better" if exponent <= 1.1 else "worse than linear"
    return f"{shape} (cost ∝ scale^{exponent:.2f})"


def _cost(row: dict, side: str = "system") -> float:
    """A side's cost per run: time rows as they are, throughput rows as 1/rate × rows."""
    if row["unit"] == "rows/s":
        rows = row.get("extra", {}).get("rows") or 1
        return rows / row[side]
    return row[side]


def _scaling(rows: list[dict]) -> list[str]:
    series: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("scale") is not None and row.get("series"):
            series.setdefault(row["series"], []).append(row)
    series = {k: v for k, v in series.items() if len({r["scale"] for r in v}) > 1}
    if not series:
        return ["No scaling rows in this run."]
    scales = sorted({r["scale"] for rows_ in series.values() for r in rows_})
    head = " | ".join(f"scale {s:g}" for s in scales)
    lines = [
        f"| series | {head} | system's growth | baseline's growth |",
        "|---|" + "---|" * len(scales) + "---|---|",
    ]
    for name, items in series.items():
        by_scale = {r["scale"]: r for r in items}
        cells = []
        for scale in scales:
            row = by_scale.get(scale)
            if row is None:
                cells.append("")
                continue
            mark = "" if row["meets_goal"] or row["goal"].startswith("recorded") else " ✗"
            cells.append(
                f"{_figure(row['system'])} vs {_figure(row['baseline'])} {row['unit']}, "
                f"ratio {row['ratio']}{mark}"
            )
        growth = _growth([(r["scale"], _cost(r)) for r in items])
        baseline = _growth([(r["scale"], _cost(r, "baseline")) for r in items])
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {growth} | {baseline} |")
    return lines


def render(report: dict) -> str:
    rows = report["rows"]
    at_scale = {r["name"] for r in rows if r.get("scale") in (None, report["scale"])}
    # The run's rows, and rows measured on their own at another scale (their notes say so).
    main = [
        r for r in rows if r.get("scale") in (None, report["scale"]) or r["name"] not in at_scale
    ]
    machine = report["machine"]
    data = ", ".join(f"{k} {v:,}" for k, v in report.get("data", {}).items())
    out = [
        "# Benchmark results",
        "",
        "Written by `python -m bench.report` from `bench/results.json` (the last full `make "
        "bench`); do not edit by hand. What was changed because of earlier figures is in "
        "`bench/HISTORY.md`; what each benchmark and baseline does is in each `bench/*.py` "
        "docstring and in the README.",
        "",
        f"Run: {report['date']}, scale {report['scale']}. Machine: {machine['cpus']} CPUs "
        f"({machine['cpu']}), {machine['memory_gb']} GB, {machine['platform']}, Python "
        f"{machine['python']}. Other jobs shared the machine: each pair of figures was taken "
        "in turns (system, baseline, system, ...), so the load fell on both; the ratio is "
        "the ratio of the medians.",
        "",
        f"Data at scale {report['scale']}: {data}."
        + "".join(
            f" At scale {k}: {v.get('task', 0):,} tasks, {v.get('auditevent', 0):,} ledger "
            f"events, {v.get('reminder', 0):,} reminders."
            for k, v in report.get("data_by_scale", {}).items()
            if float(k) != report["scale"]
        ),
        "",
        "## Every benchmark",
        "",
        *_main_table(main),
        "",
    ]
    met = [r for r in main if not r["goal"].startswith("recorded")]
    missed = [r["name"] for r in met if not r["meets_goal"]]
    out += [
        f"Goals met: {len(met) - len(missed)} of {len(met)}."
        + (" Missed: " + "; ".join(missed) + "." if missed else ""),
        "",
        "## How cost grows with the province",
        "",
        "The same benchmarks on provinces generated at each scale (scale 1 = 143 governments × "
        "200 tasks). Growth is each side's cost (time per run; for the export, seconds per "
        "export) between the smallest and the largest scale; where the system grows faster "
        "than linear, the baseline's column shows whether the same rows do too.",
        "",
        *_scaling(rows),
        "",
        "## Notes per benchmark",
        "",
    ]
    for row in main:
        out.append(f"- **{row['name']}**: {row.get('notes', '')}")
    plans = [(r["name"], r["extra"]["explain"]) for r in main if r.get("extra", {}).get("explain")]
    if plans:
        out += ["", "## The baselines' plans (EXPLAIN ANALYZE, this run)", ""]
        for name, plan in plans:
            out += [f"{name}:", "", "```", *plan, "```", ""]
    return "\n".join(out).rstrip() + "\n"


def merge(report: dict, other: dict) -> dict:
    """report with the rows of other (another run: a --scaling run alongside, or an earlier full
    run's scaling rows) added, each marked with that run's date; rows of a scale report already
    has are left out."""
    have = {row.get("scale") for row in report["rows"]}
    for row in other["rows"]:
        if row.get("scale") in have:
            continue
        row = dict(row)
        row["notes"] = (
            f"measured by another run of the benchmarks ({other['date']}, scale {row['scale']})"
            "; " + row.get("notes", "")
        )
        report["rows"].append(row)
    report.setdefault("data_by_scale", {}).update(other.get("data_by_scale", {}))
    return report


def rerun(report: dict, other: dict) -> dict:
    """report with other's rows (a benchmark run again) in place of the rows of the same name
    (up to " vs ") and scale, each marked with that run's date; the rows replaced are kept
    under "replaced"."""

    def key(row) -> tuple:
        return (row["name"].split(" vs ")[0], row.get("scale"))

    new = {key(row): row for row in other["rows"]}
    rows = []
    for row in report["rows"]:
        if key(row) in new:
            report.setdefault("replaced", []).append(row)
            row = dict(new.pop(key(row)))
            row["notes"] = (
                f"measured by a run of this benchmark again ({other['date']}); "
                + row.get("notes", "")
            )
        rows.append(row)
    if new:
        raise SystemExit(f"no row to replace for {sorted(new)}")
    report["rows"] = rows
    return report


def main() -> int:
    arguments = sys.argv[1:]
    source = HERE / "results.json"
    report = json.loads(source.read_text(encoding="utf-8"))
    if arguments[:1] == ["--merge"]:
        for path in arguments[1:]:
            report = merge(report, json.loads(Path(path).read_text(encoding="utf-8")))
        source.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        print(f"merged {', '.join(arguments[1:])} into {source}")
    if arguments[:1] == ["--rerun"]:
        for path in arguments[1:]:
            report = rerun(report, json.loads(Path(path).read_text(encoding="utf-8")))
        source.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        print(f"replaced rows from {', '.join(arguments[1:])} in {source}")
    (HERE / "RESULTS.md").write_text(render(report), encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
