"""One target of a draft item as the office edits it: name, target value (and upper bound of a
range), unit and comparator, checked against what an Indicator row can hold."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from tasks_app.common.errors import ServiceError
from tasks_app.importer.indicators import fold
from tasks_app.models import Comparator, Indicator

NAME_MAX = Indicator._meta.get_field("name").max_length
UNIT_MAX = Indicator._meta.get_field("unit").max_length
CLAUSE_MAX = Indicator._meta.get_field("source_text").max_length
_TARGET_FIELD = Indicator._meta.get_field("target_value")
INTEGER_DIGITS = _TARGET_FIELD.max_digits - _TARGET_FIELD.decimal_places
KIND_OF = {
    "growth": "growth",
    "between": "range",
    "gte": "floor",
    "gt": "floor",
    "lte": "ceiling",
    "lt": "ceiling",
    "approx": "approx",
    "eq": "level",
}
SYMBOLS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "approx": "约", "eq": "", "growth": "增长"}


def target_checked(row: dict, number: int, old: list[dict]) -> dict:
    """One checked target: name, value (value_max for a range), unit, comparator; its clause and
    kind are kept from the target it replaces when that one is judged the same way."""
    label = _("第%(n)d个指标:") % {"n": number}
    name = str(row.get("name", "")).strip()
    if not name or len(name) > NAME_MAX:
        raise ServiceError(
            "invalid_indicator_name",
            label + _("请填写指标名称(不超过%(n)d字)。") % {"n": NAME_MAX},
            field="indicators",
        )
    comparator = str(row.get("comparator", ""))
    if comparator not in Comparator.values:
        raise ServiceError("invalid_comparator", label + _("请选择比较方式。"), field="indicators")
    value = _number(row.get("value"), label)
    high = _number(row.get("value_max"), label) if str(row.get("value_max") or "").strip() else None
    _check_range(comparator, value, high, label)
    unit = str(row.get("unit", "")).strip()
    if len(unit) > UNIT_MAX:
        raise ServiceError(
            "invalid_unit",
            label + _("单位不超过%(n)d字。") % {"n": UNIT_MAX},
            field="indicators",
        )
    spec = {
        "name": name,
        "value": _plain(value),
        "value_max": _plain(high) if high is not None else None,
        "unit": unit,
        "comparator": comparator,
    }
    original = _original(row.get("source"), old)
    same_judgement = original is not None and original.get("comparator") == comparator
    spec["kind"] = (original.get("kind") if same_judgement else "") or KIND_OF[comparator]
    spec["text"] = (original or {}).get("text") or _clause(spec)
    return spec


def _number(raw, label: str) -> Decimal:
    text = fold(str(raw or "")).strip().replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    places = _TARGET_FIELD.decimal_places
    if value is None or not value.is_finite() or value.as_tuple().exponent < -places:
        raise ServiceError(
            "invalid_value",
            label + _("目标值须为数字,最多%(p)d位小数。") % {"p": places},
            field="indicators",
        )
    if abs(value) >= Decimal(10) ** INTEGER_DIGITS:
        raise ServiceError(
            "invalid_value",
            label + _("目标值整数部分不超过%(n)d位。") % {"n": INTEGER_DIGITS},
            field="indicators",
        )
    return value


def _check_range(comparator: str, value: Decimal, high: Decimal | None, label: str) -> None:
    if comparator == Comparator.BETWEEN and (high is None or high < value):
        raise ServiceError(
            "invalid_range", label + _("区间须填写上限,且不小于下限。"), field="indicators"
        )
    if comparator != Comparator.BETWEEN and high is not None:
        raise ServiceError("invalid_range", label + _("只有“区间”才填写上限。"), field="indicators")


def _original(source, old: list[dict]) -> dict | None:
    try:
        index = int(source)
    except (TypeError, ValueError):
        return None
    return old[index] if 0 <= index < len(old) else None


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _clause(spec: dict) -> str:
    if spec["comparator"] == Comparator.BETWEEN:
        target = f"{spec['value']}-{spec['value_max']}{spec['unit']}"
    else:
        target = f"{SYMBOLS[spec['comparator']]}{spec['value']}{spec['unit']}"
    return f"{spec['name']}{target}"[:CLAUSE_MAX]
