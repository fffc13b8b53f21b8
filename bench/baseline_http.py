"""Benchmark 1's baseline: the fastest plain Django view that does the whole submission job.

The job, as POST /api/v1/tasks/<id>/updates/ does it: authenticate the API token, check the
task is led by the caller's department (404 otherwise), validate the body (period YYYY-MM not
after this month, status one of the statuses, progress 0-100, "done" only at 100, narrative
1-5,000 characters without HTML), then in one transaction insert the report (409 on a second
report for the period), append its ledger event to the hash chain (head locked, SHA-256 of the
canonical payload, head moved, the transaction marked audited) and write the office's in-app
notification (the office of the task's own government; an email delivery for each office user
with an address), and answer 201 with the report; the caller's row-level security settings are
set (in the look-up) and put back after the answer (by the middleware), as for the system. No
DRF, no ORM: hand SQL, five round trips (look-up + settings, insert + head lock, event + head +
notifications, commit, settings put back).

The answer is the system's: the same JSON (every field of StatusUpdateSerializer, times in the
site's zone) and the same ETag; the rows are the system's too (the public narrative, the
notification's ref). bench.http_submit checks both before it times anything.
"""

import datetime as dt
import hashlib
import json
import re
import uuid

from django.db import connection, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from tasks_app.common import rls

STATUSES = {"not_started", "on_schedule", "behind", "done", "ongoing"}
STATUS_LABELS = {  # TaskStatus's labels
    "not_started": "未启动",
    "on_schedule": "序时推进",
    "behind": "滞后",
    "done": "已完成",
    "ongoing": "持续推进",
}
DEPARTMENT_ROLES = ("staff", "head")
PERIOD = re.compile(r"\d{4}-\d{2}")
HTML = re.compile(r"<\s*[a-zA-Z!/?]")
NARRATIVE_MAX = 5000
PUBLIC_NARRATIVE_MAX = 2000
EXPLANATION_MAX = 2000

# The look-up also sets the caller's row-level security settings (its own government, read
# and write), as the system's token authentication does: the job includes them.
WHO = """
SELECT u.id, u.username, u.display_name, u.role, u.department_id, coalesce(d.name, ''),
       t.code, t.title, t.lead_department_id, t.light, t.government_id,
       set_config('gaoxin.read_governments', coalesce(u.government_id::text, ''), false),
       set_config('gaoxin.write_government', coalesce(u.government_id::text, ''), false)
  FROM authtoken_token k JOIN tasks_app_user u ON u.id = k.user_id AND u.is_active
  LEFT JOIN tasks_app_department d ON d.id = u.department_id
  LEFT JOIN tasks_app_task t ON t.id = %s
 WHERE k.key = %s
"""

INSERT_AND_LOCK = """
WITH report AS (
    INSERT INTO tasks_app_statusupdate (task_id, period, status, progress, narrative,
                                        public_narrative, explanation, author_id,
                                        review_state, revision, version, created_at,
                                        submitted_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'submitted', 1, 1, %s, %s)
    ON CONFLICT DO NOTHING RETURNING id
), head AS (
    UPDATE tasks_app_auditchainhead SET seq = seq
     WHERE government_id = %s AND EXISTS (SELECT 1 FROM report)
    RETURNING seq, hash, set_config('gaoxin.audited', 'on', true)
)
SELECT report.id, head.seq, head.hash FROM report, head
"""

