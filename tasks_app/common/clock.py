"""The business clock: the one place that says what "today" and "now" are.

Business time is the day the district's year has reached. It drives the schedules (序时进度),
the lights, the report schedule, reminders and chasing, the leaders' numbers and every default
as-of date, and it stamps the business facts: when a report was submitted, reviewed or returned,
when a task was received, an instruction given, evidence uploaded, a change request decided, a
plan published, a reminder or notification written.

- Production: ``GAOXIN_TODAY`` unset; ``today()`` is the local date (Asia/Shanghai) and ``now()``
  the real time.
- A fixed date (the demo, a training copy): ``GAOXIN_TODAY=YYYY-MM-DD`` in the environment or in
  settings; ``today()`` is that date and ``now()`` is that date at the real local time of day, so
  the hours pass but the day never changes. ``make run`` defaults it to ``DEMO_TODAY``.
- Simulation: ``travel_to(moment)`` makes ``now()`` that moment (and ``today()`` its local date)
  inside a ``with`` block, in the current thread only; the demo seed lives its year this way.

Tests set ``settings.GAOXIN_TODAY`` (pytest-django's ``settings`` fixture) or use ``travel_to``
instead of patching dates.

Real wall time, never the clock: the audit ledger (events and checkpoints record when the machine
wrote them, in order, and cannot be set back), export jobs and their manifests, login lockouts,
sessions and tokens, import drafts, and the created/updated stamps of the register's rows.
"""

import contextlib
import contextvars
import datetime as dt

from django.conf import settings
from django.utils import timezone

DEMO_TODAY = dt.date(2020, 9, 30)

_travelled: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar(
    "gaoxin_clock_travelled", default=None
)


def fixed_today() -> dt.date | None:
    """The date GAOXIN_TODAY fixes, or None when the clock follows the real date."""
    value = getattr(settings, "GAOXIN_TODAY", None)
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def now() -> dt.datetime:
    """The business moment, timezone-aware."""
    moment = _travelled.get()
    if moment is not None:
        return moment
    real = timezone.now()
    fixed = fixed_today()
    if fixed is None:
        return real
    local = timezone.localtime(real)
    return local.replace(year=fixed.year, month=fixed.month, day=fixed.day)


def today() -> dt.date:
    """The business date in the local time zone."""
    moment = _travelled.get()
    if moment is not None:
        return timezone.localtime(moment).date()
    return fixed_today() or timezone.localdate()


@contextlib.contextmanager
def travel_to(moment: dt.datetime | dt.date):
    """Within the block, now() is `moment` (a date means 10:00 local time that day)."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(10, 0))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    token = _travelled.set(moment)
    try:
        yield moment
    finally:
        _travelled.reset(token)
