"""A database outage: signing answers the 503 "please try again" page, never a 500."""

import threading

import pytest
from django.db import connection, connections

from releasenow.tests.test_healthz import unreachable_database
from signatures.models import Signature
from signatures.tests.conftest import sign

pytestmark = pytest.mark.django_db(transaction=True)


def test_signing_during_a_database_outage_answers_503_and_stores_nothing(client, manifesto):
    client.raise_request_exception = False
    with unreachable_database():
        response = sign(client)
        page = client.get("/en/manifesto/")
        health = client.get("/healthz")
    assert response.status_code == 503
    assert response["Retry-After"]
    html = response.content.decode()
    assert "Your signature could not be saved just now" in html
    assert 'href="/en/manifesto/#sign"' in html
    assert page.status_code == 503 and "please try again in a minute" in page.content.decode()
    assert health.status_code == 503
    assert not Signature.objects.exists()
    assert sign(client).status_code == 302  # back again: signing works
    assert Signature.objects.count() == 1


def test_the_503_page_is_in_the_visitors_language(client, manifesto):
    client.raise_request_exception = False
    with unreachable_database():
        response = sign(client, language="de")
    assert response.status_code == 503
    assert 'lang="de"' in response.content.decode()


def another_session(**options):
    """A PostgreSQL session of its own on the test database, beside Django's connection."""
    import psycopg

    params = connection.get_connection_params()
    dsn = {k: v for k, v in params.items() if k in {"dbname", "user", "host", "port", "password"}}
    return psycopg.connect(**dsn, **options)


def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the connection health check runs on PostgreSQL only")


def test_a_kept_connection_that_died_is_replaced_and_the_signature_stored(client, manifesto):
    """A database restart kills the connections the web processes keep: the first signer of
    each gets a new one, as Django's health check would have given, not an error page."""

    postgresql_only()
    connection.ensure_connection()
    with another_session(autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    connection.health_check_done = False  # as at the start of a request
    response = sign(client)
    assert response.status_code == 302
    assert Signature.objects.count() == 1


def test_a_sign_post_sends_no_separate_health_check(client, manifesto, monkeypatch):
    """The petition's read is the check: Django's `SELECT 1` first would be one more round
    trip for every signer."""
    checks = []
    monkeypatch.setattr(
        type(connections["default"]), "is_usable", lambda self: checks.append(1) or True
    )
    connection.ensure_connection()
    connection.health_check_done = False
    assert sign(client).status_code == 302
    assert checks == []
    assert Signature.objects.count() == 1


def test_a_signer_held_up_by_a_lock_past_the_statement_timeout_gets_503(client, manifesto):
    """A lock held elsewhere (a staff bulk change, a long migration) would otherwise keep each
    signer's web thread waiting as long as it lasts. With DATABASE_STATEMENT_TIMEOUT, which the
    web server sets, PostgreSQL cancels the wait: the "please try again" page, nothing stored."""

    postgresql_only()
    client.raise_request_exception = False
    options = connection.settings_dict.setdefault("OPTIONS", {})
    before = options.get("options")
    connection.close()
    options["options"] = "-c statement_timeout=300"  # what settings.py makes of the variable
    try:
        connection.ensure_connection()
        with another_session() as other:
            other.execute("LOCK TABLE signatures_signature IN ACCESS EXCLUSIVE MODE")
            # Without the timeout the signer would wait for this, then sign (302): a failure,
            # not a test that hangs.
            release = threading.Timer(10, other.rollback)
            release.start()
            try:
                response = sign(client)
            finally:
                release.cancel()
            other.rollback()
    finally:
        connection.close()
        if before is None:
            del options["options"]
        else:
            options["options"] = before
    assert response.status_code == 503
    assert "Your signature could not be saved just now" in response.content.decode()
    assert not Signature.objects.exists()
    assert sign(client).status_code == 302
