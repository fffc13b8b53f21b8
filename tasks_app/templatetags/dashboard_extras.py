"""Small filters for the dashboard's templates."""

from django import template

register = template.Library()


@register.filter
def label(value, labels: dict):
    """labels[value], or the value itself: {{ task.status|label:status_labels }}."""
    return labels.get(value, value)


@register.filter
def percent(rate) -> str:
    """A 0..1 rate as "12.3%"; blank for None."""
    if rate is None:
        return ""
    return f"{float(rate) * 100:.1f}%"
