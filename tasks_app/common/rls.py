"""Row-level security on PostgreSQL: the database's half of tenant isolation.

Selectors scope every read by the caller's government (common.permissions). On PostgreSQL the
tenant tables also carry row-level security policies, so a query that forgets the filter returns
no other government's rows instead of all of them. SQLite (the demo) has no such policies and
relies on the selectors alone.

The protocol. Two session settings name what the current work may touch:

    gaoxin.read_governments   '' (or unset): nothing;  '*': every government;  '3,7': those ids
    gaoxin.write_government   '' (or unset): nothing;  '*': every government;  '3': that one

SQL functions gaoxin_read_governments() / gaoxin_write_governments() turn them into bigint[]
for the policies. A table with a government_id column is read where government_id is in the
read set and written (INSERT, UPDATE, DELETE) where it is in the write set. A table without the
column but keyed to a tenant table (a milestone to its task, an evidence file to its report) is
visible and writable where its parent row is visible: an EXISTS on the parent, which is itself
filtered (TENANT_CHILDREN). The application role (gaoxin_app) owns no table, so plain ENABLE
binds it; the owner (migrations) and superusers are not bound.

Who sets them:
- a web request: TenantMiddleware (after AuthenticationMiddleware) reads the user's readable
  governments and own government; an API token is read in the view, so TokenAuthentication
  sets them again once it knows the user. Both are reset when the response is done (the
  connection outlives the request, CONN_MAX_AGE).
- a web process outside any request: nothing. gaoxin/wsgi.py marks the process as a web
  process (GAOXIN_RLS_DEFAULT=none) before any connection opens; a new connection starts unset.
- everything else (Celery worker and beat, management commands, the shell): every government
  ('*'), set when the connection opens. A job acting for one government narrows it with
  tenant_context(read_ids, write_id).
- the anonymous public pages (/public/): public_context(), which reads the governments that have
  published a snapshot and writes nothing.

Exempt (TENANT_EXEMPT): the user table (authentication reads users before any government is
known; users are scoped by the selectors only), the government table, public snapshots (read
anonymously by design) and the audit ledger (its chain functions run under every context).
"""

import contextlib
import os

from django.db import DatabaseError, connection

READ = "gaoxin.read_governments"
WRITE = "gaoxin.write_government"
EVERY = "*"
NOTHING = ""

# Tables a tenant table may name without being under row-level security, and why.
TENANT_EXEMPT = {
    "tasks_app_user": "authentication reads users before a government is known; selectors scope",
    "tasks_app_user_groups": "Django's auth tables",
    "tasks_app_user_user_permissions": "Django's auth tables",
    "tasks_app_government": "names of governments; gaoxin_read_governments('*') reads it",
    "tasks_app_publicsnapshot": "published to anonymous readers by design",
    "tasks_app_auditevent": "the ledger: its chain functions run in every context",
    "tasks_app_auditchainhead": "the ledger",
    "tasks_app_auditcheckpoint": "the ledger",
}

