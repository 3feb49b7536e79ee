"""Updates reach the signers who asked for them, each in their language, with one-click
unsubscribe; the web request only queues, the worker sends in batches."""

import re

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from signatures.models import AuditEntry, Signature
from signatures.tests.conftest import run_tasks
from updates.models import Update
from updates.tasks import send_update

pytestmark = pytest.mark.django_db(transaction=True)


def unsubscribe_path(message) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    return re.match(r"<https?://[^/]+(/.+)>$", header).group(1)


def test_confirmed_consenting_signers_get_it_each_in_their_language_or_english(update, signers):
    assert update.start(actor=None)
    assert mail.outbox == []  # queued, not sent by the caller
    run_tasks()
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {
        "anna.en@example.org",
        "bernd.de@example.org",
        "piotr.pl@example.org",
    }
    assert by_address["bernd.de@example.org"].subject == "Neuigkeiten der Kampagne"
    assert "<strong>Zehn</strong>" in by_address["bernd.de@example.org"].alternatives[0][0]
    assert by_address["piotr.pl@example.org"].subject == "News from the campaign"  # no Polish
    assert by_address["anna.en@example.org"].subject == "News from the campaign"


def test_every_copy_carries_rfc_8058_one_click_unsubscribe_honoured_at_once(
    client, update, signers
):
    update.start(actor=None)
    run_tasks()
    message = next(m for m in mail.outbox if m.to == ["anna.en@example.org"])
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe_path(message)
    assert path.startswith("/en/manifesto/unsubscribe/")
    assert path in message.body and path in message.alternatives[0][0]

    # A mail provider's one-click POST: no cookie, no CSRF token, just the RFC's body.
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert Signature.objects.get(pk=signers["anna"].pk).updates_consent is False
    assert Signature.objects.get(pk=signers["anna"].pk).status == "confirmed"  # still signed


def test_the_link_opens_a_page_with_a_button_and_a_scanner_changes_nothing(client, update, signers):
    update.start(actor=None)
    run_tasks()
    path = unsubscribe_path(next(m for m in mail.outbox if m.to == ["bernd.de@example.org"]))
    page = client.get(path)
    assert "Keine Neuigkeiten mehr" in page.content.decode()
    assert Signature.objects.get(pk=signers["bernd"].pk).updates_consent is True
    assert client.post(path).status_code == 200
    assert Signature.objects.get(pk=signers["bernd"].pk).updates_consent is False
    assert client.get(path.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 404


def test_who_unsubscribes_or_withdraws_during_a_send_gets_nothing_more(settings, update, signers):
    settings.UPDATE_BATCH_SIZE = 1
    update.start(actor=None)
    send_update.call(update.pk)  # the first batch (Anna) is queued, the next run too
    Signature.objects.get(pk=signers["bernd"].pk).unsubscribe()
    Signature.objects.get(pk=signers["piotr"].pk).withdraw()
    run_tasks()
    assert [m.to for m in mail.outbox] == [["anna.en@example.org"]]
    update.refresh_from_db()
    assert (update.status, update.recipients, update.queued, update.sent) == ("sent", 3, 1, 1)
    assert "2 unsubscribed or withdrawn meanwhile" in update.report()


def test_a_copy_already_queued_is_cancelled_by_an_unsubscribe_or_a_withdrawal(update, signers):
    from mail.models import OutgoingMail

    update.start(actor=None)
    send_update.call(update.pk)  # all three copies wait in the mail queue
    assert OutgoingMail.objects.filter(kind="update", status="queued").count() == 3
    Signature.objects.get(pk=signers["bernd"].pk).unsubscribe()
    Signature.objects.get(pk=signers["piotr"].pk).withdraw()
    run_tasks()
    assert [m.to for m in mail.outbox] == [["anna.en@example.org"]]
    update.refresh_from_db()
    assert (update.queued, update.sent, update.cancelled) == (3, 1, 2)
    assert "1 sent, 0 failed, 2 unsubscribed or withdrawn meanwhile" in update.report()


def test_the_update_waits_while_its_copies_fill_the_mail_queue(settings, update, signers):
    """Confirmations queued meanwhile are never stuck behind a whole update."""
    from mail.models import OutgoingMail

    settings.UPDATE_BATCH_SIZE, settings.UPDATE_QUEUE_AHEAD = 1, 2
    update.start(actor=None)
    send_update.call(update.pk)
    send_update.call(update.pk)
    assert send_update.call(update.pk) == "waiting for the mail queue"
    assert OutgoingMail.objects.filter(kind="update").count() == 2
    run_tasks()
    assert len(mail.outbox) == 3 and Update.objects.get(pk=update.pk).status == "sent"


def test_the_send_ends_with_a_report_and_an_audit_entry_without_addresses(
    update, signers, django_user_model
):
    staff = django_user_model.objects.create_user("sender", "sender@example.org", "x" * 16)
    update.start(actor=staff)
    run_tasks()
    update.refresh_from_db()
    assert update.status == "sent" and update.finished_at
    assert (update.recipients, update.sent, update.failed) == (3, 3, 0)
    assert update.per_language == {"de": 1, "en": 2}
    entry = AuditEntry.objects.get(action="update sent")
    assert entry.actor_name == "sender"
    assert "3 recipients (de 1, en 2); 3 sent, 0 failed" in entry.note
    assert "@" not in entry.note + str(entry.before) + str(entry.after)


def test_no_signer_gets_two_copies_from_a_double_start_or_a_requeued_task(update, signers):
    assert update.start(actor=None)
    assert not Update.objects.get(pk=update.pk).start(actor=None)
    send_update.enqueue(update.pk)  # a duplicate task, as after a worker restart
    run_tasks()
    addresses = [m.to[0] for m in mail.outbox]
    assert sorted(addresses) == sorted(set(addresses)) and len(addresses) == 3


def test_no_address_is_stored_in_clear_in_task_rows(update, signers, staff_client):
    staff_client.user.email = "mod@example.org"
    staff_client.user.save()
    staff_client.post(f"/admin/updates/update/{update.pk}/test/", {"language": "de"})
    update.start(actor=None)
    rows = " ".join(str(r.args_kwargs) for r in DBTaskResult.objects.all())
    assert "@example.org" not in rows
    run_tasks()
    test_copy = next(m for m in mail.outbox if m.to == ["mod@example.org"])
    assert test_copy.subject == "[TEST] Neuigkeiten der Kampagne"
