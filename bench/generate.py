"""Fill PostgreSQL with a province: governments × tasks, a year of monthly reports with reviews.

Reproducible (seeded) and fast (COPY, ids allocated up front). Scale 1.0 is Guangdong:
143 governments × 200 tasks ≈ 28,600 tasks, ≈ 340,000 status updates and their reviews.
Reminders come from bench.reminderfill and ledger events (≈ 1.5 million at scale 1.0) from
bench.ledgerfill, which chains them exactly as tasks_app.audit.ledger does.

    python -m bench.generate --scale 1.0 --seed 7
"""

import argparse
import datetime as dt
import random
import time
from dataclasses import dataclass, field

import django

GOVERNMENTS = 143
TASKS_PER_GOVERNMENT = 200
DEPARTMENTS_PER_GOVERNMENT = 20
YEAR = 2025
DEPARTMENT_NAMES = [
    "发展和改革局",
    "工业和信息化局",
    "科技创新局",
    "财政局",
    "自然资源局",
    "住房和建设局",
    "交通运输局",
    "水务局",
    "生态环境局",
    "城市管理局",
    "教育局",
    "卫生健康局",
    "民政局",
    "人力资源和社会保障局",
    "文化广电旅游体育局",
    "应急管理局",
    "市场监督管理局",
    "政务服务数据管理局",
    "公安分局",
    "司法局",
]
# Published on the report day at 10:00 and received by each lead department an hour later, as
# a real year starts (otherwise every task would be chased as "not received" all year).
PUBLISHED_AT = dt.datetime(YEAR, 1, 15, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
STATUS_PATH = ["not_started", "on_schedule", "on_schedule", "behind", "on_schedule", "done"]
# A share of tasks is scheduled by quarterly milestones (节点): expected progress follows them
# (25% at the end of March, 50% of June, ...) and an open milestone past due is chased.
MILESTONE_SHARE = 0.2
MILESTONE_DUES = [(3, 31), (6, 30), (9, 30), (12, 31)]
MILESTONE_MET = 0.75  # the share of past milestones marked done on their due date


@dataclass
class Counts:
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int) -> None:
        self.rows[name] = self.rows.get(name, 0) + n


def _setup() -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gaoxin.settings")
    django.setup()


def generate(
    *,
    scale: float = 1.0,
    seed: int = 7,
    months: int = 12,
    without: tuple[str, ...] = (),
    min_governments: int = 1,
) -> Counts:
    """Create the province; returns how many rows of each kind were written.

    without: fillers to leave out ("reminders", "ledger"), when a benchmark needs neither.
    min_governments: at least this many governments, however small the scale.
    """
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from bench.copyload import copy_rows, next_id, reset_sequences
    from tasks_app.models import (
        Department,
        Government,
        KeyArea,
        Milestone,
        Plan,
        Review,
        Section,
        StatusUpdate,
        Task,
        User,
    )

    rng = random.Random(seed)
    governments = max(min_governments, round(GOVERNMENTS * scale))
    counts = Counts()
    password = make_password("bench-password", salt="benchsalt")
    now = timezone.now()
    ids = {
        m: next_id(m)
        for m in (Department, User, Plan, Section, KeyArea, Task, StatusUpdate, Review, Milestone)
    }
    reviewer_id = ids[User]
    users = [_office_user(reviewer_id, f"bench-office-{seed}", password, now)]
    ids[User] += 1
    with transaction.atomic():
        _mark_as_bench_setup()
        # The province's office reads every government below it (roll-up); each plan, its
        # departments, users and tasks belong to one government of the province.
        province = Government.objects.create(name=f"示例省{seed}", level="province")
        users[0]["government_id"] = province.pk
        children = Government.objects.bulk_create(
            [
                Government(name=f"示例{g + 1:03d}区", level="district", parent=province)
                for g in range(governments)
            ]
        )
        for g in range(governments):
            rows = _government(g, rng, ids, password, now, reviewer_id, months, children[g].pk)
            for model, model_rows in rows.items():
                if model is User:
                    users.extend(model_rows)
                    continue
                copy_rows(model, model_rows)
                counts.add(model._meta.model_name, len(model_rows))
        copy_rows(User, users)
        counts.add("user", len(users))
        reset_sequences(
            Department, User, Plan, Section, KeyArea, Task, StatusUpdate, Review, Milestone
        )
    # The rest of a year's rows, each kind filled by its own module (same seed, same scale).
    if "reminders" not in without:
        from bench import reminderfill

        reminderfill.fill(scale=scale, seed=seed, counts=counts)
    if "ledger" not in without:
        from bench import ledgerfill

        ledgerfill.fill(scale=scale, seed=seed, counts=counts)
    _analyze()
    return counts


def _analyze() -> None:
    """Planner statistics for the loaded tables: without them PostgreSQL plans every query of
    the benchmarks as if the tables were empty (an overview took 600 ms instead of 30)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _office_user(pk: int, username: str, password: str, now) -> dict:
    """A 督查室 (supervisor) account's row."""
    return {
        "id": pk,
        "password": password,
        "username": username,
        "role": "supervisor",
        "is_active": True,
        "date_joined": now,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_staff": True,
        "is_superuser": False,
    }


