"""Every read that is more than a get."""

from django.db.models import Count, Q, QuerySet

from tasks_app.models import Department, Plan, Task, User


def has_sample_data() -> bool:
    return (
        Task.objects.filter(assignment_is_sample=True).exists()
        or Department.objects.filter(is_sample=True).exists()
        or User.objects.filter(is_sample=True).exists()
    )


def plan_overview_list() -> QuerySet[Plan]:
    """Plans with their counts of sections, key areas, tasks and indicators, one query."""
    return Plan.objects.annotate(
        section_count=Count("sections", distinct=True),
        key_area_count=Count("sections__key_areas", distinct=True),
        task_count=Count("tasks", distinct=True),
        headline_count=Count(
            "tasks", filter=Q(tasks__kind=Task.Kind.HEADLINE_TARGET), distinct=True
        ),
        indicator_count=Count("indicators", distinct=True),
    ).order_by("-year", "title")
