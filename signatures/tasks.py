"""Background work of the signatures app: the purge of stale data.

E-mail is queued by the views (`signatures.emails`) and sent by the `mail` app's worker task.
"""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from .models import Signature

PURGE_INTERVAL = timedelta(hours=1)


@task()
def purge_expired_signatures(reschedule: bool = True) -> int:
    """Delete signatures never confirmed within CONFIRMATION_DAYS, finished e-mail and task
    records and outbox files older than a week; runs again every hour."""
    from mail.models import OutgoingMail
    from releasenow.lib.emails import prune_outbox
    from releasenow.tasks import enqueue_once, prune_finished_tasks

    deleted = Signature.objects.expired().delete_in_batches()
    OutgoingMail.objects.prune()
    prune_outbox()
    prune_finished_tasks()
    if reschedule:
        enqueue_once(purge_expired_signatures, timezone.now() + PURGE_INTERVAL)
    return deleted
