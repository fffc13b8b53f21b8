"""Reporting discipline and the ranking (红黑榜).

Reports due, received and on time follow the one report schedule
(tasks_app.plans.report_schedule), as the reminders and the workbench do: a task with a lead
department owes the periods of its schedule whose due date is on or before the as-of date; a
period is received when a report for it was submitted by the end of that date, on time when its
first report was submitted by the period's due date, and returned when that report was returned
for rework (by the end of the date). A returned report still counts as received; it lowers the
first-pass rate only. A done task owes nothing after its latest report.

The weights and the lists' thresholds are the plan's RankingRule (edited by the office in the
admin), the defaults when it has none; the rule text shown to leaders is written from them.
"""

import datetime as dt
from collections import Counter, defaultdict

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from tasks_app.models import (
    SCORE_KEYS,
    Plan,
    RankingRule,
    Review,
    StatusUpdate,
    TaskStatus,
)
from tasks_app.plans.report_schedule import DueDates, local_date, on_time, report_schedule
from tasks_app.stats.selectors import grouped, tally
from tasks_app.stats.snapshot import RETURNED, PlanSnapshot, TaskState, scoped_tasks

__all__ = ["SCORE_KEYS", "ranking_rule", "rule_text", "stats_ranking"]


def ranking_rule(plan: Plan) -> RankingRule:
    """The plan's rule as the office set it, else the defaults (an unsaved row)."""
    return RankingRule.objects.filter(plan=plan).first() or RankingRule(plan=plan)


def rule_text(rule: RankingRule, *, report_day: int) -> str:
    """How the score is computed, in the rule's own numbers: what leaders read under the table."""
    return _(
        "得分 = %(reporting)s×报送率(已报/应报) + %(on_time)s×按时报送率(按时/应报) "
        "+ %(first_pass)s×一次通过率(未被退回/已报) + %(completion)s×完成率(已完成/任务数) "
        "+ %(lights)s×亮灯得分((绿灯+黄灯÷2)/任务数)。"
        "应报:有牵头单位的任务,自开始日期(无则取计划发布日期)所在期起,至完成时限所在期与"
        "当年12月中较早者止,每月一期(按季报送的任务每季一期),截至统计日已到报送日的各期;"
        "已完成的任务在最近一次报送之后不再应报。报送日为每期结束后次月%(report_day)s日,"
        "遇休息日、节假日顺延至下一个工作日。已报:该期已有报送,被退回的也算已报;"
        "按时:该期首次报送不晚于报送日;未被退回:该期报送未被退回修改。"
        "无应报事项时,报送率、按时报送率和一次通过率计为100%%;有应报而一期未报的,"
        "一次通过率计为0。无任务时完成率和亮灯得分计为100%%。"
        "%(red)s分及以上列入红榜,低于%(black)s分列入黑榜。"
    ) % {
        **rule.weights,
        "report_day": report_day,
        "red": rule.red_list_min_score,
        "black": rule.black_list_below_score,
    }


def _reports(snapshot: PlanSnapshot) -> dict[int, list[tuple[dt.date, dt.datetime, bool]]]:
    """Per task: (period, first submitted, returned) of each report submitted by the end of the
    date, oldest first; one query."""
    returned = Review.objects.filter(
        update=OuterRef("pk"), decision=RETURNED, created_at__lt=snapshot.end
    )
    rows = (
        StatusUpdate.objects.filter(
            task__in=scoped_tasks(snapshot.plan, snapshot.department_id),
            task__lead_department__isnull=False,
            created_at__lt=snapshot.end,
        )
        .annotate(returned=Exists(returned))
        .order_by("created_at", "id")
        .values_list("task_id", "period", "created_at", "returned")
    )
    reports = defaultdict(list)
    for task_id, period, created_at, was_returned in rows:
        reports[task_id].append((period, created_at, was_returned))
    return reports


