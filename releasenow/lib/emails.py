"""E-mail plumbing shared by the apps.

Sending is always queued: a request (or a task) calls `queue_email` / `queue_messages`, and the
worker drains the queue in batches over one SMTP connection (`mail.sending`), with retries for
more than a day and an idempotency key per message. Apps never talk SMTP themselves.

    from releasenow.lib.emails import QueuedMessage, build_email, queue_messages

    queue_messages(
        QueuedMessage(f"update:{u.pk}:{s.ref}", build_email(...), ref=s.ref, kind="update")
        for s in signers
    )
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterable, Sequence
from email.headerregistry import Address
from email.utils import formataddr
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.http import HttpRequest
from django.utils import timezone

log = logging.getLogger(__name__)

OUTBOX_KEEP_DAYS = 7


def format_address(name: str, address: str) -> str:
    """`"Release NO:W" <noreply@example.org>`: any display name (colons, Cyrillic) quoted or
    encoded by the standard library, never glued by hand."""
    Address(addr_spec=address)  # raises ValueError/HeaderParseError on a malformed address
    return formataddr((name, address)) if name else address


class OutboxBackend(BaseEmailBackend):
    """Write every message as its own `.eml` file into EMAIL_OUTBOX_DIR.

    A development aid, the default until SMTP is configured: nothing leaves the machine, and a
    newcomer can open what the site would have sent. The files hold addresses and links in
    clear, so they are readable by the owner only (0600) and deleted after seven days.
    """

    def __init__(self, *args, outbox_dir: str | Path | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outbox_dir = Path(outbox_dir or settings.EMAIL_OUTBOX_DIR)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.outbox_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = self.outbox_dir / f"{stamp}-{secrets.token_hex(4)}.eml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(message.message().as_bytes(linesep="\r\n"))
            sent += 1
        return sent


class Email(EmailMultiAlternatives):
    """Django's text-and-HTML message, its MIME boundaries drawn as the MIME is made. Left to
    the standard library, each message's boundary is drawn when it is written out and checked
    against its text by a regular expression compiled for that boundary alone: a twentieth of
    the worker's time per confirmation. 128 random bits cannot occur in the text by chance, and
    are drawn after the text is written, so no signer can put them in a name."""

    def message(self, *args, **kwargs):
        msg = super().message(*args, **kwargs)
        for part in msg.walk():
            if part.is_multipart() and part.get_boundary() is None:
                part.set_boundary(f"=_{secrets.token_hex(16)}")
        return msg


def prune_outbox(days: int = OUTBOX_KEEP_DAYS, outbox_dir: Path | None = None) -> int:
    """Delete outbox files older than `days`. Returns how many."""
    folder = Path(outbox_dir or settings.EMAIL_OUTBOX_DIR)
    cutoff = time.time() - days * 86400
    deleted = 0
    for path in folder.glob("*.eml") if folder.is_dir() else []:
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def render_email(template: str, context: dict, language: str) -> tuple[str, str, str]:
    """Subject, text and HTML of `templates/emails/<template>-{subject,body}.{txt,html}`,
    rendered in the recipient's language."""
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(language):
        subject = render_to_string(f"emails/{template}-subject.txt", context)
        text = render_to_string(f"emails/{template}-body.txt", context)
        html = render_to_string(f"emails/{template}-body.html", context)
    return " ".join(subject.split()), text, html


