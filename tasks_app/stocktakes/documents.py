"""The pack as a .docx (python-docx), from the same contents the page shows."""

import io

from docx import Document
from docx.shared import Pt

# (section key, heading, columns as (label, key))
SECTIONS = [
    (
        "previous_decisions",
        "一、上次调度会议定事项落实情况",
        [
            ("编号", "code"),
            ("事项", "title"),
            ("牵头单位", "lead_department"),
            ("时限", "deadline"),
            ("签收", "received"),
            ("状态", "status"),
            ("进度", "progress"),
            ("建议提问", "question"),
        ],
    ),
    (
        "exceptions",
        "二、异常任务(红灯或逾期)",
        [
            ("编号", "code"),
            ("任务", "title"),
            ("牵头单位", "lead_department"),
            ("时限", "deadline"),
            ("进度", "progress"),
            ("序时", "expected_progress"),
            ("建议提问", "question"),
        ],
    ),
    (
        "behind",
        "三、进度滞后于序时的任务",
        [
            ("编号", "code"),
            ("任务", "title"),
            ("牵头单位", "lead_department"),
            ("进度", "progress"),
            ("序时", "expected_progress"),
            ("建议提问", "question"),
        ],
    ),
    (
        "indicators",
        "四、未达时序目标的指标",
        [
            ("任务", "task_code"),
            ("指标", "name"),
            ("目标", "target"),
            ("实际", "actual"),
            ("建议提问", "question"),
        ],
    ),
    (
        "disagreements",
        "五、自报状态与亮灯不一致",
        [
            ("编号", "code"),
            ("任务", "title"),
            ("自报", "reported"),
            ("计算亮灯", "computed_light"),
            ("不一致", "disagreement"),
            ("建议提问", "question"),
        ],
    ),
    (
        "instructions",
        "六、尚无落实反馈的领导批示",
        [
            ("任务", "code"),
            ("牵头单位", "lead_department"),
            ("批示", "text"),
            ("批示日期", "given"),
            ("建议提问", "question"),
        ],
    ),
    (
        "change_requests",
        "七、超期未决的变更申请",
        [
            ("任务", "code"),
            ("变更项", "field"),
            ("原值", "old_value"),
            ("新值", "new_value"),
            ("申请日期", "requested"),
            ("建议提问", "question"),
        ],
    ),
]


def _table(document, columns, rows) -> None:
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, (label, _key) in zip(table.rows[0].cells, columns, strict=True):
        cell.text = label
    for row in rows:
        cells = table.add_row().cells
        for cell, (_label, key) in zip(cells, columns, strict=True):
            value = row.get(key)
            cell.text = "" if value is None else str(value)


def pack_docx(*, title: str, state_label: str, contents: dict, decisions: list[dict]) -> bytes:
    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(10.5)
    document.add_heading(title, level=1)
    document.add_paragraph(f"{contents['plan']} · 数据截至 {contents['as_of']} · {state_label}")
    for key, heading, columns in SECTIONS:
        document.add_heading(heading, level=2)
        rows = contents.get(key, [])
        if rows:
            _table(document, columns, rows)
        else:
            document.add_paragraph("无。")
    document.add_heading("本次议定事项", level=2)
    if decisions:
        _table(
            document,
            [
                ("编号", "code"),
                ("事项", "title"),
                ("牵头单位", "lead_department"),
                ("时限", "deadline"),
            ],
            decisions,
        )
    else:
        document.add_paragraph("无。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
