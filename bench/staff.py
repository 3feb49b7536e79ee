"""Benchmark of the staff tools at campaign scale. Prints figures; asserts nothing.

    .venv/bin/python bench/staff.py [--people 100000] [--export-rows 1000000] [--pdf-rows 10000]

- duplicate candidates among --people synthetic signatories (names from Belarusian, Russian,
  Polish and German pools, some entered twice in another spelling): time and pairs found;
- CSV export of --export-rows signatures: time and peak Python memory (constant: streamed);
- the delivery PDF with --pdf-rows public signatories: time and pages.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="releasenow-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "releasenow.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

GIVEN = [
    "Aliaksandr",
    "Aliaksei",
    "Siarhei",
    "Dzmitry",
    "Andrei",
    "Pavel",
    "Uladzimir",
    "Mikalai",
    "Ihar",
    "Aleh",
    "Viktar",
    "Yury",
    "Tatsiana",
    "Volha",
    "Natallia",
    "Sviatlana",
    "Maryia",
    "Hanna",
    "Iryna",
    "Alena",
    "Yuliya",
    "Katsiaryna",
    "Anastasiya",
    "Darya",
    "Palina",
    "Jan",
    "Piotr",
    "Katarzyna",
    "Agnieszka",
    "Thomas",
    "Stefan",
    "Anna",
    "Maria",
    "Elena",
    "Ivan",
]
SYLLABLES = [
    "ka",
    "va",
    "len",
    "no",
    "vik",
    "zlo",
    "ba",
    "bo",
    "hu",
    "lu",
    "bei",
    "ya",
    "ske",
    "lo",
    "mat",
    "sky",
    "les",
    "ni",
    "bia",
    "lia",
    "tsk",
    "ku",
    "li",
    "sa",
    "fo",
    "na",
    "zhu",
    "tsi",
    "kha",
    "sta",
    "tke",
    "los",
    "ko",
    "wal",
    "now",
    "mül",
    "schmi",
    "pe",
    "smi",
    "si",
    "dar",
    "luk",
    "sha",
    "kar",
    "po",
    "hro",
    "ma",
    "dub",
    "ro",
    "mi",
]
ENDINGS = ["ou", "enka", "ich", "ovich", "evich", "ski", "skaya", "ava", "ik", "chyk", "iuk", "ets"]
FAMILY = [
    (a + b + c).capitalize() + ending
    for a in SYLLABLES for b in SYLLABLES[::3] for c in ("", "r", "n") for ending in ENDINGS[:3]
] + ["Ivanou", "Kavalenka", "Novik", "Holubeu", "Yaskevich", "Loika", "Matskevich", "Kalesnikava"]  # fmt: skip
CITIES = [
    ("Warsaw", "PL"),
    ("Vilnius", "LT"),
    ("Berlin", "DE"),
    ("Minsk", "BY"),
    ("Kraków", "PL"),
    ("Białystok", "PL"),
    ("Riga", "LV"),
    ("Prague", "CZ"),
    ("New York", "US"),
    ("", ""),
]
RESPELL = [("Dzmitry", "Dmitry"), ("ou", "ov"), ("Tatsiana", "Tatiana"), ("Aliaksandr", "Aleksandr"),
           ("Volha", "Olga"), ("Siarhei", "Sergei"), ("ch", "tch"), ("Yu", "Ju")]  # fmt: skip


def timed(label, function):
    start = time.perf_counter()
    result = function()
    print(f"{label:<58} {time.perf_counter() - start:8.2f} s")
    return result


def make_rows(petition, n, rng, start=0):
    from signatures.models import Signature

    now, batch = timezone.now(), []
    for i in range(n):
        name = (
            f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}{'' if i % 7 else ' ' + rng.choice(FAMILY)}"
        )
        if i % 50 == 0 and batch:  # somebody signing twice, spelled another way
            name = batch[-1].full_name
            for a, b in RESPELL:
                name = name.replace(a, b)
        city, country = rng.choice(CITIES)
        batch.append(Signature(
            petition=petition, status="confirmed", counted=True, listed=i % 5 != 0, confirmed_at=now,
            full_name=name, city=city, country=country, visibility="public" if i % 5 else "anonymous",
            moderation="approved", email_digest=f"{start + i:064x}", email_encrypted="gAAAAAB" + "x" * 90,
        ))  # fmt: skip
        if len(batch) == 5000:
            Signature.objects.bulk_create(batch)
            batch = []
    Signature.objects.bulk_create(batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--pdf-rows", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(7)

    call_command("migrate", verbosity=0)
    call_command("load_content", str(Path(settings.BASE_DIR) / "content/default"), verbosity=0)
    from campaigns.models import Petition
    from signatures.delivery import delivery_pdf
    from signatures.exports import csv_lines, public_rows
    from signatures.models import DuplicateCandidate, Signature

    petition = Petition.objects.get(slug="manifesto")
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")

    Signature.objects.filter(petition=petition).delete()
    timed(f"insert {args.people:,} signatories", lambda: make_rows(petition, args.people, rng))
    pairs = timed(
        f"find duplicate candidates among {args.people:,}",
        lambda: DuplicateCandidate.find(petition),
    )
    print(
        f"  {len(pairs):,} candidate pairs (about {args.people // 50:,} respelled repeats were planted)"
    )

    extra = args.export_rows - args.people
    if extra > 0:
        timed(
            f"insert {extra:,} more for the export",
            lambda: make_rows(petition, extra, rng, start=args.people),
        )
    tracemalloc.start()
    count = timed(
        f"export public CSV of {args.export_rows:,} rows",
        lambda: sum(1 for _ in csv_lines(public_rows(petition))),
    )
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {count - 1:,} rows written; peak Python memory {peak / 1e6:.1f} MB")

    Signature.objects.filter(petition=petition).delete_in_batches(20_000)
    make_rows(petition, args.pdf_rows, rng)
    pdf = timed(
        f"delivery PDF with {args.pdf_rows:,} signatories (~{args.pdf_rows * 4 // 5:,} listed)",
        lambda: delivery_pdf(petition, "en"),
    )
    pages = "?"
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True).stdout.decode()
        pages = next(
            (line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?"
        )
    print(f"  {len(pdf) / 1e6:.1f} MB, {pages} pages")


if __name__ == "__main__":
    main()
