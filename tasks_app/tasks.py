"""Celery tasks: thin wrappers that take ids and call a service."""

from celery import shared_task

from tasks_app import services


@shared_task(name="tasks_app.refresh_schedules", acks_late=True)
def refresh_schedules() -> int:
    """Daily: recompute every task's stored light and expected progress (idempotent)."""
    return services.schedule_refresh_all()


# --- Audit ledger ---


@shared_task(name="tasks_app.audit_checkpoint", acks_late=True)
def audit_checkpoint() -> int | None:
    """Hourly: record the ledger's chain head (seq, hash, time) as a checkpoint."""
    from tasks_app import ledger

    checkpoint = ledger.checkpoint_record(created_by="beat")
    return checkpoint.seq if checkpoint else None


# Large exports take longer than the default five-minute limit.
@shared_task(name="tasks_app.run_export_job", acks_late=True, time_limit=3600, soft_time_limit=3540)
def run_export_job(job_id: int) -> str:
    """Write one background export (ledger or progress log) and its manifest."""
    from tasks_app import exports

    return exports.export_job_run(job_id=job_id).state


# --- Reminders ---
# The schedule lives in the database; these messages only say "look now". Both tasks are
# idempotent (insert-or-ignore decisions, claims with a lease), so acks_late is safe for them.


@shared_task(name="tasks_app.reminders_sweep", acks_late=True, soft_time_limit=50, time_limit=58)
def reminders_sweep() -> dict:
    """Every minute (beat): decide, assemble digests, hand due deliveries to workers."""
    from django.utils import timezone

    from tasks_app import reminders

    result = reminders.reminders_sweep(now=timezone.now())
    enqueued = reminders.enqueue_deliveries(result.delivery_ids)
    return {
        "in_window": result.in_window,
        "reminders": result.reminders,
        "digests": result.digests,
        "enqueued": enqueued,
    }


@shared_task(name="tasks_app.deliver", acks_late=True, soft_time_limit=60, time_limit=90)
def deliver(delivery_id: int) -> str:
    """Send one delivery; failures are retried by the database schedule, not by the broker."""
    from tasks_app import reminders

    return reminders.delivery_send(delivery_id=delivery_id)
