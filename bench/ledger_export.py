"""Benchmark 4: an auditor's CSV export of the ledger against psql's COPY of the same rows.

System: the background export job an auditor starts for a large ledger (exports.export_start,
then exports.export_job_run: the CSV written, hashed, stored, the manifest saved), run in a
fresh Python process so that its own peak RSS is what is measured.
Baseline: `psql -c "\\copy (SELECT the same columns of the same events ORDER BY seq) TO file
CSV HEADER"`. Both export every event up to the chain head (at scale 1.0 about 1.5 million; the
issue's "1M rows" is a lower bound), so the figures are rows per second.
Goal: the system's throughput >= 0.7x COPY's, with the system's peak RSS under 150 MB.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import ROOT, server_env, throughput_row

GOAL_RATIO = 0.7
GOAL_PEAK_MB = 150
AUDITOR = "bench-auditor"
COLUMNS = (
    "seq, created_at, actor_id, actor_username, actor_role, actor_department, action, "
    "object_type, object_id, object_repr, before, after, ip, user_agent, request_id, "
    "prev_hash, hash"
)

# Runs in the child: start the export as the auditor, run the job, report rows, time and RSS.
CHILD = """
import json, sys, time
import django
django.setup()


def peak_mb():
    # VmHWM, not ru_maxrss: a child spawned by a big parent inherits the parent's ru_maxrss.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024



from tasks_app.audit import export_jobs as exports
from tasks_app.models import User
auditor = User.objects.get(username=sys.argv[1])
started = time.perf_counter()
job = exports.export_start(
    actor=auditor, kind="ledger", format="csv", filters={}, background=True
)
job = exports.export_job_run(job_id=job.pk)
seconds = time.perf_counter() - started
print(json.dumps({
    "seconds": seconds,
    "rows": job.manifest["row_count"],
    "last_seq": job.manifest["last_seq"],
    "bytes": job.manifest["file_bytes"],
    "path": job.file.path,
    "peak_mb": peak_mb(),
}))
"""


def _auditor() -> None:
    from tasks_app.models import Role, User
    from tasks_app.plans import services

    if not User.objects.filter(username=AUDITOR).exists():
        services.user_create(
            actor=None, username=AUDITOR, password="bench-password", role=Role.AUDITOR
        )


def _system(database_url: str, media: str) -> dict:
    env = server_env(database_url)
    env["MEDIA_ROOT"] = media
    result = subprocess.run(
        [sys.executable, "-c", CHILD, AUDITOR],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _baseline(database_url: str, last_seq: int, path: str) -> dict:
    # The auditor's own government's chain, as the export job writes it.
    query = (
        f"SELECT {COLUMNS} FROM tasks_app_auditevent WHERE seq <= {int(last_seq)} "
        "AND government_id = (SELECT government_id FROM tasks_app_user "
        f"WHERE username = '{AUDITOR}') ORDER BY seq"
    )
    command = ["psql", "-X", "-q", database_url, "-c", f"\\copy ({query}) TO '{path}' CSV HEADER"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    with open(path, "rb") as handle:
        rows = sum(1 for _ in handle)  # no embedded newlines in generated rows: lines = rows + 1
    return {"seconds": seconds, "rows": rows - 1, "bytes": os.path.getsize(path)}


def _head_seq() -> int:
    from tasks_app.audit import ledger

    return ledger.head().seq + 1  # the export's own event, which it includes


def _settle() -> None:
    """VACUUM ANALYZE the ledger, as autovacuum would after the bulk load: neither side pays
    for setting hint bits on freshly loaded rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) tasks_app_auditevent")


def _row(name: str, pairs: list[dict], extra_note: str) -> object:
    """One row from (system, baseline) pairs of runs: medians of rows/s, every run recorded."""
    import statistics

    rates = [
        {
            "system": p["system"]["rows"] / p["system"]["seconds"],
            "baseline": p["baseline"]["rows"] / p["baseline"]["seconds"],
        }
        for p in pairs
    ]
    peaks = [p["system"]["peak_mb"] for p in pairs]
    last = pairs[-1]
    row = throughput_row(
        name,
        statistics.median(r["system"] for r in rates),
        statistics.median(r["baseline"] for r in rates),
        "rows/s",
        GOAL_RATIO,
        notes=(
            f"{last['system']['rows']} rows (every event up to the chain head); "
            f"{len(pairs)} runs in turns (export job, then COPY of the same rows); system "
            f"{statistics.median(p['system']['seconds'] for p in pairs):.1f}s median, peak RSS "
            f"of each run {', '.join(f'{m:.0f}' for m in peaks)} MB (goal < {GOAL_PEAK_MB}), "
            f"file {last['system']['bytes'] / 1e6:.1f} MB; COPY "
            f"{statistics.median(p['baseline']['seconds'] for p in pairs):.1f}s median, file "
            f"{last['baseline']['bytes'] / 1e6:.1f} MB{extra_note}"
        ),
        runs=[dict(r, peak_mb=m) for r, m in zip(rates, peaks, strict=True)],
    )
    row.meets_goal = row.meets_goal and max(peaks) < GOAL_PEAK_MB
    row.goal += f" and peak RSS < {GOAL_PEAK_MB} MB in every run"
    row.extra["rows"] = last["system"]["rows"]
    return row


def run(database_url: str, *, smoke: bool, scaling: bool = False) -> list:
    """Three rows at the main scale (the benchmark run three times, each five pairs of runs in
    turns after a warm-up pair); one row on a scaling run; smoke: one row of two pairs."""
    _auditor()
    _settle()
    repeats = 1 if (smoke or scaling) else 3
    runs = 2 if smoke else 5
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ledger-export-") as folder:
        copy_path = os.path.join(folder, "copy.csv")
        for repeat in range(repeats):
            pairs = []
            for number in range(runs + (0 if smoke else 1)):
                system = _system(database_url, media=folder)
                Path(system["path"]).unlink()
                baseline = _baseline(database_url, system["last_seq"], copy_path)
                if baseline["rows"] != system["rows"]:
                    raise RuntimeError(f"COPY wrote {baseline['rows']}, the export {system}")
                if number or smoke:  # round 0 warms both up (page cache, connections)
                    pairs.append({"system": system, "baseline": baseline})
            name = "4. ledger CSV export (export job) vs psql \\copy, rows/s"
            if repeats > 1:
                name += f", run {repeat + 1} of {repeats}"
            row = _row(name, pairs, "")
            if scaling or repeats == 1:
                row.series = "4. ledger CSV export"
            elif repeat == 0:
                row.series = "4. ledger CSV export"
            rows.append(row)
    return rows
