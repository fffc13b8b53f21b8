"""Benchmark 2's baselines: the fastest hand SQL for exactly what each stats endpoint returns.

Both statements compute each task's state as of a date the way tasks_app.stats.snapshot does
(the latest accepted review before the end of the day; deadlines at their value before a
later approved change; expected progress linear from start to deadline, or piecewise through
the task's milestones; lights with red margin 20 and "due soon" within 3 working days on the
working calendar), then tally it:

- PROVINCE_SQL: what GET /api/v1/stats/plans/ returns, every published plan's totals (total,
  done, completion rate, overdue, by status, by light) with its title, government and year,
  red-heavy plans first, in one statement;
- PLAN_SQL: what GET /api/v1/stats/plans/<id>/ returns for one plan: totals, by section (every
  section, with number and title), by key area (every key area), by lead department (with its
  name) and livelihood, in one statement.

Tuning (EXPLAIN ANALYZE at scale 1; the benchmark records each run's plan): "due soon" is one
cut-off date (the 4th working day after the date) instead of counting working days per task;
deadline changes are hash-joined once; for the province the latest accepted review per task
is one hash aggregate over reviews hash-joined to their updates, and milestones are
aggregated once and hash-joined; for one plan both are looked up per task, through the
updates' task index, the reviews' update index and the milestones' task index (re-tuned at
scale 0.5 in November 2026: 18.2 -> 13.2 ms a plan, the numbers unchanged); milestone
arithmetic runs only for tasks that have milestones. Params: as_of (date), end (the first
instant after as_of, Asia/Shanghai), plan.
"""

# Each task's state as of the date; {scope} restricts the tasks (one plan, or all published).
_STATE = """
WITH scope AS (
    SELECT t.id, t.plan_id, t.section_id, t.key_area_id, t.lead_department_id, t.start_date,
           coalesce(cr.old_deadline, t.deadline) AS deadline,
           (p.kind = 'livelihood' OR t.kind = 'livelihood') AS livelihood
      FROM tasks_app_task t JOIN tasks_app_plan p ON p.id = t.plan_id
      LEFT JOIN (SELECT DISTINCT ON (c.task_id) c.task_id, c.old_value::date AS old_deadline
                   FROM tasks_app_changerequest c
                  WHERE c.field = 'deadline' AND c.state = 'approved'
                    AND c.decided_at >= %(end)s
                  ORDER BY c.task_id, c.decided_at, c.id) cr ON cr.task_id = t.id
     WHERE {scope}
),
{hashed}soon AS MATERIALIZED (  -- a deadline before this day is due within 3 working days of as_of
    SELECT d::date AS cutoff
      FROM generate_series(%(as_of)s::date + 1, %(as_of)s::date + 60, interval '1 day') AS d
      LEFT JOIN tasks_app_calendarday c ON c.date = d::date
     WHERE coalesce(c.kind = 'workday', c.kind IS NULL AND extract(isodow FROM d) < 6)
     ORDER BY d OFFSET 3 LIMIT 1
),
state AS MATERIALIZED (  -- once per task: the expressions below read it several times
    SELECT s.*, coalesce((%(statuses)s::text[])[l.top[4]], 'not_started') AS status,
           coalesce(l.top[3]::int, 0) AS progress,
           CASE
             WHEN s.deadline IS NULL THEN 0
             WHEN m.dues IS NULL THEN
               CASE WHEN %(as_of)s >= s.deadline THEN 100
                    WHEN s.start_date IS NULL OR s.start_date >= s.deadline
                         OR %(as_of)s < s.start_date THEN 0
                    -- linear from start to deadline, rounded half up, in integers
                    ELSE (200 * (%(as_of)s - s.start_date) + (s.deadline - s.start_date))
                         / (2 * (s.deadline - s.start_date))
               END
             ELSE (  -- through the milestones: point i of n is worth 100 i / n on its day
               WITH e AS (SELECT least(m.dues[cardinality(m.dues)], s.deadline) AS day,
                                 cardinality(m.dues) AS n),
               p AS (
                 SELECT u.d, u.k::int AS k FROM unnest(m.dues) WITH ORDINALITY AS u(d, k), e
                  WHERE u.d < e.day
                 UNION ALL SELECT e.day, e.n FROM e
                 UNION ALL SELECT s.start_date, 0 FROM e
                  WHERE s.start_date < least(m.dues[1], e.day)
               ),
               lo AS (SELECT d, k FROM p WHERE d <= %(as_of)s ORDER BY d DESC, k DESC LIMIT 1),
               hi AS (SELECT d, k FROM p WHERE d > %(as_of)s ORDER BY d, k LIMIT 1)
               SELECT CASE
                        WHEN NOT EXISTS (SELECT 1 FROM lo) THEN 0
                        WHEN NOT EXISTS (SELECT 1 FROM hi) THEN 100
                        ELSE (SELECT (200 * lo.k * (hi.d - lo.d)
                                      + 200 * (hi.k - lo.k) * (%(as_of)s - lo.d)
                                      + e.n * (hi.d - lo.d)) / (2 * e.n * (hi.d - lo.d))
                                FROM lo, hi, e)
                      END)
           END AS expected
      FROM scope s {joins}
),
lit AS (
    SELECT st.*, tracked AND %(as_of)s > st.deadline AS overdue,
           CASE
             WHEN st.deadline IS NULL THEN
                  CASE WHEN finished OR st.status <> 'behind' THEN 'green' ELSE 'yellow' END
             WHEN finished THEN 'green'
             WHEN (tracked AND %(as_of)s > st.deadline) OR st.expected - st.progress > 20
                  THEN 'red'
             WHEN st.expected - st.progress > 0
                  OR (tracked AND st.deadline < (SELECT cutoff FROM soon)) THEN 'yellow'
             ELSE 'green'
           END AS light
      FROM state st,
           LATERAL (SELECT st.status = 'done' AND st.progress >= 100 AS finished) f,
           LATERAL (SELECT st.deadline IS NOT NULL AND NOT f.finished
                           AND st.status <> 'ongoing' AS tracked) k
)
"""

