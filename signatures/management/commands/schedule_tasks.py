from django.core.management.base import BaseCommand

from mail.tasks import wake_sender
from releasenow.tasks import enqueue_once, recover_stale_tasks, requeue_stale_tasks
from signatures.tasks import purge_expired_signatures


class Command(BaseCommand):
    help = (
        "Queue the recurring background tasks unless they are queued already, and requeue tasks "
        "whose worker died (run by `make run` each time a worker starts)."
    )

    def handle(self, **options):
        requeue_stale_tasks()
        enqueue_once(purge_expired_signatures)
        enqueue_once(recover_stale_tasks)
        wake_sender()
        self.stdout.write(
            "Recurring tasks queued: purge of unconfirmed signatures, recovery of stalled tasks, "
            "e-mail sender."
        )
