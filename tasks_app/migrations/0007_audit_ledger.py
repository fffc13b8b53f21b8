"""The audit ledger: hash chain, append-only and capture triggers (PostgreSQL), checkpoints, exports.

Steps: schema (new columns nullable) -> chain the events already recorded, in id order -> make
seq required and unique -> PostgreSQL functions and triggers -> beat entries.
"""

import datetime as dt
import hashlib
import json

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq", "prev_hash", "created_at", "actor_id", "actor_username", "actor_role",
    "actor_department", "action", "object_type", "object_id", "object_repr", "before", "after",
    "ip", "user_agent", "request_id",
)


def _hash(values: dict) -> str:
    # The same protocol as tasks_app.ledger (frozen here, as migrations must not import app code).
    values = dict(values)
    values["created_at"] = values["created_at"].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("tasks_app", "AuditEvent")
    AuditChainHead = apps.get_model("tasks_app", "AuditChainHead")
    prev_hash, seq = GENESIS, 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        seq += 1
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = _hash({name: getattr(event, name) for name in HASHED_FIELDS})
        event.save(update_fields=["seq", "prev_hash", "hash"])
        prev_hash = event.hash
    AuditChainHead.objects.update_or_create(pk=1, defaults={"seq": seq, "hash": prev_hash})


# --- PostgreSQL: canonical JSON and chained append in PL/pgSQL, triggers -------------------------

