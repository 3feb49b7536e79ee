"""Statements sent together (`run_together`): each keeps its own result, and on PostgreSQL
they cost one round trip."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from releasenow.lib.prepared import run_together

pytestmark = pytest.mark.django_db(transaction=True)

INSERT = "INSERT INTO auth_group (name) VALUES (%s) ON CONFLICT DO NOTHING"
SELECT = "SELECT name FROM auth_group WHERE name = %s"


def test_each_statement_gives_its_rowcount_and_rows_and_sees_the_ones_before():
    statements = [(INSERT, ["press"]), (SELECT, ["press"])]
    assert run_together(statements) == [(1, []), (1, [("press",)])]
    assert run_together(statements) == [(0, []), (1, [("press",)])]  # the conflict ignored


def test_on_postgresql_they_travel_as_one_query_elsewhere_one_by_one():
    with CaptureQueriesContext(connection) as queries:
        run_together([(INSERT, ["staff"]), (SELECT, ["staff"]), (SELECT, ["nobody"])])
    assert len(queries) == (1 if connection.vendor == "postgresql" else 3)


def test_a_failing_statement_fails_the_transaction_and_keeps_nothing():
    with pytest.raises(DatabaseError), transaction.atomic():
        run_together([(INSERT, ["lost"]), ("SELECT no_such_column FROM auth_group", [])])
    assert run_together([(SELECT, ["lost"])]) == [(0, [])]
