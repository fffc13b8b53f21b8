"""The three signals side by side: the department's status, the computed light, the office's
confidence (tasks_app.stocktakes)."""

from django import template

from tasks_app.common.permissions import SEE_ALL_ROLES
from tasks_app.stocktakes.calibration import latest_ratings

register = template.Library()


@register.simple_tag
def confidence_map(tasks):
    return latest_ratings(getattr(t, "pk", None) or getattr(t, "id", None) for t in tasks)


@register.simple_tag
def confidence_of(task_id, user, confidences=None) -> str:
    """The office's latest confidence in a task, for those who see the whole plan; departments
    see their own status and light, not the office's judgement of them."""
    if user.role not in SEE_ALL_ROLES:
        return ""
    if confidences is None:
        confidences = latest_ratings([task_id])
    rating = confidences.get(task_id)
    return rating.get_level_display() if rating else "未评定"
