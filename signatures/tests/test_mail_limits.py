"""No mail-bombing through the sign form: mail per address and per network is capped, and
beyond the caps the visitor sees the same page while nothing is sent."""

import pytest
from django.core import mail

from signatures.models import Signature
from signatures.tests.conftest import run_tasks, sign

pytestmark = pytest.mark.django_db(transaction=True)

DEFAULTS = {
    "MAIL_LIMIT_PER_ADDRESS": "1/10m",
    "MAIL_LIMIT_PER_ADDRESS_DAILY": "4/d",
    "MAIL_LIMIT_PER_NETWORK": "200/h",
}


@pytest.fixture
def limits(settings):
    for name, value in DEFAULTS.items():
        setattr(settings, name, value)
    return settings


def mails_to(address: str) -> int:
    return sum(address in m.to for m in mail.outbox)


def test_one_mail_per_address_in_ten_minutes_by_default(client, manifesto, limits):
    first = sign(client, email="target@example.org")
    page = client.get(first["Location"]).content
    for remote_addr in ("10.0.0.2", "10.0.0.3", "10.0.0.4"):  # from other networks too
        again = sign(client, email="Target@Example.org ", remote_addr=remote_addr)
        assert again.status_code == first.status_code
        assert again["Location"] == first["Location"]
        assert client.get(again["Location"]).content == page
    run_tasks()
    assert mails_to("target@example.org") == 1
    assert Signature.objects.count() == 1


def test_a_few_mails_per_address_a_day(client, manifesto, limits):
    limits.MAIL_LIMIT_PER_ADDRESS = "100/m"
    limits.MAIL_LIMIT_PER_ADDRESS_DAILY = "2/d"
    for _ in range(4):
        sign(client, email="target@example.org")
    run_tasks()
    assert mails_to("target@example.org") == 2


def test_mail_per_network_is_capped_and_other_networks_are_not_affected(client, manifesto, limits):
    limits.MAIL_LIMIT_PER_NETWORK = "3/h"
    for i in range(5):
        response = sign(client, email=f"p{i}@example.org", remote_addr="192.0.2.7")
        assert response.status_code == 302
    sign(client, email="elsewhere@example.org", remote_addr="198.51.100.9")
    run_tasks()
    assert [mails_to(f"p{i}@example.org") for i in range(5)] == [1, 1, 1, 0, 0]
    assert mails_to("elsewhere@example.org") == 1
    # The signatures themselves are kept: they can be confirmed once mail is allowed again.
    assert Signature.objects.filter(status="pending").count() == 6


def test_already_signed_mail_is_limited_too(client, manifesto, limits):
    from signatures.tests.conftest import confirm_by_mail

    sign(client, email="olga@example.org")
    confirm_by_mail(client)
    mail.outbox.clear()
    sign(client, email="olga@example.org")
    run_tasks()
    assert mails_to("olga@example.org") == 0  # within ten minutes of the confirmation mail


def test_limits_are_keyed_by_digest_never_by_the_address(client, manifesto, limits, settings):
    from django.core.cache import cache

    sign(client, email="secret.person@example.org")
    if isinstance(getattr(cache, "_cache", None), dict):  # per-process memory
        keys = [str(key) for key in cache._cache]
    elif hasattr(cache, "_table"):  # the database cache
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT cache_key FROM {cache._table}")  # noqa: S608
            keys = [row[0] for row in cursor.fetchall()]
    else:  # Redis
        keys = [str(key) for key in cache._cache.get_client().keys("*")]
    assert keys and not any("secret.person" in key for key in keys)
