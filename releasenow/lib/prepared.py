"""Statements compiled before a transaction begins and only run inside it.

On SQLite a write transaction holds the database's single write lock, and Django compiling a
query costs about ten times what SQLite takes to run it. The sign request therefore compiles its
INSERT before BEGIN and runs plain SQL while it holds the lock (see `signatures.views.submit`).
On PostgreSQL it saves the same CPU time, and row locks are held for less time; there each
statement is also a round trip to the server, so statements that follow each other are sent
together (`run_together`).
"""

from __future__ import annotations

from django.db import connections, models
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


class PreparedInsert:
    """One row's INSERT as the ORM writes it (`bulk_create`: defaults and conversions included),
    with chosen columns left to fill in when it runs. The SQL text, and the columns' default
    values converted for the database, are kept once per model and process (`_Template`): a row
    converts only its values that differ from a new instance's (on a viral day each sign
    request inserts two rows of two dozen columns, most of them left at their default)."""

    def __init__(
        self, obj: models.Model, *, ignore_conflicts: bool = False, using: str = "default"
    ) -> None:
        connection = connections[using]
        template = _template(type(obj), obj.pk is None, ignore_conflicts, using)
        self.using = using
        self.fields = template.fields
        self.position = template.position
        self.sql = template.sql
        self.params = list(template.params)
        for i, f in enumerate(self.fields):
            value = f.pre_save(obj, True) if i in template.own_pre_save else getattr(obj, f.attname)
            if value is not template.values[i] and value != template.values[i]:
                self.params[i] = f.get_db_prep_save(value, connection)

    def statement(self, **values) -> tuple[str, list]:
        """The SQL and its parameters, with `values` (by attribute name) in place of the
        prepared ones."""
        connection = connections[self.using]
        params = list(self.params)
        for name, value in values.items():
            i = self.position[name]
            params[i] = self.fields[i].get_db_prep_save(value, connection)
        return self.sql, params

    def execute(self, **values) -> int:
        """Run it (see `statement`); returns the number of rows inserted (0 when a conflict
        was ignored)."""
        [(inserted, _rows)] = run_together([self.statement(**values)], using=self.using)
        return inserted


def run_together(statements: list[tuple[str, list]], using: str = "default") -> list[tuple]:
    """Run `statements` ((sql, params) each) in order; returns (rows written or read, rows)
    for each.

    On PostgreSQL they travel as one query of several statements: one round trip instead of
    one each (psycopg's client-side binding, Django's default, sends such a query by the simple
    protocol; each statement still sees what the ones before it did). Elsewhere, and with
    server-side binding, which takes one statement at a time, they run one by one: SQLite runs
    in the process, with no round trip to save."""
    connection = connections[using]
    results = []
    with connection.cursor() as cursor:
        if len(statements) > 1 and _client_side_binding(cursor):
            cursor.execute(
                "; ".join(sql for sql, _params in statements),
                [value for _sql, params in statements for value in params],
            )
            for i in range(len(statements)):
                if i:
                    cursor.nextset()
                results.append(_result(cursor))
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(_result(cursor))
    return results


def _result(cursor) -> tuple[int, list]:
    """(rows written, []) for a write; (rows read, the rows) for a query."""
    if cursor.description is None:
        return cursor.rowcount, []
    rows = cursor.fetchall()
    return len(rows), rows


def _client_side_binding(cursor) -> bool:
    try:
        from psycopg import ClientCursor
    except ImportError:
        return False
    return isinstance(cursor.cursor, ClientCursor)


class _Template:
    """A model's INSERT compiled once per process, with a new instance's values (`values`) and
    what they become in the database (`params`). Callable defaults (a UUID, the time) differ in
    every instance, so they are converted for every row."""

    def __init__(self, model, without_pk: bool, ignore_conflicts: bool, using: str) -> None:
        connection = connections[using]
        new = model()
        self.fields = [f for f in model._meta.concrete_fields if not (f.primary_key and without_pk)]
        self.position = {f.attname: i for i, f in enumerate(self.fields)}
        # Fields that compute their value on save (auto_now, …), not read from the instance.
        self.own_pre_save = frozenset(i for i, f in enumerate(self.fields) if _computes_on_save(f))
        self.values = [f.pre_save(new, True) for f in self.fields]
        self.params = [
            f.get_db_prep_save(v, connection) for f, v in zip(self.fields, self.values, strict=True)
        ]
        query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
        query.insert_values(self.fields, [new])
        [(self.sql, params)] = query.get_compiler(using=using).as_sql()
        if len(params) != len(self.fields):  # a value that is an SQL expression
            raise ValueError(f"{model.__name__}: cannot prepare an INSERT with expressions")


def _computes_on_save(field: models.Field) -> bool:
    if isinstance(field, models.DateField):  # DateTimeField too
        return field.auto_now or field.auto_now_add
    return type(field).pre_save is not models.Field.pre_save


_templates: dict[tuple, _Template] = {}


def _template(model, without_pk: bool, ignore_conflicts: bool, using: str) -> _Template:
    key = (model, without_pk, ignore_conflicts, using, connections[using].vendor)
    if key not in _templates:
        _templates[key] = _Template(model, without_pk, ignore_conflicts, using)
    return _templates[key]
