"""Bulk loading through PostgreSQL COPY: rows as dicts, ids allocated up front, no ORM per row."""

import io
import json
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, models


def _text(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, datetime | date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = format(value, "f")
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(model: type[models.Model], rows: list[dict]) -> int:
    """COPY rows into model's table; missing fields take the model's defaults."""
    if not rows:
        return 0
    fields = [f for f in model._meta.concrete_fields]
    buffer = io.StringIO()
    defaults = {
        f.attname: (f.get_default() if f.has_default() or not f.null else None)
        for f in fields
        if not (isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add))
    }
    for row in rows:
        line = []
        for f in fields:
            if f.attname in row:
                value = row[f.attname]
            elif f.name in row:
                value = row[f.name]
            elif f.attname in defaults:
                value = defaults[f.attname]
            else:  # auto_now timestamps
                value = datetime(2026, 1, 1)
            line.append(_text(value))
        buffer.write("\t".join(line) + "\n")
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN",
            buffer,
        )
    return len(rows)


def next_id(model: type[models.Model]) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def reset_sequences(*model_list: type[models.Model]) -> None:
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
