from django.conf import settings
from django.core.management.base import BaseCommand
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from signatures.tasks import find_duplicates_on_schedule, purge_expired_signatures


def queued(task) -> bool:
    return DBTaskResult.objects.filter(
        task_path=task.module_path, status=TaskResultStatus.READY
    ).exists()


class Command(BaseCommand):
    help = (
        "Queue the recurring background tasks unless they are queued already (run by `make run`)."
    )

    def handle(self, **options):
        if not queued(purge_expired_signatures):
            purge_expired_signatures.enqueue()
        message = "Recurring tasks: purge of unconfirmed signatures queued"
        if settings.DUPLICATES_EVERY_HOURS:
            if not queued(find_duplicates_on_schedule):
                find_duplicates_on_schedule.enqueue()
            message += f"; search for duplicates every {settings.DUPLICATES_EVERY_HOURS} h"
        self.stdout.write(message + ".")
