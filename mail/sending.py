"""Draining the queue: one connection for a whole batch, each message's fate decided alone.

Temporary (retried with EMAIL_RETRY_DELAYS, more than a day in all): the server cannot be
reached or drops the connection, a 4xx answer, an answer that makes no sense, a sender address
the server or Python refuses (a configuration error staff must fix: no recipient is to blame).
Permanent (recorded for staff): a 5xx answer for this recipient or this message, an invalid
recipient address, a message no configured key can decrypt.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
from collections import Counter
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.utils import timezone

from .models import OutgoingMail, raw

log = logging.getLogger(__name__)

# Errors after which the connection cannot be trusted for the next message.
CONNECTION_ERRORS = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
    OSError,
)


@dataclass
class Verdict:
    permanent: bool
    reason: str
    connection_lost: bool = False


def judge(exc: Exception, message=None) -> Verdict:
    """What a failure means for this message. Reasons name the error, never the address."""
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return Verdict(any(500 <= c < 600 for c in codes), f"{name} {' '.join(map(str, codes))}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return Verdict(False, f"{name} {exc.smtp_code}: the sender address was refused")
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        if not 200 <= code < 600:
            return Verdict(False, f"{name}: the server's answer is not SMTP", connection_lost=True)
        return Verdict(500 <= code < 600, f"{name} {code}", connection_lost=code == 421)
    if isinstance(exc, CONNECTION_ERRORS):
        return Verdict(False, name, connection_lost=True)
    if isinstance(exc, InvalidToken):
        return Verdict(True, "the message cannot be decrypted with EMAIL_ENCRYPTION_KEYS")
    if isinstance(exc, ValueError) and message is not None:
        try:
            sanitize_address(message.from_email, "utf-8")
        except ValueError:
            return Verdict(False, "invalid sender address (DEFAULT_FROM_EMAIL)")
        return Verdict(True, f"invalid recipient address ({name})")
    # An SMTP server answering garbage, and anything unforeseen: retry, and say so.
    return Verdict(False, f"unexpected {name}", connection_lost=True)


def send_batch(connection, rows: list[OutgoingMail], counts: Counter) -> None:
    """Send claimed rows over one open connection, recording each outcome as it happens (so a
    crash repeats at most the message in flight)."""
    pending = list(rows)
    while pending:
        row = pending.pop(0)
        message = None
        try:
            smtp = getattr(connection, "connection", None)
            if isinstance(connection, SMTPBackend) and smtp and (made := raw(row.payload)):
                smtp.sendmail(*made)  # the bytes made at queueing time, as Django would send
            else:
                message = row.message()
                connection.send_messages([message])
        except Exception as exc:  # noqa: BLE001 - every failure is either retried or recorded
            verdict = judge(exc, message)
            if verdict.permanent:
                log.error("E-mail %s #%s failed permanently: %s", row.kind, row.pk, verdict.reason)
                row.mark_failed(verdict.reason)
                counts["failed"] += 1
            else:
                log.warning(
                    "E-mail %s #%s failed, will retry: %s", row.kind, row.pk, verdict.reason
                )
                counts["retrying" if row.retry_later(verdict.reason) else "failed"] += 1
            if verdict.connection_lost:
                with contextlib.suppress(Exception):
                    connection.close()
                try:
                    connection.open()
                except Exception as exc:  # noqa: BLE001 - the server is down: all wait
                    reason = judge(exc).reason
                    log.warning(
                        "E-mail server unreachable (%s); %d messages wait", reason, len(pending)
                    )
                    for other in pending:
                        counts["retrying" if other.retry_later(reason) else "failed"] += 1
                    return
            continue
        row.mark_sent()
        counts["sent"] += 1


def deliver(batch_size: int | None = None, time_limit: float = 60.0) -> Counter:
    """Send what is due now, batch after batch over one connection, for up to `time_limit`
    seconds. Returns counts of sent, retrying and failed messages."""
    batch_size = batch_size or settings.EMAIL_BATCH_SIZE
    counts: Counter = Counter()
    released = OutgoingMail.objects.release_stale()
    if released:
        log.warning("%d e-mails claimed by a sender that stopped are queued again", released)
    started, deadline = timezone.now(), time.monotonic() + time_limit
    connection = None
    try:
        while time.monotonic() < deadline:
            rows = OutgoingMail.objects.claim(batch_size, started)
            if not rows:
                break
            if connection is None:
                connection = get_connection()
                try:
                    connection.open()
                except Exception as exc:  # noqa: BLE001 - the server is down: all wait
                    reason = judge(exc).reason
                    log.warning(
                        "E-mail server unreachable (%s); %d messages wait", reason, len(rows)
                    )
                    for row in rows:
                        counts["retrying" if row.retry_later(reason) else "failed"] += 1
                    connection = None
                    break
            send_batch(connection, rows, counts)
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
    counts["more"] = int(OutgoingMail.objects.due(started).exists())
    return counts
