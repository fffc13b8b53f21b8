"""Reminders: the ladder on the working calendar, digests, channels, retries, chasing, the bell.

Every sweep is given a fixed "now" (Shanghai time), never the wall clock.
"""

import base64
import datetime as dt
import hashlib
import hmac
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tasks_app.models import (
    Delivery,
    DeliveryAttempt,
    DepartmentWebhook,
    Digest,
    DigestItem,
    ManualChase,
    Notification,
    Plan,
    Reminder,
    ReminderStep,
    Role,
    StatusUpdate,
    Task,
)
from tasks_app.reminders import delivery as reminders_delivery
from tasks_app.reminders import sweep
from tasks_app.reporting import services
from tests.reminders.reminders_support import Cast, RobotServer, assign, at, person, publish, reseed

D = dt.date.fromisoformat


@pytest.fixture
def cast(economic_bureau, clerk) -> Cast:
    return Cast(economic_bureau, clerk)


@pytest.fixture
def seeded(transactional_db):
    reseed()


@pytest.fixture
def published(plan) -> Plan:
    return publish(plan)


@pytest.fixture
def task(published, cast) -> Task:
    return assign(published.tasks.get(code="3.3.09"), cast, deadline="2020-01-22")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def send_all(now) -> list[str]:
    return [
        reminders_delivery.delivery_send(delivery_id=d, now=now)
        for d in sweep.reminders_sweep(now=now).delivery_ids
    ]


def reached(day: str, item: str = "deadline") -> set[str]:
    rows = DigestItem.objects.filter(digest__day=D(day), reminder__item=item).values_list(
        "digest__recipient__username", "digest__department__name"
    )
    return {user or f"robot:{department}" for user, department in rows}


# --- The ladder on China's working calendar ---------------------------------------------------


def test_the_ladder_reaches_the_right_people_on_the_right_working_days_around_spring_festival(
    task, cast
):
    DepartmentWebhook.objects.create(
        department=cast.department, kind="wecom", url="http://127.0.0.1:9/robot"
    )
    day = D("2020-01-14")
    while day <= D("2020-02-19"):
        sweep.reminders_sweep(now=at(str(day)))
        day += dt.timedelta(days=1)

    robot = f"robot:{cast.department.name}"
    expected = {
        # Due Wednesday 01-22: three working days before is Sunday 01-19, an adjusted working day.
        "2020-01-19": {"clerk"},
        "2020-01-22": {"clerk", "head", robot},
        "2020-01-23": {"head", robot},
        # 01-24..02-02 is the Spring Festival: nothing. The chase resumes on Monday 02-03.
        "2020-02-03": {"head", robot},
        "2020-02-04": {"head", robot, "leader", "office"},  # 3 working days overdue: 督办
        "2020-02-05": {"head", robot},
        "2020-02-06": {"head", robot},
        "2020-02-07": {"head", robot},
        "2020-02-10": {"head", robot},
        "2020-02-11": {"head", robot, "leader", "office"},  # weekly after that
        "2020-02-12": {"head", robot},
    }
    days = [str(D("2020-01-14") + dt.timedelta(days=i)) for i in range(30)]
    assert {d: reached(d) for d in days if reached(d)} == expected
    assert Reminder.objects.filter(item="deadline", remind_on=D("2020-01-18")).count() == 0


def test_a_plan_with_its_own_ladder_uses_it_instead_of_the_default(task, published, cast):
    ReminderStep.objects.create(
        plan=published, name="提前一天", offset=-1, to_head=True, by_email=True, by_in_app=False
    )
    for day in ("2020-01-19", "2020-01-21", "2020-01-22"):
        sweep.reminders_sweep(now=at(day))
    assert (reached("2020-01-19"), reached("2020-01-21"), reached("2020-01-22")) == (
        set(),
        {"head"},
        set(),
    )


