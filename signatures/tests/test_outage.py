"""A database outage: signing answers the 503 "please try again" page, never a 500."""

import pytest

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
