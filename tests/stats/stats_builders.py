"""Plans built straight into the database for the stats tests: fast, and counted by hand.

Rows are fixtures, not application writes, so they are created directly (bulk_create for speed);
reports that must go through review use the real services and are then backdated.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tasks_app.models import (
    Department,
    Indicator,
    IndicatorValue,
    KeyArea,
    Plan,
    PlanKind,
    Review,
    Section,
    StatusUpdate,
    Task,
    TaskKind,
    TaskStatus,
)
from tasks_app.reporting import services

PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"
JUNE_30 = dt.date(2020, 6, 30)
START = dt.date(2020, 1, 21)
YEAR_END = dt.date(2020, 12, 31)


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    """An aware moment in Asia/Shanghai."""
    return timezone.make_aware(dt.datetime(year, month, day, hour))


def departments(count: int, prefix: str = "测试局") -> list[Department]:
    return Department.objects.bulk_create(
        [Department(name=f"{prefix}{i:03d}") for i in range(1, count + 1)]
    )


def build_plan(
    *,
    sections: int,
    tasks: list[dict],
    kind: str = PlanKind.WORK_REPORT,
    title: str = "测试计划",
    year: int = 2020,
    areas_per_section: int = 1,
) -> Plan:
    """A plan with numbered sections (each with key areas) and tasks from specs.

    A spec may give: section (1-based, default 1), area (1-based, default 1), status, progress
    (default 100 when done, else 0), lead_department, start_date, deadline, kind, code, title.
    """
    plan = Plan.objects.create(year=year, title=title, kind=kind, report_date=dt.date(year, 1, 21))
    made = Section.objects.bulk_create(
        [Section(plan=plan, number=n, title=f"方面{n}") for n in range(1, sections + 1)]
    )
    areas = KeyArea.objects.bulk_create(
        [
            KeyArea(section=s, number=a, title=f"领域{s.number}.{a}")
            for s in made
            for a in range(1, areas_per_section + 1)
        ]
    )
    area_of = {(k.section.number, k.number): k for k in areas}
    default_kind = TaskKind.LIVELIHOOD if kind == PlanKind.LIVELIHOOD else TaskKind.WORK_ITEM
    rows = []
    for index, spec in enumerate(tasks, 1):
        section_number = spec.get("section", 1)
        area = area_of[(section_number, spec.get("area", 1))]
        status = spec.get("status", TaskStatus.NOT_STARTED)
        rows.append(
            Task(
                plan=plan,
                code=spec.get("code", f"T{index:04d}"),
                title=spec.get("title", f"任务{index}"),
                source_text=spec.get("title", f"任务{index}"),
                kind=spec.get("kind", default_kind),
                section=area.section,
                key_area=area,
                position=index,
                lead_department=spec.get("lead_department"),
                start_date=spec.get("start_date"),
                deadline=spec.get("deadline"),
                status=status,
                progress=spec.get("progress", 100 if status == TaskStatus.DONE else 0),
            )
        )
    Task.objects.bulk_create(rows)
    return plan


def report(
    task: Task,
    *,
    author,
    office,
    period: dt.date,
    status: str,
    progress: int,
    submitted: dt.datetime,
    reviewed: dt.datetime | None = None,
    decision: str = "accepted",
    narrative: str = "本月进展情况。",
    values: dict | None = None,
) -> StatusUpdate:
    """A report through the real services, then backdated to `submitted` and `reviewed`."""
    update = services.status_update_submit(
        actor=author,
        task=task,
        period=period,
        status=status,
        progress=progress,
        narrative=narrative,
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
        indicator_values={k: Decimal(str(v)) for k, v in (values or {}).items()} or None,
    )
    if status == TaskStatus.DONE:
        services.evidence_attach(
            actor=author,
            update=update,
            uploaded=SimpleUploadedFile("材料.pdf", PDF, "application/pdf"),
        )
    StatusUpdate.objects.filter(pk=update.pk).update(created_at=submitted, submitted_at=submitted)
    if reviewed is not None:
        services.status_update_review(
            actor=office, update=update, decision=decision, reason="请补充材料。"
        )
        Review.objects.filter(update=update).update(created_at=reviewed)
    return update


def counted_plan(a, b, clerk, tech_clerk, supervisor):
    """The plan counted by hand in tests/test_stats_numbers.py (see its docstring)."""
    plan = build_plan(
        sections=2,
        areas_per_section=2,
        tasks=[
            {"section": 1, "area": 1, "lead_department": a, "deadline": YEAR_END},
            {"section": 1, "area": 1, "lead_department": a, "deadline": dt.date(2020, 6, 19)},
            {"section": 1, "area": 2, "lead_department": a, "deadline": JUNE_30},
            {"section": 1, "area": 2, "lead_department": b, "deadline": YEAR_END},
            {"section": 2, "area": 1, "lead_department": b, "deadline": YEAR_END},
            {"section": 2, "area": 1},
        ],
    )
    plan.tasks.exclude(code="T0006").update(start_date=START)
    t = {task.code: task for task in plan.tasks.all()}
    count = Indicator.objects.create(
        plan=plan,
        task=t["T0001"],
        name="新增企业",
        unit="家",
        comparator="gte",
        target_value=Decimal(100),
        source_text="新增企业100家",
    )
    growth = Indicator.objects.create(
        plan=plan,
        task=t["T0005"],
        name="税收",
        unit="%",
        comparator="growth",
        target_value=Decimal(7),
        source_text="税收增长7%",
    )
    a_staff, b_staff = (
        dict(author=clerk, office=supervisor),
        dict(author=tech_clerk, office=supervisor),
    )
    report(
        t["T0001"],
        **a_staff,
        period=dt.date(2020, 4, 1),
        status="on_schedule",
        progress=30,
        submitted=at(2020, 5, 10),
        reviewed=at(2020, 5, 12),
        values={count.pk: 20},
    )
    report(
        t["T0001"],
        **a_staff,
        period=dt.date(2020, 6, 1),
        status="on_schedule",
        progress=50,
        submitted=at(2020, 6, 9),
        reviewed=at(2020, 6, 10),
        values={count.pk: 40},
        narrative="已新增企业40家。",
    )
    report(
        t["T0002"],
        **a_staff,
        period=dt.date(2020, 5, 1),
        status="on_schedule",
        progress=60,
        submitted=at(2020, 5, 14),
        reviewed=at(2020, 5, 15),
        narrative="受疫情影响,正在赶工。",
    )
    report(
        t["T0003"],
        **a_staff,
        period=dt.date(2020, 6, 1),
        status="done",
        progress=100,
        submitted=at(2020, 6, 19),
        reviewed=at(2020, 6, 20),
    )
    report(
        t["T0004"],
        **b_staff,
        period=dt.date(2020, 6, 1),
        status="on_schedule",
        progress=20,
        submitted=at(2020, 6, 15),
        reviewed=at(2020, 6, 16),
        decision="returned",
    )
    report(
        t["T0005"],
        **b_staff,
        period=dt.date(2020, 4, 1),
        status="ongoing",
        progress=40,
        submitted=at(2020, 4, 8),
        reviewed=at(2020, 4, 10),
        values={growth.pk: "7.5"},
    )
    return plan, t


# --- A year as a district lives it (the browser tests' realistic data) ------------------------

DISTRICT_DEPARTMENTS = [
    "党政办公室",
    "财政金融局",
    "规划建设局",
    "生态环境和城市管理局",
    "社会事务局",
    "数字政府和政务服务局",
    "公共安全局",
    "组织人事局",
]


def _month_moment(month: int, day: int, hour: int = 10) -> dt.datetime:
    return at(2020, month, day, hour)


def _progress(i: int, month: int, short: bool) -> tuple[str, int]:
    """What task number i reports for `month`: most keep pace, some lag, a few finish, a few
    stall. Pace is measured at the next report's date, so keeping pace means ~(month+1)/12."""
    pace = round(100 * (month + 1) / 12)
    kind = i % 10
    if kind == 8 and month >= 3 + i % 5:
        return TaskStatus.DONE, 100
    if kind in (6, 7):
        return TaskStatus.BEHIND, max(5, pace - 9 - i % 6)
    if kind == 9 or (short and month >= 4):
        return TaskStatus.BEHIND, min(5 * month, 60)
    return TaskStatus.ON_SCHEDULE, min(99, pace + i % 4)


