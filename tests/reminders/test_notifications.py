"""Who hears of a report, a review, an instruction and a chase, and when.

The services call the notifications themselves: the rows are written in the service's
transaction, the deliveries are handed to the workers only once it commits, and a row saved
through the ORM (as the admin or a data fix does) notifies nobody.
"""

import datetime as dt

import pytest
from django.db import transaction

from tasks_app.audit.services import admin_save
from tasks_app.models import Delivery, Notification, Plan, Review, StatusUpdate, Task
from tasks_app.reminders import chasing
from tasks_app.reporting import services
from tests.reminders.reminders_support import Cast, assign, publish

JANUARY = dt.date(2020, 1, 1)


@pytest.fixture
def cast(economic_bureau, clerk) -> Cast:
    return Cast(economic_bureau, clerk)


@pytest.fixture
def published(plan) -> Plan:
    return publish(plan)


@pytest.fixture
def task(published, cast) -> Task:
    return assign(published.tasks.get(code="3.3.09"), cast, deadline="2020-01-22")


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """The delivery ids handed to the workers (instead of the broker)."""
    handed: list[int] = []
    monkeypatch.setattr(
        "tasks_app.reminders.notifications.enqueue_deliveries",
        lambda ids: handed.extend(ids) or len(ids),
    )
    return handed


def submit(task: Task, cast: Cast, **values) -> StatusUpdate:
    report = {
        "status": "on_schedule",
        "progress": 10,
        "narrative": "一月进展",
        "explanation": "说明",
        **values,
    }
    return services.status_update_submit(actor=cast.contact, task=task, period=JANUARY, **report)


def review(update: StatusUpdate, cast: Cast, decision: str, reason: str = "") -> StatusUpdate:
    return services.status_update_review(
        actor=cast.office, update=update, decision=decision, reason=reason
    )


def told(kind: str) -> set[str]:
    rows = Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True)
    return set(rows)


def emailed(prefix: str) -> set[str]:
    rows = Delivery.objects.filter(key__startswith=prefix, channel="email")
    return set(rows.values_list("recipient__username", flat=True))


# --- Reports and reviews ------------------------------------------------------------------------


def test_a_submitted_report_reaches_the_office_but_its_email_leaves_only_after_commit(
    task, cast, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as after_commit:
        update = submit(task, cast)
        assert told("review") == {"office"}
        assert emailed(f"update:{update.pk}:1:") == {"office"}
        assert enqueued == []
    assert len(after_commit) == 1
    after_commit[0]()
    assert enqueued == list(
        Delivery.objects.filter(recipient=cast.office).values_list("id", flat=True)
    )


def test_a_submission_rolled_back_leaves_no_notification_and_sends_nothing(
    task, cast, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as after_commit:
        with pytest.raises(RuntimeError), transaction.atomic():
            submit(task, cast)
            raise RuntimeError("the caller's transaction fails after the submission")
    assert after_commit == [] and enqueued == []
    assert not Notification.objects.exists() and not Delivery.objects.exists()


def test_a_returned_report_reaches_the_departments_head_and_contact_with_the_reason(
    task, cast, enqueued, django_capture_on_commit_callbacks
):
    update = submit(task, cast)
    with django_capture_on_commit_callbacks(execute=True):
        review(update, cast, "returned", reason="缺少佐证材料")
    decision = Review.objects.get()
    assert told("returned") == {"clerk", "head"}
    assert "缺少佐证材料" in Notification.objects.filter(kind="returned").first().body
    assert emailed(f"review:{decision.pk}:") == {"clerk", "head"}
    assert set(enqueued) == set(
        Delivery.objects.filter(key__startswith="review:").values_list("id", flat=True)
    )


def test_an_accepted_report_tells_the_department_in_app_and_sends_no_email(
    task, cast, enqueued, django_capture_on_commit_callbacks
):
    update = submit(task, cast)
    with django_capture_on_commit_callbacks(execute=True) as after_commit:
        review(update, cast, "accepted")
    assert told("accepted") == {"clerk", "head"}
    assert not Delivery.objects.filter(key__startswith="review:").exists()
    assert enqueued == [] and after_commit == []


def test_a_resubmitted_report_reaches_the_office_again_as_its_new_revision(task, cast):
    update = submit(task, cast)
    review(update, cast, "returned", reason="请补充数据")
    services.status_update_correct(
        actor=cast.contact, update=update, expected_version=update.version + 1, progress=20
    )
    titles = (
        Notification.objects.filter(kind="review").order_by("id").values_list("title", flat=True)
    )
    assert [("重新报送" in title) for title in titles] == [False, True]
    assert emailed(f"update:{update.pk}:2:") == {"office"}


def test_a_correction_of_a_report_still_in_the_queue_notifies_nobody_again(task, cast):
    update = submit(task, cast)
    services.status_update_correct(
        actor=cast.contact, update=update, expected_version=update.version, progress=15
    )
    assert Notification.objects.count() == 1 and Delivery.objects.count() == 1


# --- Leaders' instructions ----------------------------------------------------------------------


def test_a_leaders_instruction_reaches_the_lead_departments_head_and_contact_after_commit(
    task, cast, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as after_commit:
        instruction = services.instruction_create(actor=cast.leader, task=task, text="加快进度")
        assert enqueued == []
    assert told("instruction") == {"clerk", "head"}
    assert "加快进度" in Notification.objects.filter(kind="instruction").first().body
    assert emailed(f"instruction:{instruction.pk}:") == {"clerk", "head"}
    assert len(after_commit) == 1
    for callback in after_commit:
        callback()
    assert len(enqueued) == 2


def test_an_instruction_on_a_task_without_a_lead_department_notifies_nobody(published, cast):
    task = published.tasks.filter(lead_department__isnull=True).first()
    services.instruction_create(actor=cast.leader, task=task, text="请尽快明确牵头单位")
    assert not Notification.objects.exists() and not Delivery.objects.exists()


# --- Chasing ------------------------------------------------------------------------------------


def test_a_chase_hands_its_deliveries_to_the_workers_only_after_commit(
    task, cast, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as after_commit:
        chase = chasing.chase_task(actor=cast.office, task=task, note="请本周报送")
        assert enqueued == []
    assert told("chase") == {"clerk", "head"}
    for callback in after_commit:
        callback()
    assert set(enqueued) == set(
        Delivery.objects.filter(key__startswith=f"chase:{chase.pk}:").values_list("id", flat=True)
    )


# --- Rows saved without a service ---------------------------------------------------------------


def test_a_report_and_a_review_saved_through_the_orm_as_the_admin_does_notify_nobody(
    task, cast, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        update = StatusUpdate(
            task=task,
            period=JANUARY,
            status="on_schedule",
            progress=10,
            narrative="后台录入",
            author=cast.contact,
        )
        admin_save(actor=cast.office, obj=update, changed_fields=[], is_new=True)
        Review.objects.create(
            update=update, revision=1, decision="returned", reason="后台退回", reviewer=cast.office
        )
    assert not Notification.objects.exists() and not Delivery.objects.exists()
    assert enqueued == []
