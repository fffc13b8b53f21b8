"""The demo year: January to the demo date of 2020 lived as a district would live it.

`make run` calls `demo_year_seed` after `demo.demo_seed`. Every write goes through the real
services with the business clock set to the simulated moment (`clock.travel_to`), so the ledger,
the notifications, the lights and the as-of numbers are those of a real year: tasks received in
late January, monthly reports a few days before each 5th (a few late, a few missing), reviews a
day or two later (a few returned and resubmitted), evidence files, leaders' instructions read by
the departments, a deadline change request, indicator values month by month.

Deterministic: one random generator with a fixed seed decides everything, in a fixed order.
Nothing happens after the clock's today (GAOXIN_TODAY), so a demo dated 2020-06-30 is the same
year stopped earlier. A second run changes nothing (the plan already has reports).
"""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from tasks_app.common import clock
from tasks_app.models import (
    ChangeRequest,
    Department,
    Light,
    Notification,
    Plan,
    Review,
    Role,
    StatusUpdate,
    Task,
    TaskStatus,
    User,
)
from tasks_app.plans import services
from tasks_app.plans.report_schedule import add_months, calendar_years, report_schedule_of
from tasks_app.plans.schedule import expected_progress
from tasks_app.plans.workcalendar import WorkingCalendar
from tasks_app.reminders.services import notification_mark_read
from tasks_app.reporting import services as reporting

SEED = 2020
PDF = b"%PDF-1.4\n% gaoxin demo evidence (sample)\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

# How each task's year goes (shares of the plan's tasks, drawn per department's discipline).
DONE, AHEAD, SLIPPING, BEHIND, SILENT = "done", "ahead", "slipping", "behind", "silent"

EXPLANATION = "前期手续办理和资金拨付慢于预期;已倒排工期、每周调度,力争下一节点前追回进度。"
RETURN_REASONS = [
    "进展描述过于笼统,请补充本月完成的具体工作量和数据。",
    "佐证材料与报送内容不符,请补充相关文件。",
    "进度百分比与节点完成情况不一致,请核实后重新报送。",
]
INSTRUCTIONS = [
    "请牵头单位加强统筹,倒排工期,确保三季度节点按期完成。",
    "该项工作群众关注度高,要压实责任,每月专题研究推进。",
    "进度明显滞后,请分管领导牵头协调解决堵点问题,两周内报送整改方案。",
    "要主动对接上级部门,争取政策和资金支持,尽快形成实物工作量。",
    "请督查室跟踪督办,牵头单位每半月报送一次进展。",
    "推进情况较好,请总结经验做法,确保全年目标任务圆满完成。",
]


@dataclass
class Story:
    """One task's year: its profile and what has happened to it so far."""

    task: Task
    clerk: User
    profile: str
    pace: float  # progress as a multiple of the expected course (ahead: an offset instead)
    finish_month: int = 0
    lateness: float = 0.0
    updates: dict = field(default_factory=dict)
    replied: list = field(default_factory=list)


class Year:
    """The events of the year, run in time order with the clock set to each."""

    def __init__(self, plan: Plan, rng: random.Random):
        self.plan = plan
        self.rng = rng
        self.until = clock.today()
        self.calendar = WorkingCalendar.load(*calendar_years([plan.year]))
        self.events: list[tuple[dt.datetime, int, callable]] = []

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    def working(self, day: dt.date, shift: int) -> dt.date:
        """The working day `shift` working days from day (0: day itself, or the next one)."""
        day = self.calendar.next_working_day(day)
        return self.calendar.add_working_days(day, shift) if shift else day

    def add(self, moment: dt.datetime, action) -> None:
        if moment.date() <= self.until:
            self.events.append((moment, len(self.events), action))

    def run(self) -> None:
        for moment, _order, action in sorted(self.events, key=lambda e: (e[0], e[1])):
            with clock.travel_to(moment):
                action()


def _office_hour(rng: random.Random) -> tuple[int, int]:
    return rng.randint(9, 17), rng.choice([0, 10, 20, 30, 40, 50])


def _clerks(departments: list[Department]) -> dict[int, User]:
    """One 承办人 per sample department (the demo's `staff` account for its own)."""
    clerks = {}
    for index, department in enumerate(departments, 1):
        clerk = User.objects.filter(department=department, role=Role.STAFF).order_by("pk").first()
        clerks[department.pk] = clerk or services.user_create(
            actor=None,
            username=f"clerk{index:02d}",
            password=None,  # no login: the demo's `staff` account is the one to try
            role=Role.STAFF,
            department=department,
            display_name=f"{department.name.removesuffix('(示例)')}承办人(示例)",
            is_sample=True,
        )
    return clerks


