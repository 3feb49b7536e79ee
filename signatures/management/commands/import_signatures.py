from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Petition
from signatures.imports import import_signatures
from signatures.models import Signature


class Command(BaseCommand):
    help = (
        "Import signatures from a published list (one 'Name (role), City, Country' per line) or "
        "a CSV with a full_name column. Imported signatures count at once and are never "
        "e-mailed; importing the same file again creates nothing new. See signatures/imports.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--petition", required=True)
        parser.add_argument("--dry-run", action="store_true", help="show what would happen")
        parser.add_argument(
            "--visibility",
            choices=Signature.Visibility.values,
            help="for lines that carry none (default: initials only, flagged for review); "
            "lines in Belarus are never listed",
        )
        parser.add_argument("--source", help="where the list comes from (default: file name)")

    def handle(self, file, petition, dry_run, visibility, source, **options):
        found = Petition.objects.filter(slug=petition).first()
        if found is None:
            raise CommandError(f"No petition {petition!r}.")
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise CommandError(f"Cannot read {file}: {e}") from e
        report = import_signatures(
            found, text, source=source or path.name, visibility=visibility,
            filename=path.name, dry_run=dry_run,
        )  # fmt: skip
        verb = "Would import" if dry_run else "Imported"
        for line in report.valid:
            self.stdout.write(
                f"  line {line.number}: {line.describe()}"
                + (f" [{line.group}]" if line.group != "supporter" else "")
                + f" — {line.visibility}"
            )
            for flag in line.flags:
                self.stdout.write(f"      to review: {flag}")
        for line in report.errors:
            self.stdout.write(f"  line {line.number} NOT IMPORTED: {line.error}: {line.raw}")
        self.stdout.write(
            f"{verb} {report.created} signatures; {report.existing} already present; "
            f"{len(report.errors)} lines could not be read; "
            f"{len(report.flagged)} flagged for review."
        )
