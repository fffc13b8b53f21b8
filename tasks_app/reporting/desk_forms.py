"""Forms of the task page's desk: sign-off, 落实反馈, change requests. Shape only; services rule."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tasks_app.models import ChangeRequest, Indicator


class SignOffForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", _("同意报送")), ("returned", _("退回"))])
    reason = forms.CharField(
        label=_("审核意见(退回必填)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FeedbackForm(forms.Form):
    text = forms.CharField(
        label=_("落实反馈"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ChangeRequestForm(forms.Form):
    """A new deadline (YYYY-MM-DD) or a new target for one of the task's indicators."""

    field = forms.ChoiceField(label=_("变更项"), choices=ChangeRequest.Field.choices)
    indicator = forms.TypedChoiceField(
        label=_("指标(变更目标值时选择)"), required=False, coerce=int, empty_value=None
    )
    new_value = forms.CharField(
        label=_("新值(时限填日期,如 2020-12-31;目标值填数字)"), max_length=40
    )
    reason = forms.CharField(
        label=_("申请理由"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, indicators: list[Indicator] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = [("", "—")] + [
            (i.pk, f"{i.name}({i.target_value.normalize():f}{i.unit})") for i in indicators
        ]


class ChangeDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        choices=[("1", _("批准")), ("0", _("驳回"))], coerce=lambda v: v == "1"
    )
    note = forms.CharField(
        label=_("审批意见(驳回必填)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
