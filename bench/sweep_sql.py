"""Benchmark 3's baseline: the whole minute's work of the reminder sweep, by hand SQL.

The job (tasks_app.reminders.sweep.reminders_sweep at a moment inside the sending window):
select what falls due (report periods not reported, deadlines, receipts, overdue milestones,
returned and waiting reports, due dates on the working calendar), decide today's reminders
from the ladder (insert-or-ignore one row per task, step, item and day), file every reminder
not yet assembled into its recipients' digests of the day (or the next working day's when
today's is sealed) with their deliveries and items, mark them assembled, chain the two audit
events (decide, assemble) into the ledger, and list the deliveries due now (marking them
enqueued). Three statements and the commit: DECIDE_SQL (due items, ladder, insert, head lock),
ASSEMBLE_SQL (audience, digests, deliveries, items, assembled), FINISH_SQL (the events, the
head, the deliveries listed); the events' hashes are computed in Python between them.

The due items are the statement the earlier benchmark checked against due_items (its CTEs are
DUE_CTES and DUE_SELECT below). Tuned with EXPLAIN ANALYZE at scale 1: the working days are
numbered once, so "the k-th working day after" is a join, not an OFFSET look-up per row (1 s
of 4.8 s); the reports of the candidate periods are hash anti-joined by the period they count
for, not gathered into an array per task; the ladder is worked out once per (plan, due day).
Params: see reminder_sweep._sweep_params().
"""

import datetime as dt
import hashlib
import json

DUE_CTES = """
  cal AS MATERIALIZED (  -- every loaded day, n = the working days up to and including it, so
                        -- "the k-th working day after d" is the working day numbered n(d) + k
    SELECT day, working, sum(working::int) OVER (ORDER BY day) AS n
      FROM (SELECT d::date AS day,
                   coalesce(c.kind = 'workday', extract(isodow FROM d) < 6 AND c.kind IS NULL)
                     AS working
              FROM generate_series(%(first)s::timestamp, %(last)s::timestamp,
                                   interval '1 day') AS d
              LEFT JOIN tasks_app_calendarday c ON c.date = d::date) days
  ),
  working AS MATERIALIZED (SELECT day, n FROM cal WHERE working),
  task AS (
    SELECT t.id, t.plan_id, t.status, t.start_date, t.deadline, t.received_at,
           t.report_frequency = 'quarterly' AS quarterly, p.report_day, p.year,
           (p.published_at AT TIME ZONE %(tz)s)::date AS published
      FROM tasks_app_task t JOIN tasks_app_plan p ON p.id = t.plan_id
     WHERE p.status = 'published' AND t.lead_department_id IS NOT NULL
  ),
  unreceived AS MATERIALIZED (
    SELECT t.id, t.plan_id, t.published, w.day AS receipt_due
      FROM task t LEFT JOIN cal c ON c.day = t.published
      LEFT JOIN working w ON w.n = c.n + %(receipt)s
     WHERE t.received_at IS NULL
  ),
  open_task AS (  -- a receipt due outside the loaded calendar skips the task's items
    SELECT * FROM task
     WHERE NOT EXISTS (SELECT 1 FROM unreceived n WHERE n.id = task.id AND receipt_due IS NULL)
  ),
  chased AS MATERIALIZED (SELECT o.* FROM open_task o WHERE o.status <> 'done'),
  reported AS MATERIALIZED (  -- each recent report as the period it counts for: a report for
                              -- any month of a quarter counts for the quarter
    SELECT DISTINCT u.task_id,
           CASE WHEN c.quarterly THEN date_trunc('quarter', u.period)::date
                ELSE u.period END AS period
      FROM tasks_app_statusupdate u JOIN chased c ON c.id = u.task_id
     WHERE u.period >= %(first_period)s
  ),
  shifted AS MATERIALIZED (  -- each candidate period's due day per frequency and report day:
                             -- the report day after the period, moved to the next working day
    SELECT p AS period, f.quarterly, r.report_day,
           (SELECT min(day) FROM working
             WHERE day >= (p + CASE WHEN f.quarterly THEN interval '3 months'
                                    ELSE interval '1 month' END)::date
                          + (r.report_day - 1)) AS due
      FROM unnest(%(periods)s::date[]) AS p
      CROSS JOIN (VALUES (true), (false)) AS f(quarterly)
      CROSS JOIN (SELECT DISTINCT report_day FROM task) AS r
  ),
  period AS (  -- the few candidate periods around today, each task's due ones among them:
               -- from its start (else its plan's publication) to its deadline, in its plan year
    SELECT o.id, o.plan_id, s.period, s.due
      FROM chased o
      JOIN shifted s ON s.quarterly = o.quarterly AND s.report_day = o.report_day
     WHERE s.period >= date_trunc(CASE WHEN o.quarterly THEN 'quarter' ELSE 'month' END,
                                  greatest(coalesce(o.start_date, o.published),
                                           make_date(o.year, 1, 1), %(since)s::date)
                                  ::timestamp)
       AND s.period <= date_trunc(CASE WHEN o.quarterly THEN 'quarter' ELSE 'month' END,
                                  least(coalesce(o.deadline, make_date(o.year, 12, 31)),
                                        make_date(o.year, 12, 31))::timestamp)
       AND (NOT o.quarterly OR extract(month FROM s.period) IN (1, 4, 7, 10))
       AND NOT EXISTS (SELECT 1 FROM reported r WHERE r.task_id = o.id AND r.period = s.period)
  ),
  waiting AS MATERIALIZED (  -- reports returned to the department or waiting for the office
    SELECT u.id, u.task_id, task.plan_id, u.revision, u.review_state = 'returned' AS returned,
           (CASE WHEN u.review_state = 'returned'
                 THEN coalesce((SELECT max(r.created_at) FROM tasks_app_review r
                                 WHERE r.update_id = u.id), u.submitted_at)
                 ELSE u.submitted_at END AT TIME ZONE %(tz)s)::date AS opened
      FROM tasks_app_statusupdate u JOIN task ON task.id = u.task_id
     WHERE u.review_state IN ('returned', 'submitted')
  )
"""

