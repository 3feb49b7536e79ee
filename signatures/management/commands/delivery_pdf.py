import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Petition
from signatures.delivery import delivery_pdf


class Command(BaseCommand):
    help = (
        "Write the print-ready delivery document (PDF) of a petition: cover, text, "
        "signatories grouped as on the site, countries."
    )

    def add_arguments(self, parser):
        parser.add_argument("--petition", required=True)
        parser.add_argument(
            "--lang", default="en", choices=[code for code, _ in settings.LANGUAGES]
        )
        parser.add_argument("--output", required=True)

    def handle(self, petition, lang, output, **options):
        found = Petition.objects.filter(slug=petition).first()
        if found is None:
            raise CommandError(f"No petition {petition!r}.")
        start = time.monotonic()
        Path(output).write_bytes(delivery_pdf(found, lang))
        self.stdout.write(f"Wrote {output} ({time.monotonic() - start:.1f} s).")
