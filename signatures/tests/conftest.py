import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.management import call_command

from campaigns.models import Petition

OLGA = {
    "full_name": "Olga Loiko",
    "email": "olga@example.org",
    "affiliation": "Journalist",
    "city": "Warsaw",
    "country": "PL",
    "visibility": "public",
    "group": "supporter",
    "privacy_consent": "on",
}


@pytest.fixture
def manifesto(content) -> Petition:
    """The manifesto in post-moderation, so names are listed on confirmation; the moderation
    tests switch it back to the campaign's default, pre-moderation."""
    petition = Petition.objects.get(slug="manifesto")
    petition.moderation = Petition.Moderation.POST
    petition.save()
    return petition


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Rate limits live in the cache; each test starts with its own key prefix."""
    import uuid

    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }


@pytest.fixture(autouse=True)
def _loose_mail_limits(settings):
    """Most tests sign repeatedly from one address; test_mail_limits tests the real limits."""
    settings.MAIL_LIMIT_PER_ADDRESS = settings.MAIL_LIMIT_PER_ADDRESS_DAILY = "1000/m"
    settings.MAIL_LIMIT_PER_NETWORK = "1000/m"


def post_form(client, path: str, data: dict, **headers):
    """Post as a browser posts a form without files: url-encoded (the test client's own
    default is multipart, which the sign form refuses)."""
    return client.post(
        path,
        urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def sign(client, language="en", slug="manifesto", remote_addr="127.0.0.1", headers=None, **fields):
    """Post the sign form as a browser would; a field set to None is left out."""
    data = {**OLGA, **fields}
    form = {k: v for k, v in data.items() if v is not None}
    return post_form(
        client, f"/{language}/{slug}/sign/", form, REMOTE_ADDR=remote_addr, **(headers or {})
    )


def run_tasks() -> None:
    """Run what the request queued, with the real database worker, as `make run` does."""
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def link(message, kind: str) -> str:
    """The path of the confirm or withdraw link in an e-mail."""
    match = re.search(rf"https?://[^/\s]+(/\S*/{kind}/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def last_mail_to(address: str):
    return [m for m in mail.outbox if address in m.to][-1]


def confirm_by_mail(client, email: str = OLGA["email"]):
    """Run the queued e-mail and press the button behind its confirmation link."""
    run_tasks()
    return client.post(link(last_mail_to(email), "confirm"))


def make_signature(petition, name: str, *, confirm: bool = True, **fields):
    """A signature made through the model's own methods, as the views make them."""
    from signatures.models import Signature

    email = fields.pop("email", None) or f"{name.lower().replace(' ', '.')}@example.org"
    data = {**OLGA, "full_name": name, "email": email, **fields}
    signature, _created = Signature.submit(
        petition, data, language="en", challenge_passed=True, held=False
    )
    if confirm:
        signature.confirm()
    return signature