def _owed(snapshot: PlanSnapshot, state: TaskState, reports: list):
    plan = snapshot.plan
    schedule = report_schedule(
        report_frequency=state.report_frequency,
        report_day=plan.report_day,
        year=plan.year,
        start_date=state.start_date,
        deadline=state.deadline,
        published=local_date(plan.published_at) if plan.published_at else None,
    )
    if state.status == TaskStatus.DONE:
        return schedule.closed_after(max((r[0] for r in reports), default=None))
    return schedule


def _discipline(snapshot: PlanSnapshot) -> dict[int, Counter]:
    """Reports due, received, on time and returned per lead department."""
    reports = _reports(snapshot)
    due_dates = DueDates(snapshot.calendar)
    counts = defaultdict(Counter)
    for state in snapshot.tasks:
        if not state.lead_department_id:
            continue
        mine = reports.get(state.id, [])
        schedule = _owed(snapshot, state, mine)
        first = {}  # period -> its first report
        for period, created_at, returned in mine:
            owed = schedule.period_for(period)
            if owed is not None:
                first.setdefault(owed, (created_at, returned))
        counted = counts[state.lead_department_id]
        for period, due in due_dates.due_as_of(schedule, snapshot.as_of):
            counted["due"] += 1
            if period in first:
                created_at, returned = first[period]
                counted["received"] += 1
                counted["on_time"] += on_time(first_submitted=created_at, due=due)
                counted["returned"] += returned
    return counts


def _rate(numerator: float, denominator: float) -> float:
    return min(1.0, numerator / denominator) if denominator else 1.0


def _score_parts(numbers: dict, weights: dict[str, int]) -> list[dict]:
    t = numbers["tasks"]
    received = numbers["reports_received"]
    parts = {
        "reporting": (received, numbers["reports_due"]),
        "on_time": (numbers["reports_on_time"], numbers["reports_due"]),
        "first_pass": (received - numbers["returned"], received),
        "completion": (numbers["done"], t),
        "lights": (numbers["green"] + numbers["yellow"] / 2, t),
    }
    explained = []
    for key, (numerator, denominator) in parts.items():
        rate = _rate(numerator, denominator)
        if key == "first_pass" and not received and numbers["reports_due"]:
            rate = 0.0  # nothing passed: a department that never reports earns no first-pass
        explained.append(
            {
                "key": key,
                "numerator": numerator,
                "denominator": denominator,
                "rate": round(rate, 4),
                "weight": weights[key],
                "points": round(rate * weights[key], 2),
            }
        )
    return explained


def _board(score: float, rule: RankingRule) -> str | None:
    if score >= rule.red_list_min_score:
        return "red"
    return "black" if score < rule.black_list_below_score else None


def stats_ranking(snapshot: PlanSnapshot) -> dict:
    """Lead departments ranked by score, each with the numbers and weights behind it."""
    rule = ranking_rule(snapshot.plan)
    discipline = _discipline(snapshot)
    by_department = grouped(
        [s for s in snapshot.tasks if s.lead_department_id], lambda s: s.lead_department_id
    )
    rows = []
    for pk, states in by_department.items():
        counts = tally(states)
        reports = discipline[pk]
        numbers = {
            "tasks": counts["total"],
            "done": counts["done"],
            "completion_rate": counts["completion_rate"],
            "overdue": counts["overdue"],
            "green": counts["by_light"]["green"],
            "yellow": counts["by_light"]["yellow"],
            "red": counts["by_light"]["red"],
            "reports_due": reports["due"],
            "reports_received": reports["received"],
            "reports_on_time": reports["on_time"],
            "returned": reports["returned"],
        }
        parts = _score_parts(numbers, rule.weights)
        score = round(sum(p["points"] for p in parts), 1)
        rows.append(
            {
                "department_id": pk,
                "department": snapshot.departments.get(pk, ""),
                **numbers,
                "score": score,
                "score_parts": parts,
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["department"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
        row["list"] = _board(row["score"], rule)
    return {
        "as_of": snapshot.as_of,
        "weights": rule.weights,
        "rule": rule_text(rule, report_day=snapshot.plan.report_day),
        "thresholds": {
            "red": float(rule.red_list_min_score),
            "black": float(rule.black_list_below_score),
        },
        "rows": rows,
    }
