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
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import CharField, Prefetch, Q, QuerySet
from django.db.models.functions import Cast
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.audit import labels, ledger
from tasks_app.common.errors import ServiceError
from tasks_app.models import (
    AuditEvent,
    ChangeRequest,
    Contribution,
    Department,
    Evidence,
    ExportKind,
    Indicator,
    Instruction,
    InstructionFeedback,
    ManualChase,
    Milestone,
    Plan,
    Review,
    Section,
    SignOff,
    StatusUpdate,
    Task,
    User,
)
from tasks_app.plans.report_schedule import (
    DueDates,
    calendar_years,
    on_time,
    report_schedule_of,
)
from tasks_app.plans.workcalendar import WorkingCalendar

# The ledger's columns: (key, header label). The keys that the hash covers (ledger.HASHED_FIELDS)
# and "hash" are the event as stored; the others (local_time, the *_label ones, actor_name) are
# the same event in words, for people: they are not hashed and verify_export.py ignores them.
# A header reads "标签 [key]": the verifier finds its columns by the key in brackets.
LEDGER_LAYOUT = (
    ("seq", _("序号")),
    ("local_time", _("时间(北京时间)")),
    ("created_at", _("时间(UTC)")),
    ("action_label", _("操作")),
    ("action", _("操作代码")),
    ("actor_name", _("操作人")),
    ("actor_role_label", _("角色")),
    ("actor_department", _("部门")),
    ("actor_username", _("用户名")),
    ("actor_role", _("角色代码")),
    ("actor_id", _("用户ID")),
    ("object_type_label", _("对象类型")),
    ("object_type", _("对象类型代码")),
    ("object_id", _("对象ID")),
    ("object_repr", _("对象")),
    ("before", _("变更前")),
    ("after", _("变更后")),
    ("ip", _("IP地址")),
    ("user_agent", _("客户端")),
    ("request_id", _("请求编号")),
    ("prev_hash", _("前一事件哈希")),
    ("hash", _("哈希")),
    ("government_id", _("政府ID")),
    ("hash_version", _("哈希版本")),
)
LEDGER_KEYS = tuple(key for key, _label in LEDGER_LAYOUT)
STORED_KEYS = (*ledger.HASHED_FIELDS, "hash_version", "hash")
LEDGER_COLUMNS = tuple(f"{label} [{key}]" for key, label in LEDGER_LAYOUT)
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


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
    "最近报送时间(北京时间)",
    "最近报送时间(UTC)",
    "审核状态",
    "审核记录",
    "应报日期",
    "按时报送",
)


# How the XLSX of each kind is laid out: column widths, and the columns that hold numbers (found
# by key or header, so that adding a column never turns a number into text).
LEDGER_WIDTHS = {
    "seq": 8,
    "local_time": 20,
    "created_at": 28,
    "action_label": 20,
    "action": 24,
    "object_repr": 30,
    "before": 40,
    "after": 40,
    "prev_hash": 36,
    "hash": 36,
}
LEDGER_NUMERIC = (
    "seq",
    "government_id",
    "hash_version",
    "actor_id",
    "object_id",
)  # object_id: a number where the object has one
PROGRESS_NUMERIC = ("进度(%)", "报送次数")
PROGRESS_WIDTHS = {"计划": 26, "方面": 22, "任务": 40, "进展情况": 50, "审核记录": 50}
XLSX_LAYOUT = {
    "ledger": {
        "widths": [
            LEDGER_WIDTHS.get(key, max(10, len(str(label)) * 2 + 4)) for key, label in LEDGER_LAYOUT
        ],
        "numeric": [LEDGER_KEYS.index(key) for key in LEDGER_NUMERIC],
    },
    "progress": {
        "widths": [
            PROGRESS_WIDTHS.get(name, max(10, len(name) * 2 + 2)) for name in PROGRESS_COLUMNS
        ],
        "numeric": [PROGRESS_COLUMNS.index(name) for name in PROGRESS_NUMERIC],
    },
}


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# --- Filters ----------------------------------------------------------------------------------

