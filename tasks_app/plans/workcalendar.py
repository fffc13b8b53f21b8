"""Working days under the State Council holiday arrangement (法定节假日与调休).

A day is a working day when it is Monday-Friday and not a holiday, or a weekend day that is an
adjusted working day (调休上班). The exceptions live in CalendarDay; see its docstring.

Protocol: load once per operation, then ask as often as needed without touching the database::

    calendar = WorkingCalendar.load(date(2025, 1, 1), date(2025, 12, 31))
    calendar.add_working_days(received, 5)

`load` always reads whole years (the years of `start` through `end`) in a single query, so the
calendar also learns which of those years have no CalendarDay row at all. Such a year falls back
to Monday-Friday and a WARNING on the "gaoxin.calendar" logger asks for its arrangement to be
entered, once per year per load. Asking about a date outside the loaded years raises ValueError:
the caller chose the range, so a silent extra query would hide a bug.
"""

import logging
from bisect import bisect_left, bisect_right
from datetime import date, timedelta

from tasks_app.models import CalendarDay

logger = logging.getLogger("gaoxin.calendar")


class WorkingCalendar:
    def __init__(self, first: date, last: date, exceptions: dict[date, str]):
        """Build from `exceptions` (date -> CalendarDay kind) for the days first..last inclusive."""
        if last < first:
            raise ValueError(f"calendar range ends ({last}) before it starts ({first})")
        self.first, self.last = first, last
        self._exceptions = dict(exceptions)
        days = (first + timedelta(days=i) for i in range((last - first).days + 1))
        self._working = [d.toordinal() for d in days if self._is_working(d)]

    @classmethod
    def load(cls, start: date, end: date) -> "WorkingCalendar":
        first, last = date(min(start, end).year, 1, 1), date(max(start, end).year, 12, 31)
        rows = CalendarDay.objects.filter(date__range=(first, last)).values_list("date", "kind")
        exceptions = dict(rows)
        years_with_rows = {d.year for d in exceptions}
        for year in range(first.year, last.year + 1):
            if year not in years_with_rows:
                logger.warning(
                    "The holiday arrangement for %s is missing; counting Monday-Friday as working "
                    "days. Enter the State Council arrangement for %s as CalendarDay rows.",
                    year,
                    year,
                )
        return cls(first, last, exceptions)

    def _is_working(self, d: date) -> bool:
        kind = self._exceptions.get(d)
        if kind == CalendarDay.Kind.HOLIDAY:
            return False
        if kind == CalendarDay.Kind.WORKDAY:
            return True
        return d.weekday() < 5

    def _check(self, d: date) -> None:
        if not self.first <= d <= self.last:
            raise ValueError(
                f"{d} is outside the loaded working calendar ({self.first} to {self.last}); "
                "load a range that covers it"
            )

    def is_working_day(self, d: date) -> bool:
        self._check(d)
        return self._is_working(d)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative (-count in (b, a]) when b is before a."""
        self._check(a)
        self._check(b)
        if b < a:
            return -self.working_days_between(b, a)
        return bisect_right(self._working, b.toordinal()) - bisect_right(
            self._working, a.toordinal()
        )

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after d (n > 0), before d (n < 0), or d itself (n == 0)."""
        self._check(d)
        if n == 0:
            return d
        if n > 0:
            index = bisect_right(self._working, d.toordinal()) + n - 1
        else:
            index = bisect_left(self._working, d.toordinal()) + n
        if not 0 <= index < len(self._working):
            raise ValueError(
                f"{n} working days from {d} leaves the loaded working calendar "
                f"({self.first} to {self.last}); load a wider range"
            )
        return date.fromordinal(self._working[index])

    def next_working_day(self, d: date, include_today: bool = True) -> date:
        if include_today and self.is_working_day(d):
            return d
        return self.add_working_days(d, 1)
