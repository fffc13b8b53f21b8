"""The corpus evaluation: CI fails when the parser falls under the thresholds on ../shared/reports.

The folder holds 107 published reports (the State Council, Guangdong, Shenzhen city and districts,
2001-2026); tests/data holds the hand-labelled targets of 13 of them (and of the seed).
"""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tasks_app.common.errors import ServiceError
from tasks_app.importer.drafts import report_parse
from tasks_app.importer.text import parse_report

CHECKOUT = Path(__file__).parents[2]
CORPUS = CHECKOUT / ".." / "shared" / "reports"
LABELS = CHECKOUT / "tests" / "data"


def test_the_importer_meets_the_thresholds_on_every_report_of_the_shared_corpus(capsys):
    assert CORPUS.is_dir(), f"the report corpus is expected beside the checkout: {CORPUS}"
    call_command(
        "import_eval",
        str(CORPUS),
        "--labels",
        str(LABELS),
        "--min-plausible",
        "0.95",
        "--min-recall",
        "0.95",
        "--min-precision",
        "0.90",
    )
    out = capsys.readouterr().out
    print(out[-600:])
    assert " 0 crashes" in out
    assert "sz-longhua-fazhi-2019.txt (other)" in out
    assert "on 13 labelled reports" in out


def test_the_evaluation_exits_non_zero_under_its_thresholds(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("会议纪要\n" + "讨论了若干事项。" * 20, encoding="utf-8")
    with pytest.raises(CommandError, match="plausible structure 0.000 < 0.95"):
        call_command("import_eval", str(tmp_path))
    assert "-- " in capsys.readouterr().out


def test_a_rule_of_law_report_is_told_apart_instead_of_given_a_plan():
    text = (CORPUS / "sz-longhua-fazhi-2019.txt").read_text(encoding="utf-8")
    draft = parse_report(text, year=2019)
    assert draft["document"]["kind"] == "other"
    assert draft["sections"] == [] and draft["headline_targets"] == []
    with pytest.raises(ServiceError) as raised:
        report_parse(data=text.encode(), year=2019)
    assert raised.value.code == "not_a_work_report"
    assert "不是政府工作报告" in raised.value.message


@pytest.mark.parametrize(
    ("report", "year", "heading", "sections"),
    [
        ("cn-state-2024.txt", 2024, "三、2024年政府工作任务", 10),  # targets in part 二
        ("cn-state-2015.txt", 2015, "二、2015年工作总体部署", 7),  # 第一……第三, then parts 三-六
        ("gd-2016.txt", 2016, "三、2016年工作安排", 11),  # plus the 十件民生实事 attachment
        ("sz-2005.txt", 2005, "四、对2005年政府重点工作的建议", 10),  # 一是……十是
        ("sz-nanshan-2014.txt", 2014, "2014年工作安排", 6),  # unnumbered part heading
        ("sz-pingshan-2025.txt", 2025, "二、2025年工作安排", 10),  # 一、 review, （一） plan
    ],
)
def test_it_finds_the_plan_part_and_its_sections_whichever_markers_the_report_uses(
    report, year, heading, sections
):
    draft = parse_report((CORPUS / report).read_text(encoding="utf-8"), year=year)
    assert draft["plan_part"]["heading"] == heading
    assert len(draft["sections"]) == sections


@pytest.mark.parametrize(
    ("report", "title", "first_item"),
    [
        ("gd-2016.txt", "2016年省十件民生实事", "巩固提升底线民生保障水平"),  # 一、…十、
        ("sz-futian-2016.txt", "2016年区政府民生实事计划清单", "完成3所学校的改扩建工程项目"),
    ],
)
def test_this_years_livelihood_list_in_the_attachments_becomes_a_section(report, title, first_item):
    draft = parse_report((CORPUS / report).read_text(encoding="utf-8"), year=2016)
    section = draft["sections"][-1]
    tasks = [task for area in section["key_areas"] for task in area["tasks"]]
    assert section["title"] == title
    assert tasks[0]["source_text"].startswith(first_item)
    assert sum(bool(task["indicators"]) for task in tasks) >= 20
    # last year's completion list (2015年区政府民生实事完成情况清单) is not this year's work
    assert not any("完成情况" in s["title"] for s in draft["sections"])
