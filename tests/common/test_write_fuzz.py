"""Whatever a caller posts to whatever it may write to, the answer is never a 5xx, and a refusal
writes nothing.

Hypothesis generates the bodies: JSON of every shape (deep, wide, wrong types, numbers too big
for any column, "NaN" and "Infinity", NUL bytes, lone surrogates, very long and unicode text,
formula and HTML text), invalid JSON, and, for uploads, files that are not what they claim. They
go to every write route of the API (each POST/PUT/PATCH/DELETE of tasks_app.api_urls, found in
the URL conf, so a new route is fuzzed without anyone listing it) and to the pages' main forms,
as a department's 承办人, the office, a leader, an auditor and nobody. Each request targets an
object of the caller's own department or of another one. A 4xx must leave every table as it
was, except the ledger's record of the refusal itself (auth.*).
"""

import datetime as dt
import functools
import json

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import URLPattern
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tasks_app import api_urls
from tasks_app.models import AuditEvent, ChangeRequest, Role, StatusUpdate, Task
from tasks_app.plans import services as plans_services
from tasks_app.reporting import forms as reporting_forms
from tasks_app.reporting import services as reporting_services

pytestmark = pytest.mark.django_db

API_EXAMPLES = 20
FORM_EXAMPLES = 10
WRITE_METHODS = ("post", "put", "patch", "delete")
FUZZ = settings(
    max_examples=API_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)


# --- The routes -------------------------------------------------------------------------------


def _write_routes() -> list[tuple[str, str]]:
    """(method, route) for every write of the API, read off the URL conf."""
    routes = []
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), pattern
        view = pattern.callback.view_class
        for method in WRITE_METHODS:
            if hasattr(view, method):
                routes.append((method, str(pattern.pattern)))
    return routes


WRITE_ROUTES = _write_routes()


def _owner_kind(route: str) -> str | None:
    """What the route's <int:pk> names: the path segment before it (tasks, updates, ...)."""
    if "<int:pk>" not in route:
        return None
    return route.split("<int:pk>")[0].strip("/")


@functools.cache
def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _property_names(schema: dict, document: dict, seen=()) -> set[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return set()
        return _property_names(document["components"]["schemas"][name], document, (*seen, name))
    names = set(schema.get("properties", {}))
    children = [*schema.get("properties", {}).values()]
    children += [schema["items"]] if "items" in schema else []
    for child in children:
        names |= _property_names(child, document, seen)
    return names


def _request_body(method: str, route: str) -> tuple[str, set[str]]:
    """The media type the route documents first, and every field name its body schema holds."""
    document = _schema()
    operation = document["paths"]["/api/v1/" + route.replace("<int:pk>", "{id}")][method]
    content = operation.get("requestBody", {}).get("content", {"application/json": {}})
    media_type, body = next(iter(content.items()))
    return media_type, _property_names(body.get("schema", {}), document)


# --- Hostile bodies ---------------------------------------------------------------------------

HOSTILE_TEXT = [
    "NaN",
    "Infinity",
    "-Infinity",
    "sNaN",
    "1e999999",
    "99999999999999999999",
    "-1",
    "0",
    "1e-30",
    "\x00",
    "报送\x00期",
    "\ud800",
    "2020-03",
    "2020-13",
    "0000-00",
    "9999-12",
    "2020-02-30",
    "2021-06-30",
    "accepted",
    "returned",
    "done",
    "on_schedule",
    "deadline",
    "target_value",
    "ledger",
    "xlsx",
    "=1+1",
    '=HYPERLINK("http://evil.example/","x")',
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e𠮷👩‍👩‍👧",
    " ",
    "",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, -1, 100, 101, 2**31, 2**63, 10**30]),
    st.floats(),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=30),
    st.builds(lambda n, c: c * n, st.integers(1_000, 60_000), st.sampled_from("a测<\x00=")),
)


def _nested(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "[" else ('{"a":' * depth + "1" + "}" * depth)


raw_bodies = st.one_of(
    st.builds(_nested, st.integers(30, 3_000), st.sampled_from("[{")),
    st.sampled_from(["", "{", "nul\x00", '{"a": NaN}', '{"a": Infinity}', "[1,]", "\ufeff{}"]),
    st.just(json.dumps({f"k{i}": "v" * 50 for i in range(5_000)})),  # wide: 5,000 keys
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)


def json_bodies(fields: set[str]):
    keys = st.sampled_from(sorted(fields)) | st.text(max_size=8) if fields else st.text(max_size=8)
    values = st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=12,
    )
    return st.one_of(
        st.dictionaries(keys, values, max_size=len(fields) + 2).map(json.dumps),
        values.map(json.dumps),
        raw_bodies,
    )