# A table without government_id -> the ways to its tenant: (its column, the parent table).
# A row is visible where any of its non-null parents is (parents are themselves filtered; the
# user table is not, so through it the user's government is compared instead). A parent of None
# means a row without that parent is shared by every government.
TENANT_CHILDREN: dict[str, tuple[tuple[str, str | None], ...]] = {
    "tasks_app_section": (("plan_id", "tasks_app_plan"),),
    "tasks_app_keyarea": (("section_id", "tasks_app_section"),),
    "tasks_app_indicator": (("plan_id", "tasks_app_plan"),),
    "tasks_app_rankingrule": (("plan_id", "tasks_app_plan"),),
    "tasks_app_bulletin": (("plan_id", "tasks_app_plan"),),
    "tasks_app_bulletinseries": (("plan_id", "tasks_app_plan"),),
    "tasks_app_stocktakepack": (("plan_id", "tasks_app_plan"),),
    "tasks_app_importdraft": (("plan_id", "tasks_app_plan"), ("created_by_id", "tasks_app_user")),
    # The default ladder (no plan) is every government's, until steps carry a government.
    "tasks_app_reminderstep": (("plan_id", "tasks_app_plan"), ("plan_id", None)),
    "tasks_app_task_co_departments": (("task_id", "tasks_app_task"),),
    "tasks_app_milestone": (("task_id", "tasks_app_task"),),
    "tasks_app_statusupdate": (("task_id", "tasks_app_task"),),
    "tasks_app_contribution": (("task_id", "tasks_app_task"),),
    "tasks_app_instruction": (("task_id", "tasks_app_task"),),
    "tasks_app_changerequest": (("task_id", "tasks_app_task"),),
    "tasks_app_confidencerating": (("task_id", "tasks_app_task"),),
    "tasks_app_reminder": (("task_id", "tasks_app_task"),),
    "tasks_app_stocktakedecision": (("task_id", "tasks_app_task"),),
    "tasks_app_stocktakedecision_concerns": (("task_id", "tasks_app_task"),),
    "tasks_app_manualchase": (("department_id", "tasks_app_department"),),
    "tasks_app_departmentalias": (("department_id", "tasks_app_department"),),
    "tasks_app_departmentwebhook": (("department_id", "tasks_app_department"),),
    "tasks_app_instructionfeedback": (("instruction_id", "tasks_app_instruction"),),
    "tasks_app_evidence": (("update_id", "tasks_app_statusupdate"),),
    "tasks_app_review": (("update_id", "tasks_app_statusupdate"),),
    "tasks_app_signoff": (("update_id", "tasks_app_statusupdate"),),
    "tasks_app_indicatorvalue": (("update_id", "tasks_app_statusupdate"),),
    "tasks_app_notification": (("recipient_id", "tasks_app_user"),),
    "tasks_app_digest": (
        ("department_id", "tasks_app_department"),
        ("recipient_id", "tasks_app_user"),
    ),
    "tasks_app_digestitem": (("digest_id", "tasks_app_digest"),),
    "tasks_app_delivery": (
        ("task_id", "tasks_app_task"),
        ("digest_id", "tasks_app_digest"),
        ("recipient_id", "tasks_app_user"),
        ("webhook_id", "tasks_app_departmentwebhook"),
    ),
    "tasks_app_deliveryattempt": (("delivery_id", "tasks_app_delivery"),),
    "tasks_app_exportjob": (("requested_by_id", "tasks_app_user"),),
    "tasks_app_savedfilter": (("user_id", "tasks_app_user"),),
    "tasks_app_idempotencyrecord": (("user_id", "tasks_app_user"),),
}

FUNCTIONS_SQL = r"""
-- A governments setting as ids: '' or unset -> none, '*' -> every government, '3,7' -> those.
CREATE OR REPLACE FUNCTION gaoxin_governments_setting(name text) RETURNS bigint[]
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT CASE coalesce(current_setting(name, true), '')
    WHEN '' THEN '{}'::bigint[]
    WHEN '*' THEN (SELECT coalesce(array_agg(id), '{}') FROM tasks_app_government)
    ELSE string_to_array(current_setting(name, true), ',')::bigint[]
  END
$$;
CREATE OR REPLACE FUNCTION gaoxin_read_governments() RETURNS bigint[]
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT gaoxin_governments_setting('gaoxin.read_governments')
$$;
CREATE OR REPLACE FUNCTION gaoxin_write_governments() RETURNS bigint[]
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT gaoxin_governments_setting('gaoxin.write_government')
$$;
-- The anonymous public pages read the governments that published a snapshot (as the owner,
-- which the policies do not bind), and only those.
CREATE OR REPLACE FUNCTION gaoxin_published_governments() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce(string_agg(DISTINCT p.government_id::text, ','), '')
    FROM tasks_app_plan p WHERE EXISTS (
      SELECT 1 FROM tasks_app_publicsnapshot s WHERE s.plan_id = p.id)
$$;
"""

# (SELECT f()) is an InitPlan: the setting is read once per query, not once per row, and
# government_id = ANY(...) stays usable as an index condition.
_READ_SET = "(SELECT gaoxin_read_governments())::bigint[]"
_WRITE_SET = "(SELECT gaoxin_write_governments())::bigint[]"
POLICIES = ("gaoxin_read", "gaoxin_insert", "gaoxin_update", "gaoxin_delete", "gaoxin_parent")


def _parent_condition(table: str, column: str, parent: str | None) -> str:
    if parent is None:
        return f"{table}.{column} IS NULL"
    extra = f" AND p.government_id = ANY ({_READ_SET})" if parent in TENANT_EXEMPT else ""
    return f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{column}{extra})"