def _profiles(tasks: list[Task], rng: random.Random) -> dict[int, str]:
    """Profiles by department discipline: a careful department has more green than a lax one."""
    # Laxness spread evenly over the departments, in a shuffled order: the ranking spreads.
    departments = sorted({t.lead_department_id for t in tasks})
    spread = [i / max(1, len(departments) - 1) for i in range(len(departments))]
    rng.shuffle(spread)
    discipline = dict(zip(departments, spread, strict=True))
    profiles = {}
    for task in tasks:
        lax = discipline[task.lead_department_id]
        weights = {
            DONE: 0.13 - 0.07 * lax,
            AHEAD: 0.62 - 0.30 * lax,
            SLIPPING: 0.18 + 0.12 * lax,
            BEHIND: 0.03 + 0.10 * lax,
            SILENT: 0.01 + 0.04 * lax,
        }
        profiles[task.pk] = rng.choices(list(weights), list(weights.values()))[0]
    return profiles, discipline


def _expected(task: Task, milestones: list[dt.date], day: dt.date) -> int:
    return expected_progress(
        start=task.start_date, deadline=task.deadline, milestone_dues=milestones, as_of=day
    )


def _month_end(period: dt.date) -> dt.date:
    return add_months(period, 1) - dt.timedelta(days=1)


def _progress(story: Story, milestones: list[dt.date], period: dt.date) -> int:
    month = period.month
    if story.profile == DONE:
        return 100 if month >= story.finish_month else round(90 * month / story.finish_month)
    expected = _expected(story.task, milestones, _month_end(period))
    if story.profile == AHEAD:
        return min(95, expected + round(story.pace))
    if story.profile == SILENT:
        return min(30, round(expected * story.pace))
    return max(1, min(95, round(expected * story.pace)))


def _narrative(story: Story, progress: int, status: str, period: dt.date) -> str:
    title = story.task.title[:40]
    if status == TaskStatus.DONE:
        return f"{title}:已全部完成,完成情况及验收材料见附件。"
    lines = {
        TaskStatus.ON_SCHEDULE: f"{title}:{period.month}月按计划推进,累计完成约{progress}%。",
        TaskStatus.BEHIND: (
            f"{title}:{period.month}月进度滞后,累计完成约{progress}%,"
            "主要受前期手续和资金到位影响,已制定赶工计划。"
        ),
    }
    text = lines[status]
    if story.replied:
        text += f"落实区领导批示:{story.replied.pop()}"
    return text


def _indicator_values(story: Story, progress: int, rng: random.Random) -> dict[int, Decimal]:
    values = {}
    for indicator in story.task.indicators.all():
        target = indicator.target_value
        if indicator.comparator == "growth":
            value = target * Decimal(str(rng.uniform(0.7, 1.15)))
        elif indicator.comparator in ("lte", "lt"):
            value = target * Decimal(str(rng.uniform(0.6, 0.95)))
        elif indicator.comparator == "between":
            value = target + (indicator.target_value_max - target) * Decimal(str(rng.random()))
        else:
            value = target * Decimal(progress) / 100 * Decimal(str(rng.uniform(0.9, 1.08)))
        values[indicator.pk] = value.quantize(Decimal("0.01"))
    return values


def _report_events(year: Year, story: Story, milestones: list[dt.date], office: User) -> None:
    rng, task = year.rng, story.task
    schedule = report_schedule_of(task)
    for period in schedule.periods():
        if _month_end(period) > year.until:
            break  # a month not yet over owes no report
        if story.profile == DONE and period.month > story.finish_month:
            break
        if story.profile == SILENT and period.month > 4:
            break
        if (period.year, period.month) == (year.until.year, year.until.month):
            _early_report(year, story, milestones, office, period)
            break
        due = schedule.due_date(period, calendar=year.calendar)
        late = rng.random() < story.lateness
        if not late and rng.random() < 0.005 + 0.06 * story.lateness:
            continue  # forgotten this month
        day = (
            year.working(due, rng.randint(3, 12)) if late else due - dt.timedelta(rng.randint(0, 6))
        )
        submitted = year.at(year.working(day, 0) if late else day, *_office_hour(rng))
        if submitted.date() > due and not late:
            submitted = year.at(due, 9)
        _one_report(year, story, milestones, office, period, submitted)


