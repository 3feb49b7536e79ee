from contextlib import contextmanager

import pytest
from django.db import connection


@contextmanager
def unreachable_database():
    """Point the real connection at a database that cannot be reached, then restore it."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/dir/releasenow.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db
def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_when_the_database_does_not(client):
    with unreachable_database():
        response = client.get("/healthz")
    assert response.status_code == 503
