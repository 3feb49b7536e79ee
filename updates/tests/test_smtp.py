"""Updates through a real SMTP server (aiosmtpd on a free local port): batches share one
connection, every copy carries its unsubscribe headers, a refused recipient does not stop
the rest."""

import email
import socket

import pytest
from aiosmtpd.controller import Controller

from signatures.tests.conftest import make_signature, run_tasks
from updates.models import Update

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    """Keeps what the server received; refuses the addresses in `refuse` with a 550."""

    def __init__(self):
        self.messages, self.connections, self.refuse = [], 0, set()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 Message accepted"


@pytest.fixture
def smtp(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield recorder
    controller.stop()


def test_an_update_goes_out_in_batches_over_one_connection_each(settings, smtp, update):
    settings.UPDATE_BATCH_SIZE = 10
    for i in range(25):
        make_signature(update.petition, f"Signer {i:02d}", updates_consent="on")
    update.start(actor=None)
    run_tasks()

    assert len(smtp.messages) == 25
    assert smtp.connections == 3  # 10 + 10 + 5
    for recipients, message in smtp.messages:
        assert len(recipients) == 1  # one copy per signer, nobody sees another address
        unsubscribe = "".join(message["List-Unsubscribe"].split())  # unfolded
        assert unsubscribe.startswith("<http") and unsubscribe.endswith("/>")
        assert "/unsubscribe/" in unsubscribe
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Subject"] == "News from the campaign"
    update.refresh_from_db()
    assert (update.status, update.sent, update.failed) == ("sent", 25, 0)


def test_a_refused_recipient_is_counted_and_the_rest_still_get_it(smtp, update):
    for name in ("Alice A", "Boris B", "Chloe C"):
        make_signature(update.petition, name, updates_consent="on")
    smtp.refuse.add("boris.b@example.org")
    update.start(actor=None)
    run_tasks()
    assert sorted(r[0] for r, _m in smtp.messages) == ["alice.a@example.org", "chloe.c@example.org"]
    update = Update.objects.get(pk=update.pk)
    assert (update.status, update.sent, update.failed) == ("sent", 2, 1)
    assert "2 sent, 1 failed" in update.report()


def test_the_default_sender_is_accepted_by_a_real_smtp_server(client, smtp, manifesto):
    """Unquoted, the default "Release NO:W <…>" could not be parsed: no mail left at all."""
    from signatures.tests.conftest import sign

    sign(client)
    run_tasks()
    ((recipients, message),) = smtp.messages
    assert recipients == ["olga@example.org"]
    assert message["From"] == '"Release NO:W" <noreply@localhost>'
