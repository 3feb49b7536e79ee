"""Background sending of updates: one batch per task run, then the next batch is queued, so
a send of 100,000 is many short tasks in the worker (progress visible, a restart resumes)."""

from django.conf import settings
from django_tasks import task

from releasenow.lib.crypto import decrypt_email
from signatures.models import Signature

from .models import Update, recipients
from .sending import send_batch, update_message


@task()
def send_update(update_id: int) -> str:
    update = Update.objects.select_related("petition").filter(pk=update_id).first()
    if update is None or update.status != Update.Status.SENDING:
        return "not sending"
    batch = list(
        recipients(update.petition)
        .filter(pk__gt=update.cursor)
        .select_related("petition")
        .order_by("pk")[: settings.UPDATE_BATCH_SIZE]
    )
    if not batch:
        update.finish()
        return "finished"
    if not update.claim(batch[-1].pk):
        return "batch taken by another worker"
    result = send_batch(update, batch)
    update.add_progress(result.sent, result.failed)
    send_update.enqueue(update_id)
    return f"{result.sent} sent, {result.failed} failed"


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
    message.send()
    return "sent"
