import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Petition
from signatures.exports import csv_lines, full_rows, public_rows


class Command(BaseCommand):
    help = (
        "Write the public signatories of a petition as CSV (what the public list shows). "
        "--full adds e-mail addresses and every counted signature; it needs --as USERNAME of a "
        "staff member with the export permission and is recorded in the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("--petition", required=True, help="slug, e.g. manifesto")
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument("--full", action="store_true")
        parser.add_argument("--as", dest="username")

    def handle(self, petition, output=None, full=False, username=None, **options):
        found = Petition.objects.filter(slug=petition).first()
        if found is None:
            raise CommandError(f"No petition {petition!r}.")
        if full:
            user = get_user_model().objects.filter(username=username).first() if username else None
            if user is None or not user.has_perm("signatures.export_personal_data"):
                raise CommandError(
                    "--full needs --as USERNAME of a staff member with the "
                    "'export personal data' permission."
                )
            rows = full_rows(found, user)
        else:
            rows = public_rows(found)
        stream = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        try:
            for line in csv_lines(rows):
                stream.write(line)
        finally:
            if output:
                stream.close()
