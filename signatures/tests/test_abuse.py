import base64
import json

import pytest
from altcha.v1 import solve_challenge
from django.db import connection

from signatures import challenge
from signatures.models import Signature
from signatures.tests.conftest import confirm_by_mail, sign

pytestmark = pytest.mark.django_db(transaction=True)


def solved_payload() -> str:
    c = challenge.create()
    solution = solve_challenge(c["challenge"], c["salt"], c["algorithm"], c["maxNumber"], 0)
    payload = {
        **{k: c[k] for k in ("algorithm", "challenge", "salt", "signature")},
        "number": solution.number,
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_a_rally_on_one_network_can_sign_twenty_a_minute_without_being_held(client, manifesto):
    for i in range(20):
        assert sign(client, email=f"person{i}@example.org").status_code == 302
    assert not Signature.objects.filter(held=True).exists()


def test_beyond_the_limit_signatures_are_held_not_refused(client, manifesto, settings):
    settings.SIGNING_RATE_LIMIT = "2/m"
    for i in range(3):
        assert sign(client, email=f"p{i}@example.org").status_code == 302
    held = Signature.objects.get(
        email_digest=Signature.find(manifesto, "p2@example.org").email_digest
    )
    assert held.held and held.hold_reason == "rate_limit"
    other = sign(client, email="p9@example.org", remote_addr="192.0.2.7")  # another network
    assert other.status_code == 302
    assert not Signature.find(manifesto, "p9@example.org").held

    response = confirm_by_mail(client, "p2@example.org")
    assert b"will check it before it is counted" in response.content
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 0
    assert "Olga" not in client.get("/en/manifesto/signatories/").content.decode()

    assert held.release()
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1
    assert "Olga Loiko" in client.get("/en/manifesto/signatories/").content.decode()


def test_honeypot_submissions_get_the_same_answer_and_store_nothing(client, manifesto):
    response = sign(client, website="http://spam.example")
    assert response.status_code == 302 and response["Location"].endswith("/check-your-inbox/")
    assert Signature.objects.count() == 0


def test_a_solved_challenge_is_recorded_and_cannot_be_replayed(client, manifesto):
    payload = solved_payload()
    sign(client, altcha=payload)
    assert Signature.objects.get().challenge_passed
    sign(client, altcha=payload, email="second@example.org")
    assert not Signature.find(manifesto, "second@example.org").challenge_passed


@pytest.mark.parametrize("payload", ["", "garbage", base64.b64encode(b'{"number": 1}').decode()])
def test_without_a_solved_challenge_the_signature_still_counts_flagged_for_review(
    client, manifesto, payload
):
    sign(client, altcha=payload)
    signature = Signature.objects.get()
    assert not signature.challenge_passed
    confirm_by_mail(client)
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1


def test_disposable_addresses_are_flagged_and_still_count(client, manifesto):
    sign(client, email="someone@mailinator.com")
    assert Signature.objects.get().disposable_domain
    confirm_by_mail(client, "someone@mailinator.com")
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1


def test_challenge_endpoint_serves_fresh_uncached_challenges(client):
    response = client.get("/api/v1/challenge/")
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert {"algorithm", "challenge", "salt", "signature", "maxNumber"} <= set(body)
    assert client.get("/api/v1/challenge/").json()["challenge"] != body["challenge"]


def test_a_database_failure_answers_try_again_and_saves_nothing(client, manifesto):
    """A real database error (a trigger refusing the insert), not a mocked one."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON signatures_signature "
                "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON signatures_signature "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    try:
        response = sign(client)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER refuse"
                + ("" if connection.vendor == "sqlite" else " ON signatures_signature")
            )
            if connection.vendor != "sqlite":
                cursor.execute("DROP FUNCTION refuse()")
    html = response.content.decode()
    assert response.status_code == 503
    assert "could not be saved just now" in html
    assert 'value="Olga Loiko"' in html and 'value="olga@example.org"' in html
    assert Signature.objects.count() == 0
