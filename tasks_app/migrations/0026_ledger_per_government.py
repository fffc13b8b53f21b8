"""The ledger per government: each government has its own hash chain (head, seq, checkpoints), so
that governments do not queue on one lock and an auditor verifies and exports its own chain.

The events, checkpoints, export jobs and the chain head recorded so far belong to the default
government (settings.GAOXIN_GOVERNMENT): its chain continues from the existing head and its
events keep their hashes (hash_version 1, the protocol without government_id). New events are
hash_version 2: their hashed content includes government_id, so an event cannot be moved into
another government's chain without its hash changing.

Each government column is added with the default government as the column's default and the
default dropped again: on PostgreSQL a constant default fills the existing rows without rewriting
them, so the append-only triggers are not involved (an UPDATE of the ledger would be refused).
A fresh installation's empty head (seq 0, no events) is dropped: heads are made on first append.

PostgreSQL: gaoxin_audit_append() takes the government and locks only that government's head
row; the capture triggers find the government of the row they record (its own government_id,
else its task's, its report's task's or its plan's; else the oldest government, which migration
0023 made the default).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_DEFAULT = {"id": None}


def drop_empty_head(apps, schema_editor):
    if not apps.get_model("tasks_app", "AuditEvent").objects.exists():
        apps.get_model("tasks_app", "AuditChainHead").objects.filter(seq=0).delete()


def remember_default_government(apps, schema_editor):
    """The default government, made if there are ledger rows to give it (else None: the new
    columns need no default on empty tables)."""
    names = ("AuditEvent", "AuditChainHead", "AuditCheckpoint", "ExportJob")
    _DEFAULT["id"] = None
    if any(apps.get_model("tasks_app", name).objects.exists() for name in names):
        government, _ = apps.get_model("tasks_app", "Government").objects.get_or_create(
            name=getattr(settings, "GAOXIN_GOVERNMENT", "珠海高新区"), defaults={"level": "zone"}
        )
        _DEFAULT["id"] = government.pk


def default_government():
    """The column default while the government columns are added (see the module docstring)."""
    return _DEFAULT["id"]


def government_fk(**options):
    return models.ForeignKey(
        default=default_government,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="tasks_app.government",
        verbose_name="政府",
        **options,
    )


def reset_head_ids(apps, schema_editor):
    # The head was row id 1, inserted by hand: the identity must move past it.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "SELECT setval(pg_get_serial_sequence('tasks_app_auditchainhead', 'id'), "
            "coalesce((SELECT max(id) FROM tasks_app_auditchainhead), 0) + 1, false)"
        )


FUNCTIONS_SQL = r"""
DROP FUNCTION IF EXISTS gaoxin_audit_append(text, text, text, text, text, jsonb, jsonb, text, text, text);

-- The government of rows that name none: the oldest (migration 0023 made the default first).
CREATE OR REPLACE FUNCTION gaoxin_default_government() RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT id FROM tasks_app_government ORDER BY id LIMIT 1
$$;

-- The government whose chain records a change to a row: the row's own, else its task's, its
-- report's task's or its plan's; else the default.
CREATE OR REPLACE FUNCTION gaoxin_row_government(r jsonb) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  g bigint;
BEGIN
  IF r ? 'government_id' THEN
    g := (r ->> 'government_id')::bigint;
  ELSIF r ? 'task_id' THEN
    SELECT t.government_id INTO g FROM tasks_app_task t WHERE t.id = (r ->> 'task_id')::bigint;
  ELSIF r ? 'update_id' THEN
    SELECT t.government_id INTO g FROM tasks_app_statusupdate u
      JOIN tasks_app_task t ON t.id = u.task_id WHERE u.id = (r ->> 'update_id')::bigint;
  ELSIF r ? 'plan_id' THEN
    SELECT p.government_id INTO g FROM tasks_app_plan p WHERE p.id = (r ->> 'plan_id')::bigint;
  END IF;
  RETURN coalesce(g, gaoxin_default_government());
END $$;

