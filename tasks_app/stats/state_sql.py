"""SQL (PostgreSQL) joining each task to what its state as of a date depends on: its deadline
before later approved changes (`c.old_value`), its milestones' due dates in order (`m.dues`)
and the status and progress of its latest accepted review before the end of the date
(`a.status`, `a.progress`). snapshot (one row per task) and tallies (one row per group of
like tasks) select from these joins; `task_state_joins` picks the shape and `task_state_params`
fills it.

Two shapes, the same answers:
- one plan: a look-up per task, through the indexes on the task's milestones and updates and
  on the updates' reviews (about 25 index probes a task; a plan's overview in a third of the
  time of the pass below, which reads a table's rows for every plan);
- many plans: each table read once for the plans' tasks and hash-joined; the latest accepted
  review per task is the greatest (created_at, id) of its reviews carried with its update's
  status and progress, one hash aggregate, where sorting every review by task spills to disk
  at a province's size and per-task look-ups cost twice as much.
The latest review is the later one on a tie (the greater id), in both shapes.
"""

from tasks_app.models import ChangeRequest, Review, TaskStatus

STATUSES = [s.value for s in TaskStatus]

_CHANGES = """
  LEFT JOIN (
    SELECT DISTINCT ON (c.task_id) c.task_id, c.old_value FROM tasks_app_changerequest c
     WHERE c.field = %(deadline_field)s AND c.state = %(approved)s AND c.decided_at >= %(end)s
     ORDER BY c.task_id, c.decided_at, c.id) c ON c.task_id = t.id
"""

_MILESTONES_PER_TASK = """
  LEFT JOIN LATERAL (
    SELECT array_agg(m.due_date ORDER BY m.due_date) AS dues
      FROM tasks_app_milestone m WHERE m.task_id = t.id) m ON true
"""

_ACCEPTED_PER_TASK = """
  LEFT JOIN LATERAL (
    SELECT u.status, u.progress
      FROM tasks_app_statusupdate u JOIN tasks_app_review r ON r.update_id = u.id
     WHERE u.task_id = t.id AND r.decision = %(accepted)s AND r.created_at < %(end)s
     ORDER BY r.created_at DESC, r.id DESC LIMIT 1) a ON true
"""

_MILESTONES_JOINED = """
  LEFT JOIN (
    SELECT m.task_id, array_agg(m.due_date ORDER BY m.due_date) AS dues
      FROM tasks_app_milestone m JOIN tasks_app_task s ON s.id = m.task_id
     WHERE s.plan_id = ANY(%(plans)s) {department} GROUP BY m.task_id) m ON m.task_id = t.id
"""

_ACCEPTED_JOINED = """
  LEFT JOIN (
    SELECT top.task_id, (%(statuses)s::varchar[])[top.latest[4]] AS status,
           top.latest[3]::int AS progress
      FROM (SELECT u.task_id,
                   max(ARRAY[extract(epoch FROM r.created_at), r.id, u.progress,
                             array_position(%(statuses)s::varchar[], u.status)]) AS latest
              FROM tasks_app_review r JOIN tasks_app_statusupdate u ON u.id = r.update_id
              JOIN tasks_app_task s ON s.id = u.task_id
             WHERE s.plan_id = ANY(%(plans)s) {department} AND r.decision = %(accepted)s
               AND r.created_at < %(end)s
             GROUP BY u.task_id) top) a ON a.task_id = t.id
"""

_NO_ACCEPTED = "LEFT JOIN (SELECT NULL::varchar AS status, NULL::int AS progress) a ON false"


def task_state_joins(*, one_plan: bool, accepted: bool, department: bool) -> str:
    """The joins after `FROM tasks_app_task t`. accepted=False leaves a.status and a.progress
    NULL (the stored state of record is used); department restricts the many-plans passes to
    the tasks of `%(department)s`, as the caller's WHERE restricts t."""
    if one_plan:
        joins = _CHANGES + _MILESTONES_PER_TASK + (_ACCEPTED_PER_TASK if accepted else "")
    else:
        joins = _CHANGES + _MILESTONES_JOINED + (_ACCEPTED_JOINED if accepted else "")
    if not accepted:
        joins += _NO_ACCEPTED
    restrict = "AND s.lead_department_id = %(department)s" if department else ""
    return joins.format(department=restrict)


def task_state_params(*, plan_ids: list[int], department_id, end) -> dict:
    return {
        "plans": plan_ids,
        "department": department_id,
        "end": end,
        "accepted": Review.Decision.ACCEPTED,
        "deadline_field": ChangeRequest.Field.DEADLINE,
        "approved": ChangeRequest.State.APPROVED,
        "statuses": STATUSES,
    }
