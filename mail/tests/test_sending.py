import logging
import socket
import threading
from datetime import timedelta
from email.utils import parseaddr

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mail.models import OutgoingMail, message_id
from releasenow.lib.emails import (
    QueuedMessage,
    build_email,
    format_address,
    queue_email,
    queue_messages,
)

pytestmark = pytest.mark.django_db(transaction=True)


def message(to: str, subject: str = "Hello"):
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    m = EmailMultiAlternatives(subject, "Text", settings.DEFAULT_FROM_EMAIL, [to])
    m.attach_alternative("<p>Text</p>", "text/html")
    return m


def run_worker() -> None:
    """The real database worker, as `make run` runs it, until nothing is due."""
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def time_passes() -> None:
    """Everything scheduled for later is due now (retries, the sender's next run)."""
    now = timezone.now()
    OutgoingMail.objects.filter(status="queued").update(next_attempt_at=now)
    DBTaskResult.objects.filter(status="READY").update(run_after=now)


def test_default_sender_is_a_valid_address_with_its_colon_quoted(smtp_server):
    queue_email(message("olga@example.org"), key="k1")
    run_worker()
    [received] = smtp_server.messages
    assert parseaddr(str(received["From"])) == ("Release NO:W", "noreply@localhost")
    assert received["From"].addresses[0].display_name == "Release NO:W"
    assert OutgoingMail.objects.get().status == "sent"


