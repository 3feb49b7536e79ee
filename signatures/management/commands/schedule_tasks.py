from django.core.management.base import BaseCommand
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from signatures.tasks import purge_expired_signatures


class Command(BaseCommand):
    help = (
        "Queue the recurring background tasks unless they are queued already (run by `make run`)."
    )

    def handle(self, **options):
        queued = DBTaskResult.objects.filter(
            task_path=purge_expired_signatures.module_path, status=TaskResultStatus.READY
        ).exists()
        if not queued:
            purge_expired_signatures.enqueue()
        self.stdout.write("Recurring tasks: purge of unconfirmed signatures queued.")
