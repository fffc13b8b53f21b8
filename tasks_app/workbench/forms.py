"""The workbench's filter bar and its bulk actions: they check the input's shape only."""

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from tasks_app.models import Department, Light, Plan, Role, TaskStatus, User
from tasks_app.workbench.selectors import SEARCH_MAX_LENGTH, SORTS, WorkbenchQuery

FILTER_NAMES = (
    "q",
    "status",
    "light",
    "unreceived",
    "returned",
    "due_this_month",
    "department",
    "leader",
    "sort",
)
_EMPTY = [("", _("全部"))]


def within_governments(form: forms.Form, government_ids: list[int]) -> None:
    """The form's choices of departments, leaders and plans: the user's governments' only (an
    id of another government is dropped like any unreadable value)."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = field.queryset.filter(government_id__in=government_ids)


class WorkbenchFilterForm(forms.Form):
    """The filter bar; a value it cannot read is dropped, not refused (a stale bookmark still
    opens the list)."""

    q = forms.CharField(label=_("搜索"), required=False, max_length=SEARCH_MAX_LENGTH)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=_EMPTY + TaskStatus.choices)
    light = forms.ChoiceField(label=_("亮灯"), required=False, choices=_EMPTY + Light.choices)
    unreceived = forms.BooleanField(label=_("未签收"), required=False)
    returned = forms.BooleanField(label=_("被退回"), required=False)
    due_this_month = forms.BooleanField(label=_("本月到期"), required=False)
    department = forms.ModelChoiceField(
        label=_("牵头单位"), required=False, queryset=Department.objects.order_by("name")
    )
    leader = forms.ModelChoiceField(
        label=_("责任领导"),
        required=False,
        queryset=User.objects.filter(role=Role.LEADER).order_by("display_name", "username"),
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[("", "")] + [(s, s) for key in SORTS for s in (key, f"-{key}")],
    )

    def __init__(self, data: QueryDict, *, see_all: bool, government_ids: list[int]):
        super().__init__({name: data.get(name, "") for name in FILTER_NAMES if name in data})
        self.see_all = see_all
        if not see_all:  # a department's list is its own: no department or leader filter
            del self.fields["department"]
            del self.fields["leader"]
        within_governments(self, government_ids)
        self.is_valid()

    def query(self) -> WorkbenchQuery:
        data = self.cleaned_data
        return WorkbenchQuery(
            q=(data.get("q") or "").strip(),
            status=data.get("status") or "",
            light=data.get("light") or "",
            unreceived=bool(data.get("unreceived")),
            returned=bool(data.get("returned")),
            due_this_month=bool(data.get("due_this_month")),
            department=data["department"].pk if data.get("department") else None,
            leader=data["leader"].pk if data.get("leader") else None,
            sort=data.get("sort") or "",
        )

    def query_string(self, *, with_sort: bool = True) -> str:
        """The valid filters as a query string: for links, the pager and saved filters."""
        query = QueryDict(mutable=True)
        for name, value in self.cleaned_data.items():
            if name == "sort" and not with_sort:
                continue
            if isinstance(value, bool):
                if value:
                    query[name] = "1"
            elif hasattr(value, "pk"):
                query[name] = str(value.pk)
            elif value:
                query[name] = value
        return query.urlencode()


BULK_MAX_TASKS = 500


def ticked_task_ids(data: QueryDict) -> list[int]:
    """The ids of the rows ticked for a bulk action; ValidationError (Chinese) when none or too
    many are ticked, or one is not an id."""
    values = data.getlist("task")
    if not values:
        raise forms.ValidationError(_("请先勾选任务。"), code="required")
    if len(values) > BULK_MAX_TASKS or not all(
        str(v).isascii() and str(v).isdigit() for v in values
    ):
        raise forms.ValidationError(
            _("勾选的任务有误(一次最多%(n)s项)。") % {"n": BULK_MAX_TASKS}, code="invalid"
        )
    return sorted({int(v) for v in values})


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("筛选名称"), max_length=40)
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)


class ReviewQueueFilterForm(forms.Form):
    """The review queue's filters: lead department, plan, with or without evidence."""

    department = forms.ModelChoiceField(
        label=_("牵头单位"), required=False, queryset=Department.objects.order_by("name")
    )
    plan = forms.ModelChoiceField(
        label=_("计划"), required=False, queryset=Plan.objects.order_by("-year", "title")
    )
    evidence = forms.ChoiceField(
        label=_("佐证材料"),
        required=False,
        choices=[("", _("全部")), ("yes", _("有佐证材料")), ("no", _("无佐证材料"))],
    )

    def __init__(self, data: QueryDict, *, government_ids: list[int]):
        super().__init__({name: data.get(name, "") for name in ("department", "plan", "evidence")})
        within_governments(self, government_ids)
        self.is_valid()

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "department": data["department"].pk if data.get("department") else None,
            "plan": data["plan"].pk if data.get("plan") else None,
            "evidence": {"yes": True, "no": False}.get(data.get("evidence") or ""),
        }
