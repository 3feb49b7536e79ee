from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mail.models import OutgoingMail
from signatures.models import Signature
from signatures.tests.conftest import OLGA, run_tasks, sign

pytestmark = pytest.mark.django_db(transaction=True)


def test_temporary_smtp_failure_is_retried_later(client, manifesto, smtp_server):
    smtp_server.reject[OLGA["email"]] = "451 4.7.1 Try again later"
    sign(client)
    run_tasks()
    queued = OutgoingMail.objects.get()
    assert queued.status == "queued" and queued.attempts == 1
    assert queued.next_attempt_at > timezone.now() + timedelta(seconds=30)
    retry = DBTaskResult.objects.filter(status="READY", task_path__endswith="send_queued_mail")
    assert retry.get().run_after >= queued.next_attempt_at
    assert Signature.objects.get().email_failed == ""


def test_permanent_smtp_failure_is_recorded_without_the_address(client, manifesto, smtp_server):
    smtp_server.reject[OLGA["email"]] = "550 5.1.1 No such user"
    sign(client)
    run_tasks()
    assert OutgoingMail.objects.get().status == "failed"
    failure = Signature.objects.get().email_failed
    assert failure == "confirm: SMTPRecipientsRefused 550" and "olga" not in failure


def test_task_arguments_and_the_queue_hold_no_address_in_clear(client, manifesto):
    sign(client)
    for task in DBTaskResult.objects.all():
        assert OLGA["email"] not in str(task.args_kwargs)
    for row in OutgoingMail.objects.values():
        assert OLGA["email"] not in str(row) and OLGA["full_name"] not in str(row)


def test_unconfirmed_signatures_are_purged_after_seven_days(client, manifesto, capsys):
    sign(client, email="old@example.org")
    sign(client, email="new@example.org")
    sign(client, email="kept@example.org")
    run_tasks()
    from signatures.tests.conftest import last_mail_to, link

    client.post(link(last_mail_to("kept@example.org"), "confirm"))
    Signature.objects.filter(pk=Signature.find(manifesto, "old@example.org").pk).update(
        created_at=timezone.now() - timedelta(days=7, minutes=1)
    )
    Signature.objects.filter(pk=Signature.find(manifesto, "kept@example.org").pk).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    call_command("purge_expired")
    assert "Deleted 1 unconfirmed signatures" in capsys.readouterr().out
    assert Signature.find(manifesto, "old@example.org") is None
    assert Signature.find(manifesto, "new@example.org") is not None
    assert Signature.find(manifesto, "kept@example.org").status == "confirmed"


def test_the_purge_reschedules_itself_and_is_queued_once(manifesto):
    call_command("schedule_tasks", verbosity=0)
    call_command("schedule_tasks", verbosity=0)
    purge = DBTaskResult.objects.filter(task_path__endswith="purge_expired_signatures")
    assert purge.count() == 1
    run_tasks()
    ready = purge.filter(status="READY").get()
    assert ready.run_after > timezone.now() + timedelta(minutes=50)


def test_outbox_backend_is_what_a_fresh_site_uses(client, manifesto, settings, tmp_path):
    settings.EMAIL_BACKEND = "releasenow.lib.emails.OutboxBackend"
    settings.EMAIL_OUTBOX_DIR = tmp_path
    sign(client)
    run_tasks()
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1
    assert b"/en/manifesto/confirm/" in files[0].read_bytes()
    assert mail.outbox == []


def test_purge_deletes_large_numbers_in_batches(manifesto):
    old = timezone.now() - timedelta(days=8)
    Signature.objects.bulk_create(
        Signature(
            petition=manifesto,
            full_name=f"P {i}",
            visibility="public",
            email_digest=f"{i:064x}",
            created_at=old,
        )
        for i in range(2500)
    )
    assert Signature.objects.expired().delete_in_batches(size=1000) == 2500
    assert not Signature.objects.exists()


def test_tasks_of_a_dead_worker_are_run_again_after_the_timeout(manifesto, settings):
    from releasenow.tasks import recover_stale_tasks, requeue_stale_tasks

    settings.TASK_RUNNING_TIMEOUT = 60
    call_command("schedule_tasks", verbosity=0)
    recovery = DBTaskResult.objects.filter(task_path__endswith="recover_stale_tasks")
    assert recovery.filter(status="READY").count() == 1
    purge = DBTaskResult.objects.get(task_path__endswith="purge_expired_signatures")
    DBTaskResult.objects.filter(pk=purge.pk).update(
        status="RUNNING", started_at=timezone.now() - timedelta(seconds=30)
    )
    assert requeue_stale_tasks() == 0  # it may still be at work
    DBTaskResult.objects.filter(pk=purge.pk).update(
        started_at=timezone.now() - timedelta(seconds=61)
    )
    assert recover_stale_tasks.call(reschedule=False) == 1
    assert DBTaskResult.objects.get(pk=purge.pk).status == "READY"


def test_the_worker_reads_a_signature_as_the_orm_does_with_its_petitions_count(client, manifesto):
    """The worker reads each signature by plain SQL just before sending its mail: the same
    values as the ORM, the petition's count beside them, and nothing for a row that is gone."""
    from signatures.emails import read_signatures

    sign(client)
    stored = Signature.objects.get()
    manifesto.__class__.objects.filter(pk=manifesto.pk).update(signature_count=41)
    read = read_signatures([stored.ref])[stored.ref]
    for field in Signature._meta.concrete_fields:
        value, expected = getattr(read, field.attname), getattr(stored, field.attname)
        assert (value, type(value)) == (expected, type(expected)), field.name
    assert read.petition_count == 41
    gone = f"signature:{stored.pk + 1000}"
    assert read_signatures([gone])[gone] is None


def test_the_worker_reads_the_signatures_of_a_batch_together(client, manifesto, smtp_server):
    """One query for the signatures of the next few confirmations, not one each; a signature
    withdrawn before they are read gets nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mail.sending import deliver

    for i in range(3):
        sign(client, email=f"olga{i}@example.org")
    # Withdrawn after the worker claimed its message, before it read the signature.
    withdrawn = Signature.objects.order_by("pk")[2]
    withdrawn.withdraw()
    OutgoingMail.objects.filter(ref=withdrawn.ref).update(status="queued", finished_at=None)
    with CaptureQueriesContext(connection) as queries:
        deliver()
    reads = [q["sql"] for q in queries if 'FROM "signatures_signature"' in q["sql"]]
    assert len(reads) == 1
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "olga0@example.org",
        "olga1@example.org",
    ]