def _indicator_value(indicator: Indicator, i: int, month: int) -> Decimal:
    target = indicator.target_value
    if indicator.comparator == "growth":
        value = target - Decimal("1.5") + Decimal("0.25") * month + Decimal("0.3") * (i % 3)
    elif indicator.comparator == "between":
        value = (target + (indicator.target_value_max or target)) / 2
    elif indicator.comparator in ("lte", "lt"):
        value = target * Decimal("0.9")
    else:
        factor = [Decimal("1.05"), Decimal("0.95"), Decimal("0.7"), Decimal("1.1")][i % 4]
        value = target * (month + 1) / 12 * factor
    return value.quantize(Decimal("0.01"))


def lived_year(plan: Plan, *, leads: list[Department], author, office, through: dt.date):
    """The loaded 2020 plan lived from January to `through` by its lead departments, the same
    every time: tasks spread over the departments (two given, eight made here), due at year end
    (every eleventh by June 30); monthly reports submitted early the next month and reviewed two
    days later (a few late, a few returned, the last few awaiting review); indicator values with
    every accepted report. Rows are bulk-written and backdated, as the other builders here do."""
    leads = leads + Department.objects.bulk_create(
        [Department(name=name) for name in DISTRICT_DEPARTMENTS]
    )
    tasks = list(plan.tasks.order_by("position", "code"))
    for i, task in enumerate(tasks):
        task.lead_department = leads[(i + i // 10) % len(leads)]  # each gets every kind
        task.start_date = START
        task.deadline = JUNE_30 if i % 11 == 3 else YEAR_END
    Task.objects.bulk_update(tasks, ["lead_department", "start_date", "deadline"])
    updates, moments = [], {}
    for i, task in enumerate(tasks):
        for month in range(1, through.month):
            if i % 10 == 9 and month > 4:
                break  # stopped reporting in May
            status, progress = _progress(i, month, task.deadline == JUNE_30)
            returned = i % 17 == 5 and month == 6
            waiting = i % 13 == 0 and month == through.month - 1
            update = StatusUpdate(
                task=task,
                period=dt.date(2020, month, 1),
                status=status,
                progress=progress,
                narrative=f"{month}月工作按计划推进。"
                if status != "behind"
                else "受客观因素影响,进度滞后,正在加紧推进。",
                author=author,
                review_state="returned" if returned else "submitted" if waiting else "accepted",
            )
            day = 12 if i % 19 == 7 else 3 + i % 5
            moments[(task.pk, month)] = _month_moment(month + 1, day)
            updates.append(update)
            if status == TaskStatus.DONE:
                break
    StatusUpdate.objects.bulk_create(updates)
    _backdate(
        StatusUpdate,
        {u.pk: moments[(u.task_id, u.period.month)] for u in updates},
        fields=("created_at", "submitted_at"),
    )
    reviewed = [u for u in updates if u.review_state != "submitted"]
    reviews = Review.objects.bulk_create(
        [
            Review(
                update=u,
                revision=1,
                decision=u.review_state,
                reviewer=office,
                reason="" if u.review_state == "accepted" else "请补充佐证材料。",
            )
            for u in reviewed
        ]
    )
    _backdate(
        Review,
        {
            r.pk: moments[(r.update.task_id, r.update.period.month)] + dt.timedelta(days=2)
            for r in reviews
        },
    )
    position = {task.pk: i for i, task in enumerate(tasks)}
    by_task = defaultdict(list)
    for indicator in Indicator.objects.filter(plan=plan, task__isnull=False):
        by_task[indicator.task_id].append(indicator)
    IndicatorValue.objects.bulk_create(
        [
            IndicatorValue(
                update=u,
                indicator=ind,
                value=_indicator_value(ind, position[u.task_id] + ind.pk, u.period.month),
            )
            for u in reviewed
            if u.review_state == "accepted"
            for ind in by_task[u.task_id]
        ]
    )


def _backdate(model, moments: dict[int, dt.datetime], fields=("created_at",)) -> None:
    """The fields of each row set to its moment, one UPDATE per distinct moment."""
    by_moment = defaultdict(list)
    for pk, moment in moments.items():
        by_moment[moment].append(pk)
    for moment, pks in by_moment.items():
        model.objects.filter(pk__in=pks).update(**dict.fromkeys(fields, moment))
