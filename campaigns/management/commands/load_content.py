from django.core.management.base import BaseCommand, CommandError

from campaigns.content_pack import ContentPackError, load_pack
from campaigns.models import Campaign


class Command(BaseCommand):
    help = "Load a content pack folder (pack.yaml + <lang>/<kind>/<key>.md). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when a campaign exists already (used by `make run`).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace objects and texts that exist in the database with the pack's. Without "
            "it, what exists is never overwritten (per object), only reported.",
        )

    def handle(self, directory, if_empty=False, force=False, verbosity=1, **options):
        if if_empty and Campaign.objects.exists():
            if verbosity:
                self.stdout.write("Content present; nothing loaded.")
            return
        try:
            report = load_pack(directory, force=force)
        except ContentPackError as e:
            raise CommandError(str(e)) from e
        if verbosity > 1:
            for label in report.created:
                self.stdout.write(f"created {label}")
            for label in report.updated:
                self.stdout.write(f"updated {label}")
        if verbosity:
            for label in report.kept:
                self.stdout.write(f"kept {label}: edited on the site; --force replaces it")
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"Content pack {directory}: {report.summary()}"))
