"""The sending window: when reminders may go out, on the working calendar."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from tasks_app.plans.workcalendar import WorkingCalendar

# --- The sending window -----------------------------------------------------------------------


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.REMINDER_TIMEZONE)


def _clock(value: str) -> dt.time:
    hours, minutes = (int(part) for part in value.split(":"))
    return dt.time.max if hours == 24 else dt.time(hours, minutes)


def local_now(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now, local_zone())


def calendar_around(day: dt.date) -> WorkingCalendar:
    """The years a sweep looks at: overdue items of the past year, due dates of the next weeks."""
    return WorkingCalendar.load(day - dt.timedelta(days=366), day + dt.timedelta(days=60))


def in_window(now: dt.datetime, calendar: WorkingCalendar | None = None) -> bool:
    local = local_now(now)
    start, end = _clock(settings.REMINDER_WINDOW_START), _clock(settings.REMINDER_WINDOW_END)
    if not start <= local.time() < end:
        return False
    if not settings.REMINDER_WORKING_DAYS_ONLY:
        return True
    calendar = calendar or WorkingCalendar.load(local.date(), local.date())
    return calendar.is_working_day(local.date())


def next_window_start(now: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """now if inside the window, else the next moment the window opens."""
    if in_window(now, calendar):
        return now
    local = local_now(now)
    start = _clock(settings.REMINDER_WINDOW_START)
    day = local.date() if local.time() < start else local.date() + dt.timedelta(days=1)
    if settings.REMINDER_WORKING_DAYS_ONLY:
        calendar = calendar or WorkingCalendar.load(day, day + dt.timedelta(days=30))
        day = calendar.next_working_day(day)
    return dt.datetime.combine(day, start, tzinfo=local_zone())
