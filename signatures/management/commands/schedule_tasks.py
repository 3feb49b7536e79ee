from django.conf import settings
from django.core.management.base import BaseCommand

from mail.tasks import wake_sender
from releasenow.tasks import enqueue_once, recover_stale_tasks, requeue_stale_tasks
from signatures.tasks import (
    find_duplicates_on_schedule,
    mail_lost_confirmations,
    purge_expired_signatures,
)


class Command(BaseCommand):
    help = (
        "Queue the recurring background tasks unless they are queued already, and requeue tasks "
        "whose worker died (run by `make run` each time a worker starts)."
    )

    def handle(self, **options):
        requeue_stale_tasks()
        enqueue_once(purge_expired_signatures)
        enqueue_once(recover_stale_tasks)
        enqueue_once(mail_lost_confirmations)
        wake_sender()
        message = (
            "Recurring tasks queued: purge of unconfirmed signatures, recovery of stalled tasks, "
            "confirmations lost by interrupted requests, e-mail sender"
        )
        if settings.DUPLICATES_EVERY_HOURS:
            enqueue_once(find_duplicates_on_schedule)
            message += f", search for duplicates every {settings.DUPLICATES_EVERY_HOURS} h"
        self.stdout.write(message + ".")
