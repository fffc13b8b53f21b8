"""The dashboard's workbook (导出Excel): 总览, 异常任务, 指标, 红黑榜, 趋势.

Each sheet has a bold, frozen header row and columns fitted to their text; counts and scores
are numbers, rates and progress are numbers with a percent format, and every text cell goes
through the one writer (tasks_app.common.spreadsheets), which disarms formulas.
"""

from tasks_app.common.spreadsheets import (
    Percent,
    WholePercent,
    append_header,
    append_row,
    fit_columns,
    freeze_header,
    xlsx_bytes,
)
from tasks_app.models import Light, TaskStatus
from tasks_app.stats import ranking as stats_ranking
from tasks_app.stats import snapshot as stats_snapshot

STATUS_LABELS = dict(TaskStatus.choices)
LIGHT_LABELS = dict(Light.choices)
SCORE_LABELS = {
    "reporting": "报送率",
    "on_time": "按时报送率",
    "first_pass": "一次通过率",
    "completion": "完成率",
    "lights": "亮灯得分",
}
YES_NO = {True: "是", False: "否"}


def _tally_row(scope: str, name: str, tally: dict) -> list:
    return [
        scope,
        name,
        tally["total"],
        tally["done"],
        Percent(tally["completion_rate"]),
        tally["overdue"],
        *[tally["by_status"][s] for s in stats_snapshot.STATUSES],
        *[tally["by_light"][light] for light in stats_snapshot.LIGHTS],
    ]


def _tally_header(first: str, second: str) -> list[str]:
    return [
        first,
        second,
        "任务数",
        "完成数",
        "完成率",
        "逾期",
        *[f"状态:{STATUS_LABELS[s]}" for s in stats_snapshot.STATUSES],
        *[str(LIGHT_LABELS[light]) for light in stats_snapshot.LIGHTS],
    ]


def _sheet(book, title: str, header: list[str], *, first: bool = False):
    sheet = book.active if first else book.create_sheet(title)
    sheet.title = title
    append_header(sheet, header)
    freeze_header(sheet)
    return sheet


def _overview_sheet(book, data: dict) -> None:
    sheet = _sheet(book, "总览", _tally_header("范围", "名称"), first=True)
    append_row(sheet, _tally_row("全部", "全部任务", data["totals"]))
    append_row(sheet, _tally_row("全部", "民生实事", data["overview"]["livelihood"]))
    for row in data["overview"]["by_section"]:
        append_row(sheet, _tally_row("方面", row["title"], row))
    for row in data["overview"]["by_department"]:
        append_row(sheet, _tally_row("牵头单位", row["name"], row))
    append_row(sheet, [])
    append_row(sheet, ["计划", data["plan"].title])
    append_row(sheet, ["统计日期", data["as_of"]])
    append_row(sheet, ["概述", data["summary"]["sentence"]])


EXCEPTION_HEADER = [
    "编号",
    "任务",
    "牵头单位",
    "完成时限",
    "逾期工作日",
    "亮灯",
    "状态",
    "进度",
    "序时进度",
    "最近报送期",
    "情况说明",
]


def _exceptions_sheet(book, data: dict) -> None:
    sheet = _sheet(book, "异常任务", EXCEPTION_HEADER)
    for row in data["exceptions"]:
        report = row["latest_report"] or {}
        append_row(
            sheet,
            [
                row["code"],
                row["title"],
                row["lead_department"] or "",
                row["deadline"],
                row["days_late"],
                str(LIGHT_LABELS[row["light"]]),
                str(STATUS_LABELS[row["status"]]),
                WholePercent(row["progress"] / 100),
                WholePercent(row["expected_progress"] / 100),
                report.get("period").strftime("%Y-%m") if report else "",
                report.get("narrative", ""),
            ],
        )


def _indicator_sheet(book, data: dict) -> None:
    header = ["指标", "任务", "目标", "实际", "单位", "完成比例", "差(百分点)", "达标", "序时"]
    sheet = _sheet(book, "指标", header)
    for row in data["indicators"]:
        append_row(
            sheet,
            [
                row["name"],
                row["task_code"] or "",
                row["target"],
                row["actual"],
                row["unit"],
                Percent(row["share"]) if row["share"] is not None else None,
                row["points"],
                YES_NO.get(row["met"], ""),
                YES_NO.get(row["on_schedule"], ""),
            ],
        )


def _ranking_sheet(book, data: dict) -> None:
    weights = data["ranking"]["weights"]
    keys = stats_ranking.SCORE_KEYS
    header = ["名次", "牵头单位", "得分", "榜单", "任务数", "已完成", "红灯", "逾期"]
    header += ["应报", "已报", "按时", "退回"]
    header += [f"{SCORE_LABELS[key]}(满分{weights[key]})" for key in keys]
    sheet = _sheet(book, "红黑榜", header)
    for row in data["ranking_rows"]:
        points = {part["key"]: part["points"] for part in row["score_parts"]}
        append_row(
            sheet,
            [
                row["rank"],
                row["department"],
                row["score"],
                {"red": "红榜", "black": "黑榜"}.get(row["list"], ""),
                row["tasks"],
                row["done"],
                row["red"],
                row["overdue"],
                row["reports_due"],
                row["reports_received"],
                row["reports_on_time"],
                row["returned"],
                *[points[key] for key in keys],
            ],
        )
    append_row(sheet, [])
    append_row(sheet, [data["ranking"]["rule"]])


def _trend_sheet(book, data: dict) -> None:
    sheet = _sheet(book, "趋势", _tally_header("月份", "截至"))
    for point in data["trend"]:
        append_row(sheet, _tally_row(point["month"], point["as_of"], point))


def dashboard_workbook(data: dict) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for write in (
        _overview_sheet,
        _exceptions_sheet,
        _indicator_sheet,
        _ranking_sheet,
        _trend_sheet,
    ):
        write(book, data)
    for sheet in book.worksheets:
        fit_columns(sheet)
    return xlsx_bytes(book)
