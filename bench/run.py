"""`make bench`: each figure of the system against the fastest way to do the same job, same run.

Writes bench/results.json (rows: name, system, baseline, unit, ratio, goal, meets_goal) and prints
a table. --smoke runs every benchmark at a tiny scale, only to prove the harness works (CI).

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/gaoxin_bench,
recreated each run) and, for the HTTP benchmark, `wrk` (Debian package) and gunicorn.
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gaoxin_bench"


@dataclass
class Row:
    name: str
    system: float
    baseline: float
    unit: str
    ratio: float
    goal: str
    meets_goal: bool
    notes: str = ""


def _env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 60,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="bench.settings",
    )
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    return env


def fresh_database(database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    import psycopg2

    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


# --- 1. Submitting a status update over HTTP ----------------------------------------------------


def _http_targets(count: int, path: Path) -> None:
    """One line per request: a distinct (task, period) of the reporting department's token."""
    from rest_framework.authtoken.models import Token

    from tasks_app.models import Task, User

    tokens = {}
    for user in User.objects.filter(role="staff").only("id", "department_id"):
        tokens[user.department_id] = Token.objects.get_or_create(user=user)[0].key
    tasks = list(Task.objects.values_list("id", "lead_department_id").order_by("id")[:count])
    periods = [f"2026-{m:02d}" for m in range(1, 11)]
    with open(path, "w", encoding="utf-8") as out:
        for period in periods:
            for task_id, dept in tasks:
                body = json.dumps(
                    {
                        "period": period,
                        "status": "on_schedule",
                        "progress": 50,
                        "narrative": "按计划推进。",
                    },
                    ensure_ascii=False,
                )
                out.write(f"/api/v1/tasks/{task_id}/updates/\t{tokens[dept]}\t{body}\n")
    with open(str(path) + ".baseline", "w", encoding="utf-8") as out:
        for period in periods:
            for task_id, _dept in tasks:
                out.write(f"/bench/insert/\t\t{json.dumps({'task': task_id, 'period': period})}\n")


def _wrk(port: int, targets: Path, seconds: int, connections: int = 16) -> dict:
    threads = 2
    env = dict(os.environ, BENCH_TARGETS=str(targets), BENCH_THREADS=str(threads))
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "wrk_post.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    match = re.search(
        r"RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) "
        r"non2xx=(\d+)",
        result.stdout,
    )
    if not match:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    requests, duration, p50, p99, non2xx = map(int, match.groups())
    return {
        "rps": requests / (duration / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "non2xx": non2xx,
        "requests": requests,
    }


def bench_http_submit(database_url: str, *, smoke: bool) -> Row:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY, "
            "task_id bigint NOT NULL, body text NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )
    workdir = Path(tempfile.mkdtemp(prefix="gaoxin-bench-"))
    targets = workdir / "targets.tsv"
    _http_targets(500 if smoke else 30000, targets)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "gaoxin.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=_env(database_url),
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz/")
        seconds = 3 if smoke else 20
        system = _wrk(port, targets, seconds)
        baseline = _wrk(port, Path(str(targets) + ".baseline"), seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = system["rps"] / baseline["rps"]
    return Row(
        "status update over HTTP (gunicorn 2 workers, 16 connections)",
        round(system["rps"], 1),
        round(baseline["rps"], 1),
        "requests/s",
        round(ratio, 3),
        "ratio >= 0.5",
        ratio >= 0.5,
        f"system p50 {system['p50_ms']:.1f} ms p99 {system['p99_ms']:.1f} ms, "
        f"non-2xx {system['non2xx']}; baseline p50 {baseline['p50_ms']:.1f} ms "
        f"p99 {baseline['p99_ms']:.1f} ms",
    )


# --- Harness --------------------------------------------------------------------------------

BENCHMARKS = [bench_http_submit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny scale: prove it runs")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.update(_env(database_url))
    fresh_database(database_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        check=True,
        env=_env(database_url),
    )
    import django

    django.setup()
    from bench.generate import generate

    scale = 0.01 if args.smoke else args.scale
    started = time.monotonic()
    counts = generate(scale=scale, seed=7)
    print(f"generated {counts.rows} in {time.monotonic() - started:.1f}s", flush=True)
    rows = []
    for bench in BENCHMARKS:
        row = bench(database_url, smoke=args.smoke)
        print(
            f"{row.name}: {row.system} vs {row.baseline} {row.unit}, ratio {row.ratio} "
            f"({row.goal}: {'met' if row.meets_goal else 'MISSED'}) {row.notes}",
            flush=True,
        )
        rows.append(row)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "smoke": args.smoke,
        "scale": scale,
        "data": counts.rows,
        "rows": [asdict(r) for r in rows],
    }
    if not args.smoke:
        Path(args.output).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(report["rows"], ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