FUNCTIONS_SQL = r"""
-- Compact JSON, keys in code-point order at every level: byte-for-byte what ledger.canonical()
-- (Python json.dumps sort_keys, separators (",", ":"), ensure_ascii=False) prints.
CREATE OR REPLACE FUNCTION gaoxin_canonical_json(v jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  result text;
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    RETURN 'null';
  ELSIF jsonb_typeof(v) = 'object' THEN
    SELECT '{' || coalesce(string_agg(to_json(e.key)::text || ':' || gaoxin_canonical_json(e.value),
                                      ',' ORDER BY e.key COLLATE "C"), '') || '}'
      INTO result FROM jsonb_each(v) AS e;
    RETURN result;
  ELSIF jsonb_typeof(v) = 'array' THEN
    SELECT '[' || coalesce(string_agg(gaoxin_canonical_json(e.value), ',' ORDER BY e.ord), '') || ']'
      INTO result FROM jsonb_array_elements(v) WITH ORDINALITY AS e(value, ord);
    RETURN result;
  END IF;
  RETURN v::text;
END $$;

-- A row as stored JSON: non-integer numbers (decimals) as strings, like ledger.jsonable().
CREATE OR REPLACE FUNCTION gaoxin_row_json(v jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(e.key, CASE
           WHEN jsonb_typeof(e.value) = 'number' AND e.value::text ~ '[.eE]'
           THEN to_jsonb(e.value::text) ELSE e.value END), '{}'::jsonb)
  FROM jsonb_each(v) AS e
$$;

-- ledger.append() in PL/pgSQL: lock the chain head, hash, insert, move the head.
CREATE OR REPLACE FUNCTION gaoxin_audit_append(
  p_actor_username text, p_action text, p_object_type text, p_object_id text,
  p_object_repr text, p_before jsonb, p_after jsonb, p_ip text, p_user_agent text,
  p_request_id text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  h_seq bigint;
  h_hash text;
  v_now timestamptz;
  v_seq bigint;
  v_hash text;
BEGIN
  UPDATE tasks_app_auditchainhead SET seq = seq WHERE id = 1 RETURNING seq, hash INTO h_seq, h_hash;
  IF NOT FOUND THEN
    INSERT INTO tasks_app_auditchainhead (id, seq, hash, updated_at)
    SELECT 1, coalesce(max(seq), 0),
           coalesce((SELECT hash FROM tasks_app_auditevent ORDER BY seq DESC LIMIT 1), repeat('0', 64)),
           now()
      FROM tasks_app_auditevent
    ON CONFLICT (id) DO NOTHING;
    UPDATE tasks_app_auditchainhead SET seq = seq WHERE id = 1 RETURNING seq, hash INTO h_seq, h_hash;
  END IF;
  v_seq := h_seq + 1;
  v_now := clock_timestamp();
  v_hash := encode(sha256(convert_to(gaoxin_canonical_json(jsonb_build_object(
    'seq', v_seq, 'prev_hash', h_hash,
    'created_at', to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'actor_id', NULL, 'actor_username', p_actor_username, 'actor_role', '',
    'actor_department', '', 'action', p_action, 'object_type', p_object_type,
    'object_id', p_object_id, 'object_repr', p_object_repr, 'before', p_before,
    'after', p_after, 'ip', p_ip, 'user_agent', p_user_agent, 'request_id', p_request_id
  )), 'UTF8')), 'hex');
  INSERT INTO tasks_app_auditevent (
    seq, prev_hash, hash, actor_id, actor_username, actor_role, actor_department, action,
    object_type, object_id, object_repr, before, after, ip, user_agent, request_id, created_at
  ) VALUES (
    v_seq, h_hash, v_hash, NULL, p_actor_username, '', '', p_action, p_object_type,
    p_object_id, p_object_repr, p_before, p_after, p_ip, p_user_agent, p_request_id, v_now
  );
  UPDATE tasks_app_auditchainhead SET seq = v_seq, hash = v_hash, updated_at = v_now WHERE id = 1;
  RETURN v_seq;
END $$;

-- The ledger and its checkpoints are append-only. The one exception: Django's test runner
-- empties test databases (named test_*) with TRUNCATE between transactional tests; a test that
-- wants the production behaviour sets gaoxin.ledger_strict = on.
CREATE OR REPLACE FUNCTION gaoxin_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' AND current_database() LIKE 'test\_%'
     AND coalesce(current_setting('gaoxin.ledger_strict', true), '') <> 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'gaoxin: % on % is not allowed: the audit ledger is append-only',
    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

-- Capture: a change to a tracked table that no service audited in its transaction becomes a
-- ledger event "<kind>.<insert|update|delete>.sql". Runs at commit (deferred constraint
-- trigger), when audit_log has had its chance to set gaoxin.audited. TG_ARGV[0] is the kind,
-- the rest are derived columns whose changes alone are not events.
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
    'db:' || session_user, TG_ARGV[0] || '.' || lower(TG_OP) || '.sql', TG_ARGV[0], row_id,
    TG_ARGV[0] || ' #' || row_id, before_row, after_row,
    coalesce(host(inet_client_addr()), ''), left(current_setting('application_name'), 300),
    'txid:' || txid_current()::text
  );
  RETURN NULL;
END $$;
"""

APPEND_ONLY_TABLES = ("tasks_app_auditevent", "tasks_app_auditcheckpoint")
# table -> (kind, derived columns not worth an event on their own)
CAPTURED_TABLES = {
    "tasks_app_task": ("task", ["expected_progress", "light", "schedule_as_of", "updated_at",
                                "version"]),
    "tasks_app_task_co_departments": ("task_co_departments", []),
    "tasks_app_indicator": ("indicator", []),
    "tasks_app_milestone": ("milestone", []),
    "tasks_app_statusupdate": ("statusupdate", ["version"]),
    "tasks_app_review": ("review", []),
}


