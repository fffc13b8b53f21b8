import datetime as dt

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404
from django.shortcuts import get_object_or_404

from tasks_app.common import clock, permissions
from tasks_app.common.prepared import PreparedGet
from tasks_app.models import (
    ChangeRequest,
    Contribution,
    Department,
    Instruction,
    Plan,
    Review,
    SignOff,
    StatusUpdate,
    Task,
    TaskStatus,
    User,
)
from tasks_app.plans.schedule import RED_MARGIN_POINTS, ScheduleState, schedule_state
from tasks_app.plans.workcalendar import WorkingCalendar


def schedule_for(task: Task, as_of: dt.date, calendar) -> ScheduleState:
    dues = sorted(m.due_date for m in task.milestones.all())
    return schedule_state(
        start=task.start_date,
        deadline=task.deadline,
        milestone_dues=dues,
        progress=task.progress,
        status=task.status,
        as_of=as_of,
        calendar=calendar,
        red_margin=RED_MARGIN_POINTS,
    )


def task_schedule(task: Task, as_of: dt.date | None = None) -> ScheduleState:
    """The schedule state of one task as of a date (today by default), computed fresh."""
    as_of = as_of or clock.today()
    calendar = WorkingCalendar.load(
        min(as_of, task.deadline or as_of), max(as_of, task.deadline or as_of)
    )
    return schedule_for(task, as_of, calendar)


def has_sample_data() -> bool:
    return (
        Task.objects.filter(assignment_is_sample=True).exists()
        or Department.objects.filter(is_sample=True).exists()
        or User.objects.filter(is_sample=True).exists()
    )


def plan_overview_list(*, user: User) -> QuerySet[Plan]:
    """The user's governments' plans with their counts of sections, key areas, tasks and
    indicators, one query."""
    return (
        permissions.visible_plans(user)
        .annotate(
            section_count=Count("sections", distinct=True),
            key_area_count=Count("sections__key_areas", distinct=True),
            task_count=Count("tasks", distinct=True),
            headline_count=Count(
                "tasks", filter=Q(tasks__kind=Task.Kind.HEADLINE_TARGET), distinct=True
            ),
            indicator_count=Count("indicators", distinct=True),
        )
        .order_by("-year", "title")
    )


# --- Tasks, scoped to the caller ------------------------------------------------------------


def _overdue_expression(today):
    return Case(
        When(
            Q(deadline__lt=today) & ~Q(status__in=[TaskStatus.DONE, TaskStatus.ONGOING]),
            then=Value(True),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )


def task_list(*, user: User, filters: dict | None = None) -> QuerySet[Task]:
    """The caller's visible tasks, filtered; every row carries is_overdue (as of today)."""
    filters = filters or {}
    today = clock.today()
    tasks = permissions.visible_tasks(user).annotate(is_overdue=_overdue_expression(today))
    if filters.get("plan"):
        tasks = tasks.filter(plan_id=filters["plan"])
    if filters.get("section"):
        tasks = tasks.filter(section_id=filters["section"])
    if filters.get("department"):
        co = Task.co_departments.through.objects.filter(
            task_id=OuterRef("pk"), department_id=filters["department"]
        )
        tasks = tasks.filter(Q(lead_department_id=filters["department"]) | Exists(co))
    for name in ("status", "light"):
        if filters.get(name):
            tasks = tasks.filter(**{name: filters[name]})
    if filters.get("overdue") is not None:
        tasks = tasks.filter(is_overdue=filters["overdue"])
    if filters.get("due_before"):
        tasks = tasks.filter(deadline__lt=filters["due_before"])
    return tasks.select_related("lead_department", "responsible_leader").prefetch_related(
        "co_departments"
    )


def task_get(*, user: User, pk: int) -> Task:
    """One visible task with everything its page shows; Http404 when out of the caller's scope."""
    updates = StatusUpdate.objects.select_related("author").prefetch_related(
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
        Prefetch("signoffs", queryset=SignOff.objects.select_related("signer")),
        "evidence",
        "values",
    )
    queryset = task_list(user=user).prefetch_related(
        "indicators",
        "milestones",
        Prefetch("instructions", queryset=Instruction.objects.select_related("leader")),
        Prefetch("updates", queryset=updates),
        Prefetch(
            "contributions", queryset=Contribution.objects.select_related("department", "author")
        ),
        Prefetch(
            "change_requests",
            queryset=ChangeRequest.objects.select_related("requested_by", "decided_by"),
        ),
    )
    return get_object_or_404(queryset, pk=pk)


_TASK_FOR_WRITE = PreparedGet(
    lambda: (
        Task.objects.select_related("lead_department")
        .annotate(plan_signoff=F("plan__department_signoff"))
        .order_by()
    ),  # one row: the register's ordering (plan year, title, position) sorts nothing
    "pk",
    -7_000_001,
)


def task_for_write(*, user: User, pk: int) -> Task:
    """One visible task, bare (no related rows but its lead department; `plan_signoff` is its
    plan's Plan.department_signoff): what a write endpoint needs to check and act.

    Http404 when out of the caller's scope, exactly as task_get. The look-up is compiled once
    per process and the scope checked on the loaded row (permissions.sees_task): a report's
    submission paid more for compiling the scoped queryset than for running it.
    """
    task = _TASK_FOR_WRITE.get(pk)
    if task is None or not permissions.sees_task(user, task):
        raise Http404("No Task matches the given query.")
    _share_lead_department(user, task)
    return task


def _share_lead_department(user: User, task: Task) -> None:
    """The caller's department, when it leads the task, is the row just read with the task: the
    user takes it, so that the write's ledger event (its actor_department) reads no department
    again (one round trip of a report's submission)."""
    department_field = User._meta.get_field("department")
    if (
        user.department_id is not None
        and user.department_id == task.lead_department_id
        and not department_field.is_cached(user)
    ):
        department_field.set_cached_value(user, task.lead_department)
