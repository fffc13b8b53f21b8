"""Who may see and change what. Every queryset is scoped to the caller first."""

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from tasks_app.models import DEPARTMENT_ROLES, Plan, Role, Task, User

OFFICE_ROLES = (Role.SUPERVISOR, Role.ADMIN)
SEE_ALL_ROLES = (Role.SUPERVISOR, Role.LEADER, Role.AUDITOR, Role.ADMIN)
AUDIT_ROLES = (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN)


def is_department_member(user: User) -> bool:
    return user.role in DEPARTMENT_ROLES and user.department_id is not None


def sees_stats(user: User) -> bool:
    """Who may open the leaders' numbers (领导驾驶舱): everyone who sees all tasks, and a
    department's members (their own department's numbers)."""
    return user.is_active and (user.role in SEE_ALL_ROLES or is_department_member(user))


def is_office(user: User) -> bool:
    return user.role in OFFICE_ROLES


def is_leader(user: User) -> bool:
    return user.role == Role.LEADER


def can_audit(user: User | None) -> bool:
    """The whole ledger, its exports and verification: auditors, the office and admins only."""
    return bool(user and user.is_authenticated and user.is_active and user.role in AUDIT_ROLES)


# Roles that read the governments below their own (roll-up); departments read their own only.
ROLL_UP_ROLES = SEE_ALL_ROLES


# The government and every one below it, in one query (PostgreSQL and SQLite alike).
def descendants_sql(start: str, *, descend_if: str = "1 = 1") -> str:
    """SQL of the ids of the government that the SELECT `start` answers and, while `descend_if`
    holds, of every government below it: the one recursion of the roll-up (standard SQL, for
    PostgreSQL and the demo's SQLite alike)."""
    return f"""WITH RECURSIVE below(id) AS (
    {start}
    UNION
    SELECT g.id FROM tasks_app_government g JOIN below ON g.parent_id = below.id
     WHERE {descend_if})
SELECT id FROM below"""


DESCENDANTS_SQL = (
    descendants_sql("SELECT id FROM tasks_app_government WHERE id = %s") + " ORDER BY id"
)


def government_and_below(government_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(DESCENDANTS_SQL, [government_id])
        return [row[0] for row in cursor.fetchall()]


def remember_readable(user: User, ids: list[int]) -> None:
    """ids are the governments user reads, found by another query (rls.enter_user's)."""
    user.readable_governments_cache = ((user.government_id, user.role), ids)


def readable_government_ids(user: User) -> list[int]:
    """The governments whose registers the user reads: its own and, for the office, leaders and
    auditors, every government below it (roll-up, read-only: see acts_for). Department members
    read their own government only. Computed once per user object (one request)."""
    if not user.is_authenticated or not user.is_active or user.government_id is None:
        return []
    key = (user.government_id, user.role)
    cached = getattr(user, "readable_governments_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    if user.role in ROLL_UP_ROLES:
        ids = government_and_below(user.government_id)
    else:
        ids = [user.government_id]
    remember_readable(user, ids)
    return ids


def acts_for(user: User | None, government_id: int) -> bool:
    """Whether the user may write for a government: its own only. A city's office reads its
    districts' registers but never reviews, chases, instructs or publishes for them. No user
    (a loader, the demo seed, a Celery sweep) acts for every government."""
    return user is None or user.government_id == government_id


def visible_plans(user: User, queryset: QuerySet[Plan] | None = None) -> QuerySet[Plan]:
    """Plans of the governments the user reads (tasks within them: visible_tasks)."""
    queryset = Plan.objects.all() if queryset is None else queryset
    return queryset.filter(government_id__in=readable_government_ids(user))


def visible_tasks(user: User, queryset: QuerySet[Task] | None = None) -> QuerySet[Task]:
    """Tasks the user may see, within the user's governments: all for the office, leaders and
    auditors; else those its department leads or co-leads."""
    queryset = Task.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    queryset = queryset.filter(government_id__in=readable_government_ids(user))
    if user.role in SEE_ALL_ROLES:
        return queryset
    if not is_department_member(user):
        return queryset.none()
    co = Task.co_departments.through.objects.filter(
        task_id=OuterRef("pk"), department_id=user.department_id
    )
    return queryset.filter(Q(lead_department_id=user.department_id) | Exists(co))


def sees_task(user: User, task: Task) -> bool:
    """Whether visible_tasks(user) holds this loaded task. The lead department's own member, in
    the task's government, is answered without a query (visible_tasks' first clause); every
    other case asks visible_tasks itself, so the two rules cannot drift apart."""
    if (
        user.is_authenticated
        and user.is_active
        and leads(user, task)
        and task.government_id in readable_government_ids(user)
    ):
        return True
    return visible_tasks(user).filter(pk=task.pk).exists()


def leads(user: User, task: Task) -> bool:
    return is_department_member(user) and task.lead_department_id == user.department_id


def co_leads(user: User, task: Task) -> bool:
    return is_department_member(user) and task.co_departments.filter(pk=user.department_id).exists()
