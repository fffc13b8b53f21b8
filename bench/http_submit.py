"""1. Submitting a status update over HTTP: gunicorn (2 workers), wrk with 16 connections.

The baseline is /bench/insert/ (bench.urls) on the same server: one INSERT, no auth, no checks.
Each request is a distinct (task, period) of the task's lead department, so every POST creates.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import ROOT, Row, free_port, server_env, throughput_row, wait_for


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
                        "explanation": "按计划推进,无滞后。",
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


def run(database_url: str, *, smoke: bool) -> list[Row]:
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
    port = free_port()
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
        env=server_env(database_url),
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz/")
        seconds = 3 if smoke else 20
        system = _wrk(port, targets, seconds)
        baseline = _wrk(port, Path(str(targets) + ".baseline"), seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    return [
        throughput_row(
            "1. status update over HTTP (gunicorn 2 workers, 16 connections)",
            system["rps"],
            baseline["rps"],
            "requests/s",
            0.5,
            f"system p50 {system['p50_ms']:.1f} ms p99 {system['p99_ms']:.1f} ms, "
            f"non-2xx {system['non2xx']}; baseline p50 {baseline['p50_ms']:.1f} ms "
            f"p99 {baseline['p99_ms']:.1f} ms",
        )
    ]
