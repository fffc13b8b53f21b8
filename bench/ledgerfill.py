"""A province's year of audit-ledger events, derived from the generated rows and chained.

About ten events per task and month at scale 1.0 (≈ 1.5 million): the office loads, publishes
and assigns each plan; every month each department logs in and submits its reports (a few are
corrected before review); the office logs in and accepts each report, which records the review,
the update's review state and the task's state of record. The before/after shapes are the ones
the services write for the same actions.

Events are chained exactly as tasks_app.audit.ledger.append() chains them (seq, prev_hash, canonical
JSON, SHA-256), continuing from the current chain head, and loaded with COPY in batches, so
memory stays flat. All of them go to the default government's chain (the generated province's
events are not split by government); its AuditChainHead row is left on the last event, so `manage.py
verify_audit` passes on the generated database.
"""

import datetime as dt
import hashlib
import io
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction

from tasks_app.audit import ledger
from tasks_app.plans.tenants import default_government_id

BATCH = 20_000
COLUMNS = (*ledger.HASHED_FIELDS, "hash_version", "hash")  # every hashed field, and the hash
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
)
CORRECTED = 0.04  # share of reports corrected by their department before review
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NUMERALS = "零一二三四五六七八九十"


@dataclass(frozen=True)
class Actor:
    id: int | None
    username: str
    role: str
    department: str


@dataclass(frozen=True)
class Context:
    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


NO_CONTEXT = Context()


class Chain:
    """Appends events the way ledger.append() does, COPYing them in batches of BATCH."""

    def __init__(self, seq: int, prev_hash: str, government_id: int):
        self.seq, self.prev_hash, self.last_at = seq, prev_hash, None
        self.government_id = government_id
        self.written = 0
        self.buffer = io.StringIO()
        self.pending = 0

    def append(
        self,
        at: dt.datetime,
        actor: Actor,
        action: str,
        object_type: str,
        object_id,
        object_repr: str,
        before=None,
        after=None,
        context: Context = NO_CONTEXT,
    ) -> None:
        self.seq += 1
        stamp = at.strftime(ledger.TIMESTAMP_FORMAT)
        values = {
            "seq": self.seq,
            "prev_hash": self.prev_hash,
            "created_at": stamp,
            "actor_id": actor.id,
            "actor_username": actor.username,
            "actor_role": actor.role,
            "actor_department": actor.department,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "object_repr": object_repr[:200],
            "before": before,
            "after": after,
            "ip": context.ip,
            "user_agent": context.user_agent,
            "request_id": context.request_id,
            "government_id": self.government_id,
        }
        digest = hashlib.sha256(ledger.canonical(values).encode("utf-8")).hexdigest()
        values["hash"], values["hash_version"] = digest, 2
        self.buffer.write("\t".join(_copy_cell(values[name]) for name in COLUMNS) + "\n")
        self.prev_hash, self.last_at = digest, at
        self.pending += 1
        if self.pending >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self.buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY tasks_app_auditevent ({', '.join(COLUMNS)}) FROM STDIN", self.buffer
            )
        self.written += self.pending
        self.buffer, self.pending = io.StringIO(), 0


def _copy_cell(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, dict | list):
        value = ledger.canonical(value)
    return str(value).translate(_COPY_ESCAPES)


def _move_head(chain: Chain) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tasks_app_auditchainhead SET seq = %s, hash = %s, "
            "updated_at = coalesce(%s, updated_at) WHERE government_id = %s",
            [chain.seq, chain.prev_hash, chain.last_at, chain.government_id],
        )


_cursor_names = itertools.count(1)


def _rows(sql: str, params=()) -> Iterator[tuple]:
    """Rows of sql from a server-side cursor, so a big result never sits in memory whole."""
    with connection.connection.cursor(name=f"ledgerfill_{next(_cursor_names)}") as cursor:
        cursor.itersize = 5000
        cursor.execute(sql, params)
        yield from cursor


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _numeral(number: int) -> str:
    if number <= 10:
        return NUMERALS[number]
    tens, ones = divmod(number, 10)
    return (NUMERALS[tens] if tens > 1 else "") + "十" + (NUMERALS[ones] if ones else "")


# --- Who acts -----------------------------------------------------------------------------------


