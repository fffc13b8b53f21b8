"""The 批示落实反馈 block: a leader's latest answers from the departments, on the dashboard."""

from django import template

from tasks_app.reporting import selectors

register = template.Library()


@register.inclusion_tag("tasks_app/desk/_leader_feedback.html", takes_context=True)
def leader_feedback(context):
    user = context["request"].user
    return {"feedback_rows": selectors.leader_feedback(user=user)}
