"""A small import draft written by hand, so that the edit tests do not depend on the parser."""

from tasks_app.importer.draft_edits import renumber
from tasks_app.models import ImportDraft

TITLE = "测试区2020年政府工作报告"


def target(name, value, unit, comparator, text, kind=""):
    return {
        "name": name,
        "value": value,
        "value_max": None,
        "unit": unit,
        "comparator": comparator,
        "text": text,
        "kind": kind,
    }


def item(text, *indicators, lead="", co=()):
    return {
        "code": "",
        "title": text.rstrip("。"),
        "source_text": text,
        "indicators": list(indicators),
        "suggestions": {"lead": lead, "co": list(co), "keywords": []},
    }


def small_data() -> dict:
    """H01; 1.1.01-03, 1.2.01 (section 一); 2.1.01-02 (section 二)."""
    gdp = target("地区生产总值", "7", "%", "growth", "地区生产总值增长7%", "growth")
    firms = target("高新技术企业", "50", "家", "gte", "新增高新技术企业50家以上", "count")
    projects = target("科技项目", "10", "个", "gte", "引进落地10个以上科技项目", "floor")
    schools = target("学校", "2", "所", "eq", "新建学校2所", "count")
    data = {
        "plan": {"year": 2020, "title": TITLE, "government": "测试区"},
        "headline_targets": [item("地区生产总值增长7%", gdp, lead="经济发展局")],
        "sections": [
            {
                "number": 1,
                "title": "建设创新高地",
                "key_areas": [
                    {
                        "number": 1,
                        "title": "科技创新",
                        "tasks": [
                            item(
                                "新增高新技术企业50家以上,引进落地10个以上科技项目。",
                                firms,
                                projects,
                                lead="科技创新和产业发展局",
                            ),
                            item(
                                "建设港澳青年创业中心。",
                                lead="经济发展局",
                                co=["科技创新和产业发展局", "财政局"],
                            ),
                            item("完善孵化器政策体系。"),
                        ],
                    },
                    {"number": 2, "title": "产业发展", "tasks": [item("推进产业园区建设。")]},
                ],
            },
            {
                "number": 2,
                "title": "增进民生福祉",
                "key_areas": [
                    {
                        "number": 1,
                        "title": "教育",
                        "tasks": [item("新建学校2所。", schools), item("各位代表,谢谢大家。")],
                    }
                ],
            },
        ],
        "plan_part": {"heading": "二、2020年工作计划", "first_line": 1, "last_line": 9},
        "warnings": [],
    }
    return renumber(data)


def small_draft(actor) -> ImportDraft:
    return ImportDraft.objects.create(
        year=2020,
        title=TITLE,
        government=actor.government,  # the uploading office's
        source_name="report.txt",
        encoding="utf-8",
        data=small_data(),
        created_by=actor,
    )