def _early_report(year: Year, story: Story, milestones, office: User, period: dt.date) -> None:
    """At a month's end a few careful departments report the month before it is due: on the
    demo date these wait in the office's review queue."""
    rng = year.rng
    if story.profile != AHEAD or year.until.day < 25 or rng.random() > 0.3:
        return
    day = year.until - dt.timedelta(days=rng.randint(0, 2))
    _one_report(year, story, milestones, office, period, year.at(day, *_office_hour(rng)))


def _one_report(year, story, milestones, office, period, submitted) -> None:
    rng = year.rng
    progress = _progress(story, milestones, period)
    expected_then = _expected(story.task, milestones, submitted.date())
    if progress >= 100:
        status = TaskStatus.DONE
    elif progress >= expected_then - 5:
        status = TaskStatus.ON_SCHEDULE
    else:
        status = TaskStatus.BEHIND
    with_evidence = status == TaskStatus.DONE or rng.random() < 0.12
    values = _indicator_values(story, progress, rng)
    returned = rng.random() < 0.01 + 0.06 * story.lateness
    review_day = year.working(submitted.date(), rng.randint(1, 3))
    reviewed = year.at(review_day, *_office_hour(rng))
    reason = rng.choice(RETURN_REASONS)
    resubmitted = year.at(year.working(review_day, rng.randint(1, 3)), *_office_hour(rng))
    accepted = year.at(year.working(resubmitted.date(), rng.randint(1, 2)), *_office_hour(rng))

    def submit():
        files = [SimpleUploadedFile(f"{period:%Y%m}进展佐证.pdf", PDF)] if with_evidence else []
        task = Task.objects.prefetch_related("indicators").get(pk=story.task.pk)
        explained = status == TaskStatus.BEHIND or task.light == Light.RED
        story.updates[period] = reporting.status_update_submit(
            actor=story.clerk,
            task=task,
            period=period,
            status=status,
            progress=progress,
            narrative=_narrative(story, progress, status, period),
            explanation=EXPLANATION if explained else "",
            indicator_values=values,
            evidence=files,
        )

    def review(decision: str):
        def run():
            update = story.updates.get(period)
            if update is not None:
                story.updates[period] = reporting.status_update_review(
                    actor=office, update=update, decision=decision, reason=reason
                )

        return run

    def resubmit():
        update = StatusUpdate.objects.get(pk=story.updates[period].pk)
        story.updates[period] = reporting.status_update_correct(
            actor=story.clerk,
            update=update,
            expected_version=update.version,
            narrative=update.narrative + "(已按审核意见补充完善)",
            explanation=update.explanation or EXPLANATION,
        )

    year.add(submitted, submit)
    if returned:
        year.add(reviewed, review(Review.Decision.RETURNED))
        year.add(resubmitted, resubmit)
        year.add(accepted, review(Review.Decision.ACCEPTED))
    else:
        year.add(reviewed, review(Review.Decision.ACCEPTED))


def _receipts(year: Year, stories: list[Story]) -> None:
    for story in stories:
        if story.profile == SILENT and year.rng.random() < 0.5:
            continue  # never received
        day = year.working(dt.date(year.plan.year, 1, 22), year.rng.randint(0, 8))
        moment = year.at(day, *_office_hour(year.rng))
        year.add(moment, lambda s=story: reporting.task_receive(actor=s.clerk, task=s.task))


FEEDBACK = "已召开专题会议研究部署,明确责任人和完成时限,按批示要求抓好落实。"


def _instructions(year: Year, stories: list[Story], leader: User) -> None:
    """Leaders write on lagging tasks and a good one; the department reads and answers."""
    rng = year.rng
    lagging = [s for s in stories if s.profile in (BEHIND, SLIPPING, SILENT)]
    chosen = rng.sample(lagging, min(6, len(lagging))) + [
        next(s for s in stories if s.profile == AHEAD)
    ]
    for index, story in enumerate(chosen):
        text = INSTRUCTIONS[index % len(INSTRUCTIONS)]
        given = year.at(year.working(dt.date(year.plan.year, 4 + index % 5, 12), 0), 16)
        read = year.at(year.working(given.date(), 1), 9, 30)

        def instruct(s=story, t=text):
            reporting.instruction_create(actor=leader, task=s.task, text=t)

        # The last two stay without 落实反馈, so the office has something to chase.
        answers = index < len(chosen) - 2

        def read_it(s=story, answers=answers):
            for instruction in s.task.instructions.filter(read_at__isnull=True):
                reporting.instruction_mark_read(actor=s.clerk, instruction=instruction)
                if answers:
                    reporting.instruction_feedback_create(
                        actor=s.clerk, instruction=instruction, text=FEEDBACK
                    )
            s.replied.append(FEEDBACK)

        year.add(given, instruct)
        year.add(read, read_it)


