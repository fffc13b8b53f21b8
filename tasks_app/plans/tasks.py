from celery import shared_task

from tasks_app.plans import services


@shared_task(name="tasks_app.refresh_schedules", acks_late=True)
def refresh_schedules() -> int:
    """Daily: recompute every task's stored light and expected progress (idempotent)."""
    return services.schedule_refresh_all()
