"""The 2020 plan of the Zhuhai High-tech Zone, loaded from the shipped data file."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from tasks_app.models import AuditEvent, Indicator, KeyArea, Section, Task
from tasks_app.plans.plan_data import DATA_DIR

pytestmark = pytest.mark.django_db


def indicator(**lookup) -> Indicator:
    return Indicator.objects.get(**lookup)


def test_it_loads_five_sections_fifteen_key_areas_and_over_a_hundred_tasks(plan):
    assert Section.objects.filter(plan=plan).count() == 5
    assert KeyArea.objects.filter(section__plan=plan).count() == 15
    work_items = Task.objects.filter(plan=plan, kind=Task.Kind.WORK_ITEM)
    assert 100 <= work_items.count() <= 160
    assert not work_items.filter(key_area__isnull=True).exists()
    assert [s.title[:4] for s in plan.sections.all()] == [
        "抢抓“双",
        "持续强化",
        "全面完善",
        "创新加强",
        "切实优化",
    ]


def test_every_section_has_three_key_areas_in_report_order(plan):
    for section in plan.sections.all():
        assert list(section.key_areas.values_list("number", flat=True)) == [1, 2, 3]
    assert KeyArea.objects.get(section__number=1, number=1).title == "构建联通融通创新空间"


@pytest.mark.parametrize(
    ("name", "comparator", "value", "unit"),
    [
        ("地区生产总值", "growth", "7", "%"),
        ("每万人发明专利拥有量", "gte", "170", "件/万人"),
        ("高新技术企业总数", "gt", "550", "家"),
        ("5G基站", "gt", "400", "个"),
        ("学位", "eq", "810", "个"),
        ("政务服务事项网上可办率", "eq", "85", "%"),
        ("专利申请量", "gte", "5500", "项"),
        ("共有产权房", "eq", "493", "套"),
        ("人才公寓", "eq", "1200", "套"),
    ],
)
def test_the_report_numbers_become_indicators(plan, name, comparator, value, unit):
    found = indicator(plan=plan, name=name)
    assert (found.comparator, found.target_value, found.unit) == (comparator, Decimal(value), unit)
    assert found.source_text in found.task.source_text


def test_headline_targets_are_tasks_with_their_indicators(plan):
    headline = Task.objects.filter(plan=plan, kind=Task.Kind.HEADLINE_TARGET)
    assert headline.count() >= 12
    gdp = indicator(plan=plan, name="地区生产总值")
    assert gdp.task.kind == Task.Kind.HEADLINE_TARGET
    qualitative = headline.get(source_text__contains="确保完成市下达的任务")
    assert not qualitative.indicators.exists()


def test_the_two_housing_numbers_are_two_indicators_of_one_item(plan):
    housing = indicator(plan=plan, name="共有产权房").task
    assert set(housing.indicators.values_list("name", flat=True)) >= {"共有产权房", "人才公寓"}


def test_every_source_text_is_verbatim_from_the_report(plan):
    report = (DATA_DIR / "zhuhai_gaoxin_2020_report.txt").read_text(encoding="utf-8")
    plan_part = report[report.index("二、2020年工作计划") :]
    for task in Task.objects.filter(plan=plan):
        assert task.source_text in plan_part, task.code


def test_the_plan_data_invents_no_departments_leaders_or_deadlines(plan):
    tasks = Task.objects.filter(plan=plan)
    assert not tasks.filter(lead_department__isnull=False).exists()
    assert not tasks.filter(responsible_leader__isnull=False).exists()
    assert not tasks.filter(deadline__isnull=False).exists()


def test_loading_twice_changes_nothing_and_duplicates_nothing(plan):
    counts = _counts()
    latest_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    stamps = dict(Task.objects.values_list("code", "updated_at"))

    call_command("load_plan")

    assert _counts() == counts
    assert AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() == latest_event
    assert dict(Task.objects.values_list("code", "updated_at")) == stamps


def test_a_changed_data_file_updates_in_place(plan, plan_data):
    from tasks_app.plans import services

    plan_data["sections"][0]["key_areas"][0]["tasks"][0]["title"] = "改过的标题"
    _, result = services.plan_load(actor=None, data=plan_data)
    assert result.updated == {"task": 1} and not result.created
    assert Task.objects.get(plan=plan, code="1.1.01").title == "改过的标题"
    event = AuditEvent.objects.filter(action="task.update").latest("id")
    assert event.after == {"title": "改过的标题"}


def test_load_plan_reports_an_unreadable_file_clearly(tmp_path):
    from django.core.management.base import CommandError

    broken = tmp_path / "plan.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read plan file"):
        call_command("load_plan", str(broken))


def _counts():
    from tasks_app.models import Plan

    return tuple(m.objects.count() for m in (Plan, Section, KeyArea, Task, Indicator))
