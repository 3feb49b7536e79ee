"""Background sending of updates. One task run queues one batch for the mail worker, then
queues the next run: a send to 100,000 is many short tasks (progress visible, a restart
resumes), and never more than UPDATE_QUEUE_AHEAD copies wait in the mail queue, so a
confirmation e-mail queued meanwhile is not stuck behind the whole update."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from releasenow.lib.crypto import decrypt_email
from releasenow.lib.emails import queue_email
from signatures.models import Signature

from .models import Update, recipients
from .sending import KIND, send_batch, update_message


def later(update_id: int) -> None:
    wait = timedelta(seconds=settings.UPDATE_RECHECK_SECONDS)
    send_update.using(run_after=timezone.now() + wait).enqueue(update_id)


# Below the default priority: the worker runs the mail sender (confirmations) first.
@task(priority=-10)
def send_update(update_id: int) -> str:
    update = Update.objects.select_related("petition").filter(pk=update_id).first()
    if update is None or update.status != Update.Status.SENDING:
        return "not sending"
    waiting = update.waiting()
    if waiting >= settings.UPDATE_QUEUE_AHEAD:
        later(update_id)  # let the mail worker catch up; confirmations go out in between
        return "waiting for the mail queue"
    batch = list(
        recipients(update.petition)
        .filter(pk__gt=update.cursor)
        .select_related("petition")
        .order_by("pk")[: settings.UPDATE_BATCH_SIZE]
    )
    if not batch:
        if waiting:
            later(update_id)  # all queued; the report waits for the last copies
            return "waiting for the last copies"
        update.finish()
        return "finished"
    queued = send_batch(update, batch)
    if not update.advance(batch[-1].pk, queued):
        return "batch queued by another run"
    send_update.enqueue(update_id)
    return f"{queued} queued"


@task()
def send_update_test(update_id: int, email_encrypted: str, language: str) -> str:
    """A copy to a member of staff, in one language; its address travels encrypted."""
    update = Update.objects.select_related("petition").filter(pk=update_id).first()
    email = decrypt_email(email_encrypted)
    if update is None or not email:
        return "gone"
    stand_in = Signature(petition=update.petition, language=language)  # never saved
    message = update_message(update, stand_in, to=email)
    message.subject = f"[TEST] {message.subject}"
    queue_email(message, key=f"update:{update.pk}:test:{stand_in.uuid.hex}", kind=f"{KIND} test")
    return "queued"
