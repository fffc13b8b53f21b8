"""Every read that is more than a get."""

import datetime as dt
from collections import defaultdict

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from tasks_app.common import permissions
from tasks_app.models import (
    ChangeRequest,
    Evidence,
    IndicatorValue,
    Instruction,
    InstructionFeedback,
    Plan,
    PlanStatus,
    Review,
    ReviewState,
    Role,
    SignOff,
    StatusUpdate,
    Task,
    TaskStatus,
    User,
)
from tasks_app.plans.report_schedule import (
    DueDates,
    NextReport,
    ReportSchedule,
    calendar_years,
    report_schedule_of,
)
from tasks_app.plans.workcalendar import WorkingCalendar


def update_get(*, user: User, pk: int) -> StatusUpdate:
    visible = permissions.visible_tasks(user)
    queryset = _update_relations(StatusUpdate.objects.filter(task__in=visible))
    return get_object_or_404(queryset.select_related("task"), pk=pk)


def _update_relations(queryset: QuerySet[StatusUpdate]) -> QuerySet[StatusUpdate]:
    return queryset.select_related("author").prefetch_related(
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
        Prefetch("signoffs", queryset=SignOff.objects.select_related("signer")),
        Prefetch("evidence", queryset=Evidence.objects.order_by("created_at")),
        "values__indicator",
    )


def update_just_submitted(update: StatusUpdate, *, with_values: bool) -> StatusUpdate:
    """An update its author has just created, ready to serialize without reading it back.

    A new update has no reviews and no evidence yet, so those relations are filled as empty
    (Django's own prefetch cache); indicator values are read only when some were submitted.
    """
    update._prefetched_objects_cache = {
        "reviews": _empty(Review),
        "signoffs": _empty(SignOff),
        "evidence": _empty(Evidence),
    }
    if with_values:
        prefetch_related_objects([update], "values__indicator")
    else:
        update._prefetched_objects_cache["values"] = _empty(IndicatorValue)
    return update


def _empty(model):
    """An empty queryset already evaluated, as prefetch_related leaves one: iterating it
    compiles no SQL (iterating .none() still builds the statement, about 1 ms each)."""
    queryset = model.objects.none()
    queryset._result_cache = []
    queryset._prefetch_done = True
    return queryset


def update_list(*, task: Task) -> QuerySet[StatusUpdate]:
    """A task's updates, newest period first, with reviews, evidence and indicator values."""
    return _update_relations(StatusUpdate.objects.filter(task=task)).order_by("-period")


def review_queue(*, user: User) -> QuerySet[StatusUpdate]:
    """Submitted updates awaiting the office of their own government, oldest first (the level
    above reads its children's reports on their task pages, but never reviews them)."""
    if not permissions.is_office(user):
        return StatusUpdate.objects.none()
    submitted = StatusUpdate.objects.filter(
        review_state=ReviewState.SUBMITTED, task__government_id=user.government_id
    )
    return (
        _update_relations(submitted)
        .select_related("task", "task__lead_department")
        .order_by("submitted_at", "id")
    )


def signoff_queue(*, user: User) -> QuerySet[StatusUpdate]:
    """Reports of the head's department waiting for the head's sign-off, oldest first."""
    if user.role != Role.HEAD or not user.department_id:
        return StatusUpdate.objects.none()
    waiting = StatusUpdate.objects.filter(
        review_state=ReviewState.SIGNOFF, task__lead_department_id=user.department_id
    )
    return (
        _update_relations(waiting)
        .select_related("task", "task__lead_department")
        .order_by("submitted_at", "id")
    )


def instruction_get(*, user: User, pk: int) -> Instruction:
    """An instruction on a task the user sees; Http404 otherwise."""
    visible = permissions.visible_tasks(user)
    return get_object_or_404(
        Instruction.objects.filter(task__in=visible).select_related("task", "leader"), pk=pk
    )


def instruction_feedback_list(*, instruction: Instruction) -> QuerySet[InstructionFeedback]:
    return instruction.feedback.select_related("department", "author").order_by("created_at", "id")


