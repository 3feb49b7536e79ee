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
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.utils import timezone
from django_ratelimit.core import _split_rate as split_rate

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


# Sent messages are recorded in groups of this many (one UPDATE each): a worker killed
# mid-batch sends at most these again, with the same Message-ID, after EMAIL_CLAIM_TIMEOUT.
RECORD_EVERY = 20
# Messages rendered by the worker have what they are about (a signature) read for this many at
# a time, just before they are sent (`OutgoingMail.read_ahead`): a query for each was a third
# of the worker's time per confirmation. Read again once the read is older than
# READ_AHEAD_SECONDS (a slow server), and after a lost connection: a withdrawal stops every
# message not yet read, and one read at most about a second before.
READ_AHEAD = 20
READ_AHEAD_SECONDS = 1.0


def over_limit(rows: list[OutgoingMail]) -> set[int]:
    """The rows whose address had its share of mail already (MAIL_LIMIT_PER_ADDRESS and
    MAIL_LIMIT_PER_ADDRESS_DAILY, counted over messages sent with the same throttle key)."""
    keys = {row.throttle_key for row in rows if row.throttle_key}
    if not keys or not settings.RATELIMIT_ENABLE:
        return set()
    limits = [
        split_rate(settings.MAIL_LIMIT_PER_ADDRESS),
        split_rate(settings.MAIL_LIMIT_PER_ADDRESS_DAILY),
    ]
    now = timezone.now()
    since = now - timedelta(seconds=max(period for _count, period in limits))
    history = defaultdict(list)
    for key, at in OutgoingMail.objects.filter(
        throttle_key__in=keys, status=OutgoingMail.Status.SENT, finished_at__gte=since
    ).values_list("throttle_key", "finished_at"):
        history[key].append(at)
    suppressed = set()
    for row in rows:
        if not row.throttle_key:
            continue
        sent = history[row.throttle_key]
        if any(
            sum(at >= now - timedelta(seconds=period) for at in sent) >= count
            for count, period in limits
        ):
            suppressed.add(row.pk)
        else:
            sent.append(now)
    return suppressed


def send_batch(connection, rows: list[OutgoingMail], counts: Counter) -> None:
    """Send claimed rows over one open connection, recording outcomes as they happen."""
    if suppressed := over_limit(rows):
        log.info("%d e-mails not sent: mail limit per address reached", len(suppressed))
        OutgoingMail.mark_suppressed(list(suppressed))
        counts["suppressed"] += len(suppressed)
        rows = [row for row in rows if row.pk not in suppressed]
    sent: list[int] = []
    try:
        _send_batch(connection, rows, counts, sent)
    finally:
        if sent:
            OutgoingMail.mark_sent(sent)


def _send_batch(connection, rows: list[OutgoingMail], counts: Counter, sent: list[int]) -> None:
    pending = list(rows)
    ahead, read_at = 0, 0.0
    while pending:
        if not ahead or time.monotonic() - read_at > READ_AHEAD_SECONDS:
            # What the next few are about, read together just before they go.
            OutgoingMail.read_ahead(pending[:READ_AHEAD])
            ahead, read_at = READ_AHEAD, time.monotonic()
        ahead -= 1
        row = pending.pop(0)
        message = None
        try:
            if not row.render():
                row.mark_cancelled("nothing to send: its subject is gone")
                counts["cancelled"] += 1
                continue
            smtp = getattr(connection, "connection", None)
            made = raw(row.payload) if isinstance(connection, SMTPBackend) and row.payload else None
            if smtp and made:
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
                ahead = 0  # reconnecting may take long: read the next ones again
                with contextlib.suppress(Exception):
                    connection.close()
                try:
                    connection.open()
                except Exception as exc:  # noqa: BLE001 - the server is down: all wait
                    postpone_all(pending, exc, counts)
                    return
            continue
        sent.append(row.pk)
        counts["sent"] += 1
        if len(sent) >= RECORD_EVERY:
            OutgoingMail.mark_sent(sent)
            sent.clear()


def postpone_all(rows: list[OutgoingMail], exc: Exception, counts: Counter) -> None:
    """The server cannot be reached: every message waits for its next attempt."""
    reason = judge(exc).reason
    log.warning("E-mail server unreachable (%s); %d messages wait", reason, len(rows))
    for row in rows:
        counts["retrying" if row.retry_later(reason) else "failed"] += 1


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
                    postpone_all(rows, exc, counts)
                    connection = None
                    break
            send_batch(connection, rows, counts)
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
    counts["more"] = int(OutgoingMail.objects.due(started).exists())
    return counts