def test_an_unreported_month_is_reminded_before_its_report_day_and_a_report_stops_it(task, cast):
    # January's report is due on the plan's report day, Wednesday 5 February 2020; three
    # working days before it is Thursday 23 January, the last working day before the festival.
    sweep.reminders_sweep(now=at("2020-01-23"))
    assert reached("2020-01-23", "report:2020-01-01") == {"clerk"}
    StatusUpdate.objects.create(
        task=task,
        period=D("2020-01-01"),
        status="on_schedule",
        progress=10,
        narrative="一月进展",
        author=cast.contact,
        submitted_at=at("2020-02-03"),
    )
    sweep.reminders_sweep(now=at("2020-02-05"))
    assert reached("2020-02-05", "report:2020-01-01") == set()


def january_report(task, cast) -> StatusUpdate:
    """The contact's report for January, waiting for the office's review."""
    return services.status_update_submit(
        actor=cast.contact,
        task=task,
        period=D("2020-01-01"),
        status="on_schedule",
        progress=10,
        narrative="一月进展",
        explanation="情况说明:受前期手续影响滞后,正在加快推进。",
    )


def test_a_returned_report_reminds_the_department_and_a_waiting_one_reminds_the_office(task, cast):
    update = january_report(task, cast)
    StatusUpdate.objects.filter(pk=update.pk).update(submitted_at=at("2020-02-03"))
    sweep.reminders_sweep(now=at("2020-02-06"))  # 3 working days later: review due
    assert reached("2020-02-06", f"review:{update.pk}:1") == {"office"}
    services.status_update_review(
        actor=cast.office, update=update, decision="returned", reason="数据不全"
    )
    from tasks_app.models import Review

    Review.objects.filter(update=update).update(created_at=at("2020-02-06", "10:00"))
    sweep.reminders_sweep(now=at("2020-02-11"))  # due 3 working days after the return
    assert reached("2020-02-11", f"returned:{update.pk}:1") == {"clerk", "head"}


def test_a_report_submitted_after_midnight_in_beijing_is_due_for_review_from_the_beijing_day(
    task, cast
):
    update = january_report(task, cast)
    # 01:30 on Monday 3 February in Beijing is still Sunday 2 February (a holiday) in UTC.
    submitted = dt.datetime(2020, 2, 2, 17, 30, tzinfo=dt.UTC)
    StatusUpdate.objects.filter(pk=update.pk).update(submitted_at=submitted)
    sweep.reminders_sweep(now=at("2020-02-06"))
    item = f"review:{update.pk}:1"
    assert set(Reminder.objects.filter(item=item).values_list("due_date", flat=True)) == {
        D("2020-02-06")  # 3 working days after the 3rd, not after the 2nd (the 5th)
    }
    assert reached("2020-02-06", item) == {"office"}


# --- The sending window -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        ("2020-01-22", "08:29"),  # before the window
        ("2020-01-22", "18:00"),  # the window has closed
        ("2020-01-18", "10:00"),  # an ordinary Saturday
        ("2020-01-28", "10:00"),  # a Tuesday in the Spring Festival
    ],
)
def test_nothing_is_decided_or_sent_outside_the_sending_window(task, moment):
    result = sweep.reminders_sweep(now=at(*moment))
    assert (result.in_window, Reminder.objects.count(), Digest.objects.count()) == (False, 0, 0)


def test_a_delivery_due_after_hours_waits_for_the_next_working_morning(task, cast):
    sweep.reminders_sweep(now=at("2020-01-23", "17:59"))
    pending = Delivery.objects.filter(channel="email").first()
    assert reminders_delivery.delivery_send(
        delivery_id=pending.pk, now=at("2020-01-23", "18:05")
    ) == ("outside_window")
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, len(mail.outbox)) == ("pending", 0, 0)
    assert pending.next_attempt_at == at("2020-02-03", "08:30")  # after the Spring Festival


def test_an_adjusted_working_sunday_is_inside_the_window(task):
    assert sweep.reminders_sweep(now=at("2020-01-19", "08:30")).in_window


# --- One digest per person, channel and day ---------------------------------------------------