DUE_SELECT = """
SELECT id, plan_id, 'deadline', deadline, coalesce(start_date, published), false
  FROM open_task WHERE deadline IS NOT NULL AND status NOT IN ('done', 'ongoing')
UNION ALL
SELECT id, plan_id, 'receipt', receipt_due, published, false
  FROM unreceived WHERE receipt_due IS NOT NULL
UNION ALL
SELECT id, plan_id, 'report:' || to_char(period, 'YYYY-MM-DD'), due, period, false
  FROM period WHERE due <= %(horizon)s
UNION ALL
SELECT m.task_id, task.plan_id, 'milestone:' || m.id, m.due_date,
       coalesce(task.start_date, m.due_date - 366), false
  FROM tasks_app_milestone m JOIN task ON task.id = m.task_id
 WHERE task.status <> 'done' AND m.done_date IS NULL AND m.due_date <= %(horizon)s
UNION ALL
SELECT task_id, plan_id,
       CASE WHEN returned THEN 'returned:' ELSE 'review:' END || id || ':' || revision, due,
       opened, NOT returned
  FROM (SELECT w.*, x.day AS due
          FROM waiting w JOIN cal c ON c.day = w.opened
          JOIN working x
            ON x.n = c.n + CASE WHEN w.returned THEN %(resubmit)s ELSE %(review)s END
       ) AS waiting_due
"""