@pytest.mark.parametrize(
    "name", ["Release NO:W", "Вызваленне: зараз!", 'Quote " and, comma; <angle>', ""]
)
def test_any_display_name_arrives(smtp_server, settings, name):
    settings.DEFAULT_FROM_EMAIL = format_address(name, "noreply@example.org")
    queue_email(message("olga@example.org"), key="k1")
    run_worker()
    [received] = smtp_server.messages
    [sender] = received["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (name, "noreply@example.org")


def test_a_batch_goes_over_one_connection_and_each_message_once(smtp_server):
    queued = queue_messages(
        QueuedMessage(f"bulk:{i}", message(f"p{i}@example.org"), ref=f"signature:{i}", kind="t")
        for i in range(120)
    )
    assert queued == 120
    run_worker()
    assert len(smtp_server.messages) == 120
    assert smtp_server.handler.connections == 1
    ids = {m["Message-ID"] for m in smtp_server.messages}
    assert len(ids) == 120
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {"sent"}
    assert set(OutgoingMail.objects.values_list("payload", flat=True)) == {""}


def test_queueing_a_key_again_sends_nothing_more(smtp_server):
    assert queue_email(message("olga@example.org"), key="once") is True
    assert queue_email(message("olga@example.org"), key="once") is False
    run_worker()
    assert queue_email(message("olga@example.org"), key="once") is False
    run_worker()
    assert len(smtp_server.messages) == 1


def test_queued_message_is_encrypted_until_sent(settings):
    queue_email(message("olga@example.org", subject="Olga Loiko"), key="k")
    row = OutgoingMail.objects.get()
    assert "olga" not in row.payload.lower() and "Loiko" not in row.payload
    assert row.message().to == ["olga@example.org"]


def test_server_down_through_several_retries_then_every_message_arrives_once(smtp_server, caplog):
    smtp_server.down()
    for i in range(3):
        queue_email(message(f"p{i}@example.org"), key=f"k{i}")
    with caplog.at_level(logging.WARNING, logger="mail.sending"):
        for attempt in range(1, 5):
            run_worker()
            rows = OutgoingMail.objects.all()
            assert {r.status for r in rows} == {"queued"}
            assert {r.attempts for r in rows} == {attempt}
            assert all(r.next_attempt_at > timezone.now() for r in rows)
            assert rows[0].error == "ConnectionRefusedError"
            time_passes()
    assert "E-mail server unreachable (ConnectionRefusedError)" in caplog.text
    assert "@example.org" not in caplog.text
    smtp_server.up()
    run_worker()
    time_passes()
    run_worker()
    assert sorted(m["To"] for m in smtp_server.messages) == [f"p{i}@example.org" for i in range(3)]
    assert {r.status for r in OutgoingMail.objects.all()} == {"sent"}


def test_retries_back_off_for_more_than_a_day_then_fail_for_staff(settings, smtp_server):
    assert sum(settings.EMAIL_RETRY_DELAYS) >= 24 * 3600
    smtp_server.reject["olga@example.org"] = "450 4.2.0 Mailbox busy"
    queue_email(message("olga@example.org"), key="k", ref="signature:1", kind="confirm")
    for _ in settings.EMAIL_RETRY_DELAYS:
        run_worker()
        assert OutgoingMail.objects.get().status == "queued"
        time_passes()
    run_worker()
    row = OutgoingMail.objects.get()
    assert row.status == "failed" and row.payload == ""
    assert row.error.startswith("gave up after 9 attempts: SMTPRecipientsRefused 450")


def test_a_5xx_for_one_recipient_is_permanent_and_the_others_go_out(smtp_server, caplog):
    smtp_server.reject["gone@example.org"] = "550 5.1.1 No such user"
    queue_email(message("a@example.org"), key="a")
    queue_email(message("gone@example.org"), key="gone", ref="signature:7", kind="confirm")
    queue_email(message("b@example.org"), key="b")
    run_worker()
    assert sorted(m["To"] for m in smtp_server.messages) == ["a@example.org", "b@example.org"]
    failed = OutgoingMail.objects.get(key="gone")
    assert failed.status == "failed" and failed.payload == ""
    assert failed.error == "SMTPRecipientsRefused 550"
    assert "gone@example.org" not in caplog.text
    time_passes()
    run_worker()
    assert len(smtp_server.messages) == 2  # never retried


def test_an_invalid_recipient_address_is_permanent(smtp_server):
    queue_email(message("not an address\n@x"), key="bad")
    queue_email(message("ok@example.org"), key="ok")
    run_worker()
    assert OutgoingMail.objects.get(key="bad").status == "failed"
    assert [m["To"] for m in smtp_server.messages] == ["ok@example.org"]


def test_a_malformed_sender_waits_and_says_why(smtp_server, settings):
    settings.DEFAULT_FROM_EMAIL = "Release NO:W <noreply@localhost>"
    queue_email(message("olga@example.org"), key="k")
    run_worker()
    row = OutgoingMail.objects.get()
    assert row.status == "queued" and row.error == "invalid sender address (DEFAULT_FROM_EMAIL)"


def test_a_server_answering_garbage_is_retried_with_a_clear_reason(settings, caplog):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer_garbage():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.sendall(b"hello? this is not SMTP\r\n")
            conn.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", listener.getsockname()[1]
    settings.EMAIL_USE_TLS = False
    try:
        queue_email(message("olga@example.org"), key="k")
        with caplog.at_level(logging.WARNING, logger="mail.sending"):
            run_worker()
    finally:
        listener.close()
    row = OutgoingMail.objects.get()
    assert row.status == "queued" and row.attempts == 1
    assert row.error == "SMTPConnectError: the server's answer is not SMTP"
    assert "E-mail server unreachable (SMTPConnectError: the server's answer" in caplog.text


def test_messages_claimed_by_a_dead_sender_are_sent_after_the_timeout(smtp_server, settings):
    settings.EMAIL_CLAIM_TIMEOUT = 60
    queue_email(message("olga@example.org"), key="k")
    OutgoingMail.objects.update(status="sending", claimed_at=timezone.now())
    run_worker()
    assert smtp_server.messages == []  # another sender may still be at work
    OutgoingMail.objects.update(claimed_at=timezone.now() - timedelta(seconds=61))
    time_passes()
    run_worker()
    assert len(smtp_server.messages) == 1


def test_build_email_renders_text_and_html(settings):
    m = build_email("withdrawn", "olga@example.org", {"petition": None}, "de")
    assert m.to == ["olga@example.org"] and m.alternatives[0][1] == "text/html"


def test_staff_see_failures_with_their_reason_but_not_the_address(smtp_server, staff_client):
    smtp_server.reject["gone@example.org"] = "550 5.1.1 No such user"
    queue_email(message("gone@example.org"), key="gone", ref="signature:7", kind="confirm")
    run_worker()
    page = staff_client.get("/admin/mail/outgoingmail/?status__exact=failed").content.decode()
    assert "SMTPRecipientsRefused 550" in page and "signature:7" in page
    assert "gone@example.org" not in page
    detail = staff_client.get(f"/admin/mail/outgoingmail/{OutgoingMail.objects.get().pk}/change/")
    assert detail.status_code == 200 and "gone@example.org" not in detail.content.decode()


def test_a_rolled_back_transaction_queues_nothing(smtp_server):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        queue_email(message("olga@example.org"), key="k")
        raise RuntimeError
    assert not OutgoingMail.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_message_queued_without_text_is_rendered_by_its_kind_when_sent(smtp_server):
    from mail.models import register_renderer

    calls = []

    def render(ref):
        calls.append(ref)
        return message("olga@example.org", subject=f"About {ref}")

    register_renderer("test-rendered", render)
    queue_email(None, key="r1", ref="thing:1", kind="test-rendered")
    row = OutgoingMail.objects.get()
    assert row.payload == "" and row.status == "queued" and calls == []
    run_worker()
    [received] = smtp_server.messages
    assert received["Subject"] == "About thing:1" and calls == ["thing:1"]
    row = OutgoingMail.objects.get()
    assert row.status == "sent" and row.payload == ""  # the text was never stored
    # The Message-ID comes from the key: a copy sent again after a crash is the same message.
    assert received["Message-ID"] == message_id("r1", received["From"])


def test_a_message_whose_subject_is_gone_is_cancelled_not_sent(smtp_server):
    from mail.models import register_renderer

    register_renderer("test-gone", lambda ref: None)
    queue_email(None, key="g1", ref="thing:2", kind="test-gone")
    run_worker()
    assert smtp_server.messages == []
    row = OutgoingMail.objects.get()
    assert row.status == "cancelled" and row.payload == "" and "gone" in row.error


def test_the_subjects_of_the_next_messages_are_read_together_and_each_rendered_alone(smtp_server):
    from mail.models import register_renderer
    from mail.sending import READ_AHEAD

    reads, renders = [], []

    def read(refs):
        reads.append(list(refs))
        return {ref: f"subject of {ref}" for ref in refs if ref != "thing:gone"}

    def render(ref, subject="not read"):
        renders.append((ref, subject))
        return None if subject is None else message("olga@example.org", subject=subject)

    register_renderer("test-read", render, read=read)
    total = READ_AHEAD + 5
    for i in range(total):
        queue_email(None, key=f"read{i}", ref=f"thing:{i}", kind="test-read")
    queue_email(None, key="read-gone", ref="thing:gone", kind="test-read")
    run_worker()
    assert sorted(len(refs) for refs in reads) == [total + 1 - READ_AHEAD, READ_AHEAD]
    assert len(smtp_server.messages) == total
    assert {m["Subject"] for m in smtp_server.messages} == {
        f"subject of thing:{i}" for i in range(total)
    }
    assert ("thing:gone", None) in renders and ("thing:0", "subject of thing:0") in renders
    assert OutgoingMail.objects.get(key="read-gone").status == "cancelled"


def test_when_reading_ahead_fails_each_message_reads_alone(smtp_server, caplog):
    from django.db import OperationalError

    from mail.models import register_renderer

    def read(refs):
        raise OperationalError("the database went away for a moment")

    def render(ref, *subject):
        assert subject == ()  # not read ahead: the renderer reads for itself
        return message("olga@example.org", subject=f"About {ref}")

    register_renderer("test-read-fails", render, read=read)
    for i in range(3):
        queue_email(None, key=f"fails{i}", ref=f"thing:{i}", kind="test-read-fails")
    with caplog.at_level(logging.WARNING, logger="mail.models"):
        run_worker()
    assert len(smtp_server.messages) == 3
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {"sent"}
    assert "Reading ahead for 3 e-mails failed" in caplog.text


def test_a_read_older_than_a_second_is_made_again_before_the_next_message(smtp_server, monkeypatch):
    """A slow server: what the next messages are about is read again, not trusted for long."""
    from mail import sending
    from mail.models import register_renderer

    reads = []

    def read(refs):
        reads.append(list(refs))
        return dict.fromkeys(refs, "fresh")

    register_renderer("test-read-old", lambda ref, subject: message("olga@example.org"), read=read)
    monkeypatch.setattr(sending, "READ_AHEAD_SECONDS", -1.0)  # every read is too old at once
    for i in range(3):
        queue_email(None, key=f"old{i}", ref=f"thing:{i}", kind="test-read-old")
    run_worker()
    assert len(smtp_server.messages) == 3
    assert sorted(len(refs) for refs in reads) == [1, 2, 3]  # read again before each message


def test_a_reader_giving_something_unexpected_leaves_each_message_to_read_alone(smtp_server):
    from mail.models import register_renderer

    rendered = []

    def render(ref, *subject):
        rendered.append(subject)
        return message("olga@example.org")

    register_renderer("test-read-odd", render, read=lambda refs: None)  # not a dict
    queue_email(None, key="odd", ref="thing:1", kind="test-read-odd")
    run_worker()
    assert len(smtp_server.messages) == 1 and rendered == [()]


def test_each_message_has_a_random_boundary_of_its_own_and_parses_back():
    import email
    import re

    made = [
        build_email("withdrawn", "olga@example.org", {"petition": None}, "en").message()
        for _ in range(2)
    ]
    boundaries = [m.get_boundary() for m in made]
    assert boundaries[0] != boundaries[1]
    assert all(re.fullmatch(r"=_[0-9a-f]{32}", b) for b in boundaries)
    parsed = email.message_from_bytes(made[0].as_bytes(linesep="\r\n"))
    kinds = [part.get_content_type() for part in parsed.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]
    assert "<html" in parsed.get_payload()[1].get_payload(decode=True).decode()
    # As queued: the bytes made for SMTP carry such a boundary too, quoted in the header.
    from mail.models import pack, raw

    _sender, _to, mime = raw(pack(message("olga@example.org"), "key"))
    assert re.search(rb'boundary="=_[0-9a-f]{32}"', mime)
    assert email.message_from_bytes(mime).get_payload()[0].get_payload() == "Text"


@pytest.fixture
def short_busy_timeout():
    """SQLite's busy timeout of this test's connection at 0.1 s instead of 20 s, and a second
    connection to hold the write lock with."""
    import sqlite3

    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock")
    connection.ensure_connection()
    connection.connection.execute("PRAGMA busy_timeout = 100")
    holder = sqlite3.connect(
        connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False
    )
    yield holder
    holder.close()
    seconds = connection.settings_dict["OPTIONS"].get("timeout", 5)
    connection.connection.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")


def test_mail_sent_is_recorded_as_sent_though_the_database_stays_locked_past_its_timeout(
    short_busy_timeout, caplog
):
    """Left "sending", it would go out a second time once its claim is stale."""
    queue_email(message("olga@example.org"), key="locked")
    row = OutgoingMail.objects.get(key="locked")
    short_busy_timeout.execute("BEGIN IMMEDIATE")  # a long import, say
    threading.Timer(1.5, short_busy_timeout.rollback).start()
    with caplog.at_level(logging.WARNING, logger="mail.models"):
        OutgoingMail.mark_sent([row.pk])
    assert OutgoingMail.objects.get(pk=row.pk).status == "sent"
    assert "trying again" in caplog.text


def test_past_its_patience_the_record_of_sent_mail_fails_loudly(short_busy_timeout, settings):
    from django.db import OperationalError

    settings.EMAIL_CLAIM_TIMEOUT = 1  # a third of a second of patience
    queue_email(message("olga@example.org"), key="locked")
    row = OutgoingMail.objects.get(key="locked")
    short_busy_timeout.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            OutgoingMail.mark_sent([row.pk])
    finally:
        short_busy_timeout.rollback()
    assert OutgoingMail.objects.get(pk=row.pk).status == "queued"


@pytest.mark.parametrize(
    ("record", "status"),
    [
        (lambda row: OutgoingMail.mark_suppressed([row.pk]), "suppressed"),
        (lambda row: row.mark_cancelled("its subject is gone"), "cancelled"),
        (lambda row: row.mark_failed("550 no such user"), "failed"),
        (lambda row: row.retry_later("421 try later"), "queued"),
    ],
    ids=["suppressed", "cancelled", "failed", "to retry"],
)
def test_every_record_of_claimed_mail_waits_for_a_database_locked_past_its_timeout(
    short_busy_timeout, record, status
):
    """Else the row stays "sending" and the whole run stops, its other claimed rows with it."""
    queue_email(message("olga@example.org"), key="locked")
    OutgoingMail.objects.claim(10, timezone.now())
    row = OutgoingMail.objects.get(key="locked")
    short_busy_timeout.execute("BEGIN IMMEDIATE")
    threading.Timer(1.0, short_busy_timeout.rollback).start()
    record(row)
    row.refresh_from_db()
    assert row.status == status
    assert row.payload == "" or status == "queued"


def test_a_sender_run_refused_by_a_busy_database_queues_the_next_run(short_busy_timeout, caplog):
    """Nothing else would send the queue until the next signer comes."""
    from mail.tasks import BUSY_RETRY_SECONDS, send_queued_mail

    queue_email(message("olga@example.org"), key="waiting")
    DBTaskResult.objects.all().delete()
    short_busy_timeout.execute("BEGIN IMMEDIATE")  # the claim cannot be made
    threading.Timer(1.0, short_busy_timeout.rollback).start()
    with caplog.at_level(logging.WARNING, logger="mail.tasks"):
        assert send_queued_mail.call() == {"busy": 1}
    assert "busy database" in caplog.text
    (next_run,) = DBTaskResult.objects.filter(status="READY")
    assert next_run.task_path == send_queued_mail.module_path
    assert next_run.run_after >= timezone.now() + timedelta(seconds=BUSY_RETRY_SECONDS - 5)
    assert OutgoingMail.objects.get(key="waiting").status == "queued"
    time_passes()
    run_worker()
    assert OutgoingMail.objects.get(key="waiting").status == "sent"