FILE_CONTENTS = [
    b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n",
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    b"PK\x03\x04" + b"\x00" * 40,
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le"),
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
    b"",
]
files = st.builds(
    lambda name, content: SimpleUploadedFile(name, content),
    st.sampled_from(["a.pdf", "a.docx", "a.doc", "a.xls", "a.png", "a.exe", "..\\..\\a.pdf", "无"])
    | st.text(min_size=1, max_size=300).filter(lambda n: "\x00" not in n and "/" not in n),
    st.sampled_from(FILE_CONTENTS) | st.binary(max_size=300),
)
multipart_bodies = st.fixed_dictionaries({}, optional={"file": files | scalars.map(str)})


# --- Who writes, and what to ------------------------------------------------------------------


@pytest.fixture
def auditor(db):
    return plans_services.user_create(
        actor=None, username="shenji", password="pw-audit-123456", role=Role.AUDITOR
    )


@pytest.fixture
def world(plan, supervisor, clerk, tech_clerk, leader, economic_bureau, tech_bureau):
    """The clerk's 经发局 leads task "own", the 科创局 leads task "other"; each has a report
    awaiting review, a change request awaiting decision and a leader's instruction."""
    first, second = plan.tasks.filter(indicators__isnull=False).order_by("pk")[:2]
    own = plans_services.task_assign(
        actor=supervisor, task=first, lead_department=economic_bureau, co_departments=[tech_bureau]
    )
    other = plans_services.task_assign(actor=supervisor, task=second, lead_department=tech_bureau)
    updates, changes, instructions = [], [], []
    for task, person in ((own, clerk), (other, tech_clerk)):
        updates.append(
            reporting_services.status_update_submit(
                actor=person,
                task=task,
                period=dt.date(2020, 3, 1),
                status="on_schedule",
                progress=30,
                narrative="三月进展。",
            )
        )
    plans_services.plan_publish(actor=supervisor, plan=plan)
    for task, person in ((own, clerk), (other, tech_clerk)):
        changes.append(
            reporting_services.change_request_create(
                actor=person,
                task=task,
                field=ChangeRequest.Field.DEADLINE,
                new_value="2021-06-30",
                reason="受疫情影响。",
            )
        )
        instructions.append(
            reporting_services.instruction_create(actor=leader, task=task, text="抓紧推进。")
        )
    return {
        "tasks": (own.pk, other.pk),
        "updates": tuple(u.pk for u in updates),
        "change-requests": tuple(c.pk for c in changes),
        "instructions": tuple(i.pk for i in instructions),
        "departments": (economic_bureau.pk, tech_bureau.pk),
        "plans": (plan.pk, plan.pk),  # one plan: the office's rules and public snapshots
    }


def _fingerprint() -> tuple:
    """Row counts of every table of the app, every row's version, and the ledger without the
    record of refusals and logins: what any write would change."""
    parts = []
    for model in apps.get_app_config("tasks_app").get_models():
        table = connection.ops.quote_name(model._meta.db_table)
        if model is AuditEvent:
            parts.append(f"(SELECT count(*) FROM {table} WHERE action NOT LIKE 'auth.%')")
            continue
        parts.append(f"(SELECT count(*) FROM {table})")
        if any(f.name == "version" for f in model._meta.concrete_fields):
            parts.append(f"(SELECT coalesce(sum(version), 0) FROM {table})")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone())


def _etag(kind: str, pk: int) -> str:
    model = {"tasks": "task", "updates": "statusupdate"}.get(kind)
    if model is None:
        return '"x-1-v1"'
    version = (StatusUpdate if kind == "updates" else Task).objects.get(pk=pk).version
    return f'"{model}-{pk}-v{version}"'


def _client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        key = Token.objects.get_or_create(user=user)[0].key
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _refused_writes_nothing(send) -> int:
    """Send in a transaction rolled back afterwards; a refusal must have changed nothing."""
    with transaction.atomic():
        before = _fingerprint()
        response = send()
        assert response.status_code < 500, response.content[:500]
        if 400 <= response.status_code < 500:
            assert _fingerprint() == before, (response.status_code, response.content[:300])
        transaction.set_rollback(True)
    return response.status_code


