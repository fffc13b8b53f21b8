"""Filters of the workbench pages: quantities with their units, sortable column headers."""

from django import template
from django.utils.html import format_html

from tasks_app.common.quantities import format_quantity, plain_number

register = template.Library()


@register.filter
def quantity(value, unit=""):
    """{{ value|quantity:indicator.unit }} -> "6亿元"; "—" when there is no value."""
    return format_quantity(value, unit or "") if value is not None else "—"


@register.filter
def number(value):
    """{{ value|number }} -> "6" for 6.0000; "" for None."""
    return plain_number(value)


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str):
    """A column header that sorts the list by key (again: the other way round); aria-sort says
    how it is sorted now."""
    query = context["query_without_sort"]
    current = context["sort"]
    descending = current == f"-{key}"
    active = current in (key, f"-{key}")
    target = key if descending or not active else f"-{key}"
    state = ("descending" if descending else "ascending") if active else "none"
    arrow = ("▼" if descending else "▲") if active else ""
    href = f"?{query}&sort={target}" if query else f"?sort={target}"
    return format_html(
        '<th scope="col" aria-sort="{}"><a href="{}">{}<span aria-hidden="true">{}</span></a></th>',
        state,
        href,
        label,
        arrow,
    )
