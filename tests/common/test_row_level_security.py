"""On PostgreSQL a forgotten government filter returns nothing of another government.

The test database's own user is a superuser, which row-level security never binds; these tests
switch to a role made like the deployment's gaoxin_app (no superuser, owns no table) with
SET ROLE, and run the real middleware and token authentication as it.
"""

import contextlib
import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tasks_app.common import permissions, rls
from tasks_app.models import Department, Government, Milestone, Plan, Role, Task, User
from tasks_app.plans import services as plans_services
from tasks_app.public import services as public_services
from tasks_app.reporting import services as reporting_services

pytestmark = [pytest.mark.postgres, pytest.mark.urls("tests.common.rls_urls")]


def execute(sql: str, params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def app_role(db) -> str:
    """A role like gaoxin_app, for this test database only (made and dropped with the test's
    transaction)."""
    name = connection.settings_dict["NAME"] + "_app"
    execute(f"CREATE ROLE {name} NOLOGIN NOSUPERUSER NOBYPASSRLS")
    execute(f"GRANT USAGE ON SCHEMA public TO {name}")
    execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}")
    execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}")
    return name


@contextlib.contextmanager
def as_app(role: str):
    execute(f"SET ROLE {role}")
    try:
        yield
    finally:
        execute("RESET ROLE")


def person(username: str, role: str, government: Government, department=None) -> User:
    user = User(username=username, role=role, government=government, department=department)
    user.set_password(f"pw-{username}-123456")
    user.save()
    return user


def reported_task(plan: Plan, bureau: Department, office: User, clerk: User) -> Task:
    task = plan.tasks.order_by("position").first()
    task = plans_services.task_assign(
        actor=office,
        task=task,
        lead_department=bureau,
        start_date=dt.date(2020, 1, 1),
        deadline=dt.date(2020, 12, 31),
    )
    reporting_services.status_update_submit(
        actor=clerk,
        task=task,
        period=dt.date(2020, 3, 1),
        status="on_schedule",
        progress=20,
        narrative="进展顺利。",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )
    return task


@pytest.fixture
def two_governments(db, plan_data):
    """珠海高新区 (the default government) and 龙岗区, each with the first section of the seed's
    plan, an office, a bureau and its clerk, and one report."""
    data = {**plan_data, "sections": plan_data["sections"][:1]}
    plan, _ = plans_services.plan_load(actor=None, data=data)
    zhuhai = plan.government
    longgang = Government.objects.create(name="深圳市龙岗区", code="longgang")
    longgang_plan, _ = plans_services.plan_load(actor=None, data=data, government=longgang)
    world = {"zhuhai": zhuhai, "longgang": longgang}
    for key, government, its_plan in (
        ("zhuhai", zhuhai, plan),
        ("longgang", longgang, longgang_plan),
    ):
        bureau = Department.objects.create(name="经济发展局", government=government)
        office = person(f"office-{key}", Role.SUPERVISOR, government)
        clerk = person(f"clerk-{key}", Role.STAFF, government, bureau)
        world[key + "_office"] = office
        world[key + "_plan"] = its_plan
        world[key + "_task"] = reported_task(its_plan, bureau, office, clerk)
    return world