def task_instructions(*, task: Task) -> QuerySet[Instruction]:
    """A task's instructions, newest first, each with its 落实反馈 thread."""
    feedback = InstructionFeedback.objects.select_related("department", "author")
    return (
        task.instructions.select_related("leader")
        .prefetch_related(Prefetch("feedback", queryset=feedback.order_by("created_at", "id")))
        .order_by("-created_at")
    )


def leader_feedback(*, user: User, limit: int = 8) -> list[InstructionFeedback]:
    """The latest 落实反馈 on the instructions this leader gave, newest first."""
    if not permissions.is_leader(user):
        return []
    rows = InstructionFeedback.objects.filter(instruction__leader=user).select_related(
        "instruction__task", "department", "author"
    )
    return list(rows.order_by("-created_at", "-id")[:limit])


def change_request_get(*, user: User, pk: int) -> ChangeRequest:
    visible = permissions.visible_tasks(user)
    return get_object_or_404(
        ChangeRequest.objects.filter(task__in=visible).select_related(
            "task", "task__plan", "indicator", "requested_by", "decided_by"
        ),
        pk=pk,
    )


# --- The workbench ---------------------------------------------------------------------------


def _owed(task: Task, reported: list[dt.date]) -> ReportSchedule:
    """The task's report schedule; a done task owes nothing after its latest report."""
    schedule = report_schedule_of(task)
    if task.status == TaskStatus.DONE:
        return schedule.closed_after(max(reported, default=None))
    return schedule


def workbench_next_reports(*, tasks: list[Task]) -> dict[int, NextReport | None]:
    """Each task's next report (下次报送): the earliest period it owes without a report, and
    that period's due date, by the one report schedule; None when nothing more is owed.

    Two queries however many tasks (their plans must be loaded): their reported periods and
    the working calendar of their plans' years.
    """
    if not tasks:
        return {}
    reported = defaultdict(list)
    rows = StatusUpdate.objects.filter(task__in=[t.pk for t in tasks]).values_list("task", "period")
    for task_id, period in rows.order_by():
        reported[task_id].append(period)
    return _next_reports(tasks, reported)


def task_next_report(*, task: Task, reported: list[dt.date]) -> NextReport | None:
    """workbench_next_reports for one task whose reports' periods the caller has read."""
    return _next_reports([task], {task.pk: reported})[task.pk]


def _next_reports(tasks: list[Task], reported: dict) -> dict[int, NextReport | None]:
    calendar = WorkingCalendar.load(*calendar_years(task.plan.year for task in tasks))
    due = DueDates(calendar)
    return {
        task.pk: due.next_report(_owed(task, reported[task.pk]), reported=reported[task.pk])
        for task in tasks
    }


def _count_of(queryset: QuerySet) -> Subquery:
    """A correlated COUNT(*) of queryset's rows for the outer task, 0 when there are none."""
    counted = queryset.order_by().values("task").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def workbench_task_list(*, user: User, status: str = "", light: str = "") -> QuerySet[Task]:
    """The user's visible tasks with what the list shows, in one query."""
    tasks = permissions.visible_tasks(user).select_related("lead_department", "plan")
    if status:
        tasks = tasks.filter(status=status)
    if light:
        tasks = tasks.filter(light=light)
    is_lead = (
        ExpressionWrapper(Q(lead_department_id=user.department_id), output_field=BooleanField())
        if user.department_id
        else Value(False)
    )
    return tasks.annotate(
        returned_count=_count_of(
            StatusUpdate.objects.filter(task=OuterRef("pk"), review_state=ReviewState.RETURNED)
        ),
        unread_instruction_count=_count_of(
            Instruction.objects.filter(task=OuterRef("pk"), read_at__isnull=True)
        ),
        is_lead=is_lead,
    ).order_by("plan", "position", "code")


def workbench_rule_plans(*, user: User) -> list[Plan]:
    """Published plans of the user's tasks that have a 减负 rule turned on: the workbench shows
    each rule with the office's reason for it."""
    return list(
        Plan.objects.filter(
            Q(ranking_enabled=True) | Q(evidence_required=True),
            status=PlanStatus.PUBLISHED,
            pk__in=permissions.visible_tasks(user).values("plan_id"),
        ).order_by("-year", "title")
    )
