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


def stored(model, pk) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    return {k: v for k, v in row.items() if k not in ("id", "key", "slug")}


def test_a_prepared_row_is_stored_as_the_orm_stores_it_defaults_and_all():
    from datetime import UTC, datetime

    from mail.models import OutgoingMail
    from releasenow.lib.prepared import PreparedInsert

    when = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    for key, values in [("a", {}), ("b", {"attempts": 3, "kind": "confirm", "created_at": when})]:
        prepared = PreparedInsert(OutgoingMail(key=f"prepared-{key}", **values))
        (inserted, _), (_, [(pk,)]) = run_together([
            prepared.statement(ref="signature:7"),
            ("SELECT id FROM mail_outgoingmail WHERE key = %s", [f"prepared-{key}"]),
        ])  # fmt: skip
        saved = OutgoingMail.objects.create(key=f"saved-{key}", ref="signature:7", **values)
        mine, orms = stored(OutgoingMail, pk), stored(OutgoingMail, saved.pk)
        for name in ("created_at", "next_attempt_at"):  # the time now, for each row its own
            if name not in values:
                assert abs(mine.pop(name) - orms.pop(name)).total_seconds() < 5
        assert inserted == 1 and mine == orms


def test_a_field_that_sets_itself_on_save_is_set_anew_for_every_row():
    import time

    from django.utils import timezone

    from campaigns.models import Petition
    from releasenow.lib.prepared import PreparedInsert

    times = [timezone.now()]
    for slug in ("first", "second"):
        time.sleep(0.01)
        run_together([PreparedInsert(Petition(slug=slug)).statement()])
        times.append(timezone.now())
    first, second = (Petition.objects.get(slug=slug) for slug in ("first", "second"))
    assert times[0] < first.updated_at < times[1] < second.updated_at < times[2]
    assert stored(Petition, first.pk) == {
        **stored(Petition, second.pk),
        "updated_at": first.updated_at,
    }