def policy_sql(table: str, parents: tuple[tuple[str, str], ...] = ()) -> list[str]:
    """Statements that (re)place the policies of `table`: by its government_id, or, given
    `parents`, by its parent rows'. Safe to run again."""
    statements = [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"]
    statements += [f"DROP POLICY IF EXISTS {name} ON {table}" for name in POLICIES]
    if not parents:
        read = f"government_id = ANY ({_READ_SET})"
        write = f"government_id = ANY ({_WRITE_SET})"
        return statements + [
            f"CREATE POLICY gaoxin_read ON {table} FOR SELECT USING ({read})",
            f"CREATE POLICY gaoxin_insert ON {table} FOR INSERT WITH CHECK ({write})",
            f"CREATE POLICY gaoxin_update ON {table} FOR UPDATE USING ({write})"
            f" WITH CHECK ({write})",
            f"CREATE POLICY gaoxin_delete ON {table} FOR DELETE USING ({write})",
        ]
    visible = " OR ".join(_parent_condition(table, col, parent) for col, parent in parents)
    return statements + [
        f"CREATE POLICY gaoxin_parent ON {table} FOR ALL USING ({visible}) WITH CHECK ({visible})"
    ]


def enable_rls(schema_editor, table: str, parents: tuple[tuple[str, str], ...] = ()) -> None:
    """For a migration that adds a tenant table: row-level security on it (PostgreSQL only).
    Without `parents` the table must have a government_id column."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in policy_sql(table, parents):
        schema_editor.execute(statement)


def government_tables(cursor) -> list[str]:
    """The tasks_app tables with a government_id column, found in the database."""
    cursor.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND column_name = 'government_id' AND table_name LIKE 'tasks\\_app\\_%%'"
        " ORDER BY table_name"
    )
    return [row[0] for row in cursor.fetchall()]


def existing_tables(cursor) -> set[str]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    )
    return {row[0] for row in cursor.fetchall()}


def enable_all(schema_editor) -> None:
    """Policies on every tenant table as the schema stands now; run again after a migration
    adds government_id to a table (its parent policy gives way to the column's)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS_SQL)
    with schema_editor.connection.cursor() as cursor:
        direct = [t for t in government_tables(cursor) if t not in TENANT_EXEMPT]
        tables = existing_tables(cursor)
    for table in direct:
        enable_rls(schema_editor, table)
    for table, parents in TENANT_CHILDREN.items():
        if table in tables and table not in direct:
            enable_rls(schema_editor, table, parents)


def disable_all(schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE rowsecurity")
        secured = [row[0] for row in cursor.fetchall() if row[0].startswith("tasks_app_")]
    for table in secured:
        for name in POLICIES:
            schema_editor.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


# --- The settings, per connection -------------------------------------------------------------


def process_default() -> tuple[str, str]:
    """Every government, except in a web process (gaoxin/wsgi.py), where it is nothing."""
    if os.environ.get("GAOXIN_RLS_DEFAULT") == "none":
        return NOTHING, NOTHING
    return EVERY, EVERY


def _ids(ids) -> str:
    return ",".join(str(int(i)) for i in ids)


def current() -> tuple[str, str]:
    return getattr(connection, "gaoxin_rls", None) or process_default()


def apply(read: str, write: str) -> None:
    """Sets both settings for the session (not the transaction: Django runs in autocommit).

    Settings the session already holds for certain are not sent again: a web process's
    connection holds "nothing" between requests, so an API request, which the middleware
    enters as anonymous before the token is read, makes one round trip fewer."""
    if connection.vendor != "postgresql":
        return
    if connection.connection is not None and _held(connection) == (read, write):
        connection.gaoxin_rls = (read, write)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false), set_config(%s, %s, false)",
                       [READ, read, WRITE, write])  # fmt: skip
    record(connection, read, write)


def record(connection, read: str, write: str) -> None:
    """What the session now holds, after a statement set both settings (set_config(..., false));
    held for certain only when set outside a transaction (one rolled back would put back what
    was before, and nothing here would know)."""
    connection.gaoxin_rls = (read, write)
    connection.gaoxin_rls_held = None if connection.in_atomic_block else (read, write)


def _held(connection) -> tuple[str, str] | None:
    return getattr(connection, "gaoxin_rls_held", None)


def on_connection_created(sender, connection, **kwargs) -> None:
    """A new connection starts with the process's default (connection_created receiver)."""
    if connection.vendor != "postgresql":
        return
    read, write = process_default()
    if read or write:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, false), set_config(%s, %s, false)",
                           [READ, read, WRITE, write])  # fmt: skip
    record(connection, read, write)  # a new session holds nothing: unset reads as ''


@contextlib.contextmanager
def _scoped(read: str, write: str):
    previous = current()
    apply(read, write)
    try:
        yield
    finally:
        restore(*previous)