FILTERS = {
    ExportKind.LEDGER: (
        "plan",
        "department",
        "task",
        "task_code",
        "action",
        "date_from",
        "date_to",
    ),
    ExportKind.PROGRESS: (
        "plan",
        "department",
        "section",
        "task",
        "task_code",
        "date_from",
        "date_to",
    ),
}
TASK_CODE_MAX_LENGTH = 30


_MODELS = {"plan": Plan, "department": Department, "section": Section, "task": Task}
# How each filter's object names its government: an export covers the auditor's own government,
# so another government's plan, department, section or task is an error, not an empty file.
_GOVERNMENT_OF = {
    "plan": "government_id",
    "department": "government_id",
    "section": "plan__government_id",
    "task": "government_id",
}


def _invalid(name: str, message) -> ServiceError:
    return ServiceError("invalid_filter", message, field=name)


def _parse_one(name: str, raw: str, government_id: int | None) -> Any:
    if name in _MODELS:
        objects = _MODELS[name].objects.filter(**{_GOVERNMENT_OF[name]: government_id})
        if (
            not (raw.isascii() and raw.isdigit() and len(raw) <= 18)
            or not objects.filter(pk=int(raw)).exists()
        ):
            raise _invalid(name, _("筛选条件“%(name)s”指向的对象不存在。") % {"name": name})
        return int(raw)
    if name == "task_code":  # a task's code as people know it (H10, 1.2.05), in any plan
        tasks = Task.objects.filter(code__iexact=raw, government_id=government_id)
        if len(raw) > TASK_CODE_MAX_LENGTH or not tasks.exists():
            raise _invalid(name, _("没有编号为“%(code)s”的任务。") % {"code": raw[:30]})
        return tasks.values_list("code", flat=True).first()
    if name in ("date_from", "date_to"):
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise _invalid(name, _("日期格式应为 YYYY-MM-DD。")) from None
    if len(raw) > 80:
        raise _invalid(name, _("操作名称过长。"))
    return raw


def parse_filters(
    query: QueryDict | dict,
    kind: str,
    *,
    government_id: int | None,
    blank_is_absent: bool = True,
) -> dict[str, Any]:
    """The export filters present in query, validated; ServiceError (400) on a bad value, and on
    an object of another government than government_id (the one whose ledger is exported).

    A page's form sends its empty fields (blank_is_absent); to the API, ?plan= is a bad value.
    """
    filters = {}
    for name in FILTERS[kind]:
        raw = str(query.get(name) or "").strip()
        if raw:
            filters[name] = _parse_one(name, raw, government_id)
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
    """Events about these tasks or anything hanging from them: reports, sign-offs, reviews,
    evidence, indicators, milestones, instructions and their 落实反馈, change requests,
    contributions and chases."""
    updates = StatusUpdate.objects.filter(task__in=tasks)
    return (
        Q(object_type="task", object_id__in=_ids(tasks))
        | Q(object_type="statusupdate", object_id__in=_ids(updates))
        | Q(object_type="review", object_id__in=_ids(Review.objects.filter(update__in=updates)))
        | Q(object_type="evidence", object_id__in=_ids(Evidence.objects.filter(update__in=updates)))
        | Q(object_type="indicator", object_id__in=_ids(Indicator.objects.filter(task__in=tasks)))
        | Q(object_type="milestone", object_id__in=_ids(Milestone.objects.filter(task__in=tasks)))
        | Q(
            object_type="instruction",
            object_id__in=_ids(Instruction.objects.filter(task__in=tasks)),
        )
        | Q(
            object_type="changerequest",
            object_id__in=_ids(ChangeRequest.objects.filter(task__in=tasks)),
        )
        | Q(
            object_type="contribution",
            object_id__in=_ids(Contribution.objects.filter(task__in=tasks)),
        )
        | Q(object_type="signoff", object_id__in=_ids(SignOff.objects.filter(update__in=updates)))
        | Q(
            object_type="instructionfeedback",
            object_id__in=_ids(InstructionFeedback.objects.filter(instruction__task__in=tasks)),
        )
        | Q(
            object_type="manualchase",
            object_id__in=_ids(ManualChase.objects.filter(task__in=tasks)),
        )
    )


