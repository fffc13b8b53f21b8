"""The ledger in words an auditor reads: Chinese labels for action codes, object types, fields,
roles and values. The codes themselves stay in the ledger (they are hashed) and are shown and
exported beside their labels.

Every code gets a Chinese label, also one this table has never seen: an action
"<kind>.<verb>" (the generic create/update/delete events, and "<kind>.<insert|update|delete>.sql"
written by the capture triggers) is named after its object's model and its verb, and anything
else is "其他操作" after its object. Labels are read at display time, so a new label applies to
old events too.
"""

import json
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from tasks_app.models import Role

ACTION_LABELS = {
    # Tasks and the register
    "task.assign": _("分配任务"),
    "task.receive": _("签收任务"),
    "task.co_departments": _("设置配合单位"),
    "task.state_of_record": _("更新任务状态(报送通过)"),
    "task.deadline_change": _("变更完成时限"),
    "indicator.actual": _("更新指标实际值"),
    "indicator.target_change": _("变更目标值"),
    "plan.publish": _("发布计划"),
    "calendar.load": _("载入工作日历"),
    # Reports, reviews, evidence
    "status_update.submit": _("报送进展"),
    "status_update.resubmit": _("退回后重新报送"),
    "status_update.correct": _("修改报送"),
    "status_update.indicator_values": _("报送指标值"),
    "status_update.accepted": _("审核通过"),
    "status_update.returned": _("审核退回"),
    "status_update.review_state": _("更新审核状态"),
    "status_update.signoff_approved": _("部门负责人同意报送"),
    "status_update.signoff_returned": _("部门负责人退回报送"),
    "evidence.attach": _("上传佐证材料"),
    "contribution.submit": _("报送配合情况"),
    "instruction.create": _("领导批示"),
    "instruction.read": _("阅知批示"),
    "instruction.feedback": _("落实反馈"),
    "change_request.create": _("提交变更申请"),
    "change_request.approved": _("批准变更申请"),
    "change_request.rejected": _("驳回变更申请"),
    # Reminders
    "chase.create": _("催办"),
    "notification.read": _("阅读通知"),
    "delivery.sent": _("消息发送成功"),
    "delivery.failed": _("消息发送失败"),
    "delivery.retry": _("消息发送待重试"),
    "reminders.decide": _("生成提醒"),
    "reminders.assemble": _("汇总提醒摘要"),
    # Accounts
    "auth.login": _("登录"),
    "auth.login_failed": _("登录失败"),
    "auth.permission_denied": _("无权访问被拒绝"),
    "auth.token_issue": _("签发API令牌"),
    "auth.token_revoke": _("吊销API令牌"),
    # The ledger itself
    "audit.search": _("查询审计日志"),
    "audit.export": _("导出"),
    "audit.export.completed": _("导出完成"),
    "audit.download": _("下载导出文件"),
    "audit.verify": _("完整性校验"),
    # Imports
    "importdraft.create": _("导入报告草稿"),
    "importdraft.publish": _("发布导入草稿"),
    "importdraft.edit": _("编辑导入草稿"),
    # Plans' rules, bulletins, stocktakes, ratings, public progress
    "plan.rules": _("设置减负规则(红黑榜、完成佐证)"),
    "bulletin_series.create": _("设置督查通报文号"),
    "bulletin_series.update": _("修改督查通报文号"),
    "bulletin.draft": _("起草督查通报"),
    "bulletin.update": _("修改督查通报草稿"),
    "bulletin.issue": _("印发督查通报"),
    "stocktake.prepare": _("准备调度会材料"),
    "stocktake.hold": _("召开调度会(材料定稿)"),
    "stocktake.decide": _("记录议定事项"),
    "rating.create": _("评定把握度"),
    "rating.update": _("修改把握度"),
    "rating.quarter_close": _("关闭季度把握度评定"),
    "public_snapshot.publish": _("公开进展快照"),
    # The workbench
    "saved_filter.create": _("保存筛选"),
    "saved_filter.update": _("修改保存的筛选"),
    "saved_filter.delete": _("删除保存的筛选"),
}

# The action filter's prefixes (everything about one kind of object).
ACTION_PREFIXES = (
    "task",
    "status_update",
    "evidence",
    "instruction",
    "change_request",
    "auth",
    "audit",
)

