"""Celery tasks: thin wrappers that take ids and call a service."""

from celery import shared_task

# --- Reminders ---
# The schedule lives in the database; these messages only say "look now". Both tasks are
# idempotent (insert-or-ignore decisions, claims with a lease), so acks_late is safe for them.


@shared_task(name="tasks_app.reminders_sweep", acks_late=True, soft_time_limit=50, time_limit=58)
def reminders_sweep() -> dict:
    """Every minute (beat): decide, assemble digests, hand due deliveries to workers."""
    from tasks_app.common import clock
    from tasks_app.reminders import delivery, sweep

    result = sweep.reminders_sweep(now=clock.now())
    enqueued = delivery.enqueue_deliveries(result.delivery_ids)
    return {
        "in_window": result.in_window,
        "reminders": result.reminders,
        "digests": result.digests,
        "enqueued": enqueued,
    }


@shared_task(name="tasks_app.deliver", acks_late=True, soft_time_limit=60, time_limit=90)
def deliver(delivery_id: int) -> str:
    """Send one delivery; failures are retried by the database schedule, not by the broker."""
    from tasks_app.reminders import delivery

    return delivery.delivery_send(delivery_id=delivery_id)
