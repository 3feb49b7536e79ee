"""A real SMTP server for tests and benchmarks (aiosmtpd, a dev dependency), on a free port.

    with SMTPServer() as server:        # or the `smtp_server` fixture, which also points
        ...                             # Django's settings at it
        server.messages                 # what it accepted: email.message.Message objects

`server.reject[address] = "550 5.1.1 No such user"` refuses a recipient; `server.down()` and
`server.up()` stop and restart it on the same port; `server.hold` (an Event) makes DATA wait.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes, policy
from email.message import Message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """The aiosmtpd handler: accepts, refuses or holds, and records what it accepted."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reject: dict[str, str] = {}
        self.data_answer = "250 OK"
        self.hold: threading.Event | None = None
        self.holding = threading.Event()
        self.lock = threading.Lock()
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold is not None:
            self.holding.set()
            while not self.hold.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Interrupted"
        if not self.data_answer.startswith("250"):
            return self.data_answer
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


class SMTPServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = Recorder()
        self.controller = None

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages

    @property
    def reject(self) -> dict[str, str]:
        return self.handler.reject

    def up(self) -> SMTPServer:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's chatter

        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, decode_data=False
        )
        self.controller.start()
        return self

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> SMTPServer:
        return self.up()

    def __exit__(self, *exc) -> None:
        if self.handler.hold is not None:
            self.handler.hold.set()
        self.down()

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in (m["To"] or "")]


def process_env(**extra: str) -> dict[str, str]:
    """Environment for a `manage.py` subprocess (a real worker) that shares this test run's
    database, keys and DATA_DIR."""
    import os

    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATA_DIR=str(settings.DATA_DIR),
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="releasenow.settings",
        SECRET_KEY=settings.SECRET_KEY,
        EMAIL_ENCRYPTION_KEYS=",".join(settings.EMAIL_ENCRYPTION_KEYS),
        EMAIL_DIGEST_KEY=settings.EMAIL_DIGEST_KEY,
        **extra,
    )
    return env
