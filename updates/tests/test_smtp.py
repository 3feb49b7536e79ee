"""Updates through a real SMTP server (the mail path's aiosmtpd fixture, `smtp_server`): the
copies go out over reused connections, each with its unsubscribe headers; a refused recipient
is counted and does not stop the rest."""

import pytest

from signatures.tests.conftest import make_signature, run_tasks
from updates.models import Update

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_update_goes_out_through_the_mail_path_with_unsubscribe_headers(
    settings, smtp_server, update
):
    settings.UPDATE_BATCH_SIZE = 10
    for i in range(25):
        make_signature(update.petition, f"Signer {i:02d}", updates_consent="on")
    update.start(actor=None)
    run_tasks()

    assert len(smtp_server.messages) == 25
    assert smtp_server.handler.connections < 25  # connections are reused across messages
    for (_sender, recipients), message in zip(
        smtp_server.handler.envelopes, smtp_server.messages, strict=True
    ):
        assert len(recipients) == 1  # one copy per signer, nobody sees another address
        unsubscribe = str(message["List-Unsubscribe"]).strip()  # may be folded
        assert unsubscribe.startswith("<http") and "/unsubscribe/" in unsubscribe
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Subject"] == "News from the campaign"
    update.refresh_from_db()
    assert (update.status, update.queued, update.sent, update.failed) == ("sent", 25, 25, 0)


def test_a_refused_recipient_is_counted_and_the_rest_still_get_it(smtp_server, update):
    for name in ("Alice A", "Boris B", "Chloe C"):
        make_signature(update.petition, name, updates_consent="on")
    smtp_server.reject["boris.b@example.org"] = "550 5.1.1 No such user"
    update.start(actor=None)
    run_tasks()
    delivered = sorted(recipients[0] for _s, recipients in smtp_server.handler.envelopes)
    assert delivered == ["alice.a@example.org", "chloe.c@example.org"]
    update = Update.objects.get(pk=update.pk)
    assert (update.status, update.sent, update.failed) == ("sent", 2, 1)
    assert "2 sent, 1 failed" in update.report()
