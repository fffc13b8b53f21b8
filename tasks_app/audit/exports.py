"""Ledger and progress-log exports: rows -> CSV / XLSX, streamed, each with a manifest.

CSV is UTF-8 with a BOM (Excel opens Chinese correctly). A cell starting with = + - @ (or a tab,
a carriage return or a quote) is written with a leading "'" so that no spreadsheet runs it as a
formula; tools/verify_export.py removes that one quote again before checking hashes.

Memory stays flat: rows come from a server-side cursor in chunks, CSV leaves in small chunks,
XLSX goes through openpyxl's write-only workbook into a temporary file. On PostgreSQL a ledger
CSV written to a file (the background job) is produced by COPY instead of row by row in Python:
the same bytes (tests/test_ledger_export_copy.py), several times faster.

Every export is an ExportJob: started (an "audit.export" event, then the chain head is read, so
the export's own event is inside what it can cover), written, finished (manifest saved and an
"audit.export.completed" event naming the file's SHA-256).
"""

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import CharField, Prefetch, Q, QuerySet
from django.db.models.functions import Cast
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.audit import ledger
from tasks_app.common.errors import ServiceError
from tasks_app.models import (
    AuditEvent,
    Department,
    ExportKind,
    Indicator,
    Milestone,
    Plan,
    Review,
    Section,
    StatusUpdate,
    Task,
)
from tasks_app.plans.report_schedule import (
    DueDates,
    calendar_years,
    on_time,
    report_schedule_of,
)
from tasks_app.plans.workcalendar import WorkingCalendar

LEDGER_COLUMNS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "actor_department",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
    "hash",
)


PROGRESS_COLUMNS = (
    "计划",
    "方面",
    "任务编号",
    "任务",
    "牵头单位",
    "报送期",
    "状态",
    "进度(%)",
    "进展情况",
    "填报人",
    "报送次数",
    "最近报送时间",
    "审核状态",
    "审核记录",
    "应报日期",
    "按时报送",
)


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# --- Filters ----------------------------------------------------------------------------------

FILTERS = {
    ExportKind.LEDGER: ("plan", "department", "task", "action", "date_from", "date_to"),
    ExportKind.PROGRESS: ("plan", "department", "section", "task", "date_from", "date_to"),
}


_MODELS = {"plan": Plan, "department": Department, "section": Section, "task": Task}


def _invalid(name: str, message) -> ServiceError:
    return ServiceError("invalid_filter", message, field=name)


def _parse_one(name: str, raw: str) -> Any:
    if name in _MODELS:
        if not raw.isdigit() or not _MODELS[name].objects.filter(pk=int(raw)).exists():
            raise _invalid(name, _("筛选条件“%(name)s”指向的对象不存在。") % {"name": name})
        return int(raw)
    if name in ("date_from", "date_to"):
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise _invalid(name, _("日期格式应为 YYYY-MM-DD。")) from None
    if len(raw) > 80:
        raise _invalid(name, _("操作名称过长。"))
    return raw


def parse_filters(
    query: QueryDict | dict, kind: str, *, blank_is_absent: bool = True
) -> dict[str, Any]:
    """The export filters present in query, validated; ServiceError (400) on a bad value.

    A page's form sends its empty fields (blank_is_absent); to the API, ?plan= is a bad value.
    """
    filters = {}
    for name in FILTERS[kind]:
        raw = str(query.get(name) or "").strip()
        if raw:
            filters[name] = _parse_one(name, raw)
        elif name in query and not blank_is_absent:
            raise _invalid(name, _("筛选条件“%(name)s”不能为空。") % {"name": name})
    if filters.get("date_from", "") > filters.get("date_to", "9999"):
        raise _invalid("date_to", _("结束日期不能早于开始日期。"))
    return filters


def parse_choice(
    value: str | None, choices, name: str, default: str, *, blank_is_absent: bool = True
) -> str:
    value = (value or default if blank_is_absent or value is None else value).strip()
    if value not in choices.values:
        raise ServiceError(
            "invalid_" + name, _("不支持的取值:%(value)s") % {"value": value[:20]}, field=name
        )
    return value


def _local_day_bounds(filters: dict) -> Q:
    q = Q()
    tz = timezone.get_current_timezone()
    if "date_from" in filters:
        start = dt.datetime.combine(dt.date.fromisoformat(filters["date_from"]), dt.time(), tz)
        q &= Q(created_at__gte=start)
    if "date_to" in filters:
        end = dt.datetime.combine(dt.date.fromisoformat(filters["date_to"]), dt.time(), tz)
        q &= Q(created_at__lt=end + dt.timedelta(days=1))
    return q


