"""Look-ups compiled once per process (tasks_app.common.prepared) answer what the ORM answers."""

import pytest
from rest_framework.authtoken.models import Token

from tasks_app.common.prepared import PreparedGet
from tasks_app.models import Task

pytestmark = pytest.mark.django_db

TOKENS = PreparedGet(
    lambda: Token.objects.select_related("user", "user__department"), "key", "-" * 40
)
TASKS = PreparedGet(lambda: Task.objects.select_related("lead_department"), "pk", -1)


def test_a_clerks_token_brings_the_same_user_and_department_as_the_orm(clerk):
    key = Token.objects.create(user=clerk).key
    for _ in range(2):  # the second look-up runs the SQL compiled by the first
        token = TOKENS.get(key)
        expected = Token.objects.select_related("user", "user__department").get(key=key)
        user, department = token.user, token.user.department
        assert (token.key, token.created) == (expected.key, expected.created)
        assert {f.attname: getattr(user, f.attname) for f in user._meta.concrete_fields} == {
            f.attname: getattr(expected.user, f.attname) for f in user._meta.concrete_fields
        }
        assert (department.pk, department.name) == (clerk.department_id, "经济发展局")
        assert not user._state.adding and user._state.db == "default"


def test_an_unknown_token_and_a_task_id_beyond_64_bits_name_no_row(plan):
    assert TOKENS.get("0" * 40) is None
    assert TASKS.get(2**63) is None and TASKS.get(-(2**63) - 1) is None
    task = Task.objects.order_by("pk").first()
    found = TASKS.get(task.pk)
    assert (found.pk, found.code, found.light, found.deadline) == (
        task.pk,
        task.code,
        task.light,
        task.deadline,
    )
    assert found.lead_department_id == task.lead_department_id


def test_a_look_up_by_a_field_that_is_not_unique_is_refused(plan):
    with pytest.raises(ValueError, match="not unique"):
        PreparedGet(lambda: Task.objects.all(), "code", "X").get("H10")
