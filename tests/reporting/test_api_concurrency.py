"""Concurrent writers through the API: one stale-ETag winner, and retries that write once.

The threaded tests need PostgreSQL (row locks, concurrent connections); they run in CI and locally
with DATABASE_URL=postgres://... . The sequential idempotency test runs on every database.
"""

import datetime as dt
import itertools
import queue
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tasks_app.models import IdempotencyRecord, StatusUpdate, Task
from tasks_app.plans import services

THREADS = 20
IDEMPOTENT_WORKERS = 8
TASK_CODES = [  # 13 tasks x 12 months of 2020 leaves room for 150 distinct reports
    "3.3.09", "1.1.01", "1.1.02", "1.1.03", "1.1.04", "1.1.05", "1.1.06", "1.1.07", "1.1.08",
    "1.1.09", "1.2.01", "1.2.02", "1.2.03",
]  # fmt: skip


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _assign(plan, code, department, office) -> Task:
    return services.task_assign(
        actor=office,
        task=plan.tasks.get(code=code),
        lead_department=department,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )


@pytest.fixture
def task(plan, economic_bureau, supervisor) -> Task:
    return _assign(plan, "3.3.09", economic_bureau, supervisor)


@pytest.fixture
def tasks(plan, economic_bureau, supervisor) -> list[Task]:
    return [_assign(plan, code, economic_bureau, supervisor) for code in TASK_CODES]


def race(user, count: int, request) -> list:
    """Run request(client, i) in count threads released together; the responses in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i):
        client = api(user)
        try:
            barrier.wait(timeout=30)
            results[i] = request(client, i)
        except Exception as exc:  # surfaced by the assertions below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _statuses(responses) -> list:
    return sorted(getattr(r, "status_code", repr(r)) for r in responses)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_office_users_patching_one_task_with_the_same_etag_leave_one_winner(
    task, supervisor
):
    url = f"/api/v1/tasks/{task.pk}/"
    etag = api(supervisor).get(url)["ETag"]
    before = Task.objects.get(pk=task.pk).version

    responses = race(
        supervisor,
        THREADS,
        lambda client, i: client.patch(url, {"title": f"t{i}"}, format="json", HTTP_IF_MATCH=etag),
    )

    assert _statuses(responses) == [200] + [412] * (THREADS - 1)
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    assert all(r.json()["code"] == "stale_version" for r in responses if r.status_code == 412)
    task.refresh_from_db()
    assert (task.title, task.version) == (f"t{winner}", before + 1)
    assert responses[winner]["ETag"] == f'"task-{task.pk}-v{before + 1}"'


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_corrections_of_one_status_update_with_the_same_etag_leave_one_winner(task, clerk):
    created = api(clerk).post(
        f"/api/v1/tasks/{task.pk}/updates/",
        {
            "period": "2020-03",
            "status": "on_schedule",
            "progress": 30,
            "narrative": "三月进展。",
            "explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    url, etag = f"/api/v1/updates/{created.json()['id']}/", created["ETag"]

    responses = race(
        clerk,
        THREADS,
        lambda client, i: client.patch(
            url, {"narrative": f"n{i}", "progress": 31 + i}, format="json", HTTP_IF_MATCH=etag
        ),
    )

    assert _statuses(responses) == [200] + [412] * (THREADS - 1)
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    update = StatusUpdate.objects.get(pk=created.json()["id"])
    assert (update.narrative, update.progress, update.version) == (f"n{winner}", 31 + winner, 2)


# --- Idempotency-Key: 200 requests, 50 of them retries ------------------------------------------


def idempotency_jobs(tasks: list[Task]) -> list[tuple[str, str, dict]]:
    """150 distinct (url, key, body) reports and 50 retries, each retry after its original."""
    slots = itertools.product(tasks, range(1, 13))
    originals = [
        (
            f"/api/v1/tasks/{t.pk}/updates/",
            f"key-{n}",
            {
                "period": f"2020-{month:02d}",
                "status": "on_schedule",
                "progress": month * 5,
                "narrative": f"第{n}份报送。",
                "explanation": "情况说明:受前期手续影响滞后,正在加快推进。",
            },
        )
        for n, (t, month) in zip(range(150), slots, strict=False)
    ]
    jobs = []
    for n, job in enumerate(originals):
        jobs.append(job)
        if n % 3 == 2:  # retry a request from a few positions back
            jobs.append(originals[n - 2])
    assert (len(jobs), len({key for _url, key, _body in jobs})) == (200, 150)
    return jobs


def post(client, job):
    url, key, body = job
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def assert_written_once(jobs, responses) -> None:
    assert StatusUpdate.objects.count() == 150
    assert IdempotencyRecord.objects.count() == 150
    first_by_key: dict = {}
    for (_url, key, _body), response in zip(jobs, responses, strict=True):
        assert response.status_code == 201, response.content.decode()
        first_by_key.setdefault(key, response.json())
        assert response.json() == first_by_key[key]
    assert len({body["id"] for body in first_by_key.values()}) == 150


@pytest.mark.django_db
def test_retried_reports_with_an_idempotency_key_are_written_once(tasks, clerk):
    jobs = idempotency_jobs(tasks)
    client = api(clerk)
    responses = [post(client, job) for job in jobs]
    assert_written_once(jobs, responses)
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_retries_with_an_idempotency_key_are_written_once(tasks, clerk):
    jobs = idempotency_jobs(tasks)
    pending: queue.Queue = queue.Queue()
    for index, job in enumerate(jobs):
        pending.put((index, job))
    responses: list = [None] * len(jobs)
    barrier = threading.Barrier(IDEMPOTENT_WORKERS)

    def worker():
        client = api(clerk)
        try:
            barrier.wait(timeout=30)
            while True:
                try:
                    index, job = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    responses[index] = post(client, job)
                except Exception as exc:  # reported by assert_written_once
                    responses[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(IDEMPOTENT_WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(r is not None and not isinstance(r, Exception) for r in responses), [
        r for r in responses if r is None or isinstance(r, Exception)
    ]
    assert_written_once(jobs, responses)


# --- One report per task and period, however many clerks race for it --------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_clerks_racing_to_report_one_period_leave_one_report_and_one_ledger_event(
    task, clerk
):
    from tasks_app.audit import ledger
    from tasks_app.models import AuditEvent

    events_before = AuditEvent.objects.filter(action="status_update.submit").count()

    def march_report(client, i):
        body = {
            "period": "2020-03",
            "status": "on_schedule",
            "progress": 30 + i,
            "narrative": "三",
            "explanation": "说明",
        }
        return client.post(f"/api/v1/tasks/{task.pk}/updates/", body, format="json")

    responses = race(clerk, THREADS, march_report)

    assert _statuses(responses) == [201] + [409] * (THREADS - 1)
    assert all(r.json()["code"] == "duplicate_period" for r in responses if r.status_code == 409)
    winner = next(i for i, r in enumerate(responses) if r.status_code == 201)
    [update] = StatusUpdate.objects.filter(task=task)
    assert update.progress == 30 + winner
    submitted = AuditEvent.objects.filter(action="status_update.submit").count()
    assert submitted == events_before + 1
    assert ledger.verify().ok
