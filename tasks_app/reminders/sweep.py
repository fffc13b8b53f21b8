"""The sweep: decide, assemble and list due deliveries; the embedded scheduler."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings

from tasks_app.common import clock
from tasks_app.common.collector import collector_paused
from tasks_app.reminders.delivery import deliveries_due, delivery_send
from tasks_app.reminders.digests import digests_assemble
from tasks_app.reminders.ladder import reminders_decide
from tasks_app.reminders.window import calendar_around, in_window, local_now

logger = logging.getLogger("gaoxin.reminders")


# --- Sweep ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    in_window: bool
    reminders: int = 0
    digests: int = 0
    delivery_ids: list[int] = field(default_factory=list)


@collector_paused  # a bounded job making many short-lived objects (tasks_app.common.collector)
def reminders_sweep(*, now: dt.datetime) -> SweepResult:
    """Decide, assemble and list due deliveries, inside the sending window only."""
    calendar = calendar_around(local_now(now).date())
    if not in_window(now, calendar):
        return SweepResult(in_window=False)
    result = SweepResult(in_window=True)
    result.reminders = reminders_decide(now=now, calendar=calendar)
    result.digests = digests_assemble(now=now, calendar=calendar)
    result.delivery_ids = deliveries_due(now=now)
    return result


def run_embedded_once(*, now: dt.datetime | None = None) -> SweepResult:
    """Demo mode without a broker: the same sweep and delivery code, in this process."""
    now = now or clock.now()
    result = reminders_sweep(now=now)
    for delivery_id in result.delivery_ids:
        delivery_send(delivery_id=delivery_id, now=now)
    return result


def start_embedded_scheduler(interval: int | None = None):
    """A daemon thread running run_embedded_once every interval seconds (make run)."""
    import threading

    from django.db import close_old_connections

    interval = interval or settings.REMINDER_EMBEDDED_INTERVAL_SECONDS
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            close_old_connections()
            try:
                result = run_embedded_once()
                if result.delivery_ids:
                    logger.info("embedded sweep sent %s deliveries", len(result.delivery_ids))
            except Exception:
                logger.exception("embedded reminder sweep failed")
            stop.wait(interval)

    thread = threading.Thread(target=loop, name="reminder-sweep", daemon=True)
    thread.start()
    return thread, stop