def test_thirty_due_items_for_one_person_make_one_digest_listing_thirty(published, cast):
    tasks = list(published.tasks.order_by("position")[:30])
    for t in tasks:
        assign(t, cast, deadline="2020-01-22")

    send_all(at("2020-01-19"))

    digests = Digest.objects.filter(recipient=cast.contact)
    assert [(d.channel, d.items.count()) for d in digests.order_by("channel")] == [
        ("email", 30),
        ("in_app", 30),
    ]
    [email] = mail.outbox
    assert email.to == ["clerk@example.gov.cn"]
    assert "30" in email.subject and all(t.code in email.body for t in tasks)
    [notification] = Notification.objects.filter(recipient=cast.contact)
    assert notification.body.count("\n") == 29


def test_a_second_sweep_the_same_day_creates_no_second_reminder_digest_or_message(task, cast):
    send_all(at("2020-01-22", "09:00"))
    counts = (Reminder.objects.count(), Digest.objects.count(), Delivery.objects.count())
    send_all(at("2020-01-22", "09:01"))
    send_all(at("2020-01-22", "15:00"))
    assert (Reminder.objects.count(), Digest.objects.count(), Delivery.objects.count()) == counts
    assert sorted(m.to[0] for m in mail.outbox) == ["clerk@example.gov.cn", "head@example.gov.cn"]


def test_an_item_arriving_after_the_digest_went_out_waits_for_the_next_working_day(published, cast):
    assign(published.tasks.get(code="3.3.09"), cast, deadline="2020-01-22")
    send_all(at("2020-01-22", "09:00"))
    late = assign(published.tasks.get(code="1.1.01"), cast, deadline="2020-01-22")
    send_all(at("2020-01-22", "11:00"))
    item = DigestItem.objects.get(
        reminder__task=late, recipient_key=f"u{cast.head.pk}", channel="email"
    )
    assert item.digest.day == D("2020-01-23")
    assert Digest.objects.filter(recipient=cast.head, channel="email").count() == 2


# --- Deliveries: leases, retries, robots --------------------------------------------------------


def test_a_delivery_whose_worker_died_is_claimed_again_after_its_lease_and_sent_once(task):
    sweep.reminders_sweep(now=at("2020-01-22", "09:00"))
    delivery = Delivery.objects.filter(channel="email").first()
    dead = reminders_delivery.delivery_claim(delivery_id=delivery.pk, now=at("2020-01-22", "09:00"))
    assert dead is not None  # ...and the worker holding it dies here

    assert reminders_delivery.delivery_send(
        delivery_id=delivery.pk, now=at("2020-01-22", "09:02")
    ) == (
        "not_claimed"  # the lease (5 minutes) still runs
    )
    assert delivery.pk in reminders_delivery.deliveries_due(now=at("2020-01-22", "09:06"))
    assert (
        reminders_delivery.delivery_send(delivery_id=delivery.pk, now=at("2020-01-22", "09:06"))
        == "sent"
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(mail.outbox)) == ("sent", 2, 1)
    assert delivery.provider_id == mail.outbox[0].extra_headers["Message-ID"]


