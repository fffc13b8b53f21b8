"""Reminders, chasing (催办) and escalation (督办): services and selectors.

Protocol (each step is safe to run twice, or twice at once):

1. ``reminders_decide(now)`` looks at what falls due (report cycles, deadlines, milestones,
   returned reports, tasks not received, reports awaiting review), applies each plan's ladder on
   the working calendar and inserts one Reminder per (task, step, item, day), insert-or-ignore.
2. ``digests_assemble(now)`` puts every new reminder in one Digest per (recipient, channel, day),
   insert-or-ignore, with one Delivery per digest (per robot for a department's webhooks). A
   digest takes items until its first delivery claim seals it; later items wait for the next
   working day's digest.
3. ``deliveries_due(now)`` lists deliveries to hand to workers; ``delivery_send(id, now)`` claims
   one with a conditional UPDATE and a lease, sends it, records the attempt, and schedules a retry
   with backoff or gives up. A delivery whose worker died is claimable again when its lease ends.

The database is the only schedule: a broker message says "look at delivery 42 now", never
"remind at T". Everything runs only inside the sending window (08:30-18:00 on working days by
default); a sweep outside it does nothing, a delivery outside it waits for the next window.

Modules, in protocol order: ``window`` (the sending window), ``due`` (what falls due), ``ladder``
(step 1), ``digests`` (step 2, and how a digest reads), ``delivery`` (step 3), ``sweep`` (the
three steps in one call), ``events`` (report submitted or returned, and the signals), ``chasing``
(催办 and department robots), ``inbox`` (what the pages read). The names below are the ones the
rest of the code uses as ``reminders.X``.
"""

from tasks_app.reminders.chasing import (
    RateLimited,
    chase_department,
    chase_task,
    webhook_delete,
    webhook_save,
)
from tasks_app.reminders.delivery import (
    MAX_BACKOFF_SECONDS,
    deliveries_due,
    delivery_claim,
    delivery_send,
    enqueue_after_commit,
    enqueue_deliveries,
)
from tasks_app.reminders.digests import digests_assemble, item_label, render_digest
from tasks_app.reminders.due import (
    LOOKAHEAD_DAYS,
    RECEIPT_WORKING_DAYS,
    REPORT_LOOKBACK_DAYS,
    RESUBMIT_WORKING_DAYS,
    REVIEW_WORKING_DAYS,
    DueItem,
    _add_months,
    _open_tasks,
    _period_of,
    due_items,
    report_due_date,
)
from tasks_app.reminders.events import (
    connect_signals,
    department_contacts,
    notify_report_returned,
    notify_report_submitted,
    on_review_saved,
    on_status_update_saved,
)
from tasks_app.reminders.inbox import (
    notification_list,
    notification_mark_read,
    notification_unread_count,
    task_chases,
    task_delivery_history,
)
from tasks_app.reminders.ladder import WEEK, ladders, reminders_decide, step_occurrence
from tasks_app.reminders.sweep import (
    SweepResult,
    reminders_sweep,
    run_embedded_once,
    start_embedded_scheduler,
)
from tasks_app.reminders.window import _calendar_around, in_window, local_now, next_window_start

__all__ = [
    "LOOKAHEAD_DAYS",
    "MAX_BACKOFF_SECONDS",
    "RECEIPT_WORKING_DAYS",
    "REPORT_LOOKBACK_DAYS",
    "RESUBMIT_WORKING_DAYS",
    "REVIEW_WORKING_DAYS",
    "WEEK",
    "DueItem",
    "RateLimited",
    "SweepResult",
    "_add_months",
    "_calendar_around",
    "_open_tasks",
    "_period_of",
    "chase_department",
    "chase_task",
    "connect_signals",
    "deliveries_due",
    "delivery_claim",
    "delivery_send",
    "department_contacts",
    "digests_assemble",
    "due_items",
    "enqueue_after_commit",
    "enqueue_deliveries",
    "in_window",
    "item_label",
    "ladders",
    "local_now",
    "next_window_start",
    "notification_list",
    "notification_mark_read",
    "notification_unread_count",
    "notify_report_returned",
    "notify_report_submitted",
    "on_review_saved",
    "on_status_update_saved",
    "reminders_decide",
    "reminders_sweep",
    "render_digest",
    "report_due_date",
    "run_embedded_once",
    "start_embedded_scheduler",
    "step_occurrence",
    "task_chases",
    "task_delivery_history",
    "webhook_delete",
    "webhook_save",
]