EVENT_HEAD_NOTIFY = """
WITH event AS (
    INSERT INTO tasks_app_auditevent (government_id, seq, hash_version, prev_hash, hash,
        created_at, actor_id, actor_username, actor_role, actor_department, action, object_type,
        object_id, object_repr, before, after, ip, user_agent, request_id)
    VALUES (%(government)s, %(seq)s, 2, %(prev)s, %(hash)s, %(at)s, %(actor)s, %(username)s,
            %(role)s, %(dept)s,
            'status_update.submit', 'statusupdate', %(object_id)s, %(repr)s, NULL,
            %(after)s::jsonb, %(ip)s, %(ua)s, %(rid)s)
), head AS (
    UPDATE tasks_app_auditchainhead SET seq = %(seq)s, hash = %(hash)s, updated_at = %(at)s
     WHERE government_id = %(government)s
), office AS (
    SELECT id, email FROM tasks_app_user
     WHERE is_active AND role = 'supervisor' AND government_id = %(government)s
), note AS (
    INSERT INTO tasks_app_notification (recipient_id, kind, title, body, task_id, ref,
                                        created_at)
    SELECT id, 'review', %(title)s, %(body)s, %(task)s, %(ref)s, %(at)s FROM office
), mail AS (
    INSERT INTO tasks_app_delivery (key, channel, recipient_id, task_id, subject, body, status,
                                    attempts, next_attempt_at, enqueued_at, created_at,
                                    claim_token, provider_id, error)
    SELECT %(key)s || ':email:' || id, 'email', id, %(task)s, %(title)s, %(body)s, 'pending', 0,
           %(at)s, %(at)s, %(at)s, '', '', ''
      FROM office WHERE email <> ''
    ON CONFLICT DO NOTHING
)
SELECT 1
"""


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    body = {"code": code, "message": message}
    if field:
        body["errors"] = {field: [{"code": code, "message": message}]}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _validated(raw: bytes):
    """(period, status, progress, narrative) or an error response."""
    try:
        body = json.loads(raw)
    except ValueError:
        return _error(400, "parse_error", "请求体不是有效的 JSON。")
    if not isinstance(body, dict):
        return _error(400, "invalid", "请求体应为对象。")
    period, status = body.get("period"), body.get("status")
    progress, narrative = body.get("progress"), body.get("narrative")
    if not isinstance(period, str) or not PERIOD.fullmatch(period):
        return _error(400, "invalid", "报送期格式应为 YYYY-MM,例如 2020-03。", "period")
    try:
        period = dt.date(int(period[:4]), int(period[5:]), 1)
    except ValueError:
        return _error(400, "invalid", "报送期格式应为 YYYY-MM,例如 2020-03。", "period")
    if period > timezone.localdate().replace(day=1):
        return _error(400, "period_in_future", "报送期不能晚于本月。", "period")
    if status not in STATUSES:
        return _error(400, "invalid_choice", "状态无效。", "status")
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        return _error(400, "invalid", "进度应为0到100的整数。", "progress")
    if status == "done" and progress != 100:
        return _error(400, "done_needs_100", "状态为“已完成”时进度须为100%。", "progress")
    if not isinstance(narrative, str) or not narrative.strip() or len(narrative) > NARRATIVE_MAX:
        return _error(400, "invalid", "进展情况不能为空,且不超过5000字。", "narrative")
    if HTML.search(narrative):
        return _error(400, "html_not_allowed", "内容不能包含 HTML 标签或脚本。", "narrative")
    explanation = body.get("explanation", "")
    if not isinstance(explanation, str) or len(explanation) > EXPLANATION_MAX:
        return _error(400, "invalid", "情况说明过长。", "explanation")
    if HTML.search(explanation):
        return _error(400, "html_not_allowed", "内容不能包含 HTML 标签或脚本。", "explanation")
    public = body.get("public_narrative", "")
    if not isinstance(public, str) or len(public) > PUBLIC_NARRATIVE_MAX:
        return _error(400, "invalid", "公开进展过长。", "public_narrative")
    if HTML.search(public):
        return _error(400, "html_not_allowed", "内容不能包含 HTML 标签或脚本。", "public_narrative")
    if body.get("indicator_values"):  # the benchmark's reports carry none
        return _error(400, "invalid", "此基线不接受指标值。", "indicator_values")
    return period, status, progress, narrative.strip(), public.strip(), explanation.strip()