def test_a_dingtalk_robot_gets_markdown_json_signed_with_timestamp_and_hmac_sha256(task, cast):
    with RobotServer() as robot:
        DepartmentWebhook.objects.create(
            department=cast.department, kind="dingtalk", url=robot.url, secret="SECtest-secret"
        )
        send_all(at("2020-01-22", "09:00"))

    [request] = robot.requests
    timestamp = request["query"]["timestamp"]
    expected = base64.b64encode(
        hmac.new(
            b"SECtest-secret", f"{timestamp}\nSECtest-secret".encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert request["query"]["access_token"] == "t0k"
    assert request["query"]["sign"] == expected
    assert int(timestamp) == int(at("2020-01-22", "09:00").timestamp() * 1000)
    body = request["json"]
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert "3.3.09" in body["markdown"]["text"] and "督查督办提醒" in body["markdown"]["title"]
    delivery = Delivery.objects.get(channel="webhook")
    assert (delivery.status, delivery.attempt_log.get().ok) == ("sent", True)


def test_a_wecom_robot_gets_markdown_content_without_a_signature(task, cast):
    with RobotServer() as robot:
        DepartmentWebhook.objects.create(department=cast.department, kind="wecom", url=robot.url)
        send_all(at("2020-01-22", "09:00"))
    [request] = robot.requests
    assert set(request["query"]) == {"access_token"}
    assert list(request["json"]) == ["msgtype", "markdown"]
    assert "3.3.09" in request["json"]["markdown"]["content"]


def test_a_failing_webhook_is_retried_with_backoff_then_marked_failed(task, cast, settings):
    settings.REMINDER_MAX_ATTEMPTS = 3
    with RobotServer(answer=500) as robot:
        DepartmentWebhook.objects.create(department=cast.department, kind="wecom", url=robot.url)
        sweep.reminders_sweep(now=at("2020-01-22", "09:00"))
        delivery = Delivery.objects.get(channel="webhook")
        outcomes, moments = [], []
        now = at("2020-01-22", "09:00")
        for _ in range(3):
            outcomes.append(reminders_delivery.delivery_send(delivery_id=delivery.pk, now=now))
            delivery.refresh_from_db()
            moments.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at
        assert reminders_delivery.delivery_send(delivery_id=delivery.pk, now=now) == "not_claimed"

    assert outcomes == ["pending", "pending", "failed"]
    assert moments[:2] == [dt.timedelta(seconds=60), dt.timedelta(seconds=120)]
    assert len(robot.requests) == 3
    attempts = list(
        DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "ok", "error")
    )
    assert attempts == [(n, False, "HTTP 500") for n in (1, 2, 3)]


# --- make run: the embedded scheduler uses the same code ----------------------------------------


def test_the_embedded_scheduler_of_make_run_sends_reminders_without_a_broker(task, cast):
    result = sweep.run_embedded_once(now=at("2020-01-22", "10:00"))
    assert result.in_window and len(result.delivery_ids) == 4
    assert sorted(m.to[0] for m in mail.outbox) == ["clerk@example.gov.cn", "head@example.gov.cn"]
    assert Notification.objects.filter(kind="digest").count() == 2


# --- Manual chasing ---------------------------------------------------------------------------


def test_the_office_chases_a_task_with_a_note_and_the_department_hears_of_it(task, cast):
    response = api(cast.office).post(
        f"/api/v1/tasks/{task.pk}/chase/", {"note": "请本周报送"}, format="json"
    )
    assert response.status_code == 201, response.json()
    chase = ManualChase.objects.get()
    assert (chase.task, chase.note, chase.chased_by) == (task, "请本周报送", cast.office)
    assert set(
        Notification.objects.filter(kind="chase").values_list("recipient__username", flat=True)
    ) == {"clerk", "head"}
    assert Delivery.objects.filter(key__startswith=f"chase:{chase.pk}:email").count() == 2
    client = Client()
    client.force_login(cast.office)
    assert "请本周报送" in client.get(f"/workbench/tasks/{task.pk}/").content.decode()


def test_a_second_chase_within_the_interval_is_refused_with_429(task, cast):
    url = f"/api/v1/tasks/{task.pk}/chase/"
    assert api(cast.office).post(url, {"note": "第一次"}, format="json").status_code == 201
    again = api(cast.office).post(url, {"note": "第二次"}, format="json")
    assert (again.status_code, again.json()["code"]) == (429, "chase_rate_limited")
    assert ManualChase.objects.count() == 1


def test_a_department_cannot_chase_and_a_chase_needs_a_note(task, cast):
    refused = api(cast.contact).post(
        f"/api/v1/tasks/{task.pk}/chase/", {"note": "x"}, format="json"
    )
    empty = api(cast.office).post(f"/api/v1/tasks/{task.pk}/chase/", {"note": ""}, format="json")
    assert (refused.status_code, empty.status_code) == (403, 400)
    assert ManualChase.objects.count() == 0


def test_a_department_chasing_a_real_or_a_missing_department_gets_the_same_404(task, cast):
    real = api(cast.contact).post(
        f"/api/v1/departments/{cast.department.pk}/chase/", {"note": "x"}, format="json"
    )
    missing = api(cast.contact).post(
        "/api/v1/departments/999999/chase/", {"note": "x"}, format="json"
    )
    assert (real.status_code, missing.status_code) == (404, 404)
    assert real.json() == missing.json()
    assert ManualChase.objects.count() == 0


def test_the_office_chases_a_whole_department_listing_its_open_tasks(task, cast, settings):
    settings.REMINDER_WINDOW_START, settings.REMINDER_WINDOW_END = "00:00", "24:00"
    settings.REMINDER_WORKING_DAYS_ONLY = False  # sent at once, whatever the wall clock says
    with RobotServer() as robot:
        DepartmentWebhook.objects.create(department=cast.department, kind="wecom", url=robot.url)
        response = api(cast.office).post(
            f"/api/v1/departments/{cast.department.pk}/chase/",
            {"note": "请抓紧推进"},
            format="json",
        )
        assert response.status_code == 201
        now = timezone.now()
        for delivery_id in reminders_delivery.deliveries_due(now=now + dt.timedelta(minutes=5)):
            reminders_delivery.delivery_send(
                delivery_id=delivery_id, now=now + dt.timedelta(minutes=5)
            )
    [notification] = Notification.objects.filter(recipient=cast.head, kind="chase")
    assert "3.3.09" in notification.body and "请抓紧推进" in notification.body
    assert "请抓紧推进" in robot.requests[0]["json"]["markdown"]["content"]


def test_the_office_chases_from_the_task_page(task, cast, client):
    client.force_login(cast.office)
    page = client.get(f"/workbench/tasks/{task.pk}/").content.decode()
    assert f'action="/workbench/tasks/{task.pk}/chase/"' in page
    response = client.post(f"/workbench/tasks/{task.pk}/chase/", {"note": "网页催办"})
    assert response.status_code == 302
    assert ManualChase.objects.get().note == "网页催办"
    client.force_login(cast.contact)
    assert "chase-form" not in client.get(f"/workbench/tasks/{task.pk}/").content.decode()


# --- In-app notifications and the bell ----------------------------------------------------------


def test_notifications_are_listed_counted_and_marked_read_for_their_recipient_only(task, cast):
    send_all(at("2020-01-22", "09:00"))
    client = api(cast.contact)
    listed = client.get("/api/v1/notifications/").json()["results"]
    assert [n["kind"] for n in listed] == ["digest"] and "3.3.09" in listed[0]["body"]
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}

    someone_else = api(cast.head).post(
        "/api/v1/notifications/read/", {"ids": [listed[0]["id"]]}, format="json"
    )
    assert someone_else.json() == {"marked": 0}
    assert client.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 1}
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}
    assert client.get("/api/v1/notifications/?unread=true").json()["results"] == []


