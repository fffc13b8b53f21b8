"""Input from an outside tester that once answered 500: each now answers a 4xx in the API's
format (or the site's error page), and writes nothing."""

import pytest
from rest_framework.test import APIClient

from tasks_app.models import AuditEvent, ChangeRequest, Role, Task
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )


def api_for(user=None) -> APIClient:
    """A client that signs in as a script does, with a token in the Authorization header."""
    from rest_framework.authtoken.models import Token

    client = APIClient()
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_an_anonymous_caller_with_a_nul_byte_is_told_to_sign_in_first():
    assert api_for().get("/api/v1/audit/events/?action=%00").status_code == 401


def test_a_thousand_nested_brackets_to_the_token_endpoint_answer_400_not_500():
    answer = api_for().post(
        "/api/v1/auth/token/", "[" * 1000 + "]" * 1000, content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "parse_error"


def test_a_body_nested_deeper_than_the_limit_answers_400_on_any_endpoint(clerk):
    body = '{"a":' * 40 + "1" + "}" * 40
    answer = api_for(clerk).post(
        "/api/v1/notifications/read/", body, content_type="application/json"
    )
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/audit/events/?action=%00",
        "/api/v1/audit/export/?format=csv&action=%00",
    ],
)
def test_a_nul_byte_in_an_api_filter_answers_400_json(auditor, path):
    answer = api_for(auditor).get(path)
    assert answer.status_code == 400
    assert answer.json()["code"] == "nul_byte"


@pytest.mark.parametrize("name", ["plan", "section", "department"])
def test_an_id_filter_beyond_64_bits_answers_400_not_500(auditor, name):
    answer = api_for(auditor).get(f"/api/v1/tasks/?{name}=840385493178712672442515456")
    assert answer.status_code == 400
    assert name in answer.json()["errors"]


@pytest.mark.parametrize(
    "path", ["/audit/?action=%00", "/audit/?before=%00", "/audit/exports/?download=1&action=%00"]
)
def test_a_nul_byte_in_a_page_filter_answers_the_sites_400_page(client, auditor, path):
    client.force_login(auditor)
    answer = client.get(path)
    assert answer.status_code == 400
    assert "请求有误" in answer.content.decode()


@pytest.fixture
def published_task(plan, supervisor, economic_bureau, clerk):
    task = plan.tasks.filter(indicators__isnull=False).order_by("position").first()
    plans_services.task_assign(actor=supervisor, task=task, lead_department=economic_bureau)
    plans_services.plan_publish(actor=supervisor, plan=plan)
    return Task.objects.get(pk=task.pk)


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-Infinity", "sNaN", "1e999999", "99999999999999999999", "1e-30"]
)
def test_a_target_change_the_column_cannot_hold_is_refused_at_the_request(
    clerk, published_task, value
):
    indicator = published_task.indicators.first()
    before = (ChangeRequest.objects.count(), AuditEvent.objects.count())
    answer = api_for(clerk).post(
        f"/api/v1/tasks/{published_task.pk}/change-requests/",
        {"field": "target_value", "indicator": indicator.pk, "new_value": value, "reason": "调整"},
        format="json",
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == "invalid_value"
    assert (ChangeRequest.objects.count(), AuditEvent.objects.count()) == before


def test_a_target_change_with_four_decimals_is_kept_exactly(clerk, supervisor, published_task):
    indicator = published_task.indicators.first()
    change = reporting_services.change_request_create(
        actor=clerk,
        task=published_task,
        field="target_value",
        new_value="12.3456",
        reason="口径调整",
        indicator=indicator,
    )
    reporting_services.change_request_decide(actor=supervisor, change=change, approve=True)
    indicator.refresh_from_db()
    assert str(indicator.target_value) == "12.3456"


@pytest.mark.parametrize("value", ["%C2%B3", "%C2%B3%0B", "840385493178712672442515456"])
def test_a_unicode_digit_or_huge_id_in_a_progress_log_filter_answers_400(auditor, value):
    """'³'.isdigit() is True but int('³') fails: filters read ASCII digits only."""
    answer = api_for(auditor).get(f"/api/v1/audit/progress-log/?plan={value}&format=xlsx")
    assert answer.status_code == 400
