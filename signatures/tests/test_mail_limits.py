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


def test_limits_are_keyed_by_digest_never_by_the_address(client, manifesto, limits):
    from django.core.cache import cache

    from mail.models import OutgoingMail

    sign(client, email="secret.person@example.org")
    sign(client, email=" Secret.Person@Example.ORG", remote_addr="10.9.9.9")
    keys = set(OutgoingMail.objects.values_list("throttle_key", flat=True))
    assert len(keys) == 1 and "secret" not in keys.pop()
    if isinstance(getattr(cache, "_cache", None), dict):  # per-process memory
        cached = [str(key) for key in cache._cache]
    elif hasattr(cache, "_table"):  # the database cache
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT cache_key FROM {cache._table}")  # noqa: S608
            cached = [row[0] for row in cursor.fetchall()]
    else:  # Redis
        cached = [str(key) for key in cache._cache.get_client().keys("*")]
    assert not any("secret.person" in key.lower() for key in cached)


def test_staff_see_mail_that_the_limits_held_back(client, manifesto, limits):
    from mail.models import OutgoingMail

    sign(client, email="target@example.org")
    sign(client, email="target@example.org", remote_addr="10.0.0.9")
    run_tasks()
    assert sorted(OutgoingMail.objects.values_list("status", flat=True)) == ["sent", "suppressed"]


def test_a_confirmation_lost_by_an_interrupted_request_is_sent_by_the_sweep(manifesto):
    """A web worker killed between storing a signature and queueing its e-mail: the sweep a
    few minutes later queues the confirmation, once."""
    from datetime import timedelta

    from django.utils import timezone

    from mail.models import OutgoingMail
    from signatures.tasks import mail_lost_confirmations
    from signatures.tests.conftest import make_signature

    lost = make_signature(manifesto, "Lost Person", confirm=False)  # stored, never mailed
    make_signature(manifesto, "Fresh Person", confirm=False)  # its request may still run
    Signature.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert mail_lost_confirmations.call(reschedule=False) == 1
    assert mail_lost_confirmations.call(reschedule=False) == 0  # queued once
    assert list(OutgoingMail.objects.values_list("ref", "kind")) == [(lost.ref, "confirm")]
    run_tasks()
    assert mails_to("lost.person@example.org") == 1
    assert mails_to("fresh.person@example.org") == 0


def test_the_sweep_does_not_send_what_the_network_limit_withheld(client, manifesto, limits):
    from datetime import timedelta

    from django.utils import timezone

    from signatures.tasks import mail_lost_confirmations

    limits.MAIL_LIMIT_PER_NETWORK = "1/h"
    for i in range(3):
        sign(client, email=f"n{i}@example.org", remote_addr="192.0.2.8")
    Signature.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert mail_lost_confirmations.call(reschedule=False) == 0
    run_tasks()
    assert [mails_to(f"n{i}@example.org") for i in range(3)] == [1, 0, 0]
