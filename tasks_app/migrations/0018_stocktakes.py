"""调度会 packs, 议定事项 (a task kind), confidence ratings; on PostgreSQL a trigger keeps the
ratings of a closed quarter from being changed or deleted, and the quarter from being reopened."""

import django.db.models.deletion
import tasks_app.common.clock
from django.conf import settings
from django.db import migrations, models


CLOSED_QUARTER_SQL = """
CREATE OR REPLACE FUNCTION gaoxin_rating_closed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_TABLE_NAME = 'tasks_app_ratingquarterclose' THEN
        RAISE EXCEPTION 'a closed rating quarter cannot be reopened' USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM tasks_app_ratingquarterclose c
               WHERE c.quarter = CASE WHEN TG_OP = 'INSERT' THEN NEW.quarter ELSE OLD.quarter END)
       OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM tasks_app_ratingquarterclose c
                                         WHERE c.quarter = NEW.quarter)) THEN
        RAISE EXCEPTION 'ratings of a closed quarter cannot be changed' USING ERRCODE = 'check_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER gaoxin_rating_closed BEFORE INSERT OR UPDATE OR DELETE ON tasks_app_confidencerating
    FOR EACH ROW EXECUTE FUNCTION gaoxin_rating_closed();
CREATE TRIGGER gaoxin_rating_quarter_kept BEFORE UPDATE OR DELETE ON tasks_app_ratingquarterclose
    FOR EACH ROW EXECUTE FUNCTION gaoxin_rating_closed();
-- Changes made behind the services' back join the ledger, as for tasks and reports (0007).
CREATE CONSTRAINT TRIGGER gaoxin_capture AFTER INSERT OR UPDATE OR DELETE
    ON tasks_app_confidencerating DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION gaoxin_capture('confidencerating');
CREATE CONSTRAINT TRIGGER gaoxin_capture AFTER INSERT OR UPDATE OR DELETE
    ON tasks_app_stocktakepack DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION gaoxin_capture('stocktakepack');
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS gaoxin_rating_closed ON tasks_app_confidencerating;
DROP TRIGGER IF EXISTS gaoxin_rating_quarter_kept ON tasks_app_ratingquarterclose;
DROP TRIGGER IF EXISTS gaoxin_capture ON tasks_app_confidencerating;
DROP TRIGGER IF EXISTS gaoxin_capture ON tasks_app_stocktakepack;
DROP FUNCTION IF EXISTS gaoxin_rating_closed();
"""


def install_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CLOSED_QUARTER_SQL, params=None)


