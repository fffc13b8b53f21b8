"""The OpenAPI schema is valid, its docs need no CDN, and the live API keeps the schema's promises.

The Schemathesis runs fuzz every operation of the live schema (a real HTTP server on a throwaway
database holding the 2020 plan): as the office, nothing answers 5xx and every answer is one the
schema documents; without credentials, everything but POST /api/v1/auth/token/ answers 401.
"""

import datetime as dt
import re

import pytest
import requests
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from tasks_app import api_urls
from tasks_app.models import ChangeRequest, Role
from tasks_app.plans import services as plans_services
from tasks_app.reporting import services as reporting_services
from tests.common.fuzz_support import fuzz, fuzz_config, quick_passwords  # noqa: F401

MAX_EXAMPLES = 20
TOKEN_OPERATION = ("POST", "/api/v1/auth/token/")
# Serialized rollback: leave the seeded rows (content types, calendar) as the browser tests,
# which restore them by primary key, expect them; fresh sequences so that ids like 1 exist.
TRANSACTIONAL = pytest.mark.django_db(
    transaction=True, reset_sequences=True, serialized_rollback=True
)


# --- The schema document and its docs page ----------------------------------------------------


def test_the_schema_validates_as_openapi_3_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text(encoding="utf-8").startswith("openapi: 3.")


@pytest.mark.django_db
def test_the_schema_endpoint_serves_openapi_3_listing_every_api_route(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    routes = {"/api/v1/" + str(p.pattern).replace("<int:pk>", "{id}") for p in api_urls.urlpatterns}
    assert set(document["paths"]) == routes


@pytest.mark.parametrize(
    "path", ["/api/v1/tasks/", "/api/v1/tasks/{id}/updates/", "/api/v1/review-queue/"]
)
def test_list_endpoints_are_documented_as_the_cursor_pages_they_return(path):
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    ok = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    schema = ok["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert schema.get("type") == "object", f"documented as {schema}, served as a cursor page"
    assert {"next", "previous", "results"} <= set(schema["properties"])
    assert "cursor" in {p["name"] for p in document["paths"][path]["get"].get("parameters", [])}


@TRANSACTIONAL
def test_the_swagger_ui_loads_its_assets_from_our_own_static_files(live_server):
    response = requests.get(f"{live_server.url}/api/docs/", timeout=10)
    assert response.status_code == 200
    html = response.text
    assert "swagger-ui" in html
    assert not re.search(r"https?://", html), "the docs page must not load anything from a CDN"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert requests.get(f"{live_server.url}{asset}", timeout=10).status_code == 200, asset


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/tasks/-1/", "/api/v1/tasks/abc/updates/", "/api/v1/no-such-endpoint/"]
)
def test_an_api_url_that_matches_no_route_answers_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json", response.content[:80]
    assert response.json()["code"] == "not_found"


# --- Fuzzing the live API ---------------------------------------------------------------------


@pytest.fixture
def office_headers(plan, supervisor, clerk, economic_bureau, tech_bureau):
    """Headers with an office user's token; a task, report and change request for ids to hit."""
    cache.clear()  # the login throttle counts in the cache
    task = plans_services.task_assign(
        actor=supervisor,
        task=plan.tasks.order_by("pk").first(),
        lead_department=economic_bureau,
        co_departments=[tech_bureau],
        start_date=dt.date(2020, 1, 21),
        deadline=dt.date(2020, 12, 31),
    )
    reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=30,
        narrative="三月进展。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )
    plans_services.plan_publish(actor=supervisor, plan=plan)
    reporting_services.change_request_create(
        actor=clerk,
        task=task,
        field=ChangeRequest.Field.DEADLINE,
        new_value="2021-06-30",
        reason="受疫情影响。",
    )
    assert supervisor.role == Role.SUPERVISOR
    key = Token.objects.create(user=supervisor).key

    def headers():  # the fuzzer's own POST .../revoke/ deletes the token; bring it back
        Token.objects.get_or_create(key=key, user=supervisor)
        return {"Authorization": f"Token {key}"}

    return headers


@pytest.fixture
def live_schema(live_server, office_headers):
    return schemathesis.openapi.from_url(
        f"{live_server.url}/api/schema/", config=fuzz_config(MAX_EXAMPLES)
    )


@TRANSACTIONAL
@pytest.mark.usefixtures("quick_passwords")
def test_the_live_api_answers_the_office_as_its_schema_documents(live_schema, office_headers):
    failures = fuzz(
        live_schema,
        lambda case, response: None,
        office_headers,
        max_examples=MAX_EXAMPLES,
        ids=(1, 2),
    )
    assert not failures, "\n\n".join(failures)


def _rejected_unless_token_endpoint(case, response):
    if (case.method.upper(), case.path) != TOKEN_OPERATION:
        assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.text}"


@TRANSACTIONAL
@pytest.mark.usefixtures("quick_passwords")
def test_the_live_api_turns_away_anonymous_callers_except_at_the_token_endpoint(live_schema):
    failures = fuzz(live_schema, _rejected_unless_token_endpoint, max_examples=MAX_EXAMPLES)
    assert not failures, "\n\n".join(failures)
