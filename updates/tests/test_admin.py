"""Staff write, preview, test and send an update in the admin; the request only queues."""

import pytest
from django.core import mail

from signatures.tests.conftest import run_tasks
from updates.models import Update

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_write_an_update_per_language_in_markdown(staff_client, manifesto):
    response = staff_client.post(
        "/admin/updates/update/add/?language=fr",
        {"petition": manifesto.pk, "subject": "Nouvelles", "body": "**Merci**"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    update = Update.objects.get()
    update.set_current_language("fr")
    assert update.subject == "Nouvelles" and update.status == "draft"


def test_the_preview_shows_the_message_a_signer_reading_a_language_gets(staff_client, update):
    html = staff_client.get(f"/admin/updates/update/{update.pk}/preview/?language=de").content
    assert "Neuigkeiten der Kampagne" in html.decode() and "<strong>Zehn</strong>" in html.decode()
    fallback = staff_client.get(f"/admin/updates/update/{update.pk}/preview/?language=lt")
    assert "News from the campaign" in fallback.content.decode()  # English for Lithuanian readers


def test_the_change_page_offers_preview_test_and_send(staff_client, update):
    html = staff_client.get(f"/admin/updates/update/{update.pk}/change/").content.decode()
    assert f"/admin/updates/update/{update.pk}/preview/" in html
    assert f"/admin/updates/update/{update.pk}/send/" in html
    assert "Send a test to me" in html and 'id="update-test-form"' in html


def test_a_test_goes_to_the_staff_member_only(staff_client, update, signers):
    staff_client.post(f"/admin/updates/update/{update.pk}/test/", {"language": "en"})
    run_tasks()
    assert [m.to for m in mail.outbox] == [["mod@example.org"]]
    assert Update.objects.get(pk=update.pk).status == "draft"


def test_sending_asks_first_with_the_numbers_then_queues_and_shows_progress(
    staff_client, update, signers
):
    page = staff_client.get(f"/admin/updates/update/{update.pk}/send/").content.decode()
    assert "<strong>3</strong> signers" in page and "de: 1" in page and "en: 2" in page
    assert "be, ru, uk, pl, lt, fr" in page  # they get English
    assert Update.objects.get(pk=update.pk).status == "draft"

    response = staff_client.post(f"/admin/updates/update/{update.pk}/send/")
    assert response.status_code == 302
    assert mail.outbox == []  # the web process sends nothing
    assert Update.objects.get(pk=update.pk).status == "sending"
    progress = staff_client.get(f"/admin/updates/update/{update.pk}/change/").content.decode()
    assert "0 of 3 queued; 0 sent, 0 failed, 0 waiting" in progress

    run_tasks()
    report = staff_client.get(f"/admin/updates/update/{update.pk}/change/").content.decode()
    assert "3 of 3 queued; 3 sent, 0 failed, 0 waiting" in report
    assert "3 sent, 0 failed, 0 unsubscribed or withdrawn meanwhile" in report
    assert len(mail.outbox) == 3


def test_a_sent_update_cannot_be_changed_or_sent_again(staff_client, update, signers):
    update.start(actor=None)
    run_tasks()
    response = staff_client.post(
        f"/admin/updates/update/{update.pk}/change/?language=en",
        {"petition": update.petition_id, "subject": "Changed", "body": "x"},
    )
    assert response.status_code == 403
    staff_client.post(f"/admin/updates/update/{update.pk}/send/")
    run_tasks()
    assert len(mail.outbox) == 3


def test_a_send_stopped_by_a_lost_worker_resumes_without_second_copies(
    settings, staff_client, update, signers
):
    from django_tasks_db.models import DBTaskResult

    from updates.tasks import send_update

    settings.UPDATE_BATCH_SIZE = 1
    update.start(actor=None)
    send_update.call(update.pk)  # one batch out; then the worker dies, its queue lost
    DBTaskResult.objects.all().delete()
    page = staff_client.get(f"/admin/updates/update/{update.pk}/change/").content.decode()
    assert "Resume sending" in page
    staff_client.post(f"/admin/updates/update/{update.pk}/resume/")
    staff_client.post(f"/admin/updates/update/{update.pk}/resume/")  # clicked twice
    run_tasks()
    addresses = sorted(m.to[0] for m in mail.outbox)
    assert addresses == ["anna.en@example.org", "bernd.de@example.org", "piotr.pl@example.org"]
    assert Update.objects.get(pk=update.pk).status == "sent"
