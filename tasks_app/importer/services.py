"""Who may import, and the departments' aliases that sheets and reports name them by.

The importer's writes are in drafts.py (report text -> draft), publish.py (draft -> plan) and
breakdown_apply.py (任务分解表 -> register). Every write goes through the audited services inside
one transaction, so a failed import leaves nothing behind.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.audit import services as audit_services
from tasks_app.common import permissions
from tasks_app.common.errors import Conflict, NotPermitted, ServiceError
from tasks_app.models import (
    Department,
    DepartmentAlias,
    User,
)


def require_office(actor: User | None) -> None:
    """None is the command line (a system import); on the web only the supervision office."""
    if actor is not None and not permissions.is_office(actor):
        raise NotPermitted(_("只有督查室可以导入和发布计划。"))


# --- Department aliases -----------------------------------------------------------------------


@transaction.atomic
def department_alias_create(
    *, actor: User | None, department: Department, alias: str
) -> DepartmentAlias:
    require_office(actor)
    alias = alias.strip()
    if not alias:
        raise ServiceError("alias_required", _("请填写别名。"), field="alias")
    if actor is not None and department.government_id != actor.government_id:
        raise NotPermitted(_("只能为本级政府的部门登记别名。"))
    same_government = {"government_id": department.government_id}
    if Department.objects.filter(name=alias, **same_government).exclude(pk=department.pk).exists():
        raise Conflict(
            "alias_is_department", _("“%(alias)s”是另一个部门的名称。") % {"alias": alias}
        )
    if DepartmentAlias.objects.filter(alias=alias, **same_government).exists():
        raise Conflict("alias_exists", _("别名“%(alias)s”已存在。") % {"alias": alias})
    return audit_services.create_audited(
        actor, "departmentalias.create", DepartmentAlias, department=department, alias=alias
    )


def department_lookup(*, government_id: int) -> dict[str, Department]:
    """Exact names and aliases -> Department, within one government."""
    names = {
        department.name: department
        for department in Department.objects.filter(government_id=government_id)
    }
    for alias in DepartmentAlias.objects.filter(government_id=government_id).select_related(
        "department"
    ):
        names.setdefault(alias.alias, alias.department)
    return names
