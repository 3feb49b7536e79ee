"""Safe-address advice: a signer whose provider is run under Russian or Belarusian law is
warned, in their language, and offered another address or an unlisted signature. Never refused."""

import pytest

from signatures.mail_providers import (
    forget_cached_domains,
    matches,
    repository_domains,
    risky_domains,
    risky_provider,
)
from signatures.models import RiskyMailDomain, Signature
from signatures.tests.conftest import sign

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("email", "provider"),
    [
        ("a@mail.ru", "mail.ru"),
        ("a@Inbox.RU", "inbox.ru"),
        ("a@corp.mail.ru", "corp.mail.ru"),
        ("a@yandex.by", "yandex.by"),
        ("a@yandex.com.tr", "yandex.com.tr"),
        ("a@ya.ru", "ya.ru"),
        ("a@rambler.ru", "rambler.ru"),
        ("a@tut.by", "tut.by"),
        ("a@gmail.com", ""),
        ("a@notmail.ru", ""),
        ("a@proton.me", ""),
        ("a@myyandex.org", ""),
        ("no-at-sign", ""),
    ],
)
def test_listed_providers_their_subdomains_and_every_yandex_domain_are_recognised(email, provider):
    assert risky_provider(email) == provider


def test_the_list_is_data_in_the_repository():
    domains = repository_domains()
    assert {"mail.ru", "yandex.*", "rambler.ru", "tut.by"} <= set(domains)
    assert all(d == d.lower() and " " not in d for d in domains)


def test_a_domain_staff_add_in_the_admin_is_warned_about_at_once(staff_client):
    assert risky_provider("a@mail.example.su") == ""
    response = staff_client.post(
        "/admin/signatures/riskymaildomain/add/", {"domain": "@Mail.Example.SU", "note": "test"}
    )
    assert response.status_code == 302, response.content
    assert RiskyMailDomain.objects.get().domain == "mail.example.su"
    assert risky_provider("a@mail.example.su") == "mail.example.su"


def test_the_admin_refuses_what_is_not_a_domain(staff_client):
    response = staff_client.post(
        "/admin/signatures/riskymaildomain/add/", {"domain": "not a domain; frame", "note": ""}
    )
    assert response.status_code == 200
    assert not RiskyMailDomain.objects.exists()


def test_first_submit_shows_the_warning_in_the_visitors_language_and_stores_nothing(
    client, manifesto
):
    response = sign(client, language="ru", email="olga@mail.ru")
    assert response.status_code == 200
    html = response.content.decode()
    assert "mail.ru" in html
    assert 'id="email-warning"' in html and 'id="email-warning" tabindex="-1" hidden' not in html
    assert "Подписать, не появляясь в списке" in html  # unreviewed Russian translation
    assert 'value="olga@mail.ru"' in html and 'value="Olga Loiko"' in html  # nothing lost
    assert 'name="email_warned" value="mail.ru"' in html
    assert not Signature.objects.exists()


def test_sign_anyway_keeps_the_address_and_the_chosen_visibility(client, manifesto):
    response = sign(client, email="olga@mail.ru", email_warned="mail.ru", email_advice="keep")
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.email == "olga@mail.ru" and signature.visibility == "public"


def test_sign_unlisted_counts_the_signature_without_listing_it(client, manifesto):
    response = sign(client, email="olga@bk.ru", email_warned="bk.ru", email_advice="unlisted")
    assert response.status_code == 302
    assert Signature.objects.get().visibility == "anonymous"


def test_another_address_signs_without_further_questions(client, manifesto):
    response = sign(client, email="olga@example.org", email_warned="mail.ru")
    assert response.status_code == 302
    assert Signature.objects.get().email == "olga@example.org"


def test_a_choice_made_for_one_provider_does_not_cover_another(client, manifesto):
    response = sign(client, email="olga@yandex.ru", email_warned="mail.ru", email_advice="keep")
    assert response.status_code == 200
    assert 'name="email_warned" value="yandex.ru"' in response.content.decode()
    assert not Signature.objects.exists()


def test_the_page_carries_the_list_for_the_script(client, manifesto):
    html = client.get("/en/manifesto/sign/").content.decode()
    assert 'data-risky-domains="' in html and "yandex.*" in html
    assert 'id="email-warning" tabindex="-1" aria-labelledby="email-warning-title" hidden' in html


def test_the_quick_lookup_finds_what_comparing_with_every_entry_finds():
    """`risky_provider` looks up sets; `matches` against each entry is the definition."""
    RiskyMailDomain.objects.create(domain="mail.yandex.*")
    RiskyMailDomain.objects.create(domain="corp.example")
    forget_cached_domains()
    entries = risky_domains()
    domains = [
        *(e.replace("*", "com") for e in entries),
        *(f"sub.{e.replace('*', 'by')}" for e in entries),
        *(f"x{e.replace('*', 'org')}" for e in entries),
        "mail.yandex.kz", "a.mail.yandex.kz", "yandex", "example", "corp.example",
        "x.corp.example", "xcorp.example", "gmail.com", "ru", "by",
    ]  # fmt: skip
    for domain in domains:
        expected = domain if any(matches(domain, e) for e in entries) else ""
        assert risky_provider(f"someone@{domain}") == expected, domain
