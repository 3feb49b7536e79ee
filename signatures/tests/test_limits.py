"""Abuse limits that hold across networks and proxies, no address oracle, input limits and
cross-site posts (issue 9)."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from releasenow.lib import crypto
from signatures.models import Signature
from signatures.tests.conftest import OLGA, run_tasks, sign

pytestmark = pytest.mark.django_db(transaction=True)


def held(manifesto, email: str) -> bool:
    return Signature.find(manifesto, email).held


# Limits by network -------------------------------------------------------------------------


def test_rotating_through_an_ipv6_64_does_not_escape_the_limit(client, manifesto, settings):
    settings.SIGNING_RATE_LIMIT = "2/h"
    for i in range(3):
        sign(client, email=f"p{i}@example.org", remote_addr=f"2001:db8:7:8::{i + 1:x}")
    assert [held(manifesto, f"p{i}@example.org") for i in range(3)] == [False, False, True]
    sign(client, email="neighbour@example.org", remote_addr="2001:db8:7:9::1")
    assert not held(manifesto, "neighbour@example.org")


def test_behind_a_proxy_forged_forwarded_for_headers_do_not_escape_the_limit(
    client, manifesto, settings
):
    settings.SIGNING_RATE_LIMIT = "2/h"
    settings.TRUSTED_PROXY_HOPS = 1
    for i in range(4):
        sign(
            client,
            email=f"f{i}@example.org",
            headers={"HTTP_X_FORWARDED_FOR": f"198.51.100.{i}, 203.0.113.5"},
        )
    assert [held(manifesto, f"f{i}@example.org") for i in range(4)] == [False, False, True, True]


def test_behind_a_proxy_visitors_are_not_all_in_one_bucket(client, manifesto, settings):
    settings.SIGNING_RATE_LIMIT = "2/h"
    settings.TRUSTED_PROXY_HOPS = 1
    for i in range(4):
        sign(
            client,
            email=f"v{i}@example.org",
            headers={"HTTP_X_FORWARDED_FOR": f"203.0.113.{i + 1}"},
        )
    assert not Signature.objects.filter(held=True).exists()


# No address oracle -------------------------------------------------------------------------


def test_a_known_address_and_a_new_one_take_the_same_path(client, manifesto, monkeypatch):
    """Same queries in the same order, same encryption, same answer: the time cannot differ by
    what the code does, only by noise."""
    sign(client)  # Olga has signed
    sign(client, email="warmup@example.org", remote_addr="192.0.2.99")  # today's stats row
    encrypted = []
    real_encrypt = crypto.encrypt_email

    def counting_encrypt(address):
        encrypted.append(address)
        return real_encrypt(address)

    monkeypatch.setattr("signatures.models.encrypt_email", counting_encrypt)

    def attempt(email):
        with CaptureQueriesContext(connection) as queries:
            response = sign(client, email=email, remote_addr="192.0.2.99")
        return response, [q["sql"] for q in queries.captured_queries]

    known, known_sql = attempt(OLGA["email"])
    new, new_sql = attempt("someone.new@example.org")

    def shape(statements):  # parameters differ, statements must not
        import re

        return [re.sub(r"'[^']*'|\b\d+\b|\"s\d+_x\d+\"", "?", s) for s in statements]

    assert shape(known_sql) == shape(new_sql)
    assert any("INSERT" in q and "signatures_signature" in q for q in new_sql)
    assert encrypted == [OLGA["email"], "someone.new@example.org"]
    assert (known.status_code, known["Location"]) == (new.status_code, new["Location"])
    assert known.content == new.content


def test_the_known_address_gets_the_already_signed_mail_and_nothing_else_changes(client, manifesto):
    sign(client)
    sign(client, full_name="Somebody Else")
    run_tasks()
    assert Signature.objects.count() == 1
    assert Signature.objects.get().full_name == "Olga Loiko"
    assert [m.to for m in mail.outbox] == [[OLGA["email"]], [OLGA["email"]]]


# Cross-site posts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_ORIGIN": "https://sub.releasenow.example"},
    ],
)
def test_a_post_from_another_site_gets_the_form_and_signs_nothing(client, manifesto, headers):
    response = sign(client, language="de", headers=headers)
    html = response.content.decode()
    assert response.status_code == 403
    assert "von einer anderen Website" in html  # the visitor's language
    assert 'value="Olga Loiko"' in html and 'value="olga@example.org"' in html
    assert (
        'name="privacy_consent"' in html and "checked" not in html.split("privacy_consent")[1][:80]
    )
    assert Signature.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    run_tasks()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://testserver"},
        {"HTTP_ORIGIN": "http://testserver"},
        {"HTTP_ORIGIN": "http://127.0.0.1:8000"},  # SITE_URL's origin, e.g. behind a proxy
        {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "https://proxied.example"},
        {"HTTP_SEC_FETCH_SITE": "none"},
        {},  # an old browser or a script: no evidence either way
    ],
)
def test_same_origin_posts_sign_as_before(client, manifesto, headers, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    response = sign(client, headers=headers)
    assert response.status_code == 302
    assert Signature.objects.count() == 1


def test_is_cross_site_is_one_reusable_function(rf):
    from signatures.views import is_cross_site

    assert is_cross_site(rf.post("/", HTTP_SEC_FETCH_SITE="cross-site"))
    assert not is_cross_site(rf.post("/", HTTP_SEC_FETCH_SITE="same-origin"))
    assert not is_cross_site(rf.post("/"))


def test_the_manifesto_page_stays_cacheable(client, manifesto):
    response = client.get("/en/manifesto/")
    assert "csrftoken" not in response.cookies and not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert "private" not in response.get("Cache-Control", "")


def test_other_forms_refuse_a_missing_token_with_a_page_in_the_visitors_language(manifesto):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    signature, _ = Signature.submit(
        manifesto, {**OLGA}, language="de", challenge_passed=True, held=False
    )
    response = strict.post(f"/de/manifesto/withdraw/{signature.withdraw_token()}/")
    assert response.status_code == 403
    assert "Dieses Formular ist abgelaufen" in response.content.decode()
    assert Signature.objects.get().status == Signature.Status.PENDING


# Input limits ------------------------------------------------------------------------------


def test_a_large_body_is_refused_with_a_413_page_in_the_visitors_language(client, manifesto):
    response = sign(client, language="de", affiliation="x" * 100_000)
    assert response.status_code == 413
    assert "Zu viele Daten" in response.content.decode()
    assert Signature.objects.count() == 0


def test_a_large_body_is_refused_on_every_public_path(client, content):
    for path in ("/en/", "/api/v1/challenge/", "/en/manifesto/confirm/x/", "/language/de/"):
        response = client.post(path, data=b"x" * 40_000, content_type="application/octet-stream")
        assert response.status_code == 413, path


def test_the_admin_keeps_its_own_limits_for_imports(client, db):
    response = client.post(
        "/admin/login/", data=b"x" * 40_000, content_type="application/octet-stream"
    )
    assert response.status_code != 413


def test_the_admin_keeps_its_own_limits_where_the_urlconf_in_force_puts_it(client, db, settings):
    client.post("/admin/login/", data=b"x" * 40_000, content_type="application/octet-stream")
    settings.ROOT_URLCONF = "signatures.tests.urls_moved"  # the admin under /staff/
    moved = client.post(
        "/staff/login/", data=b"x" * 40_000, content_type="application/octet-stream"
    )
    assert moved.status_code != 413
    old = client.post("/admin/login/", data=b"x" * 40_000, content_type="application/octet-stream")
    assert old.status_code == 413


def test_the_sign_form_refuses_multipart(client, manifesto):
    response = client.post("/en/manifesto/sign/", OLGA)  # the test client sends multipart
    assert response.status_code == 415
    assert "as a file upload" in response.content.decode()
    assert Signature.objects.count() == 0


@pytest.mark.parametrize("name", ["\u3164", "\u200b\u200b", "\u2800", "\u202e\u2066", "\ufeff"])
def test_a_name_of_only_invisible_characters_is_refused_with_a_message(client, manifesto, name):
    response = sign(client, language="pl", full_name=name)
    html = response.content.decode()
    assert response.status_code == 200
    assert "niewidoczne" in html
    assert Signature.objects.count() == 0


def test_optional_fields_of_only_invisible_characters_are_refused_too(client, manifesto):
    response = sign(client, city="\u3164", affiliation="\u200d")
    html = response.content.decode()
    assert (
        html.count("contained only invisible characters") == 2 * 2
    )  # by the field, in the summary
    assert Signature.objects.count() == 0


def test_bidi_controls_are_stripped_before_anything_is_stored(client, manifesto):
    sign(client, full_name="Olga \u202eLoiko\u202c\u200f", city="War\u2066saw\u2069")
    signature = Signature.objects.get()
    assert (signature.full_name, signature.city) == ("Olga Loiko", "Warsaw")


def test_too_many_fields_get_a_400_page_in_the_visitors_language(client, manifesto):
    body = "&".join(f"f{i}=" for i in range(1500))
    response = client.post(
        "/fr/manifesto/sign/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "La requête n’a pas pu être lue" in response.content.decode()
    assert Signature.objects.count() == 0
