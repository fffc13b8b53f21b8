"""A breakdown sheet is written in bulk: the same register, versions, lights and ledger events as
applying its rows one at a time through the shared services, in a number of queries that does
not grow with the rows."""

import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tasks_app.audit import ledger
from tasks_app.audit import services as audit_services
from tasks_app.importer import breakdown, breakdown_apply, drafts, publish
from tasks_app.models import AuditEvent, Indicator, Role
from tasks_app.plans import services as plans_services

FIELDS = ["序号", "任务内容", "牵头单位", "配合单位", "责任领导", "完成时限", "指标", "目标值"]


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(FIELDS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- The reference: the rows applied one at a time through the shared services ----------------


def apply_row_by_row(actor, plan, data) -> list[str]:
    """What the per-row services write for the sheet's rows, one task at a time."""
    rows = breakdown.read_rows(data, "t.xlsx")
    planned, errors = breakdown_apply.breakdown_check(plan=plan, rows=rows)
    assert not errors
    return [item.task.code for item in planned if _apply(actor, item)]


def _apply(actor, item) -> bool:
    task = item.task
    changed = False
    if task.title != item.title[:200]:
        task = plans_services.task_update(
            actor=actor, task=task, expected_version=task.version, title=item.title[:200]
        )
        changed = True
    before = (
        task.lead_department_id,
        sorted(d.pk for d in task.co_departments.all()),
        task.responsible_leader_id,
        task.deadline,
    )
    wanted = (
        item.lead.pk if item.lead else None,
        sorted(d.pk for d in item.co),
        item.leader.pk if item.leader else None,
        item.deadline,
    )
    if before != wanted:
        plans_services.task_assign(
            actor=actor,
            task=task,
            lead_department=item.lead,
            co_departments=item.co,
            responsible_leader=item.leader,
            start_date=task.start_date,
            deadline=item.deadline,
        )
        changed = True
    if item.targets is not None and breakdown_apply.targets_differ(item.task, item.targets):
        plans_services.task_indicators_set(
            actor=actor, task=task, indicators=breakdown_apply.indicator_values(item.targets)
        )
        changed = True
    return changed


# --- What is compared ------------------------------------------------------------------------


def state(plan, since_seq: int) -> dict:
    tasks = []
    for task in plan.tasks.order_by("code"):
        tasks.append(
            (
                task.code,
                task.title,
                task.lead_department_id,
                sorted(task.co_departments.values_list("pk", flat=True)),
                task.responsible_leader_id,
                task.start_date,
                task.deadline,
                task.assignment_is_sample,
                task.version,
                task.expected_progress,
                task.light,
                task.schedule_as_of,
                task.updated_at,
            )
        )
    indicators = list(
        Indicator.objects.filter(plan=plan)
        .order_by("task__code", "position")
        .values_list(
            "task__code",
            "position",
            "name",
            "unit",
            "comparator",
            "target_value",
            "target_value_max",
            "source_text",
            "kind",
        )
    )
    events = ledger_events(since_seq)
    return {"tasks": tasks, "indicators": indicators, "events": events}


def ledger_events(since_seq: int) -> list[tuple]:
    """The events after since_seq; ids of rows created meanwhile (new in each run) as labels."""
    created: dict[tuple[str, str], str] = {}
    rows = AuditEvent.objects.filter(seq__gt=since_seq, action__endswith=".create")
    for object_type, object_id in rows.order_by("seq").values_list("object_type", "object_id"):
        created[(object_type, object_id)] = f"new {object_type} #{len(created)}"

    def label(object_type, value):
        return created.get((object_type, str(value)), value)

    def relabel(values):
        if not isinstance(values, dict):
            return values
        kinds = {"task": "task", "section": "section", "key_area": "keyarea", "plan": "plan"}
        return {k: label(kinds[k], v) if k in kinds else v for k, v in values.items()}

    return [
        (
            event.actor_id,
            event.actor_username,
            event.actor_role,
            event.actor_department,
            event.action,
            event.object_type,
            label(event.object_type, event.object_id),
            event.object_repr,
            relabel(event.before),
            relabel(event.after),
        )
        for event in AuditEvent.objects.filter(seq__gt=since_seq).order_by("seq")
    ]


@pytest.fixture
def leader(db):
    return plans_services.user_create(
        actor=None,
        username="lingdao",
        password="pw-leader-123456",
        role=Role.LEADER,
        display_name="张副区长",
    )


@pytest.fixture
def mixed_plan(plan, supervisor, economic_bureau, tech_bureau, leader):
    """A plan part-assigned already: some rows of the sheet change nothing, some everything."""
    finance = plans_services.department_create(actor=None, name="财政局")
    plans_services.task_assign(
        actor=supervisor,
        task=plan.tasks.get(code="H01"),
        lead_department=economic_bureau,
        co_departments=[tech_bureau, finance],
        responsible_leader=leader,
        deadline=dt.date(2020, 12, 31),
    )
    plans_services.task_assign(
        actor=supervisor,
        task=plan.tasks.get(code="H02"),
        lead_department=tech_bureau,
        deadline=dt.date(2020, 6, 30),
        is_sample=True,
    )
    task = plan.tasks.get(code="1.2.10")
    plans_services.task_assign(
        actor=supervisor, task=task, lead_department=economic_bureau, start_date=dt.date(2020, 2, 1)
    )
    plans_services.milestone_create(
        actor=supervisor, task=task, title="立项", due_date=dt.date(2020, 4, 30)
    )
    return plan


def mixed_sheet(plan) -> bytes:
    tasks = {task.code: task for task in plan.tasks.all()}
    return xlsx(
        [
            # Exactly as assigned, the same targets: nothing changes.
            [
                "H01",
                tasks["H01"].title,
                "经济发展局",
                "科技创新和产业发展局、财政局",
                "张副区长",
                "2020年12月31日",
                "地区生产总值",
                "增长7%",
            ],
            # A co-department dropped, a target changed and one added, the title edited.
            [
                "H03",
                "固定资产投资增长15%(修订)",
                "经济发展局",
                "财政局",
                "",
                "一季度",
                "固定资产投资\n新开工项目",
                "增长16%\n≥20个",
            ],
            # Was a sample assignment to another bureau: reassigned, no longer a sample.
            ["H02", tasks["H02"].title, "经济发展局", "", "张副区长", "6月底前", "", ""],
            # Has a start date and a milestone: the light is computed from them.
            [
                "1.2.10",
                tasks["1.2.10"].title,
                "科技创新和产业发展局",
                "经济发展局",
                "",
                "2020年9月30日",
                "",
                "",
            ],
            # Unassigned before; a ranged target replaces the text's targets, the surplus goes.
            [
                "1.2.05",
                tasks["1.2.05"].title,
                "科技创新和产业发展局",
                "",
                "",
                "年底前",
                "入驻企业",
                "1-2家",
            ],
        ]
    )


def test_the_bulk_import_writes_what_the_row_by_row_services_wrote(mixed_plan, supervisor):
    plan, data = mixed_plan, mixed_sheet(mixed_plan)
    start = ledger.head().seq
    with transaction.atomic():
        expected_changed = apply_row_by_row(supervisor, plan, data)
        expected = state(plan, start)
        transaction.set_rollback(True)
    assert ledger.head().seq == start
    result = breakdown_apply.breakdown_import(
        actor=supervisor, plan=plan, data=data, filename="t.xlsx"
    )
    assert result["changed"] == expected_changed == ["H03", "H02", "1.2.10", "1.2.05"]
    actual = state(plan, start)
    assert actual["tasks"] == expected["tasks"]
    assert actual["indicators"] == expected["indicators"]
    assert actual["events"] == expected["events"]
    actions = {event[4] for event in actual["events"]}
    assert actions == {
        "task.update",
        "task.assign",
        "task.co_departments",
        "indicator.create",
        "indicator.update",
        "indicator.delete",
    }
    assert ledger.verify().ok


def test_importing_the_same_sheet_again_changes_nothing_and_audits_nothing(mixed_plan, supervisor):
    data = mixed_sheet(mixed_plan)
    breakdown_apply.breakdown_import(
        actor=supervisor, plan=mixed_plan, data=data, filename="t.xlsx"
    )
    events = AuditEvent.objects.count()
    again = breakdown_apply.breakdown_import(
        actor=supervisor, plan=mixed_plan, data=data, filename="t.xlsx"
    )
    assert again == {"rows": 5, "changed": []}
    assert AuditEvent.objects.count() == events


def full_sheet(plan, codes) -> bytes:
    rows = []
    for code in codes:
        task = plan.tasks.get(code=code)
        rows.append(
            [
                code,
                task.title,
                "经济发展局",
                "科技创新和产业发展局",
                "张副区长",
                "6月底前",
                "指标甲\n指标乙",
                "≥10家\n增长8%",
            ]
        )
    return xlsx(rows)


def queries_to_import(plan, supervisor, codes) -> int:
    data = full_sheet(plan, codes)
    with CaptureQueriesContext(connection) as captured:
        result = breakdown_apply.breakdown_import(
            actor=supervisor, plan=plan, data=data, filename="t.xlsx"
        )
    assert len(result["changed"]) == len(codes)
    return len(captured)


@pytest.mark.postgres
def test_ten_rows_and_a_hundred_rows_take_the_same_number_of_queries(
    plan, supervisor, economic_bureau, tech_bureau, leader
):
    codes = list(plan.tasks.order_by("position").values_list("code", flat=True))
    assert len(codes) >= 110
    assert queries_to_import(plan, supervisor, codes[:10]) == queries_to_import(
        plan, supervisor, codes[10:110]
    )


def test_a_hundred_rows_take_a_few_more_queries_at_most_for_the_bulk_batches(
    plan, supervisor, economic_bureau, tech_bureau, leader
):
    """On SQLite a bulk statement carries at most 999 values, so big batches are split."""
    codes = list(plan.tasks.order_by("position").values_list("code", flat=True))
    ten = queries_to_import(plan, supervisor, codes[:10])
    hundred = queries_to_import(plan, supervisor, codes[10:110])
    assert hundred - ten < 30  # row by row it was about 23 queries for every row
    assert ledger.verify().ok


# --- Publishing a draft over a plan loaded from the data file -------------------------------


def publish_one_by_one(actor, draft) -> None:
    """import_draft_publish as it was, with the surplus targets and kinds written one by one."""
    data, changes, existing = drafts.draft_match(draft.data)
    plan, result = plans_services.plan_load(actor=actor, data=data)
    counts = {item["code"]: len(item.get("indicators", [])) for item in drafts.draft_tasks(data)}
    for code, count in counts.items():
        for indicator in Indicator.objects.filter(plan=plan, task__code=code, position__gt=count):
            before = audit_services.snapshot(
                indicator, ["name", "target_value", "unit", "comparator"]
            )
            audit_services.audit_log(
                actor=actor, action="indicator.delete", obj=indicator, before=before
            )
            indicator.delete()
    for item in drafts.draft_tasks(data):
        kinds = [spec.get("kind", "") for spec in item.get("indicators", [])]
        if not any(kinds):
            continue
        stored = Indicator.objects.filter(plan=plan, task__code=item["code"]).order_by("position")
        for indicator, kind in zip(stored, kinds, strict=False):
            audit_services.update_audited(actor, "indicator.update", indicator, kind=kind or "")
    plans_services.plan_publish(actor=actor, plan=plan)


def plan_state(plan, since_seq: int) -> dict:
    return {
        "tasks": sorted(plan.tasks.values_list("code", "title", "source_text", "position")),
        "indicators": sorted(
            Indicator.objects.filter(plan=plan).values_list(
                "task__code", "position", "name", "comparator", "target_value", "unit", "kind"
            )
        ),
        # The draft's own events and the moment of publishing differ between the two runs.
        "events": [
            (*e[:9], {**e[9], "published_at": "(now)"} if e[4] == "plan.publish" else e[9])
            for e in ledger_events(since_seq)
            if not e[4].startswith("importdraft.")
        ],
    }


def test_publishing_over_a_loaded_plan_drops_and_kinds_targets_as_one_by_one(plan, supervisor):
    """The data file's plan, with a stray fifth target: the text's publish drops it, sets kinds."""
    from pathlib import Path

    h02 = plan.tasks.get(code="H02")
    Indicator.objects.create(
        plan=plan,
        task=h02,
        position=5,
        name="多余",
        comparator="eq",
        target_value=1,
        source_text="多余",
    )
    seed = (Path(__file__).parents[1] / "data" / "zhuhai_gaoxin_2020_report.txt").read_bytes()
    draft = drafts.import_draft_create(
        actor=supervisor, data=seed, source_name="r.txt", year=2020, government="珠海高新区"
    )
    start = ledger.head().seq
    with transaction.atomic():
        publish_one_by_one(supervisor, draft)
        expected = plan_state(plan, start)
        transaction.set_rollback(True)
    # What is compared is how targets are written; the draft's missing leads are beside the point.
    published, _ = publish.import_draft_publish(
        actor=supervisor, draft=draft, allow_incomplete=True
    )
    assert published == plan
    actual = plan_state(plan, start)
    assert actual["tasks"] == expected["tasks"]
    assert actual["indicators"] == expected["indicators"]
    assert actual["events"] == expected["events"]
    actions = [event[4] for event in actual["events"]]
    assert "indicator.delete" in actions
    assert (
        sum(
            1
            for event in actual["events"]
            if event[4] == "indicator.update" and set(event[9]) == {"kind"}
        )
        > 10
    )
    assert ledger.verify().ok


# --- The register the office downloads ----------------------------------------------------


def export_by_append(plan) -> bytes:
    """export_xlsx as it was: append a row, then style the sheet's last row (quadratic)."""
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "任务分解表"
    sheet.append(breakdown.COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in breakdown.register_rows(plan):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEFGH", (10, 60, 20, 30, 12, 16, 30, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def cells(data: bytes) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGH"}
    return [sheet.title, widths] + [
        (c.coordinate, c.value, c.data_type, c.alignment.wrap_text, c.alignment.vertical, c.font.b)
        for row in sheet.iter_rows()
        for c in row
    ]


def test_the_exported_register_is_the_sheet_it_always_was_with_codes_kept_as_text(mixed_plan):
    task = mixed_plan.tasks.get(code="H01")
    task.code = "1.10"  # would read back as the number 1.1 from a numeric cell
    task.save(update_fields=["code"])
    exported = cells(breakdown.export_xlsx(mixed_plan))
    assert exported == cells(export_by_append(mixed_plan))
    codes = {cell[1]: cell[2] for cell in exported[2:] if cell[0].startswith("A")}
    assert codes["1.10"] == "s"
    assert len(exported) - 2 == 8 * (mixed_plan.tasks.count() + 1)
