"""Seed CalendarDay with the State Council holiday arrangements the chinese-calendar package knows.

Only exceptions to the Monday-Friday week are stored: a holiday that falls on a weekday, and a
weekend day that is an adjusted working day (调休上班). Years the package does not know are entered
by the supervision office; the working calendar warns when a year has no rows at all.
"""

from django.db import migrations

HOLIDAY = "holiday"
WORKDAY = "workday"

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


def _chinese(name):
    return CHINESE_NAMES.get(name, name or "")


def _package_days():
    """(date, kind, name) for every exception the package knows, and the years it covers."""
    import chinese_calendar

    days = [
        (day, HOLIDAY, _chinese(name))
        for day, name in chinese_calendar.holidays.items()
        if day.weekday() < 5
    ]
    days += [
        (day, WORKDAY, _chinese(name))
        for day, name in chinese_calendar.workdays.items()
        if day.weekday() >= 5
    ]
    known = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    years = range(min(known).year, max(known).year + 1)
    return days, years


def seed_calendar_days(apps, schema_editor):
    CalendarDay = apps.get_model("tasks_app", "CalendarDay")
    days, _ = _package_days()
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=day, kind=kind, name=name) for day, kind, name in sorted(days)],
        batch_size=500,
        ignore_conflicts=True,
    )


def unseed_calendar_days(apps, schema_editor):
    CalendarDay = apps.get_model("tasks_app", "CalendarDay")
    _, years = _package_days()
    CalendarDay.objects.filter(
        date__year__gte=years[0], date__year__lte=years[-1], kind__in=[HOLIDAY, WORKDAY]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0002_calendar_day"),
    ]

    operations = [
        migrations.RunPython(seed_calendar_days, unseed_calendar_days),
    ]
