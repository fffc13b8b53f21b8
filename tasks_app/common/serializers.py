import datetime as dt
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tasks_app.models import (
    Department,
    User,
)

NARRATIVE_MAX = 5000


_HTML = re.compile(r"<\s*[a-zA-Z!/?]")


def reject_html(value: str) -> str:
    if _HTML.search(value):
        raise serializers.ValidationError(
            _("内容不能包含 HTML 标签或脚本。"), code="html_not_allowed"
        )
    return value


@extend_schema_field(
    {"type": "string", "pattern": r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$", "example": "2020-03"}
)
class PeriodField(serializers.Field):
    """A reporting period written YYYY-MM, stored as the month's first day."""

    default_error_messages = {"invalid": _("报送期格式应为 YYYY-MM,例如 2020-03。")}

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}", data):
            self.fail("invalid")
        try:
            return dt.date(int(data[:4]), int(data[5:]), 1)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value):
        return value.strftime("%Y-%m")


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^-?([0-9]{1,14}(\.[0-9]{0,4})?|\.[0-9]{1,4})$",
        "example": "120.5",
    }
)
class IndicatorNumberField(serializers.DecimalField):
    """An indicator's value as text: up to 14 digits before the point and 4 after (the column's
    18,4). drf-spectacular's own pattern lets "", "-" and "." through, which are no number."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=4, **kwargs)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every error response: a stable code, a Chinese message, and field errors when any."""

    code = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.DictField(child=ErrorDetailSerializer(many=True), required=False)


# --- Output ---------------------------------------------------------------------------------


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]


class UserRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__")

    class Meta:
        model = User
        fields = ["id", "username", "name"]


MAX_ID = 2**63 - 1  # BigAutoField: a larger number names no row and must not reach the database


def IdField(**kwargs) -> serializers.IntegerField:  # noqa: N802 (a field, named like one)
    """A row id in a request: a positive 64-bit integer (400 outside it, never a database error)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)
