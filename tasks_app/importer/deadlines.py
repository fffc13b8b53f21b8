"""Deadlines as offices write them: 6月底前, 上半年, 一季度, 12月31日, 年底前, 2020-06-30 ...

parse_deadline(text, year) -> date, None for "no fixed deadline" (持续推进, 长期, empty), or raises
ValueError with a Chinese reason.
"""

import calendar
import datetime as dt
import re

from tasks_app.importer.indicators import fold

QUARTERS = {"一": 1, "1": 1, "二": 2, "2": 2, "三": 3, "3": 3, "四": 4, "4": 4}
CN_MONTHS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
}
NO_DEADLINE = re.compile(r"^(?:持续推进|持续|长期|常态化|长期坚持|每年|全年持续|/|-|—|无)$")
END_OF_YEAR = re.compile(
    r"^(?:(?P<y>20\d\d)年)?(?:年底|年末|年内|全年|下半年|四季度|第四季度)(?:前|完成)?$"
)
HALF_YEAR = re.compile(r"^(?:(?P<y>20\d\d)年)?上半年(?:前|完成)?$")
QUARTER = re.compile(r"^(?:(?P<y>20\d\d)年)?(?:第)?(?P<q>[一二三四1-4])季度(?:末)?(?:前|完成)?$")
FULL_DATE = re.compile(
    r"^(?P<y>20\d\d)\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?(?:前)?$"
)
MONTH_DAY = re.compile(
    r"^(?:(?P<y>20\d\d)年)?(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})月(?:份)?"
    r"(?:(?P<d>\d{1,2})日|(?P<part>底|末|上旬|中旬|下旬))?(?:前|以前|之前|完成)?$"
)
PART_DAY = {"上旬": 10, "中旬": 20}


def parse_deadline(text: str | dt.date | dt.datetime | None, year: int) -> dt.date | None:
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    flat = re.sub(r"\s+", "", fold(str(text or "")))
    if not flat or NO_DEADLINE.match(flat):
        return None
    for pattern, build in (
        (END_OF_YEAR, lambda m, y: dt.date(y, 12, 31)),
        (HALF_YEAR, lambda m, y: dt.date(y, 6, 30)),
        (QUARTER, lambda m, y: _month_end(y, QUARTERS[m["q"]] * 3)),
        (FULL_DATE, lambda m, y: _date(y, int(m["m"]), int(m["d"]))),
        (MONTH_DAY, _month_day),
    ):
        match = pattern.match(flat)
        if match:
            return build(match, int(match["y"]) if match["y"] else year)
    raise ValueError(
        f"无法识别的完成时限“{text}”(可写 6月底前、上半年、一季度、12月31日、年底前 或 2020-06-30)"
    )


def _month_day(match: re.Match, year: int) -> dt.date:
    month = match["m"]
    month = int(month) if month.isdigit() else CN_MONTHS.get(month, 0)
    if match["d"]:
        return _date(year, month, int(match["d"]))
    if match["part"] in PART_DAY:
        return _date(year, month, PART_DAY[match["part"]])
    return _month_end(year, month)


def _month_end(year: int, month: int) -> dt.date:
    if not 1 <= month <= 12:
        raise ValueError(f"月份 {month} 不存在")
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise ValueError(f"日期 {year}年{month}月{day}日 不存在") from error


def format_deadline(value: dt.date | None) -> str:
    """The export form, read back by parse_deadline."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""
