"""The one writer of every CSV and XLSX the system hands out (ledger, progress log, dashboard,
任务分解表): text that a spreadsheet would run as a formula is neutralised, numbers stay numbers.

A text cell starting with = + - @ tab or carriage return, or with a quote, gets one leading
quote. The quote itself is in the list, so the mark is unambiguous: a cell that starts with a
quote followed by anything else was not written by us (tools/verify_export.py relies on it), and
reading our own file back (the 任务分解表 import) takes exactly that one quote off.
CSV is UTF-8 with a BOM, so Excel opens Chinese text correctly.

Every XLSX is laid out for people: the header row bold and frozen, columns wide enough for their
text (a Chinese character counts twice), numbers as numbers (declared numeric columns of text
rows are converted back), shares as numbers with a percent format (Percent), sheet titles in
Chinese.
"""

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

BOM = "\ufeff"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")
CHUNK_ROWS = 500


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def unneutralise(text: str) -> str:
    """What neutralise() was given, for a cell read back from one of our files."""
    if text.startswith("'") and text[1:].startswith(DANGEROUS_PREFIXES):
        return text[1:]
    return text


def cell(value):
    """A value as a spreadsheet cell: numbers and booleans as themselves, dates as ISO text,
    everything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))


class Percent(float):
    """A share (0..1) written as a number with a percent format: 0.167 shows as 16.7%."""

    number_format = "0.0%"


class WholePercent(Percent):
    """A share shown without decimals (progress: 0.6 shows as 60%)."""

    number_format = "0%"


_NUMBER = re.compile(r"-?\d{1,15}(\.\d{1,15})?")  # Excel keeps 15 significant digits


def as_number(value):
    """Text that is a plain decimal number ("12", "-3.5") as that number; anything else as is."""
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return int(value) if "." not in value else Decimal(value)
    return value


def _xlsx_cell(sheet, value):
    if isinstance(value, Percent):
        from openpyxl.cell import WriteOnlyCell

        written = WriteOnlyCell(sheet, value=float(value))
        written.number_format = value.number_format
        return written
    return cell(value)


def append_row(sheet, values: Iterable) -> None:
    """An openpyxl sheet's next row, every cell through cell(); Percent values formatted."""
    sheet.append([_xlsx_cell(sheet, value) for value in values])


def append_header(sheet, titles: Iterable[str]) -> None:
    """A bold header row."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    cells = []
    for title in titles:
        written = WriteOnlyCell(sheet, value=cell(title))
        written.font = bold
        cells.append(written)
    sheet.append(cells)


def text_width(value) -> float:
    """How many character widths a value takes in a spreadsheet (East Asian wide chars: 2)."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    longest = max(text.splitlines() or [""], key=len)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest)


def set_widths(sheet, widths: Sequence[float]) -> None:
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def fit_columns(sheet, *, least: float = 6, most: float = 60) -> None:
    """Widths from the contents of a (normal, not write-only) sheet, within least..most."""
    widths: dict[int, float] = {}
    for row in sheet.iter_rows():
        for written in row:
            if written.value is not None:
                need = text_width(written.value) + 2
                widths[written.column] = max(widths.get(written.column, least), need)
    set_widths(
        sheet, [min(most, widths.get(i, least)) for i in range(1, max(widths, default=0) + 1)]
    )


def freeze_header(sheet, rows: int = 1) -> None:
    sheet.freeze_panes = f"A{rows + 1}"


class _Parts(list):
    def write(self, text: str) -> None:
        self.append(text)


def csv_chunks(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[bytes]:
    """header and rows as CSV bytes (BOM first), a few hundred rows per chunk."""
    parts = _Parts()
    writer = csv.writer(parts, lineterminator="\r\n")
    parts.write(BOM)
    writer.writerow(list(header))
    for count, row in enumerate(rows, start=1):
        writer.writerow([cell(value) for value in row])
        if count % CHUNK_ROWS == 0:
            yield "".join(parts).encode("utf-8")
            parts.clear()
    yield "".join(parts).encode("utf-8")


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable]) -> bytes:
    return b"".join(csv_chunks(header, rows))


def write_xlsx(
    path,
    header: Sequence[str],
    rows: Iterable[Sequence],
    title: str,
    *,
    widths: Sequence[float] | None = None,
    numeric: Iterable[int] = (),
) -> None:
    """One sheet, written row by row (openpyxl's write-only mode: memory stays flat): a bold,
    frozen header, the given column widths (else the header's), and the cells of the `numeric`
    columns (0-based) written as numbers when their text is a number."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    freeze_header(sheet)
    set_widths(sheet, widths or [max(10, text_width(name) + 4) for name in header])
    append_header(sheet, header)
    numeric = frozenset(numeric)
    for row in rows:
        if numeric:
            row = [as_number(v) if i in numeric else v for i, v in enumerate(row)]
        append_row(sheet, row)
    workbook.save(path)


def xlsx_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
