"""1. Submitting a status update over HTTP: gunicorn (2 workers), wrk with 16 connections.

System: POST /api/v1/tasks/<id>/updates/ (DRF view, services.status_update_submit).
Baseline: POST /bench/tasks/<id>/updates/ on the same server (bench.baseline_http.submit): a
plain Django view doing the same job by hand SQL - token, scope, validation, the report, its
chained ledger event and the office's notification in one transaction.

Both sides commit. Each wrk run has its own targets file: every request a distinct (task,
period) of the task's lead department's token, in a year of its own, so every POST creates
(a non-2xx answer fails the benchmark). Runs alternate system, baseline, system, ... after one
warm-up run of each; the chain is verified over every event the runs appended.
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from bench.harness import ROOT, Row, free_port, server_env, throughput_row, wait_for


def _targets(tasks, tokens, prefix: str, year: int, path: Path, lines: int) -> None:
    """One line per request: a distinct (task, period) of year, with the lead's token."""
    with open(path, "w", encoding="utf-8") as out:
        written = 0
        for month in range(1, 13):
            for task_id, dept in tasks:
                body = json.dumps(
                    {
                        "period": f"{year}-{month:02d}",
                        "status": "on_schedule",
                        "progress": 50,
                        "narrative": "按计划推进。",
                        "explanation": "按计划推进,无滞后。",
                    },
                    ensure_ascii=False,
                )
                out.write(f"{prefix}{task_id}/updates/\t{tokens[dept]}\t{body}\n")
                written += 1
                if written == lines:
                    return


_SIDES = {"system": "/api/v1/tasks/", "baseline": "/bench/tasks/"}


def _tokens_and_tasks(count: int):
    from rest_framework.authtoken.models import Token

    from tasks_app.models import Task, User

    tokens = {}
    for user in User.objects.filter(role="staff").only("id", "department_id"):
        tokens[user.department_id] = Token.objects.get_or_create(user=user)[0].key
    tasks = list(Task.objects.values_list("id", "lead_department_id").order_by("id")[:count])
    return tokens, tasks


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


def _post(port: int, path: str, token: str, body: dict) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{path} answered {error.code}: {error.read()[:500]!r}") from None


# What differs between two reports of the same task by design: their ids, periods and times.
_OWN = {"id", "period", "created_at", "submitted_at"}


def same_job(port: int, task_id: int, token: str, year: int) -> str:
    """One report through each side, for the same task: the same answer (but its own id, period
    and times), the same ETag form, the same notification and delivery rows, and ledger events
    alike but for the report's own values. Raises when the two sides differ; says what it saw."""
    from tasks_app.models import AuditEvent, Delivery, Notification

    body = {"status": "on_schedule", "progress": 50, "narrative": "按计划推进。",
            "public_narrative": "公开:按计划推进。", "explanation": "无滞后。"}  # fmt: skip
    seen = {}
    for month, (side, prefix) in enumerate(_SIDES.items(), start=1):
        status, headers, answer = _post(
            port, f"{prefix}{task_id}/updates/", token, {**body, "period": f"{year}-{month:02d}"}
        )
        ref = f"update:{answer['id']}"
        event = AuditEvent.objects.get(
            action="status_update.submit", object_type="statusupdate", object_id=str(answer["id"])
        )
        seen[side] = {
            "status": status,
            "answer": {k: v for k, v in answer.items() if k not in _OWN},
            "fields": list(answer),
            "etag": headers.get("ETag", "").replace(str(answer["id"]), "<id>"),
            "notifications": sorted(
                (
                    n.recipient_id,
                    n.kind,
                    n.title.replace(f"{year}-{month:02d}", "<period>"),
                    n.body,
                    n.task_id,
                )
                for n in Notification.objects.filter(ref=ref)
            ),  # fmt: skip
            "deliveries": sorted(
                (
                    d.channel,
                    d.recipient_id,
                    d.subject.replace(f"{year}-{month:02d}", "<period>"),
                    d.body,
                    d.status,
                )
                for d in Delivery.objects.filter(key__startswith=f"{ref}:1:")
            ),  # fmt: skip
            "event": {
                "action": event.action,
                "actor": (
                    event.actor_id,
                    event.actor_username,
                    event.actor_role,
                    event.actor_department,
                ),  # fmt: skip
                "object_repr": event.object_repr.replace(f"{year}-{month:02d}", "<period>"),
                "after": {k: v for k, v in event.after.items() if k != "period"},
                "before": event.before,
                "hash_version": event.hash_version,
            },
        }
    system, baseline = seen["system"], seen["baseline"]
    differing = [key for key in system if system[key] != baseline[key]]
    if differing:
        raise RuntimeError(
            "the baseline does not do the system's job: "
            + "; ".join(f"{k}: {system[k]!r} vs {baseline[k]!r}" for k in differing)
        )
    if system["status"] != 201 or not system["notifications"]:
        raise RuntimeError(f"the same-job probe made no report or notification: {system}")
    return (
        f"same job checked: the same answer ({len(system['fields'])} fields), ETag, "
        f"{len(system['notifications'])} notification(s), {len(system['deliveries'])} "
        "delivery(ies) and ledger event"
    )


