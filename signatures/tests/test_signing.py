import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import override_script_prefix

from campaigns.models import Petition
from signatures.models import CountryCount, Signature
from signatures.tests.conftest import OLGA, confirm_by_mail, last_mail_to, link, run_tasks, sign
from signatures.views import _check_inbox_path

pytestmark = pytest.mark.django_db(transaction=True)


def listed(html: str) -> str:
    """The signatory lists of a page, without the form and the rest."""
    return " ".join(re.findall(r'<ul class="signatory-list">(.*?)</ul>', html, re.S))


def test_sign_email_confirm_then_counted_and_listed(client, manifesto):
    response = sign(client)
    assert response.status_code == 302
    assert response["Location"] == "/en/manifesto/sign/check-your-inbox/"
    signature = Signature.objects.get()
    assert signature.status == "pending"
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 0
    assert mail.outbox == []  # the request only queues; the worker sends

    run_tasks()
    message = last_mail_to("olga@example.org")
    assert "confirm" in message.subject.lower()
    assert message.alternatives and "Confirm my signature" in message.alternatives[0][0]
    confirm_path = link(message, "confirm")
    assert confirm_path.startswith("/en/manifesto/confirm/")
    assert "/en/manifesto/withdraw/" in message.body

    page = client.get(confirm_path)  # a mail scanner following the link confirms nothing
    assert b"Confirm my signature" in page.content
    assert Signature.objects.get().status == "pending"

    thanks = client.post(confirm_path)
    assert b"Thank you for your support!" in thanks.content
    assert b"/en/manifesto/withdraw/" in thanks.content
    assert b"<strong>1</strong> person signed" in thanks.content
    assert b"/confirm/" not in thanks.content.split(b"share-links")[1]  # never share the token
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1
    listing = client.get("/en/manifesto/signatories/").content.decode()
    assert "Olga Loiko" in listing and "(Journalist)" in listing and "Warsaw, Poland" in listing
    assert "Olga Loiko" in client.get("/en/manifesto/").content.decode()


def test_confirming_writes_nothing_to_the_shared_cache(client, manifesto, monkeypatch):
    """Each confirmation used to reload the petition, and django-parler follows a reload by
    deleting the petition's translations from the shared cache (its caching off or not): for
    every signer a write, on SQLite under the database's lock that signers queue for."""
    from django.core.cache import caches

    cache = caches["default"]
    sign(client)
    run_tasks()
    confirm_path = link(last_mail_to("olga@example.org"), "confirm")
    client.get(confirm_path)
    writes = []
    for name in ("set", "set_many", "delete", "delete_many"):
        real = getattr(cache, name)
        monkeypatch.setattr(
            cache, name, lambda *a, _r=real, _n=name, **k: writes.append(_n) or _r(*a, **k)
        )

    thanks = client.post(confirm_path)

    assert b"<strong>1</strong> person signed" in thanks.content
    assert Signature.objects.get().status == "confirmed"
    assert writes == []


def test_each_signer_is_sent_on_in_their_own_language_and_under_the_sites_prefix(client, manifesto):
    """The next page's address is looked up once per language and prefix, then remembered."""
    _check_inbox_path.cache_clear()
    for language in ("de", "en", "de"):  # the second "de" is a signer signing again: the same
        response = sign(client, language=language, email=f"olga.{language}@example.org")
        assert response["Location"] == f"/{language}/manifesto/sign/check-your-inbox/"
    assert _check_inbox_path.cache_info().hits == 1
    with override_script_prefix("/site/"):  # as the WSGI handler sets it from SCRIPT_NAME
        response = sign(client, language="de", email="olga.site@example.org")
    assert response["Location"] == "/site/de/manifesto/sign/check-your-inbox/"


def test_signers_are_sent_to_the_address_of_the_urlconf_in_force(client, manifesto, settings):
    """An address remembered under one URLconf is not given out under another."""
    sign(client, email="olga.before@example.org")
    settings.ROOT_URLCONF = "signatures.tests.urls_moved"
    response = sign(client, slug="petitions/manifesto", email="olga.moved@example.org")
    assert response["Location"] == "/en/petitions/manifesto/sign/check-your-inbox/"


def test_confirmation_email_is_in_the_signers_language(client, manifesto):
    sign(client, language="de")
    run_tasks()
    assert link(last_mail_to("olga@example.org"), "confirm").startswith("/de/manifesto/confirm/")
    assert Signature.objects.get().language == "de"


def test_confirmation_mails_show_the_count_and_the_title_of_the_moment_they_are_sent(
    client, manifesto
):
    """The worker reads a petition's texts once per content version, its count each time."""
    sign(client, email="first@example.org")
    run_tasks()
    assert "0 people have signed so far" in last_mail_to("first@example.org").body
    Petition.objects.filter(pk=manifesto.pk).update(signature_count=41)  # no content change
    sign(client, email="second@example.org")
    run_tasks()
    assert "41 people have signed so far" in last_mail_to("second@example.org").body
    manifesto.set_current_language("en")
    manifesto.title = "A renamed manifesto"
    manifesto.save()
    sign(client, email="third@example.org")
    run_tasks()
    assert "A renamed manifesto" in last_mail_to("third@example.org").body


