"""任务分解表 (task-breakdown spreadsheet) <-> rows: reading XLSX/CSV as offices keep them, and
writing a plan's register in the same layout.

Reading only parses and checks the shape of the file; matching rows to tasks, departments and
leaders, and writing, is services.breakdown_import. Every problem is a RowError (row, column,
reason) so that the office can fix the sheet and upload it again.
"""

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from tasks_app.common import spreadsheets
from tasks_app.importer.deadlines import format_deadline
from tasks_app.importer.decoding import MAX_TEXT_BYTES, decode_report
from tasks_app.importer.indicators import fold
from tasks_app.models import Comparator

COLUMNS = ["序号", "任务内容", "牵头单位", "配合单位", "责任领导", "完成时限", "指标", "目标值"]
HEADER_ALIASES = {
    "序号": ("序号", "编号", "任务编号", "代码", "任务序号"),
    "任务内容": (
        "任务内容",
        "工作任务",
        "任务",
        "工作内容",
        "重点任务",
        "具体任务",
        "任务名称",
        "主要任务",
    ),
    "牵头单位": ("牵头单位", "牵头部门", "责任单位", "主责单位", "牵头责任单位", "责任部门"),
    "配合单位": ("配合单位", "配合部门", "协办单位", "参与单位", "协助单位", "协同单位"),
    "责任领导": ("责任领导", "分管领导", "牵头领导", "区领导", "责任区领导"),
    "完成时限": ("完成时限", "完成时间", "时间节点", "时限", "截止时间", "完成期限"),
    "指标": ("指标", "指标名称", "量化指标", "主要指标"),
    "目标值": ("目标值", "指标值", "目标", "目标任务", "量化目标"),
}
REQUIRED = ("序号", "任务内容")
HEADER_SEARCH_ROWS = 10
MAX_ROWS = 5000
LIST_SPLIT = re.compile(r"[、,;/\n]+|\s{1,}")
VALUE_SEPARATOR = "\n"


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class Row:
    number: int  # the row number the office sees in Excel (1-based)
    values: dict[str, object] = field(default_factory=dict)


class BreakdownFileError(Exception):
    """The file as a whole cannot be read; carries the RowErrors to show."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(f"{e.row}:{e.column}:{e.reason}" for e in errors))
        self.errors = errors


def read_rows(data: bytes, filename: str) -> list[Row]:
    """The sheet's data rows keyed by canonical column name; BreakdownFileError if unusable."""
    if not data:
        raise _file_error("文件为空")
    if len(data) > MAX_TEXT_BYTES:
        raise _file_error("文件超过5 MB")
    if filename.lower().endswith(".csv"):
        grid = _csv_grid(data)
    elif filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        grid = _xlsx_grid(data)
    else:
        raise _file_error("只支持 .xlsx 或 .csv 格式的任务分解表(.xls 请另存为 .xlsx)")
    return _rows(grid)


def _file_error(reason: str, row: int = 0, column: str = "") -> BreakdownFileError:
    return BreakdownFileError([RowError(row, column, reason)])


def _csv_grid(data: bytes) -> list[tuple[int, list]]:
    try:
        text, _ = decode_report(data)
    except Exception as error:  # ServiceError carries the Chinese reason
        raise _file_error(str(getattr(error, "message", error))) from error
    reader = csv.reader(io.StringIO(text))
    return [(index, row) for index, row in enumerate(reader, start=1)]


def _xlsx_grid(data: bytes) -> list[tuple[int, list]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
        raise _file_error("不是有效的 XLSX 文件,请用 Excel/WPS 另存为 .xlsx 后上传") from error
    sheets = [sheet for sheet in book.worksheets if _has_values(sheet)]
    if len(sheets) > 1:
        names = "、".join(sheet.title for sheet in sheets)
        raise _file_error(f"工作簿有多个非空工作表({names}),请只保留任务分解表一个工作表")
    if not sheets:
        raise _file_error("工作表为空")
    sheet = sheets[0]
    grid = [(cells[0].row, [cell.value for cell in cells]) for cells in sheet.iter_rows()]
    header_row = _header_row_number(grid)
    _check_merged(sheet, header_row)
    _check_formulas(sheet, header_row)
    return grid


def _has_values(sheet) -> bool:
    return any(
        value not in (None, "") for row in sheet.iter_rows(values_only=True) for value in row
    )


def _check_merged(sheet, header_row: int | None) -> None:
    """Merged cells above the header (a title) are fine; inside the table they hide values."""
    errors = [
        RowError(
            rng.min_row, _column_letter(rng.min_col), f"合并单元格 {rng.coord},请取消合并并逐行填写"
        )
        for rng in sheet.merged_cells.ranges
        if header_row is None or rng.max_row >= header_row
    ]
    if errors:
        raise BreakdownFileError(errors)


def _check_formulas(sheet, header_row: int | None) -> None:
    errors = [
        RowError(cell.row, cell.column_letter, f"单元格含公式 {cell.value},请复制后“粘贴为数值”")
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("="))
    ]
    if errors:
        raise BreakdownFileError(errors[:50])


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _canonical(header: object) -> str | None:
    flat = re.sub(r"[\s*()()]", "", fold(str(header or "")))
    for name, aliases in HEADER_ALIASES.items():
        if flat in aliases:
            return name
    return None


def _header_row_number(grid: list[tuple[int, list]]) -> int | None:
    for number, cells in grid[:HEADER_SEARCH_ROWS]:
        names = [_canonical(cell) for cell in cells]
        if "任务内容" in names:
            return number
    return None


