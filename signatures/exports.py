"""Signatures leaving the system: CSV files for delivery, streamed in constant memory.

The public export holds exactly what the public list shows. The full export (e-mail addresses
decrypted only while writing it) needs the `export_personal_data` permission and is recorded in
the audit log. Any cell a spreadsheet could read as a formula is neutralised.
"""

import csv
from collections.abc import Iterable, Iterator

from campaigns.models import Petition

from .models import AuditEntry, Signature

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000


def neutralise(value) -> str:
    """A leading apostrophe makes Excel, LibreOffice and Sheets show the text as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Line:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


PUBLIC_HEADER = ["name", "affiliation", "city", "country", "group", "signed_on"]


def public_rows(petition: Petition) -> Iterator[list]:
    yield PUBLIC_HEADER
    signatures = Signature.objects.public().filter(petition=petition).newest_first()
    for s in signatures.iterator(chunk_size=CHUNK):
        shown_fully = s.visibility == Signature.Visibility.PUBLIC
        yield [
            s.public_name(),
            s.affiliation if shown_fully else "",
            s.city if shown_fully else "",
            str(s.country.name) if s.country else "",
            s.listed_group,
            s.confirmed_at.date().isoformat(),
        ]


FULL_HEADER = [
    "id", "full_name", "email", "affiliation", "city", "country", "visibility", "group",
    "group_verified", "moderation", "listed", "updates_consent", "language", "confirmed_at",
    "imported_from", "challenge_passed", "disposable_domain",
]  # fmt: skip


def full_rows(petition: Petition, actor) -> Iterator[list]:
    """Every counted signature with its address. Recorded in the audit log before any row."""
    AuditEntry.record_export(actor, petition, "CSV with e-mail addresses of counted signatures")
    yield FULL_HEADER
    signatures = Signature.objects.counted().filter(petition=petition).order_by("id")
    for s in signatures.iterator(chunk_size=CHUNK):
        yield [
            s.pk, s.full_name, s.email, s.affiliation, s.city, s.country.code or "", s.visibility,
            s.group, bool(s.group_verified_at), s.moderation, s.listed, s.updates_consent,
            s.language, s.confirmed_at.isoformat(), s.imported_from, s.challenge_passed,
            s.disposable_domain,
        ]  # fmt: skip