def _hash(payload: dict) -> str:
    """tasks_app.audit.ledger's hash: SHA-256 of compact, key-sorted, non-ASCII-as-is JSON."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@csrf_exempt
def submit(request, pk: int):
    """Authenticate, check scope, validate, then report + chained ledger event + the office's
    notification in one transaction, by hand SQL: the floor for this job on this stack."""
    if request.method != "POST":
        return _error(405, "method_not_allowed", "不支持该请求方法。")
    scheme, _sep, key = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Token" or not key:
        return _error(401, "not_authenticated", "未提供身份认证信息。")
    with connection.cursor() as cursor:
        cursor.execute(WHO, [pk, key])
        who = cursor.fetchone()
    if who is None:
        return _error(401, "authentication_failed", "认证令牌无效。")
    (user_id, username, display_name, role, department_id, department, code, title, lead, light,
     government, read, write) = who  # fmt: skip
    rls.record(connection, read, write)  # the middleware puts "nothing" back after the answer
    if role not in DEPARTMENT_ROLES or department_id is None or lead != department_id:
        return _error(404, "not_found", "未找到。")
    checked = _validated(request.body)
    if isinstance(checked, JsonResponse):
        return checked
    period, status, progress, narrative, public, explanation = checked
    if light == "red" and not explanation:
        return _error(
            400,
            "explanation_required",
            "该任务为红灯,报送前须填写情况说明(滞后原因和下一步措施)。",
            "explanation",
        )
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            INSERT_AND_LOCK,
            [
                pk,
                period,
                status,
                progress,
                narrative,
                public,
                explanation,
                user_id,
                now,
                now,
                government,
            ],  # fmt: skip
        )
        row = cursor.fetchone()
        if row is None:
            return _error(409, "duplicate_period", "该任务本期已报送,请修改已有报送。")
        update_id, seq, prev = row
        after = {
            "task": pk,
            "period": period.isoformat(),
            "status": status,
            "progress": progress,
            "narrative": narrative,
            "public_narrative": public,
            "explanation": explanation,
            "author": user_id,
            "review_state": "submitted",
        }
        event = {
            "seq": seq + 1,
            "prev_hash": prev,
            "created_at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor_id": user_id,
            "actor_username": username[:150],
            "actor_role": role,
            "actor_department": department[:100],
            "action": "status_update.submit",
            "object_type": "statusupdate",
            "object_id": str(update_id),
            "object_repr": f"{code} {period:%Y-%m}"[:200],
            "before": None,
            "after": after,
            "ip": request.META.get("REMOTE_ADDR", "")[:45],
            "user_agent": request.headers.get("User-Agent", "")[:300],
            "request_id": uuid.uuid4().hex,
            "government_id": government,
        }
        label = f"{code} 报送了{period:%Y-%m}进展,待审核"
        cursor.execute(
            EVENT_HEAD_NOTIFY,
            {
                "government": government,
                "seq": event["seq"],
                "prev": prev,
                "hash": _hash(event),
                "at": now,
                "actor": user_id,
                "username": event["actor_username"],
                "role": role,
                "dept": event["actor_department"],
                "object_id": event["object_id"],
                "repr": event["object_repr"],
                "after": json.dumps(after, ensure_ascii=False),
                "ip": event["ip"],
                "ua": event["user_agent"],
                "rid": event["request_id"],
                "title": label[:200],
                "body": f"{code} {title}\n{STATUS_LABELS[status]} · {progress}%",
                "task": pk,
                "ref": f"update:{update_id}",
                "key": f"update:{update_id}:1",
            },
        )
    at = timezone.localtime(now).isoformat()
    return JsonResponse(
        {  # StatusUpdateSerializer's fields, in its order
            "id": update_id,
            "task": pk,
            "period": f"{period:%Y-%m}",
            "status": status,
            "status_label": STATUS_LABELS[status],
            "progress": progress,
            "narrative": narrative,
            "public_narrative": public,
            "explanation": explanation,
            "indicator_values": [],
            "author": {"id": user_id, "username": username, "name": display_name or username},
            "review_state": "submitted",
            "revision": 1,
            "version": 1,
            "created_at": at,
            "submitted_at": at,
            "signoffs": [],
            "reviews": [],
            "evidence": [],
        },
        status=201,
        headers={"ETag": f'"statusupdate-{update_id}-v1"'},
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )
