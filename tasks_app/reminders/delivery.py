"""Delivery: list due deliveries, claim one with a lease, send, record, retry."""

import datetime as dt
import hashlib
import logging
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import (
    F,
    Q,
)

from tasks_app.audit.services import audit_log
from tasks_app.common import clock
from tasks_app.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Digest,
)
from tasks_app.reminders import channels as notify
from tasks_app.reminders.digests import render_digest
from tasks_app.reminders.window import in_window, next_window_start

logger = logging.getLogger("gaoxin.reminders")


MAX_BACKOFF_SECONDS = 3600


# --- Delivery ---------------------------------------------------------------------------------


def deliveries_due(*, now: dt.datetime, limit: int = 500) -> list[int]:
    """Deliveries to hand to workers now: due, or claimed by a worker whose lease ran out.

    Each is marked enqueued, so the next sweep skips it for a grace period; if the broker lost
    the message, the one after that sends it again (a duplicate message finds nothing to claim).
    """
    grace = dt.timedelta(seconds=settings.REMINDER_DISPATCH_GRACE_SECONDS)
    ids = list(
        Delivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
        )
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - grace))
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    if ids:
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


def _claimable(now: dt.datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_until__lt=now
    )


def delivery_claim(*, delivery_id: int, now: dt.datetime) -> Delivery | None:
    """Take the delivery with a lease; None when it is not due or another worker holds it."""
    token = uuid.uuid4().hex
    lease = dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    candidate = Delivery.objects.filter(_claimable(now), pk=delivery_id).first()
    if candidate is None:
        return None
    with transaction.atomic():
        if candidate.digest_id:  # lock order: digest, then delivery (as digests_assemble)
            Digest.objects.filter(pk=candidate.digest_id, sealed_at__isnull=True).update(
                sealed_at=now
            )
        claimed = Delivery.objects.filter(_claimable(now), pk=delivery_id).update(
            status=DeliveryStatus.SENDING,
            claimed_until=now + lease,
            claim_token=token,
            attempts=F("attempts") + 1,
        )
        if claimed:
            _attempt_begin(delivery_id, now)
    if not claimed:
        return None
    return Delivery.objects.select_related("digest", "recipient", "webhook").get(pk=delivery_id)


def _message(delivery: Delivery) -> notify.Message:
    if delivery.digest_id:
        return render_digest(delivery.digest)
    return notify.Message(subject=delivery.subject, body=delivery.body)


def message_reference(delivery: Delivery) -> str:
    """The same for every try of a delivery: the email's Message-ID and the robot message's
    number, so a mail system or a reader can tell a repeat from a new message."""
    return f"delivery{delivery.pk}.{hashlib.sha256(delivery.key.encode()).hexdigest()[:12]}"


def _send(delivery: Delivery, now: dt.datetime) -> str:
    message = _message(delivery)
    if delivery.channel == Channel.EMAIL:
        return notify.send_email(
            recipient=delivery.recipient, message=message, reference=message_reference(delivery)
        )
    if delivery.channel == Channel.IN_APP:
        return notify.send_in_app(
            recipient=delivery.recipient, message=message, digest_id=delivery.digest_id
        )
    return notify.send_webhook(
        hook=delivery.webhook,
        message=message,
        timestamp_ms=int(now.timestamp() * 1000),
        reference=message_reference(delivery),
    )


def _backoff(attempts: int) -> dt.timedelta:
    seconds = settings.REMINDER_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


def _outcome(delivery: Delivery, now, finished, provider_id: str, error: str) -> dict:
    if not error:
        return {
            "status": DeliveryStatus.SENT,
            "sent_at": finished,
            "provider_id": provider_id[:200],
            "error": "",
            "claimed_until": None,
        }
    if delivery.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        return {"status": DeliveryStatus.FAILED, "error": error, "claimed_until": None}
    return {
        "status": DeliveryStatus.PENDING,
        "error": error,
        "claimed_until": None,
        "next_attempt_at": now + _backoff(delivery.attempts),
        "enqueued_at": None,
    }


def _attempt_begin(delivery_id: int, started: dt.datetime) -> None:
    """In the claim's transaction, so before the provider is called: if the worker dies
    mid-send the try stays on record (finished_at and ok empty); a re-claim after the lease is
    the next attempt number."""
    number, channel = Delivery.objects.values_list("attempts", "channel").get(pk=delivery_id)
    DeliveryAttempt.objects.create(
        delivery_id=delivery_id, number=number, channel=channel, started_at=started
    )


@transaction.atomic
def _record(delivery: Delivery, started, finished, provider_id: str, error: str) -> str:
    values = _outcome(delivery, started, finished, provider_id, error)
    DeliveryAttempt.objects.filter(delivery=delivery, number=delivery.attempts).update(
        finished_at=finished, ok=not error, provider_id=provider_id[:200], error=error
    )
    current = Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token)
    if not current.update(**values):  # our lease ran out and another worker took over
        return "superseded"
    status = values["status"]
    action = {"sent": "delivery.sent", "failed": "delivery.failed"}.get(status, "delivery.retry")
    audit_log(
        actor=None,
        action=action,
        object_type="delivery",
        object_id=str(delivery.pk),
        object_repr=delivery.key,
        after={
            "channel": delivery.channel,
            "attempt": delivery.attempts,
            "status": status,
            "provider_id": provider_id[:200],
            "error": error[:500],
        },
    )
    return status


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Claim, send and record one delivery; returns what happened (for logs and tests)."""
    now = now or clock.now()
    if not in_window(now):
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
            next_attempt_at=next_window_start(now), enqueued_at=None
        )
        return "outside_window"
    delivery = delivery_claim(delivery_id=delivery_id, now=now)
    if delivery is None:
        return "not_claimed"
    provider_id, error = "", ""
    started = time.monotonic()
    try:
        provider_id = _send(delivery, now)
    except notify.DeliveryFailed as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:  # a bug or an outage: record it, retry later like any failure
        logger.exception("delivery %s failed unexpectedly", delivery_id)
        error = f"{type(exc).__name__}: {exc}"
    finished = now + dt.timedelta(seconds=time.monotonic() - started)
    return _record(delivery, now, finished, provider_id, error)


def enqueue_deliveries(delivery_ids: list[int]) -> int:
    """Nudge workers; a broker outage is logged, never raised (the sweep retries later)."""
    from tasks_app.reminders.tasks import deliver

    sent = 0
    for delivery_id in delivery_ids:
        try:
            deliver.apply_async(
                (delivery_id,), task_id=f"deliver-{delivery_id}-{uuid.uuid4().hex[:12]}"
            )
            sent += 1
        except Exception:
            logger.warning(
                "could not enqueue delivery %s; the sweep will retry", delivery_id, exc_info=True
            )
    return sent
