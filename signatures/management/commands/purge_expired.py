from django.core.management.base import BaseCommand

from signatures.tasks import purge_expired_signatures


class Command(BaseCommand):
    help = "Delete signatures that were never confirmed within the confirmation period (7 days)."

    def handle(self, **options):
        deleted = purge_expired_signatures.call(reschedule=False)
        self.stdout.write(f"Deleted {deleted} unconfirmed signatures.")
