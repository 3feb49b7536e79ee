"""A 500 with ADMINS set mails a report that names no signer."""

import logging

import pytest
from django.core import mail

from releasenow.lib.logging import RedactPersonal, redact_personal
from signatures.models import Signature
from signatures.tests.conftest import post_form

pytestmark = pytest.mark.django_db(transaction=True)

SECRET_NAME, SECRET_EMAIL = "Hanna Secretava", "hanna.secret@example.org"
CLIENT_IP, FORWARDED_IP = "203.0.113.77", "198.51.100.88"


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Ops", "ops@example.org")]
    settings.DEBUG = False


def boom(*args, **kwargs):
    raise RuntimeError(f"database said no for {SECRET_EMAIL} from {CLIENT_IP}")


def test_a_500_on_signing_mails_a_report_without_personal_data(
    client, content, admins, monkeypatch
):
    monkeypatch.setattr(Signature, "from_form", classmethod(boom))
    client.raise_request_exception = False
    client.cookies["sessionid"] = "cookie-value-123"
    response = post_form(
        client,
        "/en/manifesto/sign/?source=x&email=" + SECRET_EMAIL,
        {"full_name": SECRET_NAME, "email": SECRET_EMAIL, "visibility": "public",
         "privacy_consent": "on", "country": "PL"},
        REMOTE_ADDR=CLIENT_IP, HTTP_X_FORWARDED_FOR=f"{FORWARDED_IP}, 10.0.0.1",
    )  # fmt: skip
    assert response.status_code == 500
    [report] = mail.outbox
    assert report.to == ["ops@example.org"]
    text = report.subject + report.body + "".join(str(a[0]) for a in report.alternatives)
    assert "RuntimeError" in text and "full_name" in text  # still useful to a developer
    for secret in (SECRET_NAME, SECRET_EMAIL, "hanna", CLIENT_IP, FORWARDED_IP, "cookie-value-123"):
        assert secret not in text, secret


def test_a_500_on_a_token_link_keeps_the_token_out_of_the_report(
    client, content, admins, monkeypatch
):
    from signatures.tests.conftest import make_signature

    petition = __import__("campaigns.models", fromlist=["Petition"]).Petition.objects.get(
        slug="manifesto"
    )
    signature = make_signature(petition, SECRET_NAME, email=SECRET_EMAIL)
    token = signature.withdraw_token()
    monkeypatch.setattr(Signature, "withdraw", boom)
    client.raise_request_exception = False
    response = client.post(f"/en/manifesto/withdraw/{token}/", REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 500
    [report] = mail.outbox
    text = report.subject + report.body
    assert "/en/manifesto/withdraw/…/" in text
    for secret in (token, token.split(":")[1], SECRET_NAME, SECRET_EMAIL, CLIENT_IP):
        assert secret not in text, secret


def test_personal_data_is_cut_out_of_log_lines_and_tracebacks():
    line = "Invalid request from ip=2001:db8::1: bad /en/x/confirm/abc:def/ for a.b@example.org"
    assert (
        redact_personal(line) == "Invalid request from ip=[ip]: bad /en/x/confirm/…/ for [e-mail]"
    )
    assert redact_personal("at 12:30:45 from 192.0.2.1") == "at 12:30:45 from [ip]"
    try:
        raise ValueError("bad request line GET /en/m/withdraw/tok:en/ from 192.0.2.1")
    except ValueError:
        import sys

        record = logging.LogRecord("_granian", logging.ERROR, "", 0, "Error handling request %s",
                                   ("/en/m/withdraw/tok:en/",), sys.exc_info())  # fmt: skip
    RedactPersonal().filter(record)
    formatted = logging.Formatter().format(record)
    assert "tok:en" not in formatted and "192.0.2.1" not in formatted
    assert "Error handling request /en/m/withdraw/…/" in formatted