def remove_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('tasks_app', '0017_signoff_feedback_explanation'),
    ]

    operations = [
        migrations.CreateModel(
            name='ConfidenceRating',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('quarter', models.DateField(verbose_name='季度')),
                ('level', models.CharField(choices=[('high', '高'), ('fairly_high', '较高'), ('medium', '中'), ('fairly_low', '较低'), ('low', '低')], max_length=12, verbose_name='把握程度')),
                ('reason', models.TextField(max_length=1000, verbose_name='理由')),
                ('created_at', models.DateTimeField(default=tasks_app.common.clock.now, verbose_name='评定时间')),
                ('updated_at', models.DateTimeField(default=tasks_app.common.clock.now, verbose_name='修改时间')),
            ],
            options={
                'verbose_name': '把握度评定',
                'verbose_name_plural': '把握度评定',
                'ordering': ['-quarter', 'task', 'rater'],
            },
        ),
        migrations.CreateModel(
            name='RatingQuarterClose',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('quarter', models.DateField(unique=True, verbose_name='季度')),
                ('closed_at', models.DateTimeField(default=tasks_app.common.clock.now, verbose_name='关闭时间')),
            ],
            options={
                'verbose_name': '已关闭的评定季度',
                'verbose_name_plural': '已关闭的评定季度',
            },
        ),
        migrations.CreateModel(
            name='StocktakeDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=tasks_app.common.clock.now, verbose_name='记录时间')),
            ],
            options={
                'verbose_name': '议定事项',
                'verbose_name_plural': '议定事项',
                'ordering': ['pack', 'id'],
            },
        ),
        migrations.CreateModel(
            name='StocktakePack',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200, verbose_name='会议名称')),
                ('as_of', models.DateField(verbose_name='数据截至')),
                ('state', models.CharField(choices=[('draft', '准备中'), ('held', '已召开')], default='draft', max_length=10, verbose_name='状态')),
                ('contents', models.JSONField(blank=True, null=True, verbose_name='冻结内容')),
                ('held_at', models.DateTimeField(blank=True, null=True, verbose_name='召开时间')),
                ('created_at', models.DateTimeField(default=tasks_app.common.clock.now, verbose_name='创建时间')),
            ],
            options={
                'verbose_name': '调度会材料',
                'verbose_name_plural': '调度会材料',
                'ordering': ['plan', '-as_of', '-id'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='task',
            name='task_kind_valid',
        ),
        migrations.AlterField(
            model_name='task',
            name='kind',
            field=models.CharField(choices=[('work_item', '具体工作'), ('headline_target', '主要目标'), ('livelihood', '民生实事'), ('decision', '议定事项')], default='work_item', max_length=20, verbose_name='类型'),
        ),
        migrations.AddConstraint(
            model_name='task',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['work_item', 'headline_target', 'livelihood', 'decision'])), name='task_kind_valid'),
        ),
        migrations.AddField(
            model_name='confidencerating',
            name='rater',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='confidencerating',
            name='task',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='confidence_ratings', to='tasks_app.task'),
        ),
        migrations.AddField(
            model_name='ratingquarterclose',
            name='closed_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='stocktakedecision',
            name='concerns',
            field=models.ManyToManyField(blank=True, related_name='stocktake_decisions_about', to='tasks_app.task', verbose_name='涉及任务'),
        ),
        migrations.AddField(
            model_name='stocktakedecision',
            name='recorded_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='stocktakedecision',
            name='task',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='stocktake_decision', to='tasks_app.task'),
        ),
        migrations.AddField(
            model_name='stocktakepack',
            name='held_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='stocktakepack',
            name='plan',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='stocktake_packs', to='tasks_app.plan'),
        ),
        migrations.AddField(
            model_name='stocktakepack',
            name='prepared_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='stocktakepack',
            name='previous',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tasks_app.stocktakepack', verbose_name='上次调度会'),
        ),
        migrations.AddField(
            model_name='stocktakedecision',
            name='pack',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='tasks_app.stocktakepack'),
        ),
        migrations.AddConstraint(
            model_name='confidencerating',
            constraint=models.UniqueConstraint(fields=('task', 'quarter', 'rater'), name='confidencerating_once_per_quarter'),
        ),
        migrations.AddConstraint(
            model_name='confidencerating',
            constraint=models.CheckConstraint(condition=models.Q(('level__in', ['high', 'fairly_high', 'medium', 'fairly_low', 'low'])), name='confidencerating_level_valid'),
        ),
        migrations.AddConstraint(
            model_name='confidencerating',
            constraint=models.CheckConstraint(condition=models.Q(('quarter__month__in', (1, 4, 7, 10)), ('quarter__day', 1)), name='confidencerating_quarter_first_day'),
        ),
        migrations.AddConstraint(
            model_name='confidencerating',
            constraint=models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='confidencerating_reason_given'),
        ),
        migrations.AddConstraint(
            model_name='stocktakepack',
            constraint=models.CheckConstraint(condition=models.Q(('state__in', ['draft', 'held'])), name='stocktakepack_state_valid'),
        ),
        migrations.AddConstraint(
            model_name='stocktakepack',
            constraint=models.CheckConstraint(condition=models.Q(('state', 'draft'), models.Q(('contents__isnull', False), ('held_at__isnull', False)), _connector='OR'), name='stocktakepack_held_is_frozen'),
        ),
        migrations.AddConstraint(
            model_name='stocktakepack',
            constraint=models.CheckConstraint(condition=models.Q(('previous', models.F('pk')), _negated=True), name='stocktakepack_not_own_previous'),
        ),
        migrations.RunPython(install_trigger, remove_trigger),
    ]