class People:
    """Every user as a ledger actor, with a fixed office IP and browser per user."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.actors: dict[int, Actor] = {}
        self.places: dict[int, tuple[str, str]] = {}
        rows = _rows(
            "SELECT u.id, u.username, u.role, coalesce(d.name, '') FROM tasks_app_user u "
            "LEFT JOIN tasks_app_department d ON d.id = u.department_id ORDER BY u.id"
        )
        for user_id, username, role, department in rows:
            self.actors[user_id] = Actor(user_id, username, role, department)
            ip = f"10.{44 + user_id % 8}.{user_id // 250 % 250}.{user_id % 250 + 2}"
            self.places[user_id] = (ip, USER_AGENTS[user_id % len(USER_AGENTS)])
        self.department_ids = {
            name: dep_id for dep_id, name in _rows("SELECT id, name FROM tasks_app_department")
        }

    def context(self, user_id: int) -> Context:
        ip, agent = self.places[user_id]
        return Context(ip, agent, f"{self.rng.getrandbits(128):032x}")


def _office(people: People) -> Actor:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM tasks_app_user WHERE role = 'supervisor' ORDER BY id LIMIT 1"
        )
        row = cursor.fetchone()
    return people.actors[row[0]] if row else Actor(None, "system", "", "")


# --- The year, in time order --------------------------------------------------------------------


def _setup(chain: Chain, people: People, office: Actor) -> None:
    """Each plan loaded, published and assigned by the office in mid-January."""
    at = dt.datetime(2025, 1, 10, 9, tzinfo=dt.UTC)
    tick = dt.timedelta(milliseconds=40)
    context = people.context(office.id) if office.id else NO_CONTEXT
    for dep_id, name, short_name in _rows(
        "SELECT id, name, short_name FROM tasks_app_department ORDER BY id"
    ):
        at += tick
        after = {"name": name, "short_name": short_name, "parent": None, "is_sample": True}
        chain.append(at, office, "department.create", "department", dep_id, name, None, after)
    for user in people.actors.values():
        if user.role != "staff":
            continue
        at += tick
        after = {
            "username": user.username,
            "role": user.role,
            "department": people.department_ids.get(user.department),
            "display_name": "",
            "is_sample": True,
            "password": "***",
        }
        chain.append(at, office, "user.create", "user", user.id, user.username, None, after)
    plans = list(
        _rows(
            "SELECT p.id, p.year, p.title, g.name, p.kind, p.report_date, p.published_at "
            "FROM tasks_app_plan p JOIN tasks_app_government g ON g.id = p.government_id "
            "ORDER BY p.id"
        )
    )
    for plan_id, year, title, government, kind, report_date, published_at in plans:
        at = max(at, dt.datetime(2025, 1, 15, 8, tzinfo=dt.UTC)) + tick
        after = {
            "year": year,
            "title": title,
            "government": government,
            "kind": kind,
            "report_date": _iso(report_date),
        }
        chain.append(at, office, "plan.create", "plan", plan_id, title, None, after, context)
        at = _load_plan(chain, office, context, plan_id, at, tick)
        before = {"status": "draft", "published_at": None}
        after = {"status": "published", "published_at": _iso(published_at)}
        chain.append(at + tick, office, "plan.publish", "plan", plan_id, title, before, after)
        at = _assign_plan(chain, office, context, plan_id, at + tick, tick)


def _load_plan(chain, office, context, plan_id, at, tick) -> dt.datetime:
    for section_id, number, title in _rows(
        "SELECT id, number, title FROM tasks_app_section WHERE plan_id = %s ORDER BY id", [plan_id]
    ):
        at += tick
        after = {"plan": plan_id, "number": number, "title": title}
        repr_ = f"({_numeral(number)}){title}"
        chain.append(at, office, "section.create", "section", section_id, repr_, None, after)
        for area_id, area_number, area_title in _rows(
            "SELECT id, number, title FROM tasks_app_keyarea WHERE section_id = %s ORDER BY id",
            [section_id],
        ):
            at += tick
            after = {"section": section_id, "number": area_number, "title": area_title}
            chain.append(at, office, "keyarea.create", "keyarea", area_id, area_title, None, after)
    for row in _rows(
        "SELECT id, code, title, source_text, kind, section_id, key_area_id, position "
        "FROM tasks_app_task WHERE plan_id = %s ORDER BY position, id",
        [plan_id],
    ):
        task_id, code, title, source_text, kind, section_id, key_area_id, position = row
        at += tick
        after = {
            "plan": plan_id,
            "code": code,
            "title": title,
            "source_text": source_text,
            "kind": kind,
            "section": section_id,
            "key_area": key_area_id,
            "position": position,
        }
        chain.append(at, office, "task.create", "task", task_id, f"{code} {title}", None, after)
    return at


def _assign_plan(chain, office, context, plan_id, at, tick) -> dt.datetime:
    for task_id, code, title, lead, start, deadline, sample in _rows(
        "SELECT id, code, title, lead_department_id, start_date, deadline, assignment_is_sample "
        "FROM tasks_app_task WHERE plan_id = %s AND lead_department_id IS NOT NULL "
        "ORDER BY position, id",
        [plan_id],
    ):
        at += tick
        before = {"lead_department": None, "start_date": None, "deadline": None}
        after = {"lead_department": lead, "start_date": _iso(start), "deadline": _iso(deadline)}
        if sample:
            before["assignment_is_sample"], after["assignment_is_sample"] = False, True
        repr_ = f"{code} {title}"
        chain.append(at, office, "task.assign", "task", task_id, repr_, before, after, context)
    return at


MONTH_SQL = """
SELECT u.id, u.task_id, t.code, u.period, u.status, u.progress, u.narrative, u.author_id,
       u.submitted_at, r.id, r.decision, r.revision, r.reason, r.reviewer_id, r.created_at
  FROM tasks_app_statusupdate u
  JOIN tasks_app_task t ON t.id = u.task_id
  LEFT JOIN tasks_app_review r ON r.update_id = u.id
 WHERE u.period = %s
 ORDER BY u.task_id, u.id, r.id
