"""An issued 督查通报 as a Word document (.docx, python-docx), laid out on A4 like the print page.

It is written from the bulletin's frozen numbers only, so the file says what was issued.
"""

from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from tasks_app.models import Bulletin

BODY_FONT = "仿宋"
TITLE_FONT = "宋体"


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _font(run, name: str, size: float, bold: bool = False, color: RGBColor | None = None):
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    return run


def _paragraph(document, text: str, *, size=14, bold=False, align=None, font=BODY_FONT, color=None):
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    _font(paragraph.add_run(text), font, size, bold, color)
    return paragraph


def _table(document, header: list[str], rows: list[list]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _font(cell.paragraphs[0].add_run(text), BODY_FONT, 10.5, bold=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            _font(cell.paragraphs[0].add_run("" if value is None else str(value)), BODY_FONT, 10.5)


def _head(document, bulletin: Bulletin) -> None:
    red = RGBColor(0xC0, 0x00, 0x00)
    _paragraph(
        document,
        "督查通报",
        size=26,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        font=TITLE_FONT,
        color=red,
    )
    _paragraph(document, f"第{bulletin.number}期", size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    day = bulletin.issue_date
    line = f"{bulletin.issuing_office}        {day.year}年{day.month}月{day.day}日"
    _paragraph(document, line, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(document, bulletin.document_number, size=12, align=WD_ALIGN_PARAGRAPH.RIGHT)


def _overview(document, numbers: dict) -> None:
    totals = numbers["totals"]
    _paragraph(document, "一、总体情况", size=16, bold=True, font=TITLE_FONT)
    _paragraph(document, f"{numbers['summary']}。")
    _paragraph(
        document,
        f"截至{numbers['as_of']},共{totals['total']}项任务,已完成{totals['done']}项,"
        f"完成率{_percent(totals['completion_rate'])};逾期{totals['overdue']}项;"
        f"红灯{totals['red']}项、黄灯{totals['yellow']}项、绿灯{totals['green']}项。",
    )
    header = ["方面", "任务", "完成", "完成率", "逾期", "红灯", "黄灯", "绿灯"]
    rows = [
        [r["title"], r["total"], r["done"], _percent(r["completion_rate"]), r["overdue"]]
        + [r["red"], r["yellow"], r["green"]]
        for r in numbers["by_section"]
    ]
    _table(document, header, rows)


def _exceptions(document, numbers: dict) -> None:
    _paragraph(document, "二、异常任务(红灯、逾期)", size=16, bold=True, font=TITLE_FONT)
    rows = numbers["exceptions"]
    if not rows:
        _paragraph(document, "没有红灯或逾期的任务。")
        return
    header = ["编号", "任务", "牵头单位", "逾期(工作日)", "进度/序时", "最近报送"]
    _table(
        document,
        header,
        [
            [
                r["code"],
                r["title"],
                r["lead_department"] or "—",
                r["days_late"] or "—",
                f"{r['progress']}% / {r['expected_progress']}%",
                f"{r['latest_period']} {r['latest_status']}" if r["latest_period"] else "未报送",
            ]
            for r in rows
        ],
    )


def _ranking(document, numbers: dict) -> None:
    _paragraph(document, "三、红黑榜", size=16, bold=True, font=TITLE_FONT)
    header = ["名次", "牵头单位", "任务", "完成", "应报", "已报", "按时", "退回", "得分", "榜单"]
    rows = [
        [r["rank"], r["department"], r["tasks"], r["done"], r["reports_due"]]
        + [r["reports_received"], r["reports_on_time"], r["returned"], r["score"], r["list"]]
        for r in numbers["ranking"]["rows"]
    ]
    _table(document, header, rows)
    _paragraph(document, numbers["ranking"]["rule"], size=10.5)


def bulletin_docx(bulletin: Bulletin) -> bytes:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(25)
    section.left_margin = section.right_margin = Mm(22)
    numbers = bulletin.numbers
    document.core_properties.title = f"督查通报 第{bulletin.number}期"
    _head(document, bulletin)
    _overview(document, numbers)
    _exceptions(document, numbers)
    _ranking(document, numbers)
    _paragraph(document, "四、督查意见", size=16, bold=True, font=TITLE_FONT)
    for line in bulletin.opinion.splitlines():
        if line.strip():
            _paragraph(document, line.strip())
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
