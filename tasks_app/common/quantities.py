"""Numbers as people write them: an indicator's value with its unit, never "6.0000" or "5.5E+2"."""

from decimal import Decimal

MAX_PLACES = 4  # what the indicator columns hold (DECIMAL(18, 4))


def plain_number(value: Decimal | int | float | None) -> str:
    """value without trailing zeros or an exponent: 6.0000 -> "6", 550 -> "550", 0.50 -> "0.5"."""
    if value is None:
        return ""
    value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.quantize(Decimal(1).scaleb(-MAX_PLACES)).normalize(), "f")


def format_quantity(value: Decimal | int | float | None, unit: str = "") -> str:
    """value followed by its unit as the report writes it: "6亿元", "550家", "7%"; "" for none."""
    if value is None:
        return ""
    return f"{plain_number(value)}{unit}"