"""
DECISION_NAMES = {"accepted": "通过", "returned": "退回"}


@dataclass
class TaskState:
    """Each task's name in the ledger and its state of record (status, progress) so far."""

    reprs: dict[int, str]
    record: dict[int, tuple[str, int]] = field(default_factory=dict)


def _month(chain: Chain, people: People, rng, period: dt.date, state: TaskState) -> None:
    """One month: the departments' reports (with their logins), then the office's reviews."""
    reviews = []
    logged_in = set()
    rows = list(_rows(MONTH_SQL, [period]))
    spread = dt.timedelta(hours=8) / max(1, len(rows))
    for i, row in enumerate(rows):
        update_id, task_id, code, _, status, progress, narrative, author_id, submitted = row[:9]
        at = submitted + spread * i
        author = people.actors[author_id]
        context = people.context(author_id)
        if author_id not in logged_in:
            logged_in.add(author_id)
            after = {"username": author.username}
            chain.append(
                at, author, "auth.login", "user", author_id, author.username, None, after, context
            )
        repr_ = f"{code} {period:%Y-%m}"
        corrected = rng.random() < CORRECTED
        draft = narrative[:-1] + ",待补充数据。" if corrected else narrative
        after = {
            "task": task_id,
            "period": period.isoformat(),
            "status": status,
            "progress": progress,
            "narrative": draft,
            "author": author_id,
        }
        step = dt.timedelta(microseconds=1000)
        chain.append(
            at + step, author, "status_update.submit", "statusupdate", update_id, repr_,
            None, after, context,
        )  # fmt: skip
        if corrected:
            chain.append(
                at + 2 * step, author, "status_update.correct", "statusupdate", update_id, repr_,
                {"narrative": draft}, {"narrative": narrative}, people.context(author_id),
            )  # fmt: skip
        if row[9] is not None:
            reviews.append((update_id, task_id, repr_, status, progress, row[9:]))
    _reviews(chain, people, reviews, state)


def _reviews(chain: Chain, people: People, reviews: list, state: TaskState) -> None:
    logged_in = set()
    spread = dt.timedelta(hours=6) / max(1, len(reviews))
    step = dt.timedelta(microseconds=800)
    for i, (update_id, task_id, repr_, status, progress, review) in enumerate(reviews):
        review_id, decision, revision, reason, reviewer_id, reviewed = review
        at = reviewed + spread * i
        reviewer = people.actors[reviewer_id]
        if reviewer_id not in logged_in:
            logged_in.add(reviewer_id)
            chain.append(
                at, reviewer, "auth.login", "user", reviewer_id, reviewer.username, None,
                {"username": reviewer.username}, people.context(reviewer_id),
            )  # fmt: skip
        context = people.context(reviewer_id)
        after = {
            "update": update_id,
            "revision": revision,
            "decision": decision,
            "reason": reason,
            "reviewer": reviewer_id,
        }
        review_repr = f"{DECISION_NAMES.get(decision, decision)} #{update_id}.{revision}"
        chain.append(
            at + step, reviewer, f"status_update.{decision}", "review", review_id, review_repr,
            None, after, context,
        )  # fmt: skip
        chain.append(
            at + 2 * step, reviewer, "status_update.review_state", "statusupdate", update_id,
            repr_, {"review_state": "submitted"}, {"review_state": decision}, context,
        )  # fmt: skip
        if decision != "accepted":
            continue
        old_status, old_progress = state.record.get(task_id, ("not_started", 0))
        state.record[task_id] = (status, progress)
        olds = {"status": old_status, "progress": old_progress}
        news = {"status": status, "progress": progress}
        changed = [name for name in news if olds[name] != news[name]]
        if changed:
            chain.append(
                at + 3 * step, reviewer, "task.state_of_record", "task", task_id,
                state.reprs[task_id], {n: olds[n] for n in changed}, {n: news[n] for n in changed},
                context,
            )  # fmt: skip


def fill(*, scale: float, seed: int, counts) -> None:
    """Write the year's ledger for the rows already generated; counts.add('auditevent', n)."""
    rng = random.Random(f"ledger-{seed}")
    with transaction.atomic():
        government_id = default_government_id()
        seq, prev_hash = ledger.lock_head(government_id)
        chain = Chain(seq, prev_hash, government_id)
        people = People(rng)
        _setup(chain, people, _office(people))
        state = TaskState(
            {
                task_id: f"{code} {title}"
                for task_id, code, title in _rows("SELECT id, code, title FROM tasks_app_task")
            }
        )
        periods = [
            row[0] for row in _rows("SELECT DISTINCT period FROM tasks_app_statusupdate ORDER BY 1")
        ]
        for period in periods:
            _month(chain, people, rng, period, state)
        chain.flush()
        _move_head(chain)
    counts.add("auditevent", chain.written)
