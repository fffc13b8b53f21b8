"""The bell in the header and the reminders block on the task page."""

from django import template

from tasks_app.common import permissions
from tasks_app.reminders import inbox as reminders

register = template.Library()


@register.inclusion_tag("tasks_app/reminders/_bell.html", takes_context=True)
def notification_bell(context):
    user = context["request"].user
    return {"unread": reminders.notification_unread_count(user=user)}


@register.inclusion_tag("tasks_app/reminders/_task_reminders.html", takes_context=True)
def task_reminders(context, task):
    user = context["request"].user
    return {
        "task": task,
        "can_chase": permissions.is_office(user)
        and permissions.acts_for(user, task.government_id)
        and task.lead_department_id is not None,
        "chases": reminders.task_chases(task=task),
        "deliveries": reminders.task_delivery_history(task=task),
        "csrf_token": context.get("csrf_token"),
    }
