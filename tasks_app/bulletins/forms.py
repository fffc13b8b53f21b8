from django import forms
from django.utils.translation import gettext_lazy as _

from tasks_app.models import Bulletin


class SeriesForm(forms.Form):
    number_pattern = forms.CharField(label=_("文号格式"), max_length=60)
    issuing_office = forms.CharField(label=_("印发单位"), max_length=100)


class DraftForm(forms.Form):
    as_of = forms.DateField(
        label=_("统计日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    opinion = forms.CharField(
        label=_("督查意见"),
        required=False,
        max_length=Bulletin._meta.get_field("opinion").max_length,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