DECIDE_SQL = (
    "WITH "
    + DUE_CTES
    + """,
  due (task_id, plan_id, item, due, opened, office_only) AS MATERIALIZED ("""
    + DUE_SELECT
    + """),
  today AS (SELECT n FROM cal WHERE day = %(today)s),
  eff AS (  -- per (plan, due day): the working day it is due on (a rest day: the one before),
            -- by its number, and k, how many working days ago that was
    SELECT x.plan_id, x.due, c.n AS eff_n, (SELECT n FROM today) - c.n AS k
      FROM (SELECT DISTINCT plan_id, due FROM due) x JOIN cal c ON c.day = x.due
     WHERE c.n >= 1
  ),
  own_ladder AS (
    SELECT DISTINCT plan_id FROM tasks_app_reminderstep WHERE is_active AND plan_id IS NOT NULL
  ),
  fired AS (  -- the rungs firing today (or caught up) for each (plan, due day), with their day
    SELECT x.plan_id, x.due, s.id AS step_id, s.level, w.day AS remind_on
      FROM eff x
      JOIN tasks_app_reminderstep s
        ON s.is_active AND x.k >= s."offset"
       AND (s.plan_id = x.plan_id
            OR (s.plan_id IS NULL AND x.plan_id NOT IN (SELECT plan_id FROM own_ladder)))
      CROSS JOIN LATERAL (
        SELECT CASE s.repeat WHEN 'once' THEN s."offset" WHEN 'daily' THEN x.k
                    ELSE s."offset" + (x.k - s."offset") / 5 * 5 END AS occ) o
      JOIN working w ON w.n = x.eff_n + o.occ
     WHERE x.k - o.occ <= %(catch_up)s
  ),
  cand AS MATERIALIZED (
    SELECT d.task_id, f.step_id, d.item, d.due, f.remind_on, f.level
      FROM due d JOIN fired f ON f.plan_id = d.plan_id AND f.due = d.due
     WHERE f.remind_on >= d.opened
  ),
  new AS (
    INSERT INTO tasks_app_reminder (task_id, step_id, item, due_date, remind_on, level,
                                    created_at)
    SELECT task_id, step_id, item, due, remind_on, level, %(now)s FROM cand
    ON CONFLICT DO NOTHING RETURNING 1
  ),
  head AS (
    UPDATE tasks_app_auditchainhead SET seq = seq WHERE government_id = %(government)s
    RETURNING seq, hash, set_config('gaoxin.audited', 'on', true)
  )
SELECT (SELECT count(*) FROM cand), (SELECT count(*) FROM new), head.seq, head.hash,
       (SELECT min(day) FROM working WHERE day > %(today)s)
  FROM head
"""
)