def _rows(grid: list[tuple[int, list]]) -> list[Row]:
    header_row = _header_row_number(grid)
    if header_row is None:
        raise _file_error("前10行中找不到表头(须有“任务内容”或“工作任务”列)", 1, "")
    header = next(cells for number, cells in grid if number == header_row)
    columns: dict[str, int] = {}
    errors = []
    for index, cell in enumerate(header):
        name = _canonical(cell)
        if name and name in columns:
            errors.append(RowError(header_row, str(cell), "表头重复"))
        elif name:
            columns[name] = index
    errors += [RowError(header_row, name, "缺少此列") for name in REQUIRED if name not in columns]
    if errors:
        raise BreakdownFileError(errors)
    rows = []
    for number, cells in grid:
        if number <= header_row or all(_blank(cell) for cell in cells):
            continue
        values = {
            name: cells[index] if index < len(cells) else None for name, index in columns.items()
        }
        rows.append(Row(number, values))
    if len(rows) > MAX_ROWS:
        raise _file_error(f"超过{MAX_ROWS}行,请分批导入")
    if not rows:
        raise _file_error("表中没有任务行", header_row + 1, "")
    return rows


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: object) -> str:
    """A cell as text; a cell our own export neutralised (a quote before =, +, - ...) reads
    back as it was."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return fold(spreadsheets.unneutralise(str(value))).strip()


def split_names(value: object) -> list[str]:
    return [name for name in LIST_SPLIT.split(text(value)) if name]


# --- Targets as written in the 目标值 column --------------------------------------------------

SYMBOLS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "approx": "约", "eq": ""}
TARGET = re.compile(
    r"^(?P<prefix>≥|>=|>|≤|<=|<|约|增长|=)?\s*(?P<value>-?\d+(?:\.\d+)?)"
    r"(?:\s*[-~至]\s*(?P<high>\d+(?:\.\d+)?))?\s*(?P<unit>\S{0,20})$"
)
PREFIX_COMPARATOR = {
    "≥": "gte",
    ">=": "gte",
    ">": "gt",
    "≤": "lte",
    "<=": "lte",
    "<": "lt",
    "约": "approx",
    "增长": "growth",
    "=": "eq",
    None: "eq",
}


def format_target(indicator) -> str:
    value = _plain(indicator.target_value)
    if indicator.comparator == Comparator.BETWEEN:
        return f"{value}-{_plain(indicator.target_value_max)}{indicator.unit}"
    if indicator.comparator == Comparator.GROWTH:
        return f"增长{value}{indicator.unit}"
    return f"{SYMBOLS.get(indicator.comparator, '')}{value}{indicator.unit}"


def format_spec(spec: dict) -> str:
    """format_target for an indicator of a draft (a dict as in plan_2020.json)."""
    value, unit = spec["value"], spec.get("unit", "")
    if spec["comparator"] == Comparator.BETWEEN:
        return f"{value}-{spec.get('value_max')}{unit}"
    if spec["comparator"] == Comparator.GROWTH:
        return f"增长{value}{unit}"
    return f"{SYMBOLS.get(spec['comparator'], '')}{value}{unit}"


def parse_target(raw: str) -> dict:
    """'≥10家' -> {comparator, value, value_max, unit}; ValueError with a Chinese reason."""
    match = TARGET.match(fold(raw).replace("≧", "≥").replace("≦", "≤").strip())
    if not match:
        raise ValueError(f"无法识别的目标值“{raw}”(示例:≥10家、增长7%、1-2个、约27亿元)")
    try:
        value = Decimal(match["value"])
        high = Decimal(match["high"]) if match["high"] else None
    except InvalidOperation as error:
        raise ValueError(f"目标值“{raw}”不是数字") from error
    comparator = "between" if high is not None else PREFIX_COMPARATOR[match["prefix"]]
    if high is not None and high < value:
        raise ValueError(f"目标值区间“{raw}”上限小于下限")
    return {"comparator": comparator, "value": value, "value_max": high, "unit": match["unit"]}


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


# --- Export -----------------------------------------------------------------------------------


def register_rows(plan) -> list[list[str]]:
    """The plan's register, one row per task, in the column order of COLUMNS."""
    tasks = (
        plan.tasks.select_related("lead_department", "responsible_leader")
        .prefetch_related("co_departments", "indicators")
        .order_by("position", "code")
    )
    rows = []
    for task in tasks:
        indicators = sorted(task.indicators.all(), key=lambda item: item.position)
        rows.append(
            [
                task.code,
                task.title,
                task.lead_department.name if task.lead_department else "",
                "、".join(sorted(d.name for d in task.co_departments.all())),
                _leader_name(task.responsible_leader),
                format_deadline(task.deadline),
                VALUE_SEPARATOR.join(item.name for item in indicators),
                VALUE_SEPARATOR.join(format_target(item) for item in indicators),
            ]
        )
    return rows


def _leader_name(user) -> str:
    return (user.display_name or user.username) if user else ""


def export_xlsx(plan) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "任务分解表"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")
    for number, row in enumerate(register_rows(plan), start=2):
        # Cells by number: sheet.max_row (and sheet[n]) scan every cell, quadratic in the rows.
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column, value=spreadsheets.cell(value))
            # Text cells throughout: a code like 1.10 must not become the number 1.1.
            cell.data_type = "s"
            cell.alignment = wrapped
    spreadsheets.set_widths(sheet, (10, 60, 20, 30, 12, 16, 30, 16))
    spreadsheets.freeze_header(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_csv(plan) -> bytes:
    return spreadsheets.csv_bytes(COLUMNS, register_rows(plan))


def export_filename(plan, extension: str) -> str:
    stamp = dt.date.today().strftime("%Y%m%d")
    return f"任务分解表-{plan.year}-{stamp}.{extension}"
