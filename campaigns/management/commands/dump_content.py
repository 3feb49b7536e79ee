from django.core.management.base import BaseCommand

from campaigns.content_pack import dump_pack


class Command(BaseCommand):
    help = "Write all campaign content to a content pack folder, for version control."

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, directory, **options):
        files = dump_pack(directory)
        self.stdout.write(self.style.SUCCESS(f"Wrote {files} files to {directory}"))