ASSEMBLE_SQL = """
WITH rem AS MATERIALIZED (
    SELECT r.id, r.item LIKE 'review:%%' AS review, s.to_contact, s.to_head, s.to_leader,
           s.to_office, s.by_email, s.by_in_app, s.by_webhook, t.lead_department_id AS dept,
           t.responsible_leader_id AS leader, t.government_id AS gov
      FROM tasks_app_reminder r
      JOIN tasks_app_reminderstep s ON s.id = r.step_id
      JOIN tasks_app_task t ON t.id = r.task_id
     WHERE r.assembled_at IS NULL AND r.remind_on <= %(today)s
       FOR UPDATE OF r SKIP LOCKED
),
office AS (  -- the office of each task's own government
    SELECT id, email, government_id AS gov FROM tasks_app_user
     WHERE is_active AND role = 'supervisor'
),
contact AS (
    SELECT d.id AS dept, u.id, u.email FROM tasks_app_department d
      JOIN tasks_app_user u ON u.id = d.contact_person_id AND u.is_active
     WHERE d.id IN (SELECT dept FROM rem)
),
heads AS (
    SELECT department_id AS dept, id, email FROM tasks_app_user
     WHERE is_active AND role = 'head' AND department_id IN (SELECT dept FROM rem)
),
audience AS (  -- (reminder, user): a review goes to the office; the rest by the step's flags
    SELECT r.id AS rid, o.id AS uid, o.email, r.by_email, r.by_in_app
      FROM rem r JOIN office o ON (r.review OR r.to_office) AND o.gov = r.gov
    UNION
    SELECT r.id, c.id, c.email, r.by_email, r.by_in_app
      FROM rem r JOIN contact c ON c.dept = r.dept WHERE NOT r.review AND r.to_contact
    UNION
    SELECT r.id, h.id, h.email, r.by_email, r.by_in_app
      FROM rem r JOIN heads h ON h.dept = r.dept
     WHERE NOT r.review
       AND (r.to_head OR (r.to_contact AND NOT EXISTS (SELECT 1 FROM contact c
                                                       WHERE c.dept = r.dept)))
    UNION
    SELECT r.id, l.id, l.email, r.by_email, r.by_in_app
      FROM rem r JOIN tasks_app_user l ON l.id = r.leader AND l.is_active
     WHERE NOT r.review AND r.to_leader
),
hooks AS (
    SELECT id, department_id FROM tasks_app_departmentwebhook
     WHERE is_active AND department_id IN (SELECT dept FROM rem)
),
targets AS MATERIALIZED (
    SELECT 'u' AS kind, uid AS ident, 'email' AS channel, rid
      FROM audience WHERE by_email AND email <> ''
    UNION ALL
    SELECT 'u', uid, 'in_app', rid FROM audience WHERE by_in_app
    UNION ALL
    SELECT 'd', r.dept, 'webhook', r.id FROM rem r
     WHERE NOT r.review AND r.by_webhook AND (r.to_contact OR r.to_head)
       AND EXISTS (SELECT 1 FROM hooks h WHERE h.department_id = r.dept)
),
keys AS (SELECT DISTINCT kind, ident, channel FROM targets),
existing AS MATERIALIZED (  -- today's and the next working day's digests, locked
    SELECT d.id, d.day, d.sealed_at, k.kind, k.ident, k.channel
      FROM keys k JOIN tasks_app_digest d
        ON d.channel = k.channel AND d.day IN (%(today)s, %(next_day)s)
       AND CASE k.kind WHEN 'u' THEN d.recipient_id = k.ident ELSE d.department_id = k.ident END
       FOR UPDATE OF d
),
today_new AS (
    INSERT INTO tasks_app_digest (recipient_id, department_id, channel, day, created_at)
    SELECT CASE WHEN kind = 'u' THEN ident END, CASE WHEN kind = 'd' THEN ident END, channel,
           %(today)s, %(now)s
      FROM keys k
     WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.day = %(today)s AND e.kind = k.kind
                          AND e.ident = k.ident AND e.channel = k.channel)
    ON CONFLICT DO NOTHING
    RETURNING id, CASE WHEN recipient_id IS NOT NULL THEN 'u' ELSE 'd' END AS kind,
              coalesce(recipient_id, department_id) AS ident, channel
),
later AS (  -- today's digest is sealed (sent): the next working day's
    SELECT kind, ident, channel FROM existing
     WHERE day = %(today)s AND sealed_at IS NOT NULL
),
tomorrow_new AS (
    INSERT INTO tasks_app_digest (recipient_id, department_id, channel, day, created_at)
    SELECT CASE WHEN kind = 'u' THEN ident END, CASE WHEN kind = 'd' THEN ident END, channel,
           %(next_day)s, %(now)s
      FROM later k
     WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.day = %(next_day)s AND e.kind = k.kind
                          AND e.ident = k.ident AND e.channel = k.channel)
    ON CONFLICT DO NOTHING
    RETURNING id, CASE WHEN recipient_id IS NOT NULL THEN 'u' ELSE 'd' END AS kind,
              coalesce(recipient_id, department_id) AS ident, channel
),
chosen AS MATERIALIZED (  -- the open digest each key's items go into, and when to send it
    SELECT id, kind, ident, channel, %(now)s::timestamptz AS send_at FROM today_new
    UNION ALL
    SELECT id, kind, ident, channel, %(now)s FROM existing
     WHERE day = %(today)s AND sealed_at IS NULL
    UNION ALL
    SELECT id, kind, ident, channel, %(next_start)s FROM tomorrow_new
    UNION ALL
    SELECT e.id, e.kind, e.ident, e.channel, %(next_start)s FROM existing e
      JOIN later l ON l.kind = e.kind AND l.ident = e.ident AND l.channel = e.channel
     WHERE e.day = %(next_day)s AND e.sealed_at IS NULL
),
deliveries AS (
    INSERT INTO tasks_app_delivery (key, channel, status, digest_id, recipient_id, webhook_id,
                                    subject, body, attempts, next_attempt_at, claim_token,
                                    provider_id, error, created_at)
    SELECT 'digest:' || c.id, c.channel, 'pending', c.id, c.ident, NULL, '', '', 0, c.send_at,
           '', '', '', %(now)s
      FROM chosen c WHERE c.kind = 'u'
    UNION ALL
    SELECT 'digest:' || c.id || ':hook:' || h.id, c.channel, 'pending', c.id, NULL, h.id, '',
           '', 0, c.send_at, '', '', '', %(now)s
      FROM chosen c JOIN hooks h ON h.department_id = c.ident WHERE c.kind = 'd'
    ON CONFLICT DO NOTHING
),
items AS MATERIALIZED (
    SELECT c.id AS digest_id, t.rid, t.kind || t.ident AS recipient_key, t.channel
      FROM chosen c JOIN targets t
        ON t.kind = c.kind AND t.ident = c.ident AND t.channel = c.channel
),
filed AS (
    INSERT INTO tasks_app_digestitem (digest_id, reminder_id, recipient_key, channel)
    SELECT digest_id, rid, recipient_key, channel FROM items
    ON CONFLICT DO NOTHING
),
assembled AS (
    UPDATE tasks_app_reminder SET assembled_at = %(now)s WHERE id IN (SELECT id FROM rem)
)
SELECT (SELECT count(*) FROM rem), (SELECT count(*) FROM chosen), (SELECT count(*) FROM items)
"""