def chain_heads(task_ids: list[int]) -> dict[int, int]:
    """The first seq each chain of these tasks' governments will take; their heads made now (the
    baseline's hand SQL locks a head, it does not make one)."""
    from django.db import transaction

    from tasks_app.audit import ledger
    from tasks_app.models import Task

    governments = Task.objects.filter(pk__in=task_ids).values_list("government_id", flat=True)
    with transaction.atomic():
        return {g: ledger.lock_head(g)[0] + 1 for g in sorted(set(governments))}


def run(database_url: str, *, smoke: bool, runs: int = 5) -> list[Row]:
    from tasks_app.audit import ledger

    runs = 2 if smoke else runs
    seconds = 3 if smoke else 8
    tokens, tasks = _tokens_and_tasks(500 if smoke else 5000)
    lines = len(tasks) * 12
    workdir = Path(tempfile.mkdtemp(prefix="gaoxin-bench-"))
    sides = _SIDES
    from django.db.models import Min

    from tasks_app.models import StatusUpdate

    # Each run of each side submits for a year of its own, before any year already reported
    # (an earlier invocation's too): no (task, period) twice.
    earliest = StatusUpdate.objects.aggregate(first=Min("period"))["first"]
    year = min(earliest.year if earliest else 2000, 2020) - 2 * (runs + 1) - 1
    probe_year = year - 1  # the same-job check's two reports
    plan = []
    for number in range(runs + 1):  # round 0 warms both up
        for side, prefix in sides.items():
            path = workdir / f"{side}-{number}.tsv"
            _targets(tasks, tokens, prefix, year, path, lines)
            plan.append((number, side, path))
            year += 1
    firsts = chain_heads([task for task, _department in tasks])
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
    results = {"system": [], "baseline": []}
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz/")
        probe_task, probe_department = tasks[0]
        checked = same_job(port, probe_task, tokens[probe_department], probe_year)
        for number, side, path in plan:
            figures = _wrk(port, path, seconds)
            if figures["non2xx"]:
                raise RuntimeError(f"{side} run {number}: {figures['non2xx']} non-2xx answers")
            if figures["requests"] >= lines:
                raise RuntimeError(f"{side} run {number} ran out of distinct targets")
            if number:
                results[side].append(figures)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    verified = 0
    for government_id, first_seq in firsts.items():
        verification = ledger.verify(government_id=government_id, from_seq=first_seq)
        if not verification.ok:
            raise RuntimeError(f"a chain broke under the HTTP benchmark: {verification.broken}")
        verified += verification.checked
    pairs = [
        {"system": s["rps"], "baseline": b["rps"]}
        for s, b in zip(results["system"], results["baseline"], strict=True)
    ]
    system = sorted(results["system"], key=lambda f: f["rps"])[len(pairs) // 2]
    baseline = sorted(results["baseline"], key=lambda f: f["rps"])[len(pairs) // 2]
    return [
        throughput_row(
            "1. status update over HTTP (gunicorn 2 workers, 16 connections)",
            statistics.median(p["system"] for p in pairs),
            statistics.median(p["baseline"] for p in pairs),
            "requests/s",
            0.5,
            f"{len(pairs)} runs of {seconds}s each side, in turns; median runs: system p50 "
            f"{system['p50_ms']:.1f} ms p99 {system['p99_ms']:.1f} ms; baseline (plain Django "
            f"view, hand SQL, same job) p50 {baseline['p50_ms']:.1f} ms p99 "
            f"{baseline['p99_ms']:.1f} ms; every answer 201; {checked}; chains verified "
            f"over the {verified} events the runs appended",
            runs=pairs,
        )
    ]
