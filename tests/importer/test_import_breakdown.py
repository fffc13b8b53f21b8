"""任务分解表 <-> plan: headers by name, departments by name or alias, deadlines as offices write
them, all or nothing, and an export that imports back to the same register."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from tasks_app.importer import breakdown, breakdown_apply
from tasks_app.importer import services as importer_services
from tasks_app.importer.deadlines import parse_deadline
from tasks_app.models import AuditEvent, DepartmentAlias, Indicator, Role, Task
from tasks_app.plans import services


@pytest.fixture
def leader(db):
    return services.user_create(
        actor=None,
        username="lingdao",
        password="pw-leader-123456",
        role=Role.LEADER,
        display_name="张副区长",
    )


def xlsx(rows, *, title=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def register(plan):
    rows = []
    for task in plan.tasks.order_by("code"):
        rows.append(
            (
                task.code,
                task.title,
                task.lead_department_id,
                tuple(sorted(task.co_departments.values_list("pk", flat=True))),
                task.responsible_leader_id,
                task.deadline,
                tuple(
                    (i.name, i.target_value, i.target_value_max, i.unit, i.comparator)
                    for i in task.indicators.order_by("position")
                ),
            )
        )
    return rows


def assign_some(plan, supervisor, economic_bureau, tech_bureau, leader):
    services.task_assign(
        actor=supervisor,
        task=plan.tasks.get(code="H01"),
        lead_department=economic_bureau,
        co_departments=[tech_bureau],
        responsible_leader=leader,
        deadline=dt.date(2020, 12, 31),
    )
    services.task_assign(
        actor=supervisor,
        task=plan.tasks.get(code="1.2.10"),
        lead_department=tech_bureau,
        co_departments=[],
        deadline=dt.date(2020, 6, 30),
    )


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_exported_register_imports_back_to_the_same_register(
    plan, supervisor, economic_bureau, tech_bureau, leader, fmt
):
    assign_some(plan, supervisor, economic_bureau, tech_bureau, leader)
    original = register(plan)
    data = breakdown.export_xlsx(plan) if fmt == "xlsx" else breakdown.export_csv(plan)
    # Wipe the assignments, then take them back from the sheet.
    for code in ("H01", "1.2.10"):
        services.task_assign(actor=supervisor, task=plan.tasks.get(code=code), lead_department=None)
    assert register(plan) != original
    result = breakdown_apply.breakdown_import(
        actor=supervisor, plan=plan, data=data, filename=f"t.{fmt}"
    )
    assert sorted(result["changed"]) == ["1.2.10", "H01"]
    assert register(plan) == original
    again = breakdown_apply.breakdown_import(
        actor=supervisor, plan=plan, data=data, filename=f"t.{fmt}"
    )
    assert again["changed"] == []


def test_the_export_has_the_breakdown_layout(
    plan, supervisor, economic_bureau, tech_bureau, leader
):
    assign_some(plan, supervisor, economic_bureau, tech_bureau, leader)
    sheet = openpyxl.load_workbook(io.BytesIO(breakdown.export_xlsx(plan))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [
        "序号",
        "任务内容",
        "牵头单位",
        "配合单位",
        "责任领导",
        "完成时限",
        "指标",
        "目标值",
    ]
    h01 = next(row for row in rows if row[0] == "H01")
    assert h01[2:] == (
        "经济发展局",
        "科技创新和产业发展局",
        "张副区长",
        "2020年12月31日",
        "地区生产总值",
        "增长7%",
    )
    ranged = next(row for row in rows if row[0] == "1.2.10")
    assert ranged[7] == "1-2家"


def test_it_reads_headers_by_name_in_any_order_with_common_variants_and_aliases(
    plan, supervisor, economic_bureau, tech_bureau, leader
):
    services.department_create(actor=None, name="财政金融局")
    importer_services.department_alias_create(
        actor=supervisor, department=economic_bureau, alias="经发局"
    )
    data = xlsx(
        [
            ["完成时间", "责任单位", "工作任务", "编号", "协办单位", "分管领导"],
            [
                "6月底前",
                "经发局",
                "地区生产总值增长7%",
                "H01",
                "科技创新和产业发展局、财政金融局",
                "张副区长",
            ],
            ["一季度", "科技创新和产业发展局", "固定资产投资增长15%", "H03", "", ""],
        ],
        title="2020年政府工作报告任务分解表",
    )
    breakdown_apply.breakdown_import(actor=supervisor, plan=plan, data=data, filename="分解表.xlsx")
    h01 = plan.tasks.get(code="H01")
    assert h01.lead_department == economic_bureau
    assert {d.name for d in h01.co_departments.all()} == {"科技创新和产业发展局", "财政金融局"}
    assert h01.responsible_leader == leader
    assert h01.deadline == dt.date(2020, 6, 30)
    assert plan.tasks.get(code="H03").deadline == dt.date(2020, 3, 31)
    assert AuditEvent.objects.filter(action="task.assign", object_id=str(h01.pk)).exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6月底前", dt.date(2020, 6, 30)),
        ("上半年", dt.date(2020, 6, 30)),
        ("一季度", dt.date(2020, 3, 31)),
        ("第三季度", dt.date(2020, 9, 30)),
        ("12月31日", dt.date(2020, 12, 31)),
        ("年底前", dt.date(2020, 12, 31)),
        ("2020-06-30", dt.date(2020, 6, 30)),
        ("2020年9月30日", dt.date(2020, 9, 30)),
        ("9月中旬", dt.date(2020, 9, 20)),
        ("十月底", dt.date(2020, 10, 31)),
        ("持续推进", None),
        ("", None),
        (dt.datetime(2020, 5, 1), dt.date(2020, 5, 1)),
    ],
)
def test_it_reads_deadlines_as_offices_write_them(text, expected):
    assert parse_deadline(text, 2020) == expected


@pytest.mark.parametrize("text", ["明天", "2月30日", "13月底"])
def test_an_unreadable_deadline_is_an_error(text):
    with pytest.raises(ValueError):
        parse_deadline(text, 2020)


def test_a_bad_row_stops_the_whole_import_with_row_column_and_reason(
    plan, supervisor, economic_bureau, tech_bureau
):
    data = xlsx(
        [
            ["序号", "任务内容", "牵头单位", "配合单位", "完成时限", "指标", "目标值"],
            ["H01", "地区生产总值增长7%", "经济发展局", "", "6月底前", "", ""],  # fine
            [
                "H02",
                "规模以上工业增加值增长8.5%",
                "招商局",
                "",
                "年底前",
                "",
                "",
            ],  # unknown department
            ["H03", "固定资产投资增长15%", "经济发展局", "外星局", "明天", "", ""],  # two errors
            ["H04", "", "经济发展局", "", "", "", ""],  # missing task text
            ["H01", "重复", "经济发展局", "", "", "", ""],  # duplicate code
            ["X99", "没有这项任务", "经济发展局", "", "", "", ""],  # not in the plan
            ["H05", "其他指标", "经济发展局", "", "", "增速", "很多"],  # unreadable target
        ]
    )
    events = AuditEvent.objects.count()
    with pytest.raises(breakdown_apply.BreakdownRejected) as caught:
        breakdown_apply.breakdown_import(actor=supervisor, plan=plan, data=data, filename="t.xlsx")
    errors = {(e["row"], e["column"]) for e in caught.value.errors}
    assert errors == {
        (3, "牵头单位"),
        (4, "配合单位"),
        (4, "完成时限"),
        (5, "任务内容"),
        (6, "序号"),
        (7, "序号"),
        (8, "目标值"),
    }
    assert any("未知单位“招商局”" in e["reason"] for e in caught.value.errors)
    assert not Task.objects.filter(lead_department__isnull=False).exists()  # H01 not written either
    assert AuditEvent.objects.count() == events
    assert not DepartmentAlias.objects.exists()


def test_unknown_department_names_are_reported_never_created(plan, supervisor, economic_bureau):
    from tasks_app.models import Department

    names = set(Department.objects.values_list("name", flat=True))
    data = xlsx([["序号", "任务内容", "牵头单位"], ["H01", "地区生产总值增长7%", "经发局"]])
    with pytest.raises(breakdown_apply.BreakdownRejected):
        breakdown_apply.breakdown_import(actor=supervisor, plan=plan, data=data, filename="t.xlsx")
    assert set(Department.objects.values_list("name", flat=True)) == names


def test_targets_of_a_published_plan_change_only_through_a_change_request(
    plan, supervisor, economic_bureau
):
    services.plan_publish(actor=supervisor, plan=plan)
    data = xlsx(
        [
            ["序号", "任务内容", "牵头单位", "指标", "目标值"],
            ["H01", "地区生产总值增长7%", "经济发展局", "地区生产总值", "增长8%"],
        ]
    )
    with pytest.raises(breakdown_apply.BreakdownRejected) as caught:
        breakdown_apply.breakdown_import(actor=supervisor, plan=plan, data=data, filename="t.xlsx")
    assert caught.value.errors[0]["column"] == "目标值"
    assert Indicator.objects.get(task__code="H01").target_value == 7
    assert plan.tasks.get(code="H01").lead_department is None


def test_the_targets_of_a_draft_plan_can_be_set_from_the_sheet(plan, supervisor, economic_bureau):
    data = xlsx(
        [
            ["序号", "任务内容", "指标", "目标值"],
            ["H01", "地区生产总值增长7%", "地区生产总值\n人均地区生产总值", "增长8%\n≥20万元"],
        ]
    )
    breakdown_apply.breakdown_import(actor=supervisor, plan=plan, data=data, filename="t.xlsx")
    indicators = list(Indicator.objects.filter(task__code="H01").order_by("position"))
    assert [(i.name, i.target_value, i.unit, i.comparator) for i in indicators] == [
        ("地区生产总值", 8, "%", "growth"),
        ("人均地区生产总值", 20, "万元", "gte"),
    ]


def test_the_commands_export_and_import_a_breakdown(
    tmp_path, plan, supervisor, economic_bureau, tech_bureau, leader, capsys
):
    assign_some(plan, supervisor, economic_bureau, tech_bureau, leader)
    original = register(plan)
    path = tmp_path / "register.xlsx"
    call_command("export_breakdown", str(path), "--plan", str(plan.pk))
    services.task_assign(actor=None, task=plan.tasks.get(code="H01"), lead_department=None)
    call_command("import_breakdown", str(path), "--plan", str(plan.pk))
    assert register(plan) == original
    assert "1 tasks changed" in capsys.readouterr().out


def test_the_office_uploads_a_sheet_and_sees_the_row_errors(
    client, plan, supervisor, economic_bureau
):
    client.force_login(supervisor)
    bad = xlsx([["序号", "任务内容", "牵头单位"], ["H01", "地区生产总值增长7%", "招商局"]])
    response = client.post(
        reverse("imports-breakdown"),
        {"plan": plan.pk, "file": _upload("bad.xlsx", bad)},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "未知单位“招商局”" in page and "row-errors" in page
    good = xlsx([["序号", "任务内容", "牵头单位"], ["H01", "地区生产总值增长7%", "经济发展局"]])
    response = client.post(
        reverse("imports-breakdown"), {"plan": plan.pk, "file": _upload("ok.xlsx", good)}
    )
    assert response.status_code == 302
    assert plan.tasks.get(code="H01").lead_department == economic_bureau


def test_the_office_downloads_the_register(client, plan, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("imports-export", args=[plan.pk]))
    assert response.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(response.content)).active["A1"].value == "序号"
    response = client.get(reverse("imports-export", args=[plan.pk]) + "?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["序号", "任务内容"] and rows[1][0] == "H01"


def test_departments_cannot_download_or_upload_registers(client, plan, clerk):
    client.force_login(clerk)
    assert client.get(reverse("imports-export", args=[plan.pk])).status_code == 403
    data = xlsx([["序号", "任务内容", "牵头单位"], ["H01", "x", "经济发展局"]])
    response = client.post(
        reverse("imports-breakdown"), {"plan": plan.pk, "file": _upload("a.xlsx", data)}
    )
    assert response.status_code == 403


def test_an_alias_is_added_by_the_office_and_must_be_unique(client, supervisor, economic_bureau):
    client.force_login(supervisor)
    url = reverse("imports-alias")
    assert (
        client.post(url, {"department": economic_bureau.pk, "alias": "经发局"}).status_code == 302
    )
    response = client.post(url, {"department": economic_bureau.pk, "alias": "经发局"})
    assert response.status_code == 409
    assert DepartmentAlias.objects.get().department == economic_bureau


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)
