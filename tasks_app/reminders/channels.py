"""The channels a message goes out by: email, in-app notifications, department group robots.

Each sender takes a rendered message and returns the provider's message id, or raises
DeliveryFailed with the reason; it never touches the Delivery row (tasks_app.reminders records the
attempt). Webhooks follow the group-robot formats of WeCom (企业微信) and DingTalk (钉钉):

- WeCom: POST {"msgtype": "markdown", "markdown": {"content": ...}} to the robot's URL
  (it carries the key); success is {"errcode": 0, "errmsg": "ok"}.
- DingTalk: POST {"msgtype": "markdown", "markdown": {"title": ..., "text": ...}} to the URL
  (it carries the access_token); with 加签 the URL also gets timestamp (ms) and
  sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))).
"""

import base64
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage

from tasks_app.models import DepartmentWebhook, Notification, User

logger = logging.getLogger("gaoxin.notify")

WEBHOOK_TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 64 * 1024


class DeliveryFailed(Exception):
    pass


@dataclass(frozen=True)
class Message:
    subject: str
    body: str  # plain text, one line per item; rendered as markdown by the robots


# --- Email ------------------------------------------------------------------------------------


def send_email(*, recipient: User, message: Message, reference: str) -> str:
    if not recipient.email:
        raise DeliveryFailed(f"user {recipient.username} has no email address")
    # Stable per delivery (not make_msgid's random one): a retry after a worker died mid-send
    # repeats the same Message-ID, which mail systems use to drop the copy.
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "gaoxin"
    message_id = f"<{reference}@{domain}>"
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={"Message-ID": message_id},
    )
    try:
        sent = email.send(fail_silently=False)
    except Exception as exc:  # SMTP and socket errors alike: recorded, retried
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not sent:
        raise DeliveryFailed("the email backend sent nothing")
    return message_id


# --- In-app -----------------------------------------------------------------------------------


def send_in_app(*, recipient: User, message: Message, digest_id: int) -> str:
    """The digest's notification; a second call for the same digest finds the first."""
    notification, _created = Notification.objects.get_or_create(
        digest_id=digest_id,
        defaults={
            "recipient": recipient,
            "kind": "digest",
            "title": message.subject[:200],
            "body": message.body,
        },
    )
    return f"notification:{notification.pk}"


# --- Group robots -----------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    if not secret:
        return url
    query = urllib.parse.urlencode(
        {"timestamp": timestamp_ms, "sign": dingtalk_sign(secret, timestamp_ms)}
    )
    return f"{url}{'&' if '?' in url else '?'}{query}"


def webhook_payload(kind: str, message: Message, reference: str = "") -> dict:
    text = f"### {message.subject}\n\n{message.body}"
    if reference:  # the same on every try: a repeat after a failure shows as one
        text += f"\n\n> 消息编号 {reference}"
    if kind == DepartmentWebhook.Kind.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


def _post_json(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            raw = response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    try:
        return json.loads(raw or b"{}")
    except ValueError as exc:
        raise DeliveryFailed("the robot answered with something that is not JSON") from exc


def send_webhook(
    *, hook: DepartmentWebhook, message: Message, timestamp_ms: int, reference: str = ""
) -> str:
    url = hook.url
    if hook.kind == DepartmentWebhook.Kind.DINGTALK:
        url = dingtalk_url(hook.url, hook.secret, timestamp_ms)
    answer = _post_json(url, webhook_payload(hook.kind, message, reference))
    if answer.get("errcode", 0) != 0:
        raise DeliveryFailed(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")
    # Neither robot returns a message id; keep what the answer identifies, if anything.
    return str(answer.get("msgid") or answer.get("request_id") or answer.get("errmsg") or "ok")
