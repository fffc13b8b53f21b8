"""Sample (示例) departments, accounts and assignments for the demo started by `make run`.

The report names no departments, leaders or deadlines; everything made here is marked as sample
data (is_sample / assignment_is_sample) and every page that shows it says 示例.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from tasks_app.common import clock
from tasks_app.models import Department, Plan, Role, Task, User
from tasks_app.plans import services

DEMO_PASSWORD = "gaoxin-demo-2020"

DEPARTMENTS = [
    "党政办公室(示例)",
    "经济发展局(示例)",
    "科技创新和产业发展局(示例)",
    "财政金融局(示例)",
    "规划建设局(示例)",
    "生态环境和城市管理局(示例)",
    "社会事务局(示例)",
    "数字政府和政务服务局(示例)",
    "公共安全局(示例)",
    "组织人事局(示例)",
]

# The first keyword found in a task's text picks its sample lead department.
LEAD_KEYWORDS = [
    ("学位", "社会事务局(示例)"),
    ("幼儿园", "社会事务局(示例)"),
    ("教育", "社会事务局(示例)"),
    ("医", "社会事务局(示例)"),
    ("健康", "社会事务局(示例)"),
    ("就业", "社会事务局(示例)"),
    ("社区", "社会事务局(示例)"),
    ("文化", "社会事务局(示例)"),
    ("金融", "财政金融局(示例)"),
    ("基金", "财政金融局(示例)"),
    ("预算", "财政金融局(示例)"),
    ("政务", "数字政府和政务服务局(示例)"),
    ("智慧", "数字政府和政务服务局(示例)"),
    ("5G", "数字政府和政务服务局(示例)"),
    ("数字", "数字政府和政务服务局(示例)"),
    ("治安", "公共安全局(示例)"),
    ("安全", "公共安全局(示例)"),
    ("信访", "公共安全局(示例)"),
    ("干部", "组织人事局(示例)"),
    ("人才", "组织人事局(示例)"),
    ("党", "党政办公室(示例)"),
    ("污染", "生态环境和城市管理局(示例)"),
    ("生态", "生态环境和城市管理局(示例)"),
    ("垃圾", "生态环境和城市管理局(示例)"),
    ("绿道", "生态环境和城市管理局(示例)"),
    ("道路", "规划建设局(示例)"),
    ("交通", "规划建设局(示例)"),
    ("建设", "规划建设局(示例)"),
    ("专利", "科技创新和产业发展局(示例)"),
    ("研发", "科技创新和产业发展局(示例)"),
    ("科技", "科技创新和产业发展局(示例)"),
    ("企业", "经济发展局(示例)"),
]
FALLBACK_LEAD = "经济发展局(示例)"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    department: str | None
    display_name: str


ACCOUNTS = [
    DemoAccount("staff", Role.STAFF, "经济发展局(示例)", "承办人(示例)"),
    DemoAccount("head", Role.HEAD, "经济发展局(示例)", "部门负责人(示例)"),
    DemoAccount("supervisor", Role.SUPERVISOR, "党政办公室(示例)", "督查室(示例)"),
    DemoAccount("leader", Role.LEADER, None, "区领导(示例)"),
    DemoAccount("auditor", Role.AUDITOR, None, "审计人员(示例)"),
    DemoAccount("admin", Role.ADMIN, None, "系统管理员(示例)"),
]


def lead_department_name(task: Task) -> str:
    text = task.source_text
    return next((dept for word, dept in LEAD_KEYWORDS if word in text), FALLBACK_LEAD)


def quarterly_milestones(year: int) -> list[tuple[str, dt.date]]:
    return [
        ("一季度节点(示例)", dt.date(year, 3, 31)),
        ("二季度节点(示例)", dt.date(year, 6, 30)),
        ("三季度节点(示例)", dt.date(year, 9, 30)),
        ("四季度节点(示例)", dt.date(year, 12, 31)),
    ]


@transaction.atomic
def demo_seed(*, plan: Plan) -> list[DemoAccount]:
    """Create the sample departments, accounts and assignments; a second run changes nothing."""
    departments = {
        name: Department.objects.filter(name=name).first()
        or services.department_create(actor=None, name=name, is_sample=True)
        for name in DEPARTMENTS
    }
    for account in ACCOUNTS:
        if not User.objects.filter(username=account.username).exists():
            services.user_create(
                actor=None,
                username=account.username,
                password=DEMO_PASSWORD,
                role=account.role,
                department=departments.get(account.department),
                display_name=account.display_name,
                is_sample=True,
            )
    leader = User.objects.get(username="leader")
    start = plan.report_date or dt.date(plan.year, 1, 1)
    for task in plan.tasks.filter(lead_department__isnull=True):
        lead = departments[lead_department_name(task)]
        services.task_assign(
            actor=None,
            task=task,
            lead_department=lead,
            co_departments=[departments["党政办公室(示例)"]]
            if lead.name != "党政办公室(示例)"
            else [],
            responsible_leader=leader,
            start_date=start,
            deadline=dt.date(plan.year, 12, 31),
            is_sample=True,
        )
        for title, due in quarterly_milestones(plan.year):
            services.milestone_create(
                actor=None, task=task, title=title, due_date=due, is_sample=True
            )
    # Published on the day of the report, so that departments report, the office reviews and
    # reminders run as in real use from then on (the demo year: demo_year.py).
    published = dt.datetime.combine(plan.report_date or dt.date(plan.year, 1, 1), dt.time(17, 0))
    with clock.travel_to(min(published, dt.datetime.combine(clock.today(), dt.time(8, 0)))):
        services.plan_publish(actor=None, plan=plan)
    return ACCOUNTS