def _tasks_of(filters: dict) -> QuerySet[Task]:
    """The tasks a task or task_code filter names (a code within the plan filter, if any)."""
    tasks = Task.objects.all()
    if "task" in filters:
        tasks = tasks.filter(pk=filters["task"])
    if "task_code" in filters:
        tasks = tasks.filter(code=filters["task_code"])
        if "plan" in filters:
            tasks = tasks.filter(plan_id=filters["plan"])
    return tasks


def ledger_events(
    filters: dict, *, government_id: int, up_to_seq: int | None = None
) -> QuerySet[AuditEvent]:
    """A government's ledger events matching the filters, in chain order."""
    events = AuditEvent.objects.filter(_local_day_bounds(filters), government_id=government_id)
    if up_to_seq is not None:
        events = events.filter(seq__lte=up_to_seq)
    if "action" in filters:
        events = events.filter(action__startswith=filters["action"])
    if "task" in filters or "task_code" in filters:
        events = events.filter(_objects_of(_tasks_of(filters)))
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


def progress_updates(
    filters: dict, *, government_id: int, until: dt.datetime | None = None
) -> QuerySet:
    """A government's status updates with their reviews, for the progress log."""
    updates = (
        StatusUpdate.objects.filter(task__government_id=government_id)
        .select_related("task__plan", "task__section", "task__lead_department", "author")
        .prefetch_related(
            Prefetch("reviews", queryset=Review.objects.select_related("reviewer").order_by("id"))
        )
    )
    if until is not None:
        updates = updates.filter(created_at__lte=until)
    lookups = {
        "plan": "task__plan_id",
        "section": "task__section_id",
        "department": "task__lead_department_id",
        "task": "task_id",
        "task_code": "task__code",
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


class ActorNames:
    """Each actor's name as people know it (User.__str__), read once per export: the ledger
    keeps the username it had then; the name shown is the account's today."""

    def __init__(self):
        self._names: dict[int, str] | None = None

    def __call__(self, event: AuditEvent) -> str:
        if self._names is None:
            users = User.objects.only("pk", "username", "display_name")
            self._names = {user.pk: str(user) for user in users}
        return self._names.get(event.actor_id, event.actor_username)


def local_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE)).strftime(LOCAL_TIME_FORMAT)


def ledger_row(event: AuditEvent, names: ActorNames | None = None) -> list[str]:
    """An event as CSV cells: exactly what its hash covers, so a file can be checked offline,
    and beside it the same event in words (labels, names, Beijing time)."""
    values = ledger.payload(event)
    values["government_id"] = event.government_id
    values["hash_version"] = event.hash_version
    values["hash"] = event.hash
    values["local_time"] = local_time(event.created_at)
    values["action_label"] = labels.action_label(event.action)
    values["actor_name"] = (names or ActorNames())(event)
    values["actor_role_label"] = labels.role_label(event.actor_role, event.actor_username)
    values["object_type_label"] = labels.object_label(event.object_type)
    row = []
    for column in LEDGER_KEYS:
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
        ledger.timestamp(update.submitted_at),
        update.get_review_state_display(),
        ";".join(_review_text(review) for review in update.reviews.all()),
        *timing.cells(update),
    ]


class ExportStats:
    """Counts rows and remembers the first and last ledger seq as they stream past."""

    def __init__(self):
        self.rows, self.first_seq, self.last_seq = 0, None, None

    def ledger(self, events: Iterable[AuditEvent]) -> Iterator[list[str]]:
        names = ActorNames()
        for event in events:
            self.rows += 1
            self.first_seq = self.first_seq or event.seq
            self.last_seq = event.seq
            yield ledger_row(event, names)

    def progress(self, updates: Iterable[StatusUpdate]) -> Iterator[list[str]]:
        timing = ReportTiming()
        for update in updates:
            self.rows += 1
            yield progress_row(update, timing)
