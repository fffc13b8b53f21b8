"""The one writer of every CSV and XLSX the system hands out (ledger, progress log, dashboard,
任务分解表): text that a spreadsheet would run as a formula is neutralised, numbers stay numbers.

A text cell starting with = + - @ tab or carriage return, or with a quote, gets one leading
quote. The quote itself is in the list, so the mark is unambiguous: a cell that starts with a
quote followed by anything else was not written by us (tools/verify_export.py relies on it), and
reading our own file back (the 任务分解表 import) takes exactly that one quote off.
CSV is UTF-8 with a BOM, so Excel opens Chinese text correctly.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
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


def append_row(sheet, values: Iterable) -> None:
    """An openpyxl sheet's next row, every cell through cell()."""
    sheet.append([cell(value) for value in values])


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


def write_xlsx(path, header: Iterable[str], rows: Iterable[Iterable], title: str) -> None:
    """One sheet, written row by row (openpyxl's write-only mode: memory stays flat)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(header))
    for row in rows:
        append_row(sheet, row)
    workbook.save(path)


def xlsx_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
