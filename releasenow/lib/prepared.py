"""Statements compiled before a transaction begins and only run inside it.

On SQLite a write transaction holds the database's single write lock, and Django compiling a
query costs about ten times what SQLite takes to run it. The sign request therefore compiles its
INSERT before BEGIN and runs plain SQL while it holds the lock (see `signatures.views.submit`).
On PostgreSQL it saves the same CPU time, and row locks are held for less time.
"""

from __future__ import annotations

from django.db import connections, models
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


class PreparedInsert:
    """One row's INSERT as the ORM writes it (`bulk_create`: defaults and conversions included),
    with chosen columns left to fill in when it runs. The SQL text is compiled once per model
    and process; each row only converts its values."""

    def __init__(
        self, obj: models.Model, *, ignore_conflicts: bool = False, using: str = "default"
    ) -> None:
        connection = connections[using]
        self.using = using
        self.fields = [
            f for f in type(obj)._meta.concrete_fields if not (f.primary_key and obj.pk is None)
        ]
        self.params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in self.fields]
        self.sql = _insert_sql(type(obj), tuple(f.attname for f in self.fields), ignore_conflicts,
                               using, obj)  # fmt: skip
        self.position = {f.attname: i for i, f in enumerate(self.fields)}

    def execute(self, **values) -> int:
        """Run it with `values` (by attribute name) in place of the prepared ones; returns the
        number of rows inserted (0 when a conflict was ignored)."""
        connection = connections[self.using]
        params = list(self.params)
        for name, value in values.items():
            i = self.position[name]
            params[i] = self.fields[i].get_db_prep_save(value, connection)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            return cursor.rowcount


_compiled: dict[tuple, str] = {}


def _insert_sql(model, attnames: tuple, ignore_conflicts: bool, using: str, obj) -> str:
    key = (model, attnames, ignore_conflicts, connections[using].vendor)
    if key not in _compiled:
        fields = [model._meta.get_field(name) for name in attnames]
        query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
        query.insert_values(fields, [obj])
        [(sql, params)] = query.get_compiler(using=using).as_sql()
        if len(params) != len(fields):  # a value that is an SQL expression
            raise ValueError(f"{model.__name__}: cannot prepare an INSERT with expressions")
        _compiled[key] = sql
    return _compiled[key]