# The many plans' way: each task's latest accepted state and milestones in one pass over the
# reviews and the milestones of the tasks in scope, hash-joined to the tasks.
_HASHED = """latest AS (  -- the update whose accepted review is the latest before the end of as_of:
             -- the greatest (created_at, id, progress, status) per task, one hash aggregate
    SELECT u.task_id, max(ARRAY[extract(epoch FROM r.created_at), r.id, u.progress,
                                array_position(%(statuses)s::text[], u.status::text)]) AS top
      FROM tasks_app_review r JOIN tasks_app_statusupdate u ON u.id = r.update_id
      JOIN tasks_app_task t ON t.id = u.task_id JOIN tasks_app_plan p ON p.id = t.plan_id
     WHERE r.decision = 'accepted' AND r.created_at < %(end)s AND {scope}
     GROUP BY u.task_id
),
dues AS (
    SELECT m.task_id, array_agg(m.due_date ORDER BY m.due_date) AS dues
      FROM tasks_app_milestone m
      JOIN tasks_app_task t ON t.id = m.task_id JOIN tasks_app_plan p ON p.id = t.plan_id
     WHERE {scope}
     GROUP BY m.task_id
),
"""
_HASHED_JOINS = "LEFT JOIN latest l ON l.task_id = s.id LEFT JOIN dues m ON m.task_id = s.id"

# One plan's way: looked up per task through the indexes on its updates, their reviews and its
# milestones (a third faster than the pass for a plan of 200 tasks, at scale 0.5).
_LOOKED_UP_JOINS = """LEFT JOIN LATERAL (  -- the latest accepted review before the end of as_of
        SELECT ARRAY[0, 0, u.progress,  -- shaped as latest.top: [3] progress, [4] status
                     array_position(%(statuses)s::text[], u.status::text)] AS top
          FROM tasks_app_statusupdate u JOIN tasks_app_review r ON r.update_id = u.id
         WHERE u.task_id = s.id AND r.decision = 'accepted' AND r.created_at < %(end)s
         ORDER BY r.created_at DESC, r.id DESC LIMIT 1) l ON true
      LEFT JOIN LATERAL (SELECT array_agg(x.due_date ORDER BY x.due_date) AS dues
                           FROM tasks_app_milestone x WHERE x.task_id = s.id) m ON true"""

