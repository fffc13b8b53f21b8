"""Quarters as their first day."""

import datetime as dt


def quarter_of(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_end(quarter: dt.date) -> dt.date:
    month = quarter.month + 3
    first_next = dt.date(quarter.year + (month > 12), (month - 1) % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def quarter_label(quarter: dt.date) -> str:
    return f"{quarter.year}年第{(quarter.month - 1) // 3 + 1}季度"
