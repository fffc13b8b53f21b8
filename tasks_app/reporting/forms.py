"""Workbench forms: they check the shape of the input; services check the rules."""

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from tasks_app.common.errors import ServiceError
from tasks_app.models import Indicator, TaskStatus

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# Service error fields that are named differently on the forms.
_FIELD_ALIASES = {"file": "evidence", "indicator_values": None}


class MonthField(forms.CharField):
    """A month as "YYYY-MM" (what <input type="month"> sends), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2020-03"})
    default_error_messages = {"invalid": _("请按“年-月”填写报送期,例如 2020-03。")}

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        match = _MONTH.match(value)
        try:
            return dt.date(int(match[1]), int(match[2]), 1)
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def prepare_value(self, value):
        return value.strftime("%Y-%m") if isinstance(value, dt.date) else value


def add_service_error(form: forms.Form, error: ServiceError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    field = _FIELD_ALIASES.get(error.field, error.field)
    form.add_error(field if field in form.fields else None, str(error.message))


class _IndicatorValuesMixin:
    """One optional decimal input per indicator of the task, named indicator_<id>."""

    def add_indicator_fields(self, indicators: list[Indicator]) -> None:
        self.indicators = indicators
        for indicator in indicators:
            label = indicator.name + (f"({indicator.unit})" if indicator.unit else "")
            self.fields[f"indicator_{indicator.pk}"] = forms.DecimalField(
                label=label,
                required=False,
                max_digits=18,
                decimal_places=4,
                widget=forms.NumberInput(attrs={"step": "any"}),
            )

    def indicator_values(self) -> dict:
        values = {}
        for indicator in self.indicators:
            value = self.cleaned_data.get(f"indicator_{indicator.pk}")
            if value is not None:
                values[indicator.pk] = value
        return values


class ReportForm(_IndicatorValuesMixin, forms.Form):
    period = MonthField(label=_("报送期"))
    status = forms.ChoiceField(label=_("状态"), choices=TaskStatus.choices)
    progress = forms.IntegerField(label=_("进度(%)"), min_value=0, max_value=100)
    narrative = forms.CharField(
        label=_("进展情况"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    explanation = forms.CharField(
        label=_("情况说明(红灯任务必填:滞后原因和下一步措施)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    evidence = forms.FileField(label=_("佐证材料(可选)"), required=False)

    def __init__(self, *args, indicators: list[Indicator] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_indicator_fields(list(indicators))


class CorrectionForm(_IndicatorValuesMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("状态"), choices=TaskStatus.choices)
    progress = forms.IntegerField(label=_("进度(%)"), min_value=0, max_value=100)
    narrative = forms.CharField(
        label=_("进展情况"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    explanation = forms.CharField(
        label=_("情况说明(红灯任务必填:滞后原因和下一步措施)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    evidence = forms.FileField(label=_("补充佐证材料(可选)"), required=False)

    def __init__(self, *args, indicators: list[Indicator] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_indicator_fields(list(indicators))


class ContributionForm(forms.Form):
    period = MonthField(label=_("报送期"))
    narrative = forms.CharField(
        label=_("配合情况"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class InstructionForm(forms.Form):
    text = forms.CharField(
        label=_("批示内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accepted", _("通过")), ("returned", _("退回"))])
    reason = forms.CharField(
        label=_("退回理由"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