def unscoped(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return response.json()


# --- Reads --------------------------------------------------------------------------------------


def test_a_view_that_forgets_the_filter_reads_only_the_signed_in_office_s_government(
    two_governments, app_role
):
    zhuhai, longgang = two_governments["zhuhai"].pk, two_governments["longgang"].pk
    client = Client()
    client.force_login(two_governments["longgang_office"])
    assert unscoped(client, "/unscoped/")["plans"] == [zhuhai, longgang]  # superuser: all
    with as_app(app_role):
        seen = unscoped(client, "/unscoped/")
    assert seen["plans"] == seen["tasks"] == seen["departments"] == [longgang]
    assert seen["updates"] == [longgang] and seen["update_count"] == 1


def test_an_api_client_with_a_token_reads_only_its_government_too(two_governments, app_role):
    token = Token.objects.create(user=two_governments["zhuhai_office"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    with as_app(app_role):
        seen = unscoped(client, "/api/unscoped/")
    zhuhai = two_governments["zhuhai"].pk
    assert seen["plans"] == seen["tasks"] == seen["departments"] == seen["updates"] == [zhuhai]


def test_an_anonymous_request_reads_no_government(two_governments, app_role):
    with as_app(app_role):
        seen = unscoped(Client(), "/unscoped/")
    assert seen == {"plans": [], "tasks": [], "departments": [], "updates": [], "update_count": 0}


def test_the_same_raw_query_in_the_other_government_s_context_reads_the_other_s_rows(
    two_governments, app_role
):
    zhuhai, longgang = two_governments["zhuhai"], two_governments["longgang"]
    with as_app(app_role):
        with rls.tenant_context([zhuhai.pk], zhuhai.pk):
            mine = set(Task.objects.values_list("government_id", flat=True))
        with rls.tenant_context([longgang.pk], longgang.pk):
            theirs = set(Task.objects.values_list("government_id", flat=True))
            milestones = Milestone.objects.filter(task__government=zhuhai).count()
        with rls.system_context():
            everyone = set(Plan.objects.values_list("government_id", flat=True))
    assert (mine, theirs, milestones) == ({zhuhai.pk}, {longgang.pk}, 0)
    assert everyone == {zhuhai.pk, longgang.pk}


def city_above(world) -> tuple[Government, User]:
    """珠海市 above both districts, and its office."""
    city = Government.objects.create(name="珠海市", code="zhuhai-city", level="city")
    districts = [world["zhuhai"].pk, world["longgang"].pk]
    Government.objects.filter(pk__in=districts).update(parent=city)
    return city, person("office-city", Role.SUPERVISOR, city)


def test_a_city_office_s_governments_are_looked_up_and_set_in_one_statement(
    two_governments, app_role
):
    city, office = city_above(two_governments)
    zhuhai, longgang = two_governments["zhuhai"], two_governments["longgang"]
    expected = sorted([city.pk, zhuhai.pk, longgang.pk])
    try:
        with CaptureQueriesContext(connection) as captured:
            rls.enter_user(office)
            readable = permissions.readable_government_ids(office)  # remembered: no query
        assert (len(captured), readable) == (1, expected)
        assert rls.current() == (",".join(map(str, expected)), str(city.pk))
        with as_app(app_role):
            seen = set(Task.objects.values_list("government_id", flat=True))
        assert seen == {zhuhai.pk, longgang.pk}
    finally:
        rls.restore(*rls.process_default())


def test_the_settings_are_put_back_after_the_request(two_governments, app_role):
    client = Client()
    client.force_login(two_governments["zhuhai_office"])
    with as_app(app_role), rls.tenant_context([], None):
        unscoped(client, "/unscoped/")
        assert Task.objects.count() == 0  # back to nothing, not left at the office's government


def test_the_public_pages_read_the_published_plans_and_nothing_else(two_governments, app_role):
    zhuhai_plan, longgang_plan = two_governments["zhuhai_plan"], two_governments["longgang_plan"]
    office = two_governments["zhuhai_office"]
    plans_services.plan_publish(actor=office, plan=zhuhai_plan)
    public_services.public_snapshot_publish(actor=office, plan=zhuhai_plan)
    reader = Client()
    with as_app(app_role):
        with rls.public_context():
            assert rls.current() == (str(two_governments["zhuhai"].pk), "")
        published = reader.get(f"/public/plans/{zhuhai_plan.pk}/")
        unpublished = reader.get(f"/public/plans/{longgang_plan.pk}/")
    assert published.status_code == 200 and zhuhai_plan.title in published.text
    assert unpublished.status_code == 404
    assert "Cookie" not in published.get("Vary", "")


# --- Writes -------------------------------------------------------------------------------------


def refused(write) -> bool:
    try:
        with transaction.atomic():
            write()
    except DatabaseError as error:
        return "row-level security" in str(error)
    return False


def test_a_task_cannot_be_written_into_another_government_s_plan(two_governments, app_role):
    zhuhai, longgang = two_governments["zhuhai"], two_governments["longgang"]
    theirs = two_governments["longgang_task"]
    with as_app(app_role), rls.tenant_context([zhuhai.pk], zhuhai.pk):
        intruder = Task(
            plan_id=theirs.plan_id, government_id=longgang.pk, code="X-1", title="越界任务"
        )
        assert refused(lambda: Task.objects.bulk_create([intruder]))
        changed = Task.objects.filter(pk=theirs.pk).update(title="改写")
        deleted = execute("DELETE FROM tasks_app_plan WHERE government_id = %s", [longgang.pk])
        moved = Task.objects.filter(pk=two_governments["zhuhai_task"].pk)
        assert refused(lambda: moved.update(government_id=longgang.pk))
    assert changed == 0 and deleted == []
    assert Task.objects.get(pk=theirs.pk).title == theirs.title


def test_a_milestone_cannot_be_added_to_another_government_s_task(two_governments, app_role):
    zhuhai, theirs = two_governments["zhuhai"], two_governments["longgang_task"]
    with as_app(app_role), rls.tenant_context([zhuhai.pk], zhuhai.pk):
        assert refused(
            lambda: Milestone.objects.create(
                task_id=theirs.pk, title="越界节点", due_date=dt.date(2020, 6, 30)
            )
        )


def test_a_city_reads_its_district_but_does_not_write_for_it(two_governments, app_role):
    zhuhai, longgang = two_governments["zhuhai"], two_governments["longgang"]
    theirs = two_governments["longgang_task"]
    with as_app(app_role), rls.tenant_context([zhuhai.pk, longgang.pk], zhuhai.pk):
        assert Task.objects.filter(pk=theirs.pk).exists()
        assert Task.objects.filter(pk=theirs.pk).update(title="改写") == 0


# --- Coverage -----------------------------------------------------------------------------------


def tenant_tables() -> set[str]:
    """tasks_app tables with a government_id column, or a key to a task or a plan."""
    rows = execute(
        "SELECT DISTINCT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT a.attisdropped"
        " AND c.relname LIKE 'tasks\\_app\\_%%' AND a.attname = 'government_id'"
        " UNION SELECT DISTINCT c.relname FROM pg_constraint k"
        " JOIN pg_class c ON c.oid = k.conrelid"
        " WHERE k.contype = 'f' AND k.confrelid IN ('tasks_app_task'::regclass,"
        " 'tasks_app_plan'::regclass) AND c.relname LIKE 'tasks\\_app\\_%%'"
    )
    return {name for (name,) in rows}


def test_every_tenant_table_has_row_level_security_and_a_policy(db):
    secured = dict(
        execute(
            "SELECT c.relname, c.relrowsecurity AND EXISTS (SELECT 1 FROM pg_policies p"
            " WHERE p.tablename = c.relname) FROM pg_class c"
            " WHERE c.relname LIKE 'tasks\\_app\\_%%'"
        )
    )
    tables = tenant_tables() | set(rls.TENANT_CHILDREN)
    unsecured = {t for t in tables if t in secured and not secured[t]} - set(rls.TENANT_EXEMPT)
    assert "tasks_app_task" in tables and "tasks_app_milestone" in tables
    assert unsecured == set(), f"no policy (add it in rls.TENANT_CHILDREN): {sorted(unsecured)}"


def test_a_web_process_outside_a_request_reads_nothing(monkeypatch):
    monkeypatch.setenv("GAOXIN_RLS_DEFAULT", "none")
    assert rls.process_default() == ("", "")
    monkeypatch.delenv("GAOXIN_RLS_DEFAULT")
    assert rls.process_default() == ("*", "*")  # workers, beat and commands: every government


def settings_sent(captured) -> int:
    return sum("set_config('gaoxin.read_governments'" in q["sql"] for q in captured)


def session_settings() -> tuple[str, str]:
    row = execute(
        "SELECT current_setting(%s, true), current_setting(%s, true)", [rls.READ, rls.WRITE]
    )
    return tuple(value or "" for value in row[0])


@pytest.mark.django_db(transaction=True)
def test_a_web_process_api_request_sets_the_clerk_s_settings_once_and_nothing_once(monkeypatch):
    """Between requests a web process's connection holds nothing; the middleware enters an API
    request as anonymous (nothing again: not sent), the token sets the clerk's, the end of the
    request puts nothing back."""
    monkeypatch.setenv("GAOXIN_RLS_DEFAULT", "none")
    zhuhai = Government.objects.create(name="网上高新区", code="zh-web", level="district")
    bureau = Department.objects.create(name="科技局", government=zhuhai)
    clerk = person("clerk-web", Role.STAFF, zhuhai, bureau)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=clerk).key}")
    try:
        rls.apply("", "")
        with CaptureQueriesContext(connection) as captured:
            unscoped(client, "/api/unscoped/")
        assert settings_sent(captured.captured_queries) == 2
        assert session_settings() == ("", "")
    finally:
        rls.restore(*rls.process_default())


@pytest.mark.django_db(transaction=True)
def test_settings_set_in_a_rolled_back_transaction_are_sent_again(monkeypatch):
    """A rollback puts back the session's earlier settings: the next apply cannot trust what
    was set inside the transaction, and sends the settings again."""
    try:
        rls.apply("1", "1")
        with transaction.atomic():
            rls.apply("2", "2")
            transaction.set_rollback(True)
        assert session_settings() == ("1", "1")  # what the server holds after the rollback
        with CaptureQueriesContext(connection) as captured:
            rls.apply("2", "2")
        assert settings_sent(captured.captured_queries) == 1
        assert session_settings() == ("2", "2")
        with CaptureQueriesContext(connection) as captured:
            rls.apply("2", "2")  # set outside a transaction: held for certain
        assert settings_sent(captured.captured_queries) == 0
    finally:
        rls.restore(*rls.process_default())


def test_a_city_office_s_token_look_up_sets_its_governments_in_the_same_statement(
    two_governments, app_role
):
    city, office = city_above(two_governments)
    zhuhai, longgang = two_governments["zhuhai"], two_governments["longgang"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=office).key}")
    with as_app(app_role), CaptureQueriesContext(connection) as captured:
        seen = unscoped(client, "/api/unscoped/")
    assert seen["plans"] == seen["tasks"] == sorted([zhuhai.pk, longgang.pk])
    setting = [q["sql"] for q in captured.captured_queries if "set_config('gaoxin.read" in q["sql"]]
    token_look_up = [sql for sql in setting if "authtoken_token" in sql]
    assert len(token_look_up) == 1
    assert not any("WITH RECURSIVE" in q["sql"] and "authtoken_token" not in q["sql"]
                   for q in captured.captured_queries)  # fmt: skip


def test_an_inactive_users_token_sets_nothing_and_is_refused(two_governments, app_role):
    clerk = person("office-gone", Role.SUPERVISOR, two_governments["zhuhai"])
    token = Token.objects.create(user=clerk)
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    with as_app(app_role), rls.tenant_context([], None):
        assert client.get("/api/unscoped/").status_code == 401
        assert rls.current() == ("", "")
        assert Task.objects.count() == 0