@pytest.mark.parametrize(
    ("visibility", "shown", "hidden"),
    [
        ("public", ["Olga Loiko", "(Journalist)", "Warsaw, Poland"], []),
        ("initials", ["O. L.", "Poland"], ["Olga", "Loiko", "Warsaw", "Journalist"]),
        ("anonymous", [], ["Olga", "O. L.", "Warsaw", "Journalist"]),
    ],
)
def test_each_visibility_shows_exactly_what_the_signer_chose(
    client, manifesto, visibility, shown, hidden
):
    sign(client, visibility=visibility)
    confirm_by_mail(client)
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1  # counted whatever the visibility
    for page in ("/en/manifesto/signatories/", "/en/manifesto/"):
        lists = listed(client.get(page).content.decode())
        for text in shown:
            assert text in lists, (page, text)
        for text in hidden:
            assert text not in lists, (page, text)
    api = client.get("/api/v1/petitions/manifesto/").content.decode()
    assert "Olga" not in api and "Warsaw" not in api


def test_signing_again_reveals_nothing_and_sends_already_signed(client, manifesto):
    first = sign(client)
    confirm_by_mail(client)
    second = sign(client, email="  OLGA@Example.ORG ", full_name="Olga L.")
    assert second.status_code == first.status_code and second["Location"] == first["Location"]
    assert client.get(second["Location"]).content == client.get(first["Location"]).content
    run_tasks()
    message = last_mail_to("olga@example.org")
    assert "already signed" in message.subject
    assert "/en/manifesto/withdraw/" in message.body and "/confirm/" not in message.body
    assert Signature.objects.count() == 1
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1


def test_signing_again_while_pending_resends_the_confirmation(client, manifesto):
    sign(client)
    sign(client)
    run_tasks()
    confirmations = [m for m in mail.outbox if "confirm" in m.subject.lower()]
    assert len(confirmations) == 2
    assert Signature.objects.count() == 1


def test_one_signature_per_address_is_a_database_constraint(manifesto):
    from django.db import IntegrityError

    Signature.submit(manifesto, {**OLGA}, language="en", challenge_passed=False, held=False)
    duplicate = Signature(petition=manifesto, full_name="X", visibility="public")
    duplicate.set_email("Olga@example.org")
    with pytest.raises(IntegrityError):
        duplicate.save()


def test_confirmation_link_works_once(client, manifesto):
    sign(client)
    run_tasks()
    path = link(last_mail_to("olga@example.org"), "confirm")
    client.post(path)
    again = client.post(path)
    assert again.status_code == 200  # a second press shows the same thanks, counts nothing more
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1


def test_confirmation_link_expires_after_seven_days(client, manifesto, monkeypatch):
    import time

    sign(client)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 8 * 24 * 3600)
    old_token = Signature.objects.get().confirm_token()
    monkeypatch.setattr(time, "time", real_time)
    response = client.post(f"/en/manifesto/confirm/{old_token}/")
    assert response.status_code == 404
    assert b"no longer valid" in response.content
    assert Signature.objects.get().status == "pending"


def test_forged_or_foreign_tokens_are_refused(client, manifesto):
    sign(client)
    signature = Signature.objects.get()
    withdraw_token = signature.withdraw_token()
    assert (
        client.post(f"/en/manifesto/confirm/{withdraw_token}/").status_code == 404
    )  # wrong purpose
    assert client.post(f"/en/manifesto/confirm/{signature.uuid.hex}/").status_code == 404
    assert client.post(f"/en/manifesto/confirm/{signature.confirm_token()}x/").status_code == 404
    assert Signature.objects.get().status == "pending"


def test_withdrawal_uncounts_unlists_and_erases_at_once(client, manifesto):
    sign(client)
    confirm_by_mail(client)
    withdraw_path = link(last_mail_to("olga@example.org"), "withdraw")
    assert b"Withdraw my signature" in client.get(withdraw_path).content
    assert Signature.objects.get().status == "confirmed"  # GET changes nothing

    response = client.post(withdraw_path)
    assert b"has been withdrawn" in response.content
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 0
    assert CountryCount.objects.get(country="PL").count == 0
    assert "Olga" not in client.get("/en/manifesto/signatories/").content.decode()
    tombstone = Signature.objects.get()
    assert (tombstone.status, tombstone.full_name, tombstone.city, tombstone.email_encrypted) == (
        "withdrawn",
        "",
        "",
        "",
    )
    assert tombstone.email_digest is None and not tombstone.country
    assert tombstone.confirmed_at and tombstone.withdrawn_at  # what the audit needs

    run_tasks()
    assert "withdrawn" in last_mail_to("olga@example.org").subject
    again = client.post(withdraw_path)
    assert again.status_code == 200
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 0


def test_after_withdrawing_the_same_address_may_sign_again(client, manifesto):
    sign(client)
    confirm_by_mail(client)
    client.post(link(last_mail_to("olga@example.org"), "withdraw"))
    mail.outbox.clear()
    sign(client)
    confirm_by_mail(client)
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 1


def test_email_addresses_are_stored_encrypted_never_in_clear(client, manifesto):
    sign(client, email="secret.person@example.org")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM signatures_signature")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "secret.person" not in row
    assert Signature.objects.get().email == "secret.person@example.org"


def test_no_email_or_ip_address_reaches_the_logs(client, manifesto, caplog):
    caplog.set_level("DEBUG")
    sign(client, email="logged.person@example.org", remote_addr="203.0.113.9")
    run_tasks()
    client.post(link(last_mail_to("logged.person@example.org"), "confirm"))
    assert "logged.person" not in caplog.text
    assert "203.0.113.9" not in caplog.text


def test_pending_signatures_are_neither_counted_nor_listed(client, manifesto):
    sign(client)
    assert "Olga" not in client.get("/en/manifesto/signatories/").content.decode()
    assert client.get("/api/v1/petitions/manifesto/").json()["signature_count"] == 0