def test_the_header_bell_shows_the_unread_count_and_links_to_the_notifications(task, cast, client):
    send_all(at("2020-01-22", "09:00"))
    client.force_login(cast.contact)
    page = client.get("/workbench/").content.decode()
    assert 'class="badge-new bell-count">1<' in page and 'href="/notifications/"' in page
    notifications = client.get("/notifications/").content.decode()
    assert "督查督办提醒" in notifications
    client.post("/notifications/read/")
    assert "bell-count" not in client.get("/workbench/").content.decode()


def test_a_submitted_report_notifies_the_office_in_app_at_once(task, cast):
    response = api(cast.contact).post(
        f"/api/v1/tasks/{task.pk}/updates/",
        {
            "period": "2020-01",
            "status": "on_schedule",
            "progress": 10,
            "narrative": "一月",
            "explanation": "说明",
        },
        format="json",
    )
    assert response.status_code == 201
    assert Notification.objects.filter(recipient=cast.office, kind="review").count() == 1
    assert Delivery.objects.filter(recipient=cast.office, channel="email").count() == 1


# --- PostgreSQL: concurrency and query counts ---------------------------------------------------


def _race(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # surfaced by the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_make_each_reminder_and_message_exactly_once(seeded, published, cast):
    for t in published.tasks.order_by("position")[:20]:
        assign(t, cast, deadline="2020-01-22")
    with RobotServer() as robot:
        DepartmentWebhook.objects.create(department=cast.department, kind="wecom", url=robot.url)
        now = at("2020-01-22", "09:00")
        sweeps = _race(2, lambda i: sweep.reminders_sweep(now=now))
        assert not [r for r in sweeps if isinstance(r, Exception)], sweeps
        ids = sorted(set(sweeps[0].delivery_ids) | set(sweeps[1].delivery_ids))
        sends = _race(
            2, lambda i: [reminders_delivery.delivery_send(delivery_id=d, now=now) for d in ids]
        )

    assert not [r for r in sends if isinstance(r, Exception)], sends
    # 20 deadlines due today: contact and head, by email and in-app, and the robot.
    assert Reminder.objects.filter(item="deadline").count() == 20
    assert DigestItem.objects.filter(reminder__item="deadline").count() == 20 * 5
    assert Digest.objects.count() == 5 and Delivery.objects.count() == 5
    assert sorted(s for r in sends for s in r if s != "not_claimed") == ["sent"] * 5
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert sorted(m.to[0] for m in mail.outbox) == ["clerk@example.gov.cn", "head@example.gov.cn"]
    assert len(robot.requests) == 1 and Notification.objects.filter(kind="digest").count() == 2


def _many_tasks(plan: Plan, cast: Cast, count: int) -> None:
    Task.objects.bulk_create(
        [
            Task(
                plan=plan,
                code=f"L{plan.pk}-{i:04d}",
                title=f"民生实事{i}",
                source_text="示例",
                kind="livelihood",
                lead_department=cast.department,
                responsible_leader=cast.leader,
                start_date=D("2020-01-02"),
                deadline=D("2020-01-22"),
                received_at=at("2020-01-10"),
            )
            for i in range(count)
        ]
    )


def _sweep_queries(count: int, cast: Cast) -> int:
    plan = Plan.objects.create(year=2020, title=f"清单{count}", kind="livelihood")
    publish(plan)
    _many_tasks(plan, cast, count)
    with CaptureQueriesContext(connection) as captured:
        result = sweep.reminders_sweep(now=at("2020-01-22", "09:00"))
    assert Reminder.objects.filter(task__plan=plan).count() == count
    assert len(result.delivery_ids) == 4
    Plan.objects.filter(pk=plan.pk).delete()
    Digest.objects.all().delete()
    return len(captured)


@pytest.mark.postgres
def test_the_sweep_makes_as_many_queries_for_a_thousand_tasks_as_for_ten(db, cast):
    few, many = _sweep_queries(10, cast), _sweep_queries(1000, cast)
    assert few == many <= 40, (few, many)


def test_a_new_users_role_is_not_in_a_ladder_it_does_not_name(task, cast):
    person("auditor", Role.AUDITOR)
    send_all(at("2020-02-04"))
    assert "auditor" not in reached("2020-02-04")


def test_a_robot_saved_in_the_admin_is_audited_without_its_token_or_secret(
    cast, admin_user, client
):
    from tasks_app.models import AuditEvent

    client.force_login(admin_user)
    response = client.post(
        "/admin/tasks_app/departmentwebhook/add/",
        {
            "department": cast.department.pk,
            "kind": "dingtalk",
            "is_active": "on",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=tok123",
            "secret": "SECsecret456",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="departmentwebhook.create")
    assert event.after["url"] == "https://oapi.dingtalk.com/robot/send?***"
    assert "tok123" not in str(event.after) and "SECsecret456" not in str(event.after)
    assert DepartmentWebhook.objects.get().secret == "SECsecret456"
