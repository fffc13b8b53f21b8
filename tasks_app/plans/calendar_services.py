"""Writes to the working calendar: loading the State Council holiday arrangements."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from tasks_app.audit.services import audit_log
from tasks_app.models import CalendarDay, User

# The package's English names, as the office reads them.
CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


@dataclass(frozen=True)
class CalendarLoad:
    added: int
    first_year: int
    last_year: int


def _package_days() -> list[CalendarDay]:
    """Only exceptions to the Monday-Friday week: weekday holidays and weekend working days."""
    import chinese_calendar

    days = [
        CalendarDay(date=day, kind=CalendarDay.Kind.HOLIDAY, name=CHINESE_NAMES.get(name, name))
        for day, name in chinese_calendar.holidays.items()
        if day.weekday() < 5
    ]
    days += [
        CalendarDay(date=day, kind=CalendarDay.Kind.WORKDAY, name=CHINESE_NAMES.get(name, name))
        for day, name in chinese_calendar.workdays.items()
        if day.weekday() >= 5
    ]
    return sorted(days, key=lambda d: d.date)


@transaction.atomic
def calendar_days_load(*, actor: User | None) -> CalendarLoad:
    """Adds the days the chinese-calendar package knows and the table lacks. Days the office
    already entered or edited stay as they are; running it twice adds nothing."""
    days = _package_days()
    known = set(CalendarDay.objects.values_list("date", flat=True))
    new = [day for day in days if day.date not in known]
    CalendarDay.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    first, last = days[0].date.year, days[-1].date.year
    if new:
        audit_log(
            actor=actor,
            action="calendar.load",
            object_type="calendar",
            object_repr=f"{first}-{last}",
            after={"added": len(new), "first_year": first, "last_year": last},
        )
    return CalendarLoad(added=len(new), first_year=first, last_year=last)


def years_without_days(years: list[int]) -> list[int]:
    """Years with no calendar row at all: their holidays are unknown until the office enters
    them (the package covers only the years the State Council has announced)."""
    present = {
        d.year
        for d in CalendarDay.objects.filter(
            date__gte=dt.date(min(years), 1, 1), date__lte=dt.date(max(years), 12, 31)
        ).dates("date", "year")
    }
    return [year for year in years if year not in present]