def build_email(template: str, to: str, context: dict, language: str) -> Email:
    """One rendered message (text and HTML) from DEFAULT_FROM_EMAIL, ready to queue."""
    subject, text, html = render_email(template, context, language)
    message = Email(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.extra_headers["Auto-Submitted"] = "auto-generated"
    return message


class QueuedMessage(NamedTuple):
    """A message for the queue. `key` makes it idempotent: queueing a key again adds nothing.
    `ref` names what it is about (`signature:42`): withdrawing cancels what waits for it, and a
    permanent failure is reported with it. Neither may contain personal data."""

    key: str
    message: EmailMessage | None  # None: rendered by the worker (`mail.models.register_renderer`)
    ref: str = ""
    kind: str = ""
    throttle: str = ""  # `throttle_key(address)`: obey the per-address mail limits


def queue_messages(messages: Iterable[QueuedMessage], batch_size: int = 1000) -> int:
    """Queue messages for the worker, in bulk; keys seen before are skipped. The sender task is
    queued in the same transaction. Returns the number newly queued."""
    from mail.models import OutgoingMail, pack
    from mail.tasks import wake_sender

    queued = 0
    batch: list[QueuedMessage] = []

    def flush() -> int:
        keys = [item.key for item in batch]
        known = set(OutgoingMail.objects.filter(key__in=keys).values_list("key", flat=True))
        now = timezone.now()
        rows = {
            item.key: OutgoingMail(
                key=item.key,
                ref=item.ref,
                kind=item.kind,
                payload="" if item.message is None else pack(item.message, item.key),
                throttle_key=item.throttle,
                created_at=now,
                next_attempt_at=now,
            )
            for item in batch
            if item.key not in known
        }
        OutgoingMail.objects.bulk_create(rows.values(), ignore_conflicts=True)
        batch.clear()
        return len(rows)

    for item in messages:
        batch.append(item)
        if len(batch) >= batch_size:
            queued += flush()
    if batch:
        queued += flush()
    if queued:
        wake_sender()  # the task row commits (or rolls back) with the messages
    return queued


def queue_email(
    message: EmailMessage | None,
    *,
    key: str,
    ref: str = "",
    kind: str = "",
    throttle: str = "",
) -> bool:
    """Queue one message; False if its key was queued before. With `message` None the worker
    renders it when sending, by the renderer registered for `kind`."""
    return queue_messages([QueuedMessage(key, message, ref, kind, throttle)]) == 1


class NewEmail:
    """A message the worker renders (see `queue_email`), queued under a key never used before
    (one with a random part): its INSERT and `wake_sender`'s question are compiled when this is
    made, before the sign request's transaction begins, and `queue` only runs them."""

    def __init__(self, throttle: str = ""):
        from mail.models import OutgoingMail
        from mail.tasks import prepare_wake

        from .prepared import PreparedInsert

        now = timezone.now()
        row = OutgoingMail(key="", throttle_key=throttle, created_at=now, next_attempt_at=now)
        self.insert = PreparedInsert(row)
        self.wake = prepare_wake(now)

    def queue(self, *, key: str, ref: str, kind: str, then: list[tuple[str, list]] = ()) -> None:
        """`then`: further statements ((sql, params) each) to run after these, in the same
        round trip."""
        from mail.tasks import wake_sender

        from .prepared import run_together

        # The INSERT and wake_sender's question: one round trip on PostgreSQL.
        _inserted, (_count, queued), *_then = run_together(
            [self.insert.statement(key=key, ref=ref, kind=kind), self.wake, *then]
        )
        wake_sender(queued=bool(queued))


def throttle_key(address: str) -> str:
    """What the per-address mail limits count by: derived from the keyed digest of the
    address, never the address itself."""
    import hashlib

    from releasenow.lib.crypto import email_digest

    return hashlib.sha256(f"mail-limit:{email_digest(address)}".encode()).hexdigest()[:32]


def mail_allowed(request: HttpRequest, *, over: bool | None = None) -> bool:
    """May a visitor's submission cause e-mail now? At most MAIL_LIMIT_PER_NETWORK per client
    network, counted with the same work every time (`over_limit`). The per-address limits
    apply when sending, see `throttle_key`: checked here, their state would make the request
    of an address used before differ from a new one. The visitor is answered alike either way.
    `over`: the hit `mail_network_hit` already counted, together with others (`over_limits`)."""
    from releasenow.lib.limits import over_limit

    if over is None:
        over = over_limit(*mail_network_hit(request))
    if over:
        log.info("E-mail not sent: limit per network (%s) reached", settings.MAIL_LIMIT_PER_NETWORK)
        return False
    return True


def mail_network_hit(request: HttpRequest) -> tuple[str, str, str]:
    """The limit a submission that may cause e-mail counts: (group, value, rate)."""
    from releasenow.lib.crypto import client_digest

    return ("mail-network", client_digest(request), settings.MAIL_LIMIT_PER_NETWORK)
