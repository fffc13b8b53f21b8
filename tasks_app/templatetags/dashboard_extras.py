"""Small filters for the dashboard's templates."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

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


SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 32, 3


def _spark_points(values: list, low: float, high: float) -> list[tuple[float, float]]:
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(values) - 1, 1)
    span = (high - low) or 1.0
    return [
        (
            round(SPARK_PAD + i * step, 1),
            round(SPARK_HEIGHT - SPARK_PAD - (v - low) / span * (SPARK_HEIGHT - 2 * SPARK_PAD), 1),
        )
        for i, v in enumerate(values)
        if v is not None
    ]


@register.simple_tag
def sparkline(course: dict | None, on_schedule: bool | None = None):
    """A small inline SVG: the indicator's actuals (solid, with dots) against its expected
    course (dashed), month by month. Drawn on the server: no script, and it prints."""
    if not course or not any(v is not None for v in course["actual"]):
        return mark_safe('<span class="spark-none">—</span>')
    known = [v for v in course["actual"] + course["expected"] if v is not None]
    low, high = min(0.0, *known), max(known)
    expected = _spark_points(course["expected"], low, high)
    actual = _spark_points(course["actual"], low, high)
    tone = {True: "ok", False: "behind"}.get(on_schedule, "plain")
    pairs = [
        f"{m}:{'—' if a is None else format(a, 'g')}/{format(e, 'g')}"
        for m, a, e in zip(course["months"], course["actual"], course["expected"], strict=True)
    ]
    return format_html(
        '<svg class="spark spark-{}" width="{}" height="{}" viewBox="0 0 {} {}" role="img">'
        "<title>{}</title>"
        '<polyline class="spark-expected" points="{}"/>'
        '<polyline class="spark-actual" points="{}"/>{}</svg>',
        tone,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        _("实际/序时:") + ";".join(pairs),
        " ".join(f"{x},{y}" for x, y in expected),
        " ".join(f"{x},{y}" for x, y in actual),
        format_html_join("", '<circle cx="{}" cy="{}" r="1.8"/>', actual),
    )
