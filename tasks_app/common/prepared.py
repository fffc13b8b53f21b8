"""Look-ups by a unique field whose SQL is compiled once per process, not once per request.

Compiling a select_related queryset (Django's SQLCompiler: joins, select list, where clause)
cost 3-4 ms of Python per request on the benchmark's busy server, several times the query
itself; the API token and the task of a report's submission were two of them. A PreparedGet
compiles the queryset once per database connection alias with a sample value, and then runs
the same SQL with the value asked for, building the instances (related ones too) and applying
the field converters the way Django's ModelIterable does.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.db.models.query import get_related_populators


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: list
    position: int  # where the looked-up value goes in params
    model: type[models.Model]
    fields: slice  # the main model's columns in a row
    init_list: list[str]
    populators: list
    annotations: dict[str, int]  # annotation name -> its position in a row
    converters: list
    bounds: tuple[int, int] | None  # an integer field's range: a value outside names no row


class PreparedGet:
    """queryset().get(field=value), or None, with the SQL compiled once per alias.

    `queryset` builds the base queryset (select_related, annotations, fixed filters); `field`
    must be unique,
    so that one row at most answers. `sample` is a value of the field's type, used only to
    compile (it must not collide with any fixed filter's parameter).
    """

    def __init__(self, queryset: Callable[[], models.QuerySet], field: str, sample: Any):
        self._queryset = queryset
        self._field = field
        self._sample = sample
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        queryset = self._queryset().using(alias).filter(**{self._field: self._sample})
        field = _field(queryset.model, self._field)
        if not (field.unique or field.primary_key):
            raise ValueError(f"{self._field} is not unique")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        prepared = field.get_db_prep_value(self._sample, compiler.connection)
        positions = [i for i, value in enumerate(params) if value == prepared]
        if len(positions) != 1:
            raise ValueError(f"the sample value of {self._field} is ambiguous in {params}")
        klass_info, select = compiler.klass_info, compiler.select
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        columns = [s[0] for s in select[0 : compiler.col_count]]
        return _Compiled(
            sql=sql,
            params=params,
            position=positions[0],
            model=klass_info["model"],
            fields=slice(first, last),
            init_list=[s[0].target.attname for s in select[first:last]],
            populators=get_related_populators(klass_info, select, alias),
            annotations=dict(compiler.annotation_col_map or {}),
            converters=list(compiler.get_converters(columns).items()),
            bounds=_integer_range(field, compiler.connection),
        )

    def get(self, value: Any, *, using: str = "default") -> models.Model | None:
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(using, self._compile(using))
        connection = connections[using]
        field = _field(compiled.model, self._field)
        value = field.to_python(value)
        if compiled.bounds and not compiled.bounds[0] <= value <= compiled.bounds[1]:
            return None
        params = list(compiled.params)
        params[compiled.position] = field.get_db_prep_value(value, connection)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for position, (converters, expression) in compiled.converters:
            for converter in converters:
                row[position] = converter(row[position], expression, connection)
        obj = compiled.model.from_db(using, compiled.init_list, row[compiled.fields])
        for populator in compiled.populators:
            populator.populate(row, obj)
        for name, position in compiled.annotations.items():
            setattr(obj, name, row[position])
        return obj


def _integer_range(field, connection) -> tuple[int, int] | None:
    internal = field.get_internal_type()
    if internal not in connection.ops.integer_field_ranges:
        return None
    return connection.ops.integer_field_range(internal)


def _field(model: type[models.Model], name: str) -> models.Field:
    return model._meta.pk if name == "pk" else model._meta.get_field(name)