LIST_DUE = """
WITH listed AS (
    SELECT id FROM tasks_app_delivery
     WHERE ((status = 'pending' AND next_attempt_at <= %(now)s)
            OR (status = 'sending' AND claimed_until < %(now)s))
       AND (enqueued_at IS NULL OR enqueued_at < %(grace)s)
     ORDER BY next_attempt_at LIMIT 500
), mark AS (
    UPDATE tasks_app_delivery SET enqueued_at = %(now)s WHERE id IN (SELECT id FROM listed)
)
SELECT id FROM listed
"""

EVENT_COLUMNS = (
    "government_id, seq, hash_version, prev_hash, hash, created_at, actor_id, actor_username, "
    "actor_role, actor_department, action, object_type, object_id, object_repr, before, after, "
    "ip, user_agent, request_id"
)


def _event(
    government: int, seq: int, prev: str, now: dt.datetime, action: str, object_type: str, after
):
    """One system event as tasks_app.audit.ledger chains it (in the default government's chain,
    as the system's sweep writes it): (values, hash)."""
    payload = {
        "seq": seq,
        "prev_hash": prev,
        "created_at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": None,
        "actor_username": "system",
        "actor_role": "",
        "actor_department": "",
        "action": action,
        "object_type": object_type,
        "object_id": "",
        "object_repr": after["day"],
        "before": None,
        "after": after,
        "ip": "",
        "user_agent": "",
        "request_id": "",
        "government_id": government,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    values = [
        government,
        seq,
        2,
        prev,
        digest,
        now,
        None,
        "system",
        "",
        "",
        action,
        object_type,
        "",
        after["day"],
        None,
        json.dumps(after, ensure_ascii=False),
        "",
        "",
        "",
    ]
    return values, digest


def sweep(cursor, params: dict) -> dict:
    """The whole minute's work in the caller's transaction; what it did, for the checks."""
    cursor.execute(DECIDE_SQL, params)
    candidates, inserted, seq, prev, next_day = cursor.fetchone()
    start = dt.time(*(int(part) for part in params["window_start"].split(":")))
    next_start = dt.datetime.combine(next_day, start, tzinfo=params["zone"])
    cursor.execute(ASSEMBLE_SQL, dict(params, next_day=next_day, next_start=next_start))
    reminders, digests, items = cursor.fetchone()
    now, day = params["now"], str(params["today"])
    events = []
    if candidates:
        values, prev = _event(
            params["government"],
            seq + 1,
            prev,
            now,
            "reminders.decide",
            "reminder",
            {"day": day, "candidates": candidates},
        )
        events.append(values)
    if reminders:
        after = {"day": day, "reminders": reminders, "digests": digests, "items": items}
        values, prev = _event(
            params["government"],
            seq + 1 + len(events),
            prev,
            now,
            "reminders.assemble",
            "digest",
            after,
        )
        events.append(values)
    listed_sql, listed_params = LIST_DUE, {"now": now, "grace": params["grace"]}
    if events:
        rows = ", ".join("(" + ", ".join(["%s"] * 15) + ", %s::jsonb, %s, %s, %s)" for _v in events)
        listed_sql = (
            f"WITH event AS (INSERT INTO tasks_app_auditevent ({EVENT_COLUMNS}) VALUES {rows}), "
            "head AS (UPDATE tasks_app_auditchainhead SET seq = %s, hash = %s, updated_at = %s "
            "WHERE government_id = %s), " + LIST_DUE.strip().removeprefix("WITH ")
        )
        flat = [value for event in events for value in event]
        cursor.execute(
            listed_sql.replace("%(now)s", "%s").replace("%(grace)s", "%s"),
            _positional(flat, seq + len(events), prev, now, params["grace"], params["government"]),
        )
    else:
        cursor.execute(listed_sql, listed_params)
    listed = [row[0] for row in cursor.fetchall()]
    return {
        "candidates": candidates,
        "inserted": inserted,
        "reminders": reminders,
        "digests": digests,
        "items": items,
        "listed": listed,
    }


def _positional(flat, seq, digest, now, grace, government) -> list:
    """The parameters of the events + head + LIST_DUE statement, in order of appearance."""
    # LIST_DUE uses now, now, grace in its SELECT, then now in its UPDATE.
    return [*flat, seq, digest, now, government, now, now, grace, now]