def _triggers_sql() -> list[str]:
    statements = []
    for table in APPEND_ONLY_TABLES:
        statements += [
            f"CREATE TRIGGER gaoxin_append_only_row BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION gaoxin_append_only()",
            f"CREATE TRIGGER gaoxin_append_only_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION gaoxin_append_only()",
        ]
    for table, (kind, derived) in CAPTURED_TABLES.items():
        args = ", ".join(f"'{name}'" for name in [kind, *derived])
        statements.append(
            f"CREATE CONSTRAINT TRIGGER gaoxin_capture AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"EXECUTE FUNCTION gaoxin_capture({args})"
        )
    return statements


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS_SQL, params=None)
    for statement in _triggers_sql():
        schema_editor.execute(statement)


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS gaoxin_append_only_row ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS gaoxin_append_only_truncate ON {table}")
    for table in CAPTURED_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS gaoxin_capture ON {table}")
    for function in ("gaoxin_capture()", "gaoxin_append_only()",
                     "gaoxin_audit_append(text, text, text, text, text, jsonb, jsonb, text, text, text)",
                     "gaoxin_row_json(jsonb)", "gaoxin_canonical_json(jsonb)"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}")


# --- Beat entries -------------------------------------------------------------------------------

CHECKPOINT_TASK = "tasks_app.audit_checkpoint"


def create_checkpoint_beat(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="*", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name="每小时记录审计日志检查点", defaults={"task": CHECKPOINT_TASK, "crontab": crontab},
    )


def remove_checkpoint_beat(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task=CHECKPOINT_TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0006_import_drafts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(default=0)),
                ("hash", models.CharField(max_length=64)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddConstraint(
            model_name="auditchainhead",
            constraint=models.CheckConstraint(condition=models.Q(("id", 1)), name="auditchainhead_single_row"),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(verbose_name="序号")),
                ("hash", models.CharField(max_length=64, verbose_name="哈希")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="时间")),
                ("created_by", models.CharField(blank=True, max_length=150, verbose_name="记录人")),
            ],
            options={
                "verbose_name": "审计检查点",
                "verbose_name_plural": "审计检查点",
                "ordering": ["-seq", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ExportJob",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("ledger", "审计日志"), ("progress", "进展日志")], max_length=10, verbose_name="内容")),
                ("format", models.CharField(choices=[("csv", "CSV"), ("xlsx", "XLSX")], max_length=10, verbose_name="格式")),
                ("filters", models.JSONField(default=dict, verbose_name="筛选条件")),
                ("background", models.BooleanField(default=False, verbose_name="后台生成")),
                ("state", models.CharField(choices=[("pending", "排队中"), ("running", "生成中"), ("done", "已完成"), ("failed", "失败")], default="pending", max_length=10, verbose_name="状态")),
                ("file", models.FileField(blank=True, upload_to="audit_exports/%Y/%m/", verbose_name="文件")),
                ("manifest", models.JSONField(blank=True, null=True, verbose_name="清单")),
                ("error", models.CharField(blank=True, max_length=300, verbose_name="错误")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="创建时间")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="完成时间")),
                ("requested_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name": "导出",
                "verbose_name_plural": "导出",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.AddConstraint(
            model_name="exportjob",
            constraint=models.CheckConstraint(condition=models.Q(("kind__in", ["ledger", "progress"])), name="exportjob_kind_valid"),
        ),
        migrations.AddConstraint(
            model_name="exportjob",
            constraint=models.CheckConstraint(condition=models.Q(("format__in", ["csv", "xlsx"])), name="exportjob_format_valid"),
        ),
        migrations.AddConstraint(
            model_name="exportjob",
            constraint=models.CheckConstraint(condition=models.Q(("state__in", ["pending", "running", "done", "failed"])), name="exportjob_state_valid"),
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={"ordering": ["seq"], "verbose_name": "审计事件", "verbose_name_plural": "审计事件"},
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(null=True, verbose_name="序号"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", max_length=64, verbose_name="前一事件哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", max_length=64, verbose_name="哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="ip",
            field=models.CharField(blank=True, max_length=45, verbose_name="IP地址"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="user_agent",
            field=models.CharField(blank=True, max_length=300, verbose_name="客户端"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="请求编号"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="操作人"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间"),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="序号"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(condition=models.Q(("seq__gte", 1)), name="auditevent_seq_positive"),
        ),
        migrations.RunPython(install_triggers, remove_triggers),
        migrations.RunPython(create_checkpoint_beat, remove_checkpoint_beat),
    ]
