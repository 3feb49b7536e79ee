import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Petition
from signatures.delivery import GROUPS, Order, Selection, build_delivery


class Command(BaseCommand):
    help = (
        "Write the print-ready delivery document (PDF) of a petition: cover, text, "
        "signatories grouped as on the site, countries. Staff can also order it in the admin, "
        "where the worker builds it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--petition", required=True)
        parser.add_argument(
            "--lang", default="en", choices=[code for code, _ in settings.LANGUAGES]
        )
        parser.add_argument("--output", required=True)
        parser.add_argument(
            "--order", default=Order.SIGNING, choices=[code for code, _ in Order.CHOICES]
        )
        parser.add_argument("--group", default="", choices=[code for code, _ in GROUPS])
        parser.add_argument(
            "--countries", default="", help="comma-separated ISO codes (default: all)"
        )

    def handle(self, petition, lang, output, order, group, countries, **options):
        found = Petition.objects.filter(slug=petition).first()
        if found is None:
            raise CommandError(f"No petition {petition!r}.")
        selection = Selection(
            language=lang,
            order=order,
            group=group,
            countries=[c.strip().upper() for c in countries.split(",") if c.strip()],
        )
        start = time.monotonic()
        pages = build_delivery(found, selection, Path(output))
        self.stdout.write(f"Wrote {output}: {pages} pages ({time.monotonic() - start:.1f} s).")
