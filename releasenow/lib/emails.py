"""E-mail plumbing shared by the apps."""

import secrets
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class OutboxBackend(BaseEmailBackend):
    """Write every message as its own `.eml` file into EMAIL_OUTBOX_DIR.

    The default until SMTP is configured: nothing leaves the machine, and a newcomer can open
    what the site would have sent in any mail client.
    """

    def __init__(self, *args, outbox_dir: str | Path | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outbox_dir = Path(outbox_dir or settings.EMAIL_OUTBOX_DIR)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = self.outbox_dir / f"{stamp}-{secrets.token_hex(4)}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\r\n"))
            sent += 1
        return sent