-- ledger.append() in PL/pgSQL: lock the government's chain head, hash, insert, move the head.
CREATE OR REPLACE FUNCTION gaoxin_audit_append(
  p_government_id bigint, p_actor_username text, p_action text, p_object_type text,
  p_object_id text, p_object_repr text, p_before jsonb, p_after jsonb, p_ip text,
  p_user_agent text, p_request_id text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  h_seq bigint;
  h_hash text;
  v_now timestamptz;
  v_seq bigint;
  v_hash text;
BEGIN
  UPDATE tasks_app_auditchainhead SET seq = seq WHERE government_id = p_government_id
    RETURNING seq, hash INTO h_seq, h_hash;
  IF NOT FOUND THEN
    INSERT INTO tasks_app_auditchainhead (government_id, seq, hash, updated_at)
    SELECT p_government_id, coalesce(max(e.seq), 0),
           coalesce((SELECT l.hash FROM tasks_app_auditevent l
                      WHERE l.government_id = p_government_id ORDER BY l.seq DESC LIMIT 1),
                    repeat('0', 64)),
           now()
      FROM tasks_app_auditevent e WHERE e.government_id = p_government_id
    ON CONFLICT (government_id) DO NOTHING;
    UPDATE tasks_app_auditchainhead SET seq = seq WHERE government_id = p_government_id
      RETURNING seq, hash INTO h_seq, h_hash;
  END IF;
  v_seq := h_seq + 1;
  v_now := clock_timestamp();
  v_hash := encode(sha256(convert_to(gaoxin_canonical_json(jsonb_build_object(
    'seq', v_seq, 'prev_hash', h_hash,
    'created_at', to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'actor_id', NULL, 'actor_username', p_actor_username, 'actor_role', '',
    'actor_department', '', 'action', p_action, 'object_type', p_object_type,
    'object_id', p_object_id, 'object_repr', p_object_repr, 'before', p_before,
    'after', p_after, 'ip', p_ip, 'user_agent', p_user_agent, 'request_id', p_request_id,
    'government_id', p_government_id
  )), 'UTF8')), 'hex');
  INSERT INTO tasks_app_auditevent (
    government_id, seq, hash_version, prev_hash, hash, actor_id, actor_username, actor_role,
    actor_department, action, object_type, object_id, object_repr, before, after, ip,
    user_agent, request_id, created_at
  ) VALUES (
    p_government_id, v_seq, 2, h_hash, v_hash, NULL, p_actor_username, '', '', p_action,
    p_object_type, p_object_id, p_object_repr, p_before, p_after, p_ip, p_user_agent,
    p_request_id, v_now
  );
  UPDATE tasks_app_auditchainhead SET seq = v_seq, hash = v_hash, updated_at = v_now
   WHERE government_id = p_government_id;
  RETURN v_seq;
END $$;

-- As in 0007, and the event goes to the chain of the row's government.
CREATE OR REPLACE FUNCTION gaoxin_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ignored text[] := coalesce(TG_ARGV[1:], '{}'::text[]);
  old_row jsonb;
  new_row jsonb;
  changed text[];
  before_row jsonb;
  after_row jsonb;
  row_id text;
BEGIN
  IF coalesce(current_setting('gaoxin.audited', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN old_row := gaoxin_row_json(to_jsonb(OLD)); END IF;
  IF TG_OP <> 'DELETE' THEN new_row := gaoxin_row_json(to_jsonb(NEW)); END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(n.key ORDER BY n.key) INTO changed
      FROM jsonb_each(new_row) AS n
     WHERE n.value IS DISTINCT FROM old_row -> n.key AND NOT (n.key = ANY (ignored));
    IF changed IS NULL THEN
      RETURN NULL;
    END IF;
    SELECT jsonb_object_agg(k, old_row -> k), jsonb_object_agg(k, new_row -> k)
      INTO before_row, after_row FROM unnest(changed) AS k;
  ELSE
    before_row := old_row;
    after_row := new_row;
  END IF;
  row_id := coalesce(new_row ->> 'id', old_row ->> 'id');
  PERFORM gaoxin_audit_append(
    gaoxin_row_government(coalesce(new_row, old_row)),
    'db:' || session_user, TG_ARGV[0] || '.' || lower(TG_OP) || '.sql', TG_ARGV[0], row_id,
    TG_ARGV[0] || ' #' || row_id, before_row, after_row,
    coalesce(host(inet_client_addr()), ''), left(current_setting('application_name'), 300),
    'txid:' || txid_current()::text
  );
  RETURN NULL;
END $$;

-- As migration 0013: every ledger function finds the others whatever the caller's search_path.
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.proname LIKE 'gaoxin\_%' AND n.nspname = current_schema()
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
  END LOOP;
END $$;
"""


def install_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FUNCTIONS_SQL)  # no parameters: the % in format() stay as they are


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0024_government_required")]

    operations = [
        migrations.RunPython(drop_empty_head, migrations.RunPython.noop),
        migrations.RunPython(remember_default_government, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="auditchainhead", name="auditchainhead_single_row"),
        migrations.AddField(
            model_name="auditchainhead",
            name="government",
            field=models.OneToOneField(
                default=default_government,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tasks_app.government",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(reset_head_ids, migrations.RunPython.noop),
        migrations.AddField(
            model_name="auditevent",
            name="government",
            field=government_fk(db_index=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="哈希版本"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=2, verbose_name="哈希版本"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(verbose_name="序号"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=["government", "seq"], name="auditevent_government_seq"
            ),
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["government_id", "seq"],
                "verbose_name": "审计事件",
                "verbose_name_plural": "审计事件",
            },
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="government",
            field=government_fk(blank=True),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="auditcheckpoint",
            index=models.Index(fields=["government", "seq"], name="auditcheckpoint_government_seq"),
        ),
        migrations.AlterModelOptions(
            name="auditcheckpoint",
            options={
                "ordering": ["government_id", "-seq", "-id"],
                "verbose_name": "审计检查点",
                "verbose_name_plural": "审计检查点",
            },
        ),
        migrations.AddField(
            model_name="exportjob",
            name="government",
            field=government_fk(blank=True),
            preserve_default=False,
        ),
        migrations.RunPython(install_functions, migrations.RunPython.noop),
    ]