VERB_LABELS = {
    "create": _("新建"),
    "insert": _("新增"),
    "update": _("修改"),
    "delete": _("删除"),
    "update_related": _("修改关联项"),
}

# Object types that are not models, and model names spelled differently in action codes.
OBJECT_LABELS = {
    "ledger": _("审计日志"),
    "progress": _("进展日志"),
    "export": _("导出"),
    "auth": _("账号"),
    "audit": _("审计"),
    "status_update": _("进展报送"),
    "change_request": _("变更申请"),
    "saved_filter": _("保存的筛选"),
    "chase": _("催办"),
    "task_co_departments": _("任务配合单位"),
    "reminders": _("提醒"),
    "calendar": _("工作日历"),
    "token": _("API令牌"),
}

# Keys of before/after that are not model fields.
FIELD_LABELS = {
    "filters": _("筛选条件"),
    "before": _("分页位置"),
    "kind": _("内容"),
    "format": _("格式"),
    "background": _("后台导出"),
    "ok": _("校验结果"),
    "checked": _("校验条数"),
    "broken_seq": _("断裂位置"),
    "file_sha256": _("文件SHA-256"),
    "row_count": _("行数"),
    "first_seq": _("首条序号"),
    "last_seq": _("末条序号"),
    "indicators": _("指标"),
    "username": _("用户名"),
    "path": _("访问路径"),
    "method": _("请求方法"),
    "reason": _("原因"),
    "ids": _("编号"),
    "count": _("数量"),
    "year": _("年度"),
    "days": _("天数"),
    "task": _("任务"),
    "plan": _("计划"),
    "department": _("部门"),
    "action": _("操作"),
    "date_from": _("开始日期"),
    "date_to": _("结束日期"),
    "task_code": _("任务编号"),
    "section": _("方面"),
}

SQL_SUFFIX = _("(数据库直接修改)")
OTHER_ACTION = _("其他操作")


def _model(kind: str) -> type[models.Model] | None:
    try:
        return apps.get_model("tasks_app", kind.replace("_", ""))
    except LookupError:
        return None


def object_label(kind: str) -> str:
    """An object type (a model name, or a word such as "ledger") in Chinese."""
    if kind in OBJECT_LABELS:
        return str(OBJECT_LABELS[kind])
    model = _model(kind) if kind else None
    return str(model._meta.verbose_name) if model is not None else str(_("对象"))


def action_label(code: str) -> str:
    """An action code in Chinese; never the bare code."""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    parts = code.split(".")
    sql = parts[-1] == "sql"
    if sql:
        parts = parts[:-1]
    kind, verb = parts[0], parts[1] if len(parts) > 1 else ""
    if verb in VERB_LABELS:
        label = f"{VERB_LABELS[verb]}{object_label(kind)}"
    else:
        label = f"{OTHER_ACTION}({object_label(kind)})"
    return label + (str(SQL_SUFFIX) if sql else "")


def role_label(code: str, username: str = "") -> str:
    if code in Role.values:
        return str(Role(code).label)
    if username.startswith("db:"):
        return str(_("数据库账号"))
    return str(_("系统"))


def field_label(kind: str, name: str) -> str:
    """A before/after key of an event about `kind`, in Chinese (the model field's own name)."""
    model = _model(kind) if kind else None
    if model is not None:
        try:
            return str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            pass
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    if name.isdigit():
        return str(_("指标 %(id)s") % {"id": name})
    return str(_("其他字段"))


def _related_names(field: models.Field, values: list) -> str:
    related = field.related_model
    ids = [v for v in values if isinstance(v, int | str) and str(v).isdigit()]
    found = {str(o.pk): str(o) for o in related._default_manager.filter(pk__in=ids)}
    return "、".join(found.get(str(v), f"#{v}") for v in values)


def value_text(kind: str, name: str, value: Any) -> str:
    """A before/after value as people read it: a person or department by name, a choice by its
    label, yes/no; the stored value itself when there is nothing better."""
    if value is None or value == "":
        return "—"
    model = _model(kind) if kind else None
    field = None
    if model is not None:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
    if field is not None and field.is_relation and field.related_model is not None:
        return _related_names(field, value if isinstance(value, list) else [value])
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
    if field is not None and field.choices and isinstance(value, str):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
