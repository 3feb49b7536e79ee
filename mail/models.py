"""Outgoing e-mail: a queue in the database, drained in batches over one SMTP connection.

Why a table rather than one task per message: a viral day queues tens of thousands of
confirmations; a worker drains them over a single reused connection. Each message has an
idempotency key (queueing the same key twice sends once), temporary failures wait with growing
delays for more than a day, permanent ones stay visible to staff, and a message whose sender
died mid-send is picked up again after EMAIL_CLAIM_TIMEOUT.

A row keeps its message encrypted (EMAIL_ENCRYPTION_KEYS) only until it is sent, has failed or
is cancelled; then nothing is left but key, kind, reference, state and the reason of a failure.

A row may also be queued without its message (`QueuedMessage.message` None): the worker renders
it when it sends it, with the renderer its app registered for the row's kind. Signing queues
its confirmation so: the sign request stays one short transaction, and building MIME (most of
the cost of a message) happens in the worker instead of in front of the signer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import sanitize_address
from django.db import OperationalError, models, transaction
from django.utils import timezone

from releasenow.lib.crypto import decrypt_text, encrypt_text
from releasenow.lib.emails import Email

log = logging.getLogger(__name__)


def pack(message: EmailMessage, key: str) -> str:
    """The message as encrypted JSON, with a Message-ID derived from its idempotency key, so
    that a message sent again after a crash is recognisably the same one."""
    if message.attachments:
        raise ValueError("Queued e-mail cannot carry attachments")
    headers = dict(message.extra_headers)
    headers.setdefault("Message-ID", message_id(key, message.from_email))
    data = {
        "subject": message.subject,
        "body": message.body,
        "from": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": headers,
        "alternatives": [list(a) for a in getattr(message, "alternatives", [])],
    }
    # The bytes SMTP sends, made now (by the caller, often a web process) rather than in the
    # one worker that drains the queue: building MIME is most of the cost of a message. An
    # invalid address cannot be built; such a message is judged when it is sent.
    try:
        copy = Email(
            data["subject"], data["body"], data["from"], data["to"],
            cc=data["cc"], bcc=data["bcc"], reply_to=data["reply_to"], headers=headers,
            alternatives=data["alternatives"],
        )  # fmt: skip
        encoding = copy.encoding or settings.DEFAULT_CHARSET
        data["envelope"] = [
            sanitize_address(copy.from_email, encoding),
            [sanitize_address(address, encoding) for address in copy.recipients()],
        ]
        data["mime"] = base64.b64encode(copy.message().as_bytes(linesep="\r\n")).decode()
    except ValueError:
        data.pop("envelope", None)
    return encrypt_text(json.dumps(data, ensure_ascii=False))


def until_written(write: Callable[[], object], patience: float) -> None:
    """Run `write` (outside a transaction), again after an OperationalError (database locked,
    connection lost), until `patience` seconds have passed; then the error is raised."""
    connection = transaction.get_connection()
    deadline = time.monotonic() + patience
    delay = 0.25
    while True:
        try:
            write()
            return
        except OperationalError:
            if connection.in_atomic_block or time.monotonic() + delay > deadline:
                raise
            log.warning("A write of the mail queue failed; trying again", exc_info=True)
            connection.close_if_unusable_or_obsolete()  # a lost connection is made anew
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def message_id(key: str, from_email: str) -> str:
    """The same for every attempt at a message: a copy sent again after a crash is
    recognisably the same one."""
    domain = parseaddr(from_email or settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain or 'localhost'}>"


def raw(payload: str) -> tuple[str, list[str], bytes] | None:
    """Envelope sender, recipients and the MIME bytes made at queueing time, if any."""
    data = json.loads(decrypt_text(payload))
    if "mime" not in data:
        return None
    sender, recipients = data["envelope"]
    return sender, recipients, base64.b64decode(data["mime"])


def unpack(payload: str) -> Email:
    data = json.loads(decrypt_text(payload))
    message = Email(
        data["subject"], data["body"], data["from"], data["to"],
        cc=data["cc"], bcc=data["bcc"], reply_to=data["reply_to"], headers=data["headers"],
    )  # fmt: skip
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    return message


# kind -> function(ref[, subject]) giving the message of a row queued without one, or None
# when what it was about is gone (a withdrawn signature): then nothing is sent.
RENDERERS: dict[str, Callable[..., EmailMessage | None]] = {}
# kind -> function(refs) reading what several such rows are about at once: {ref: subject}.
READERS: dict[str, Callable[[list[str]], dict]] = {}


def register_renderer(
    kind: str,
    render: Callable[..., EmailMessage | None],
    read: Callable[[list[str]], dict] | None = None,
) -> None:
    """Rows of `kind` queued without a message are rendered by `render(ref)` when sent. With
    `read`, the sender reads the subjects of the next few rows together (`read(refs)`, a dict
    by ref; `OutgoingMail.read_ahead`) and each is rendered by `render(ref, subject)`, with
    None for a ref missing from the dict (gone): on a viral day one query for a handful of
    confirmations instead of one each."""
    RENDERERS[kind] = render
    if read is not None:
        READERS[kind] = read
    else:
        READERS.pop(kind, None)


class OutgoingMailQuerySet(models.QuerySet):
    def due(self, at=None) -> OutgoingMailQuerySet:
        return self.filter(
            status=OutgoingMail.Status.QUEUED, next_attempt_at__lte=at or timezone.now()
        )

    def cancel(self, ref: str) -> int:
        """Drop what is still waiting for `ref` (a signer withdrew): the message and its
        address are erased now, not after sending."""
        return self.filter(
            ref=ref, status__in=[OutgoingMail.Status.QUEUED, OutgoingMail.Status.SENDING]
        ).update(status=OutgoingMail.Status.CANCELLED, payload="", finished_at=timezone.now())

    def release_stale(self) -> int:
        """Messages claimed by a sender that died (kill -9, power cut) go back to the queue.

        The dead sender may have handed one of them to the server just before dying; it goes
        out again with the same Message-ID."""
        cutoff = timezone.now() - timedelta(seconds=settings.EMAIL_CLAIM_TIMEOUT)
        return self.filter(status=OutgoingMail.Status.SENDING, claimed_at__lt=cutoff).update(
            status=OutgoingMail.Status.QUEUED, claimed_at=None
        )

    def claim(self, size: int, due_at) -> list[OutgoingMail]:
        """Up to `size` due messages, marked as being sent by this process."""
        now = timezone.now()
        with transaction.atomic():
            ids = list(
                self.due(due_at)
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at", "id")
                .values_list("id", flat=True)[:size]
            )
            if ids:
                self.filter(id__in=ids).update(status=OutgoingMail.Status.SENDING, claimed_at=now)
        return list(self.filter(id__in=ids, status=OutgoingMail.Status.SENDING).order_by("id"))

    def prune(self, days: int = 7) -> int:
        """Forget finished messages (their keys stop guarding against repeats)."""
        cutoff = timezone.now() - timedelta(days=days)
        finished = [
            OutgoingMail.Status.SENT,
            OutgoingMail.Status.FAILED,
            OutgoingMail.Status.CANCELLED,
            OutgoingMail.Status.SUPPRESSED,
        ]
        return self.filter(status__in=finished, finished_at__lt=cutoff).delete()[0]


class OutgoingMail(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        SENDING = "sending", "being sent"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"
        SUPPRESSED = "suppressed", "not sent: mail limit"

    key = models.CharField(max_length=200, unique=True, help_text="Idempotency key")
    ref = models.CharField(max_length=100, blank=True, help_text="What the message is about")
    kind = models.CharField(max_length=40, blank=True)
    # Messages with a throttle key obey MAIL_LIMIT_PER_ADDRESS(_DAILY), applied when sending, so
    # the request that queues them costs the same whatever the address's history.
    throttle_key = models.CharField(max_length=32, blank=True)
    payload = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    objects = OutgoingMailQuerySet.as_manager()

    class Meta:
        verbose_name = "outgoing e-mail"
        verbose_name_plural = "outgoing e-mail"
        ordering = ["-created_at", "-id"]
        # Indexes, not db_index=True: on PostgreSQL that adds a second index for LIKE on each
        # text column, which no query here uses, and every message written three times (queued,
        # claimed, sent) updates every index.
        indexes = [
            models.Index(fields=["ref"], name="mail_ref"),
            models.Index(fields=["throttle_key"], name="mail_throttle"),
            models.Index(
                fields=["next_attempt_at", "id"],
                name="mail_due",
                condition=models.Q(status="queued"),
            ),
            models.Index(
                fields=["claimed_at"], name="mail_sending", condition=models.Q(status="sending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind or 'e-mail'} {self.ref} ({self.get_status_display()})"

    _rendered: EmailMessage | None = None
    _read: tuple = ()  # (what its kind's reader gave for its ref,) once read ahead

    def message(self) -> EmailMessage:
        return self._rendered or unpack(self.payload)

    @classmethod
    def read_ahead(cls, rows: list[OutgoingMail]) -> None:
        """Read together what the rows about to be rendered are about, one query per reader
        (`register_renderer`). If that fails, each row reads alone when rendered, and a
        failure is its own."""
        by_reader: dict[Callable, list[OutgoingMail]] = {}
        for row in rows:
            if not row.payload and row._rendered is None and (read := READERS.get(row.kind)):
                by_reader.setdefault(read, []).append(row)
        for read, group in by_reader.items():
            try:
                subjects = read([row.ref for row in group])
                found = [(subjects.get(row.ref),) for row in group]
            except Exception:  # noqa: BLE001 - each row tries again alone
                log.warning("Reading ahead for %d e-mails failed", len(group), exc_info=True)
                found = [()] * len(group)
            for row, subject in zip(group, found, strict=True):
                row._read = subject

    def render(self) -> bool:
        """Make the message of a row queued without one. It stays in memory, never stored (a
        row sent again after a crash is rendered again, with the same Message-ID). False if
        there is nothing to send any more; a kind nobody registered raises LookupError."""
        if self.payload or self._rendered:
            return True
        read, self._read = self._read, ()  # used once, and not kept
        message = RENDERERS[self.kind](self.ref, *read)
        if message is None:
            return False
        message.extra_headers.setdefault("Message-ID", message_id(self.key, message.from_email))
        self._rendered = message
        return True

    @classmethod
    def record(cls, ids: list[int], **values) -> None:
        """Write what happened to claimed rows (sent, failed, to retry, cancelled, suppressed).
        Left "sending", a row goes out a second time once its claim is stale (`release_stale`),
        so when the database stays busy past its timeout (a long import holding SQLite's write
        lock, a failover), the write is tried again for up to a third of EMAIL_CLAIM_TIMEOUT
        instead of given up."""
        rows = cls.objects.filter(pk__in=ids)
        until_written(lambda: rows.update(**values), settings.EMAIL_CLAIM_TIMEOUT / 3)

    @classmethod
    def mark_sent(cls, ids: list[int]) -> None:
        cls.record(ids, status=cls.Status.SENT, payload="", error="", finished_at=timezone.now())

    @classmethod
    def mark_suppressed(cls, ids: list[int]) -> None:
        cls.record(ids, status=cls.Status.SUPPRESSED, payload="", finished_at=timezone.now())

    def mark_cancelled(self, reason: str) -> None:
        self.record(
            [self.pk], status=self.Status.CANCELLED, payload="", error=reason[:200],
            finished_at=timezone.now(),
        )  # fmt: skip

    def mark_failed(self, reason: str) -> None:
        """Permanent: the server refused this recipient or message (5xx)."""
        self.record(
            [self.pk], status=self.Status.FAILED, payload="", error=reason[:200],
            finished_at=timezone.now(), attempts=self.attempts + 1,
        )  # fmt: skip
        from .signals import mail_failed

        mail_failed.send(sender=OutgoingMail, ref=self.ref, kind=self.kind, reason=reason)

    def retry_later(self, reason: str) -> bool:
        """Temporary: try again after the next delay of EMAIL_RETRY_DELAYS; when they are used
        up, the failure becomes permanent. Returns True if a retry is scheduled."""
        delays = settings.EMAIL_RETRY_DELAYS
        if self.attempts >= len(delays):
            self.mark_failed(f"gave up after {self.attempts + 1} attempts: {reason}")
            return False
        self.record(
            [self.pk], status=self.Status.QUEUED, claimed_at=None, error=reason[:200],
            attempts=self.attempts + 1,
            next_attempt_at=timezone.now() + timedelta(seconds=delays[self.attempts]),
        )  # fmt: skip
        return True
