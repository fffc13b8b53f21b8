"""The 减负 rules become per-plan settings; public progress snapshots (append-only).

Existing plans keep the rules they ran under (红黑榜 on, evidence for 已完成 on), each with a
reason saying so, so that nothing a department sees changes on upgrade; plans created later
start with both off (README: 减负 rules).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


KEPT_RANKING = "升级前已实行红黑榜,沿用原规则(督查室可修改理由或关闭)。"
KEPT_EVIDENCE = "升级前“已完成”即须附佐证材料,沿用原规则(督查室可修改理由或关闭)。"


def keep_existing_rules(apps, schema_editor):
    apps.get_model("tasks_app", "Plan").objects.update(
        ranking_enabled=True,
        ranking_reason=KEPT_RANKING,
        evidence_required=True,
        evidence_reason=KEPT_EVIDENCE,
    )


APPEND_ONLY = "tasks_app_publicsnapshot"


def install_append_only(apps, schema_editor):
    # gaoxin_append_only() is migration 0007's: UPDATE and DELETE refused, TRUNCATE too outside
    # the test runner's databases. The application role owns nothing, so cannot drop it.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE TRIGGER gaoxin_append_only_row BEFORE UPDATE OR DELETE ON {APPEND_ONLY} "
        "FOR EACH ROW EXECUTE FUNCTION gaoxin_append_only()"
    )
    schema_editor.execute(
        f"CREATE TRIGGER gaoxin_append_only_truncate BEFORE TRUNCATE ON {APPEND_ONLY} "
        "FOR EACH STATEMENT EXECUTE FUNCTION gaoxin_append_only()"
    )


def remove_append_only(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ("gaoxin_append_only_row", "gaoxin_append_only_truncate"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {APPEND_ONLY}")


class Migration(migrations.Migration):

    dependencies = [
        ('tasks_app', '0020_saved_filter'),
    ]

    operations = [
        migrations.CreateModel(
            name='PublicSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200, verbose_name='公开标题')),
                ('as_of', models.DateField(verbose_name='截至日期')),
                ('content', models.TextField(verbose_name='公开内容(规范JSON)')),
                ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                ('ledger_seq', models.BigIntegerField(unique=True, verbose_name='审计日志序号')),
                ('ledger_hash', models.CharField(max_length=64, verbose_name='审计日志哈希')),
                ('published_at', models.DateTimeField(verbose_name='发布时间')),
            ],
            options={
                'verbose_name': '公开进展快照',
                'verbose_name_plural': '公开进展快照',
                'ordering': ['-ledger_seq'],
            },
        ),
        migrations.AddField(
            model_name='plan',
            name='evidence_reason',
            field=models.TextField(blank=True, db_default='', default='', verbose_name='要求佐证材料的理由'),
        ),
        migrations.AddField(
            model_name='plan',
            name='evidence_required',
            field=models.BooleanField(db_default=False, default=False, verbose_name='已完成须附佐证材料'),
        ),
        migrations.AddField(
            model_name='plan',
            name='ranking_enabled',
            field=models.BooleanField(db_default=False, default=False, verbose_name='启用红黑榜'),
        ),
        migrations.AddField(
            model_name='plan',
            name='ranking_reason',
            field=models.TextField(blank=True, db_default='', default='', verbose_name='启用红黑榜的理由'),
        ),
        migrations.AddField(
            model_name='statusupdate',
            name='public_narrative',
            field=models.TextField(blank=True, db_default='', default='', help_text='可向社会公开的进展表述;督查室审核通过后方可公开,不写个人姓名', max_length=2000, verbose_name='公开口径'),
        ),
        migrations.AddConstraint(
            model_name='plan',
            constraint=models.CheckConstraint(condition=models.Q(('ranking_enabled', False), models.Q(('ranking_reason', ''), _negated=True), _connector='OR'), name='plan_ranking_on_has_reason', violation_error_message='启用红黑榜须说明理由。'),
        ),
        migrations.AddConstraint(
            model_name='plan',
            constraint=models.CheckConstraint(condition=models.Q(('evidence_required', False), models.Q(('evidence_reason', ''), _negated=True), _connector='OR'), name='plan_evidence_on_has_reason', violation_error_message='要求佐证材料须说明理由。'),
        ),
        migrations.AddField(
            model_name='publicsnapshot',
            name='plan',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='public_snapshots', to='tasks_app.plan', verbose_name='计划'),
        ),
        migrations.AddField(
            model_name='publicsnapshot',
            name='published_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='发布人'),
        ),
        migrations.AddConstraint(
            model_name='publicsnapshot',
            constraint=models.CheckConstraint(condition=models.Q(('sha256__regex', '^[0-9a-f]{64}$')), name='publicsnapshot_sha256_hex'),
        ),
        migrations.AddConstraint(
            model_name='publicsnapshot',
            constraint=models.CheckConstraint(condition=models.Q(('ledger_seq__gte', 1)), name='publicsnapshot_ledger_seq_positive'),
        ),
        migrations.RunPython(keep_existing_rules, migrations.RunPython.noop),
        migrations.RunPython(install_append_only, remove_append_only),
    ]