def _change_requests(year: Year, stories: list[Story], office: User) -> None:
    """A deadline put back (approved) and a target lowered (awaiting the office's decision)."""
    behind = [s for s in stories if s.profile == BEHIND]
    if not behind:
        return
    story = behind[0]
    asked = year.at(year.working(dt.date(year.plan.year, 7, 8), 0), 10)
    decided = year.at(year.working(asked.date(), 3), 15)

    def ask():
        reporting.change_request_create(
            actor=story.clerk,
            task=Task.objects.get(pk=story.task.pk),
            field=ChangeRequest.Field.DEADLINE,
            new_value=f"{year.plan.year + 1}-03-31",
            reason="受疫情影响,施工许可和设备进场延后,申请将完成时限调整至次年3月底。",
        )

    def decide():
        change = ChangeRequest.objects.filter(task=story.task).first()
        reporting.change_request_decide(
            actor=office, change=change, approve=True, note="同意延期,请按新时限倒排工期。"
        )

    year.add(asked, ask)
    year.add(decided, decide)
    with_target = next((s for s in behind[1:] if s.task.indicators.exists()), None)
    if with_target is not None:
        indicator = with_target.task.indicators.first()
        moment = year.at(year.working(dt.date(year.plan.year, 9, 21), 0), 11)
        year.add(
            moment,
            lambda: reporting.change_request_create(
                actor=with_target.clerk,
                task=with_target.task,
                field=ChangeRequest.Field.TARGET_VALUE,
                indicator=indicator,
                new_value=str((indicator.target_value * Decimal("0.8")).quantize(Decimal("0.01"))),
                reason="受外部环境影响,申请将年度目标值下调两成。",
            ),
        )


def _notifications_read(year: Year) -> None:
    """People have read what reached them up to two days before the demo date."""
    cutoff = year.at(year.until - dt.timedelta(days=2), 18)
    unread = Notification.objects.filter(read_at__isnull=True, created_at__lt=cutoff)
    with clock.travel_to(cutoff):
        for user in User.objects.filter(pk__in=unread.values("recipient")).order_by("pk"):
            ids = list(unread.filter(recipient=user).values_list("pk", flat=True))
            notification_mark_read(actor=user, notification_ids=ids)


@transaction.atomic
def demo_year_seed(*, plan: Plan) -> int:
    """Live the plan's year up to the clock's today; returns the number of events run."""
    if StatusUpdate.objects.filter(task__plan=plan).exists():
        return 0
    rng = random.Random(SEED)
    year = Year(plan, rng)
    tasks = list(
        plan.tasks.filter(lead_department__isnull=False)
        .select_related("plan", "lead_department")
        .prefetch_related("milestones", "indicators")
        .order_by("code")
    )
    departments = sorted({t.lead_department for t in tasks}, key=lambda d: d.name)
    clerks = _clerks(departments)
    profiles, discipline = _profiles(tasks, rng)
    office = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    leader = User.objects.filter(role=Role.LEADER, is_active=True).order_by("pk").first()
    stories = [
        Story(
            task=task,
            clerk=clerks[task.lead_department_id],
            profile=profiles[task.pk],
            pace=rng.uniform(9, 16)
            if profiles[task.pk] == AHEAD
            else rng.uniform(0.86, 1.04)
            if profiles[task.pk] == SLIPPING
            else rng.uniform(0.45, 0.7),
            finish_month=rng.randint(4, 8),
            lateness=0.02 + 0.3 * discipline[task.lead_department_id],
        )
        for task in tasks
    ]
    _receipts(year, stories)
    for story in stories:
        milestones = [m.due_date for m in story.task.milestones.all()]
        _report_events(year, story, milestones, office)
    _instructions(year, stories, leader)
    _change_requests(year, stories, office)
    year.run()
    _notifications_read(year)
    services.schedule_refresh_all(as_of=clock.today())
    return len(year.events)
