import re

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
    return Petition.objects.get(slug="manifesto")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Rate limits live in the cache; each test starts with its own key prefix."""
    import uuid

    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }


def sign(client, language="en", slug="manifesto", **fields):
    data = {**OLGA, **fields}
    return client.post(
        f"/{language}/{slug}/sign/", {k: v for k, v in data.items() if v is not None}
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