def _fuzz_route(user, world, method: str, route: str, answers: dict) -> None:
    media_type, fields = _request_body(method, route)
    kind = _owner_kind(route)
    assert kind is None or kind in world, f"{route}: add what its <int:pk> names to world"
    bodies = multipart_bodies if media_type.startswith("multipart/") else json_bodies(fields)
    whose = st.sampled_from([0, 1]) if kind else st.just(0)

    @FUZZ
    @given(body=bodies, which=whose, fresh=st.booleans(), key=st.none() | st.text(max_size=120))
    def run(body, which, fresh, key):
        client = _client(user)
        path = "/api/v1/" + route
        headers = {}
        if kind:
            pk = world[kind][which]
            path = path.replace("<int:pk>", str(pk))
            headers["HTTP_IF_MATCH"] = _etag(kind, pk) if fresh else '"task-1-v999"'
        if key is not None and "\x00" not in key and "\n" not in key and "\r" not in key:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        if isinstance(body, dict):
            send = functools.partial(
                getattr(client, method), path, body, format="multipart", **headers
            )
        else:
            send = functools.partial(
                getattr(client, method), path, body, content_type="application/json", **headers
            )
        answer = (method.upper(), route, _refused_writes_nothing(send))
        answers[answer] = answers.get(answer, 0) + 1

    run()


@pytest.mark.parametrize("persona", ["clerk", "supervisor", "leader", "auditor", None])
def test_no_body_posted_to_any_write_route_answers_5xx_or_writes_on_refusal(
    world, request, persona
):
    user = request.getfixturevalue(persona) if persona else None
    answers: dict = {}
    for method, route in WRITE_ROUTES:
        _fuzz_route(user, world, method, route, answers)
    fuzzed = {(m, r) for m, r, _s in answers}
    assert len(fuzzed) == len(WRITE_ROUTES) >= 15
    print(f"{persona}: {len(fuzzed)} write routes, {sum(answers.values())} requests")


# --- The pages' forms -------------------------------------------------------------------------


def _form_fields(form_class, prefix: str) -> list[str]:
    return [f"{prefix}-{name}" for name in form_class.base_fields]


FORMS = {
    "/workbench/tasks/{task}/receive/": lambda w: [],
    "/workbench/tasks/{task}/report/": lambda w: [
        *_form_fields(reporting_forms.ReportForm, "report"),
        *(f"report-indicator_{pk}" for pk in w["indicators"]),
    ],
    "/workbench/tasks/{task}/contribute/": lambda w: _form_fields(
        reporting_forms.ContributionForm, "contribution"
    ),
    "/workbench/tasks/{task}/instruct/": lambda w: _form_fields(
        reporting_forms.InstructionForm, "instruction"
    ),
    "/workbench/updates/{update}/correct/": lambda w: _form_fields(
        reporting_forms.CorrectionForm, f"correct-{w['update']}"
    ),
    "/workbench/review/{update}/": lambda w: _form_fields(
        reporting_forms.ReviewForm, f"review-{w['update']}"
    ),
}
form_values = st.one_of(
    st.sampled_from(HOSTILE_TEXT).filter(lambda t: "\ud800" not in t),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=30),
    st.builds(lambda n, c: c * n, st.integers(1_000, 60_000), st.sampled_from("a测<=")),
)


def _fuzz_form(client, path: str, fields: list[str]) -> None:
    @settings(FUZZ, max_examples=FORM_EXAMPLES)
    @given(data=st.dictionaries(st.sampled_from(fields), form_values, max_size=len(fields)))
    def run(data):
        sent = {k: v.encode("utf-8", "replace").decode() for k, v in data.items()}
        _refused_writes_nothing(lambda: client.post(path, sent))

    run()


@pytest.mark.parametrize("persona", ["clerk", "supervisor", "leader"])
def test_no_form_post_answers_5xx_or_writes_on_refusal(world, client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    for which in (0, 1):
        task, update = world["tasks"][which], world["updates"][which]
        indicators = list(Task.objects.get(pk=task).indicators.values_list("pk", flat=True))
        place = {"task": task, "update": update, "indicators": indicators}
        for template, fields_of in FORMS.items():
            _fuzz_form(client, template.format(**place), fields_of(place) or ["x"])