def _ids(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(sid=Cast("id", CharField())).values("sid")


def _objects_of(tasks: QuerySet[Task]) -> Q:
    """Events about these tasks or anything hanging from them."""
    updates = StatusUpdate.objects.filter(task__in=tasks)
    return (
        Q(object_type="task", object_id__in=_ids(tasks))
        | Q(object_type="statusupdate", object_id__in=_ids(updates))
        | Q(object_type="review", object_id__in=_ids(Review.objects.filter(update__in=updates)))
        | Q(object_type="indicator", object_id__in=_ids(Indicator.objects.filter(task__in=tasks)))
        | Q(object_type="milestone", object_id__in=_ids(Milestone.objects.filter(task__in=tasks)))
    )


def ledger_events(filters: dict, *, up_to_seq: int | None = None) -> QuerySet[AuditEvent]:
    """Ledger events matching the filters, in chain order."""
    events = AuditEvent.objects.filter(_local_day_bounds(filters))
    if up_to_seq is not None:
        events = events.filter(seq__lte=up_to_seq)
    if "action" in filters:
        events = events.filter(action__startswith=filters["action"])
    if "task" in filters:
        events = events.filter(_objects_of(Task.objects.filter(pk=filters["task"])))
    if "plan" in filters:
        plan_id = filters["plan"]
        events = events.filter(
            _objects_of(Task.objects.filter(plan_id=plan_id))
            | Q(object_type="plan", object_id=str(plan_id))
        )
    if "department" in filters:
        department = Department.objects.get(pk=filters["department"])
        events = events.filter(
            _objects_of(Task.objects.filter(lead_department=department))
            | Q(actor_department=department.name)
        )
    return events.order_by("seq")


def progress_updates(filters: dict, *, until: dt.datetime | None = None) -> QuerySet:
    """Status updates with their reviews, for the progress log."""
    updates = StatusUpdate.objects.select_related(
        "task__plan", "task__section", "task__lead_department", "author"
    ).prefetch_related(
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer").order_by("id"))
    )
    if until is not None:
        updates = updates.filter(created_at__lte=until)
    lookups = {
        "plan": "task__plan_id",
        "section": "task__section_id",
        "department": "task__lead_department_id",
        "task": "task_id",
    }
    for name, lookup in lookups.items():
        if name in filters:
            updates = updates.filter(**{lookup: filters[name]})
    if "date_from" in filters:
        updates = updates.filter(period__gte=filters["date_from"])
    if "date_to" in filters:
        updates = updates.filter(period__lte=filters["date_to"])
    return updates.order_by("task__plan_id", "task__position", "task_id", "period", "id")


# --- Rows -------------------------------------------------------------------------------------


def ledger_row(event: AuditEvent) -> list[str]:
    """An event as CSV cells: exactly what its hash covers, so a file can be checked offline."""
    values = ledger.payload(event)
    values["hash"] = event.hash
    row = []
    for column in LEDGER_COLUMNS:
        value = values[column]
        if column in ("before", "after"):
            row.append(ledger.canonical(value))
        elif value is None:
            row.append("")
        else:
            row.append(str(value))
    return row


def _review_text(review: Review) -> str:
    return _("第%(n)s次报送:%(decision)s(%(reviewer)s,%(at)s)%(reason)s") % {
        "n": review.revision,
        "decision": review.get_decision_display(),
        "reviewer": review.reviewer,
        "at": timezone.localtime(review.created_at).strftime("%Y-%m-%d %H:%M"),
        "reason": f":{review.reason}" if review.reason else "",
    }


class ReportTiming:
    """Each report's period due date and whether it came in on time, by the one report schedule
    (tasks_app.plans.report_schedule), as the ranking counts them: on time when first submitted
    by the due date. A working calendar per plan year, loaded on first use: as many queries as
    there are plan years in the log, however many rows."""

    def __init__(self):
        self._due_dates: dict[int, DueDates] = {}

    def _due(self, year: int) -> DueDates:
        if year not in self._due_dates:
            calendar = WorkingCalendar.load(*calendar_years([year]))
            self._due_dates[year] = DueDates(calendar)
        return self._due_dates[year]

    def cells(self, update: StatusUpdate) -> list[str]:
        """[due date, 按时 / 逾期]; a report for a period the task does not owe has neither."""
        schedule = report_schedule_of(update.task)
        period = schedule.period_for(update.period)
        if period is None:
            return ["", _("非应报期")]
        due = self._due(update.task.plan.year)(schedule, period)
        in_time = on_time(first_submitted=update.created_at, due=due)
        return [due.isoformat(), _("按时") if in_time else _("逾期")]


def progress_row(update: StatusUpdate, timing: ReportTiming) -> list[str]:
    task = update.task
    return [
        task.plan.title,
        str(task.section or ""),
        task.code,
        task.title,
        str(task.lead_department or ""),
        update.period.strftime("%Y-%m"),
        update.get_status_display(),
        str(update.progress),
        update.narrative,
        str(update.author),
        str(update.revision),
        timezone.localtime(update.submitted_at).strftime("%Y-%m-%d %H:%M"),
        update.get_review_state_display(),
        ";".join(_review_text(review) for review in update.reviews.all()),
        *timing.cells(update),
    ]


class ExportStats:
    """Counts rows and remembers the first and last ledger seq as they stream past."""

    def __init__(self):
        self.rows, self.first_seq, self.last_seq = 0, None, None

    def ledger(self, events: Iterable[AuditEvent]) -> Iterator[list[str]]:
        for event in events:
            self.rows += 1
            self.first_seq = self.first_seq or event.seq
            self.last_seq = event.seq
            yield ledger_row(event)

    def progress(self, updates: Iterable[StatusUpdate]) -> Iterator[list[str]]:
        timing = ReportTiming()
        for update in updates:
            self.rows += 1
            yield progress_row(update, timing)