_TALLY = """
       count(*) AS total,
       count(*) FILTER (WHERE status = 'done') AS done,
       round(count(*) FILTER (WHERE status = 'done')::numeric / count(*), 4) AS completion_rate,
       count(*) FILTER (WHERE overdue) AS overdue,
       count(*) FILTER (WHERE status = 'not_started') AS not_started,
       count(*) FILTER (WHERE status = 'on_schedule') AS on_schedule,
       count(*) FILTER (WHERE status = 'behind') AS behind,
       count(*) FILTER (WHERE status = 'done') AS done_status,
       count(*) FILTER (WHERE status = 'ongoing') AS ongoing,
       count(*) FILTER (WHERE light = 'green') AS green,
       count(*) FILTER (WHERE light = 'yellow') AS yellow,
       count(*) FILTER (WHERE light = 'red') AS red
"""

# Rows: plan id, 'totals', NULL, NULL, the tally..., title, government, year; exceptions first.
PROVINCE_SQL = (
    _STATE.format(
        scope="p.status = 'published'",
        hashed=_HASHED.format(scope="p.status = 'published'"),
        joins=_HASHED_JOINS,
    )
    + f"""
SELECT g.*, p.title, gv.name AS government, p.year
  FROM (SELECT plan_id, 'totals', NULL::bigint, NULL::boolean, {_TALLY.strip()}
          FROM lit GROUP BY plan_id) g
  JOIN tasks_app_plan p ON p.id = g.plan_id
  JOIN tasks_app_government gv ON gv.id = p.government_id
 ORDER BY g.red::numeric / g.total DESC, g.done::numeric / g.total, g.overdue DESC,
          gv.name, p.title, g.plan_id
"""
)

# Rows: plan id, grouping, key, livelihood, the tally..., then the group's label: a section's
# number and title, a key area's section and title, a department's name. Every section and key
# area of the plan is listed, with zeros when it holds no task.
PLAN_SQL = (
    _STATE.format(scope="t.plan_id = %(plan)s", hashed="", joins=_LOOKED_UP_JOINS)
    + f"""
, grouped AS (
SELECT plan_id,
       CASE WHEN GROUPING(section_id) = 0 THEN 'section'
            WHEN GROUPING(key_area_id) = 0 THEN 'key_area'
            WHEN GROUPING(lead_department_id) = 0 THEN 'department'
            WHEN GROUPING(livelihood) = 0 THEN 'livelihood'
            ELSE 'totals' END AS grouping,
       coalesce(section_id, key_area_id, lead_department_id) AS key,
       livelihood, {_TALLY.strip()}
  FROM lit
 GROUP BY GROUPING SETS ((plan_id), (plan_id, section_id), (plan_id, key_area_id),
                         (plan_id, lead_department_id), (plan_id, livelihood))
)
SELECT g.*, NULL::int AS number, coalesce(d.name, '') AS label
  FROM grouped g LEFT JOIN tasks_app_department d
    ON g.grouping = 'department' AND d.id = g.key
 WHERE g.grouping NOT IN ('section', 'key_area')
UNION ALL
SELECT %(plan)s, 'section', s.id, NULL, coalesce(g.total, 0), coalesce(g.done, 0),
       coalesce(g.completion_rate, 0), coalesce(g.overdue, 0), coalesce(g.not_started, 0),
       coalesce(g.on_schedule, 0), coalesce(g.behind, 0), coalesce(g.done_status, 0),
       coalesce(g.ongoing, 0), coalesce(g.green, 0), coalesce(g.yellow, 0), coalesce(g.red, 0),
       s.number, s.title
  FROM tasks_app_section s
  LEFT JOIN grouped g ON g.grouping = 'section' AND g.key = s.id
 WHERE s.plan_id = %(plan)s
UNION ALL
SELECT %(plan)s, 'key_area', k.id, NULL, coalesce(g.total, 0), coalesce(g.done, 0),
       coalesce(g.completion_rate, 0), coalesce(g.overdue, 0), coalesce(g.not_started, 0),
       coalesce(g.on_schedule, 0), coalesce(g.behind, 0), coalesce(g.done_status, 0),
       coalesce(g.ongoing, 0), coalesce(g.green, 0), coalesce(g.yellow, 0), coalesce(g.red, 0),
       k.section_id, k.title
  FROM tasks_app_keyarea k JOIN tasks_app_section s ON s.id = k.section_id
  LEFT JOIN grouped g ON g.grouping = 'key_area' AND g.key = k.id
 WHERE s.plan_id = %(plan)s
"""
)
