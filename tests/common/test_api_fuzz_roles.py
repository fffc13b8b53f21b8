"""The live API keeps its schema's promises to every kind of caller, not only the office.

Schemathesis fuzzes every operation of the live schema (a real HTTP server on a throwaway database
holding the 2020 plan) with a token of a department's 承办人, a leader and an auditor, in both
generation modes: nothing answers 5xx, and every status, content type and body is one the schema
documents. The world holds objects of the caller's own department and of another one, so that
the ids the fuzzer tries reach both (another department's objects must answer 404).
"""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
import schemathesis
from rest_framework.authtoken.models import Token

from tasks_app.models import ChangeRequest, Role
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services
from tests.common.fuzz_support import fuzz, fuzz_config, quick_passwords  # noqa: F401

MAX_EXAMPLES = 10
TRANSACTIONAL = pytest.mark.django_db(
    transaction=True, reset_sequences=True, serialized_rollback=True
)
pytestmark = pytest.mark.usefixtures("quick_passwords")


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )


@pytest.fixture
def world(plan, supervisor, clerk, tech_clerk, leader, economic_bureau, tech_bureau):
    """Task 1 led by the clerk's 经发局 with a report and a change request; task 2 led by the
    科创局 with the same: the clerk must see the first and get 404 for the second."""
    first, second = plan.tasks.order_by("pk")[:2]
    own = plans_services.task_assign(
        actor=supervisor,
        task=first,
        lead_department=economic_bureau,
        co_departments=[tech_bureau],
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )
    other = plans_services.task_assign(
        actor=supervisor,
        task=second,
        lead_department=tech_bureau,
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )
    for task, person in ((own, clerk), (other, tech_clerk)):
        reporting_services.status_update_submit(
            actor=person,
            task=task,
            period=dt.date(2020, 3, 1),
            status="on_schedule",
            progress=30,
            narrative="三月进展。",
            explanation="情况说明:受前期手续影响滞后,正在加快推进。",
        )
    plans_services.plan_publish(actor=supervisor, plan=plan)
    for task, person in ((own, clerk), (other, tech_clerk)):
        reporting_services.change_request_create(
            actor=person,
            task=task,
            field=ChangeRequest.Field.DEADLINE,
            new_value="2021-06-30",
            reason="受疫情影响。",
        )
        reporting_services.instruction_create(actor=leader, task=task, text="抓紧推进。")
    return {"own": own, "other": other}


def token_headers(user):
    key = Token.objects.create(user=user).key

    def headers():  # the fuzzer's own POST .../revoke/ deletes the token; bring it back
        Token.objects.get_or_create(key=key, user=user)
        return {"Authorization": f"Token {key}"}

    return headers


@pytest.fixture
def live_schema(live_server, world):
    return schemathesis.openapi.from_url(
        f"{live_server.url}/api/schema/", config=fuzz_config(MAX_EXAMPLES)
    )


def _nothing_more(case, response):
    return None


@TRANSACTIONAL
@pytest.mark.parametrize("persona", ["clerk", "leader", "auditor"])
def test_the_live_api_answers_each_role_as_its_schema_documents(live_schema, request, persona):
    user = request.getfixturevalue(persona)
    answers = {}
    failures = fuzz(
        live_schema,
        _nothing_more,
        token_headers(user),
        max_examples=MAX_EXAMPLES,
        ids=(1, 2),
        tally=answers,
    )
    if failures:  # pytest cuts a long assertion message short
        (Path(tempfile.gettempdir()) / f"gaoxin-fuzz-{persona}.txt").write_text(
            "\n\n".join(failures)
        )
    assert not failures, "\n\n".join(failures)
    operations = {label for label, _status in answers}
    assert len(operations) == len(list(live_schema.get_all_operations()))
    print(f"{persona}: {len(operations)} operations, {sum(answers.values())} requests")
    for (label, status), count in sorted(answers.items()):
        print(f"  {label} {status} x{count}")
