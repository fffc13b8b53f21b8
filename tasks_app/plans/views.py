from django.contrib.auth.decorators import login_required
from django.db.models import (
    Prefetch,
)
from django.shortcuts import get_object_or_404, render

from tasks_app.common import permissions
from tasks_app.models import (
    Indicator,
    KeyArea,
    Task,
)
from tasks_app.plans import selectors


def home(request):
    if not request.user.is_authenticated:
        return render(request, "tasks_app/landing.html")
    return render(
        request, "tasks_app/home.html", {"plans": selectors.plan_overview_list(user=request.user)}
    )


@login_required
def plan_detail(request, plan_id: int):
    plan = get_object_or_404(permissions.visible_plans(request.user), pk=plan_id)
    # Departments see the plan's structure but only the tasks they lead or co-lead.
    tasks = permissions.visible_tasks(request.user).select_related("lead_department")
    tasks = tasks.prefetch_related(
        Prefetch("indicators", queryset=Indicator.objects.order_by("position"))
    )
    sections = plan.sections.prefetch_related(
        Prefetch(
            "key_areas",
            queryset=KeyArea.objects.prefetch_related(
                Prefetch("tasks", queryset=tasks.order_by("position"))
            ),
        )
    )
    headline = tasks.filter(plan=plan, kind=Task.Kind.HEADLINE_TARGET).order_by("position")
    return render(
        request,
        "tasks_app/plan_detail.html",
        {"plan": plan, "sections": sections, "headline_tasks": headline},
    )