def restore(read: str, write: str) -> None:
    """Puts the settings back; a connection that cannot take the statement is closed, so that
    it never serves another piece of work with this one's settings."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return
    try:
        apply(read, write)
    except DatabaseError:
        if not connection.in_atomic_block:
            connection.close()


def tenant_context(read_ids, write_id=None):
    """Work for given governments: reads `read_ids`, writes `write_id` (or nothing)."""
    return _scoped(_ids(read_ids), NOTHING if write_id is None else _ids([write_id]))


def system_context():
    """Work for every government (a system job inside a web process, a migration's data)."""
    return _scoped(EVERY, EVERY)


def public_context():
    """The anonymous public pages: the governments that published a snapshot; no writes."""
    if connection.vendor != "postgresql":
        return contextlib.nullcontext()
    with connection.cursor() as cursor:
        cursor.execute("SELECT gaoxin_published_governments()")
        (published,) = cursor.fetchone()
    return _scoped(published, NOTHING)


def user_settings(user) -> tuple[str, str]:
    from tasks_app.common.permissions import readable_government_ids

    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING, NOTHING
    own = user.government_id
    return _ids(readable_government_ids(user)), NOTHING if own is None else _ids([own])


def user_context(user):
    """Work as `user` would in a request, then back to what was before."""
    return _scoped(*user_settings(user))


def enter_user(user) -> None:
    """The request's user is known (the middleware, or token authentication in the view)."""
    if connection.vendor == "postgresql" and _rolls_up(user):
        _enter_roll_up(user)
    else:
        apply(*user_settings(user))


def _rolls_up(user) -> bool:
    from tasks_app.common import permissions

    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.government_id is not None
        and user.role in permissions.ROLL_UP_ROLES
        and getattr(user, "readable_governments_cache", None) is None
    )


def _enter_roll_up(user) -> None:
    """apply(*user_settings(user)) for a user who reads the governments below its own, in one
    round trip: the look-up of those governments sets the settings in the same statement (a
    leader's API request had one more round trip than a department's)."""
    from tasks_app.common import permissions

    own = _ids([user.government_id])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH governments AS ({permissions.DESCENDANTS_SQL}) "
            "SELECT set_config(%s, coalesce(string_agg(id::text, ',' ORDER BY id), ''), false), "
            "set_config(%s, %s, false), array_agg(id ORDER BY id) FROM governments",
            [user.government_id, READ, WRITE, own],
        )
        read, _write, ids = cursor.fetchone()
    permissions.remember_readable(user, list(ids or []))
    record(connection, read, own)


def settings_of_joined_user() -> str:
    """SQL for a select list: sets the row-level security settings of the user row joined as
    "tasks_app_user" (as enter_user would: its government and, for the roll-up roles, every one
    below it; write: its own) and answers them as 'read|write'; NULL, setting nothing, for an
    inactive user or one without a government. A look-up of the request's user (the API
    token's) sets them in its own round trip; use entered() on what it answers."""
    from tasks_app.common import permissions

    roles = ", ".join(f"'{role}'" for role in permissions.ROLL_UP_ROLES)
    user = '"tasks_app_user"'
    below = permissions.descendants_sql(
        f'SELECT {user}."government_id"', descend_if=f'{user}."role" IN ({roles})'
    )
    return f"""CASE WHEN {user}."is_active" AND {user}."government_id" IS NOT NULL THEN (
      SELECT set_config('{READ}', string_agg(b.id::text, ',' ORDER BY b.id), false) || '|' ||
             set_config('{WRITE}', {user}."government_id"::text, false)
        FROM ({below}) b) END"""


def entered(user, settings: str | None) -> None:
    """The request's user is known and a look-up set its settings (settings_of_joined_user's
    answer); without them (none were set), enter_user(user)."""
    if settings is None or connection.vendor != "postgresql":
        enter_user(user)
        return
    from tasks_app.common import permissions

    read, _sep, write = settings.partition("|")
    permissions.remember_readable(user, [int(i) for i in read.split(",")])
    record(connection, read, write)


def on_login(sender, request, user, **kwargs) -> None:
    """A login in the middle of a request (the login form, the token view): the rest of the
    request, the login's own record included, works for the user's governments."""
    if connection.vendor == "postgresql":
        enter_user(user)


class TenantMiddleware:
    """Sets the row-level security settings for the request's user, resets them when the
    response is done (for a streaming response, when its content has been sent). Place right
    after AuthenticationMiddleware.

    The user is read just before the view runs, unless the view is marked `public_view` (the
    anonymous public pages set their own settings and must not read the session: a page that
    read it would be sent with Vary: Cookie and kept by no shared cache)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if connection.vendor != "postgresql":
            return self.get_response(request)
        before = current()  # a web process's: nothing
        try:
            response = self.get_response(request)
        except BaseException:
            restore(*before)
            raise
        if response.streaming:
            response.streaming_content = _streamed(response.streaming_content, current(), before)
        else:
            restore(*before)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if connection.vendor == "postgresql" and not getattr(view_func, "public_view", False):
            enter_user(getattr(request, "user", None))


def public_view(view):
    """Marks a view the middleware leaves alone: it sets its own settings (public_context)."""
    view.public_view = True
    return view


def _streamed(content, during: tuple[str, str], after: tuple[str, str]):
    try:
        apply(*during)
        yield from content
    finally:
        restore(*after)
