"""The counter stays exact under concurrent confirmations and withdrawals, on SQLite and
PostgreSQL alike (CI runs this file against both)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Sum

from signatures.models import CountryCount, Signature
from signatures.tests.conftest import OLGA, make_signature

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(function, items, workers=8):
    def run(item):
        try:
            return function(item)
        finally:
            connection.close()  # each thread has its own connection

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, items))


def test_concurrent_confirmations_and_withdrawals_keep_the_count_exact(manifesto):
    signatures = [
        make_signature(manifesto, f"Signer {i}", confirm=False, country="PL" if i % 2 else "DE")
        for i in range(40)
    ]
    # Every signature confirmed twice at once: each counts once.
    results = in_threads(lambda s: s.confirm(), signatures + signatures)
    assert results.count(True) == 40
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 40

    # Withdrawals racing with repeated confirmations and with each other.
    leaving = signatures[:15]
    in_threads(lambda job: job[0].withdraw() if job[1] == "w" else job[0].confirm(),
               [(s, "w") for s in leaving] * 2 + [(s, "c") for s in signatures])  # fmt: skip
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 25
    assert Signature.objects.counted().count() == 25
    per_country = {c.country: c.count for c in CountryCount.objects.filter(petition=manifesto)}
    assert per_country == {
        "PL": Signature.objects.counted().filter(country="PL").count(),
        "DE": Signature.objects.counted().filter(country="DE").count(),
    }
    assert CountryCount.objects.aggregate(total=Sum("count"))["total"] == 25


def test_concurrent_submissions_of_one_address_make_one_signature(manifesto):
    def submit(_):
        return Signature.submit(
            manifesto, dict(OLGA), language="en", challenge_passed=False, held=False
        )

    results = in_threads(submit, range(8))
    assert Signature.objects.count() == 1
    assert sum(created for _s, created in results) == 1


def test_the_count_shown_is_read_from_the_counter_not_counted(
    manifesto, client, django_assert_max_num_queries
):
    for i in range(5):
        make_signature(manifesto, f"Signer {i}")
    with django_assert_max_num_queries(20) as queries:
        html = client.get("/api/v1/petitions/manifesto/").content.decode()
    assert '"signature_count": 5' in html
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
