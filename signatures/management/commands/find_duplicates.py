import time

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Petition
from signatures.models import DuplicateCandidate


class Command(BaseCommand):
    help = (
        "Find likely duplicate signatures (one person, two addresses, two spellings); "
        "staff merge or dismiss them in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--petition", required=True)

    def handle(self, petition, **options):
        found = Petition.objects.filter(slug=petition).first()
        if found is None:
            raise CommandError(f"No petition {petition!r}.")
        start = time.monotonic()
        pairs = DuplicateCandidate.find(found)
        for pair in pairs:
            a, b = pair.first, pair.second
            self.stdout.write(
                f"{pair.score:5.1f}  #{a.pk} {a.full_name} ({a.city}, {a.country.code})  ~  "
                f"#{b.pk} {b.full_name} ({b.city}, {b.country.code})"
            )
        self.stdout.write(f"{len(pairs)} open candidate pairs ({time.monotonic() - start:.1f} s).")