def _mark_as_bench_setup() -> None:
    """The setup is not an audited change: tell the capture triggers to skip this transaction.

    The ledger is filled on its own by bench.ledgerfill, at the size the benchmarks need.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('gaoxin.audited', 'on', true)")


def _government(g, rng, ids, password, now, reviewer_id, months, government_id):
    from tasks_app.models import (
        Department,
        KeyArea,
        Milestone,
        Plan,
        Review,
        Section,
        StatusUpdate,
        Task,
        User,
    )

    name = f"示例{g + 1:03d}区"
    plan_id = ids[Plan]
    ids[Plan] += 1
    plan = {
        "id": plan_id,
        "year": YEAR,
        "title": f"{name}{YEAR}年政府工作报告",
        "government_id": government_id,
        "kind": "work_report",
        "status": "published",
        "report_date": dt.date(YEAR, 1, 15),
        "published_at": PUBLISHED_AT,
        "created_at": now,
    }
    departments, users = [], []
    for d, dept_name in enumerate(DEPARTMENT_NAMES[:DEPARTMENTS_PER_GOVERNMENT]):
        departments.append(
            {
                "id": ids[Department],
                "government_id": government_id,
                "name": f"{name}{dept_name}",
                "short_name": dept_name,
                "is_sample": True,
            }
        )
        users.append(
            {
                "id": ids[User],
                "username": f"b{g:03d}-{d:02d}",
                "government_id": government_id,
                "password": password,
                "role": "staff",
                "department_id": ids[Department],
                "is_active": True,
                "date_joined": now,
                "first_name": "",
                "last_name": "",
                "email": "",
                "is_staff": False,
                "is_superuser": False,
                "is_sample": True,
            }
        )
        ids[Department] += 1
        ids[User] += 1
    # The district's own 督查室: reviews go to it, and the reminders its ladder sends the office.
    users.append(
        dict(
            _office_user(ids[User], f"b{g:03d}-office", password, now),
            government_id=government_id,
            department_id=None,
            is_sample=True,
        )
    )
    ids[User] += 1
    sections, areas = [], []
    for s in range(1, 6):
        sections.append(
            {"id": ids[Section], "plan_id": plan_id, "number": s, "title": f"第{s}方面"}
        )
        for k in range(1, 4):
            areas.append(
                {
                    "id": ids[KeyArea],
                    "section_id": ids[Section],
                    "number": k,
                    "title": f"重点领域{s}.{k}",
                }
            )
            ids[KeyArea] += 1
        ids[Section] += 1
    tasks, updates, reviews, milestones = [], [], [], []
    for t in range(TASKS_PER_GOVERNMENT):
        area = areas[t % len(areas)]
        lead = departments[rng.randrange(len(departments))]
        author = users[departments.index(lead)]
        task_id = ids[Task]
        ids[Task] += 1
        progress, status = 0, "not_started"
        for month in range(1, months + 1):
            if rng.random() < 0.03:  # a missed report
                continue
            progress = min(100, progress + rng.randint(5, 12))
            status = "done" if progress == 100 else STATUS_PATH[rng.randrange(1, 5)]
            submitted = dt.datetime(YEAR, month, 25, 9, tzinfo=dt.UTC)
            updates.append(
                {
                    "id": ids[StatusUpdate],
                    "task_id": task_id,
                    "period": dt.date(YEAR, month, 1),
                    "status": status,
                    "progress": progress,
                    "narrative": f"{month}月推进情况。",
                    "author_id": author["id"],
                    "review_state": "accepted",
                    "revision": 1,
                    "version": 2,
                    "created_at": submitted,
                    "submitted_at": submitted,
                }
            )
            reviews.append(
                {
                    "id": ids[Review],
                    "update_id": ids[StatusUpdate],
                    "revision": 1,
                    "decision": "accepted",
                    "reason": "",
                    "reviewer_id": reviewer_id,
                    "created_at": submitted + dt.timedelta(days=2),
                }
            )
            ids[StatusUpdate] += 1
            ids[Review] += 1
        if rng.random() < MILESTONE_SHARE:
            for quarter, (month, day) in enumerate(MILESTONE_DUES, 1):
                due = dt.date(YEAR, month, day)
                met = quarter < len(MILESTONE_DUES) and rng.random() < MILESTONE_MET
                milestones.append(
                    {
                        "id": ids[Milestone],
                        "task_id": task_id,
                        "title": f"第{quarter}季度节点",
                        "due_date": due,
                        "done_date": due if met else None,
                        "is_sample": True,
                    }
                )
                ids[Milestone] += 1
        tasks.append(
            {
                "id": task_id,
                "plan_id": plan_id,
                "government_id": government_id,
                "code": f"{area['title'][4:]}.{t:03d}",
                "title": f"{name}任务{t + 1}",
                "source_text": f"{name}任务{t + 1}。",
                "kind": "work_item",
                "section_id": area["section_id"],
                "key_area_id": area["id"],
                "position": t,
                "lead_department_id": lead["id"],
                "start_date": dt.date(YEAR, 1, 15),
                "deadline": dt.date(YEAR, 12, 31),
                "report_frequency": "monthly",
                "status": status,
                "progress": progress,
                "light": "green",
                "expected_progress": 0,
                "version": 1,
                "assignment_is_sample": True,
                "received_at": PUBLISHED_AT + dt.timedelta(hours=1),
                "received_by_id": author["id"],
                "created_at": now,
                "updated_at": now,
            }
        )
    return {
        Plan: [plan],
        Department: departments,
        User: users,
        Section: sections,
        KeyArea: areas,
        Task: tasks,
        StatusUpdate: updates,
        Review: reviews,
        Milestone: milestones,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    _setup()
    started = time.monotonic()
    counts = generate(scale=args.scale, seed=args.seed)
    print(f"generated {counts.rows} in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
