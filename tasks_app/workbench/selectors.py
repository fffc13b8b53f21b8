"""The workbench list (我的任务): search, filters, sorting, and the rows of its export.

Every list starts from the tasks the user may see (common.permissions), so a filter can only
narrow it: a department filter chosen by a department member finds nothing outside its scope.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.common import clock
from tasks_app.common.quantities import format_quantity
from tasks_app.models import Evidence, Light, StatusUpdate, Task, TaskStatus, User
from tasks_app.plans.report_schedule import add_months
from tasks_app.reporting.selectors import workbench_next_reports, workbench_task_list

SEARCH_MAX_LENGTH = 100

_LIGHT_RANK = Case(
    When(light=Light.RED, then=Value(0)),
    When(light=Light.YELLOW, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
_STATUS_RANK = Case(
    *(When(status=value, then=Value(rank)) for rank, value in enumerate(TaskStatus.values)),
    default=Value(len(TaskStatus.values)),
    output_field=IntegerField(),
)
_PLAN_ORDER = ("plan_id", "position", "code")

# Column key -> what it sorts by (database expressions), ascending; "next" sorts in Python.
SORTS = {
    "code": (),
    "title": ("title",),
    "department": ("lead_department__name",),
    "leader": ("responsible_leader__display_name",),
    "light": (_LIGHT_RANK,),
    "status": (_STATUS_RANK,),
    "progress": ("progress",),
    "deadline": ("deadline",),
    "received": ("received_at",),
    "returned": ("returned_count",),
    "instructions": ("unread_instruction_count",),
    "next": (),
}


@dataclass(frozen=True)
class WorkbenchQuery:
    """What the list is narrowed to and sorted by; empty values narrow nothing."""

    q: str = ""
    status: str = ""
    light: str = ""
    unreceived: bool = False
    returned: bool = False
    due_this_month: bool = False
    department: int | None = None
    leader: int | None = None
    sort: str = ""  # a SORTS key, "-" before it for descending

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")


def _this_month() -> tuple[dt.date, dt.date]:
    first = clock.today().replace(day=1)
    return first, add_months(first, 1) - dt.timedelta(days=1)


def _searched(tasks: QuerySet[Task], q: str) -> QuerySet[Task]:
    """Every word must match the code (from its start), the title or the report's text."""
    for word in q[:SEARCH_MAX_LENGTH].split():
        tasks = tasks.filter(
            Q(code__istartswith=word) | Q(title__icontains=word) | Q(source_text__icontains=word)
        )
    return tasks


def _filtered(tasks: QuerySet[Task], query: WorkbenchQuery) -> QuerySet[Task]:
    exact = {
        "status": query.status,
        "light": query.light,
        "lead_department_id": query.department,
        "responsible_leader_id": query.leader,
    }
    tasks = tasks.filter(**{name: value for name, value in exact.items() if value})
    if query.q.strip():
        tasks = _searched(tasks, query.q)
    if query.unreceived:
        tasks = tasks.filter(received_at__isnull=True, lead_department__isnull=False)
    if query.returned:
        tasks = tasks.filter(returned_count__gt=0)
    if query.due_this_month:
        first, last = _this_month()
        tasks = tasks.filter(deadline__range=(first, last)).exclude(status=TaskStatus.DONE)
    return tasks


def _ordered(tasks: QuerySet[Task], query: WorkbenchQuery) -> QuerySet[Task]:
    columns = SORTS.get(query.sort_key, ())
    order = []
    for column in columns:
        expression = F(column) if isinstance(column, str) else column
        if query.descending:
            order.append(expression.desc(nulls_last=True))
        else:
            order.append(expression.asc(nulls_last=True))
    if query.sort_key == "code" and query.descending:
        order += [F(name).desc() for name in _PLAN_ORDER]
    return tasks.order_by(*order, *_PLAN_ORDER)


def workbench_tasks(*, user: User, query: WorkbenchQuery) -> QuerySet[Task]:
    """The user's visible tasks, narrowed and sorted by the query, annotated as the list shows
    them (returned reports, unread instructions, lead or co-department); one query."""
    tasks = workbench_task_list(user=user).select_related("responsible_leader")
    return _ordered(_filtered(tasks, query), query)


def sorted_by_next_report(tasks: list[Task], *, descending: bool) -> list[Task]:
    """Tasks (next_report set on each) by their next report's due date; none owed last."""
    owed = [t for t in tasks if t.next_report is not None]
    owed.sort(key=lambda t: (t.next_report.due, t.next_report.period), reverse=descending)
    return owed + [t for t in tasks if t.next_report is None]


def with_next_reports(tasks: list[Task]) -> list[Task]:
    """Sets next_report (下次报送, by the one report schedule) on each task: two queries."""
    next_reports = workbench_next_reports(tasks=tasks)
    for task in tasks:
        task.next_report = next_reports[task.pk]
    return tasks


# --- The export of the current list -------------------------------------------------------------

EXPORT_HEADER = (
    "编号",
    "任务",
    "牵头单位",
    "责任领导",
    "亮灯",
    "状态",
    "进度(%)",
    "序时进度(%)",
    "完成时限",
    "下次报送期",
    "应报日期",
    "签收时间",
    "被退回报送",
    "未读批示",
    "指标",
)


def _indicator_text(task: Task) -> str:
    parts = []
    for indicator in task.indicators.all():
        actual = indicator.latest_actual
        shown = format_quantity(actual, indicator.unit) if actual is not None else "—"
        target = format_quantity(indicator.target_value, indicator.unit)
        parts.append(
            _("%(name)s:%(actual)s / 目标 %(target)s")
            % {
                "name": indicator.name,
                "actual": shown,
                "target": target,
            }
        )
    return ";".join(parts)


def export_row(task: Task) -> list:
    """One task of the list as spreadsheet cells (numbers as numbers, dates as dates)."""
    return [
        task.code,
        task.title,
        str(task.lead_department or ""),
        str(task.responsible_leader or ""),
        task.get_light_display(),
        task.get_status_display(),
        task.progress,
        task.expected_progress,
        task.deadline,
        task.next_report.period.strftime("%Y-%m") if task.next_report else "",
        task.next_report.due if task.next_report else None,
        _local_text(task.received_at),
        task.returned_count,
        task.unread_instruction_count,
        _indicator_text(task),
    ]


def _local_text(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


# --- The review queue's filters -----------------------------------------------------------------


def review_queue_filtered(
    updates: QuerySet[StatusUpdate],
    *,
    department: int | None = None,
    plan: int | None = None,
    evidence: bool | None = None,
) -> QuerySet[StatusUpdate]:
    """The queue narrowed to a lead department, a plan, and reports with (or without) evidence."""
    if department:
        updates = updates.filter(task__lead_department_id=department)
    if plan:
        updates = updates.filter(task__plan_id=plan)
    if evidence is not None:
        with_files = Exists(Evidence.objects.filter(update=OuterRef("pk")))
        updates = updates.filter(with_files if evidence else ~with_files)
    return updates
