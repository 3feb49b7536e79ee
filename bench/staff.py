"""Benchmark of the staff tools at campaign scale. Prints figures; asserts nothing.

    .venv/bin/python bench/staff.py [--people 100000] [--export-rows 1000000] [--pdf-rows 100000]

- duplicate candidates among --people synthetic signatories (names from Belarusian, Russian,
  Polish and German pools, some entered twice in another spelling, in the same city): time,
  pairs found, planted pairs found; precision and recall on the labelled pairs
  (signatures/tests/data/duplicate_pairs.csv);
- CSV export of --export-rows signatures: time and peak Python memory (constant: streamed);
- the delivery PDF with --pdf-rows signatories (4 in 5 listed), built as the worker builds it, in
  a fresh process: time, pages, and peak memory of that process and of its largest Typst part.
  Targets: 100,000 signatures in < 60 s and < 500 MB.

`bench/delivery_engines.py` compares WeasyPrint and Typst for the list pages.
"""

import argparse
import csv
import os
import random
import resource
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
        city, country = rng.choice(CITIES)
        if i % 50 == 0 and batch:  # somebody signing twice, spelled another way, same city
            name = batch[-1].full_name
            for a, b in RESPELL:
                name = name.replace(a, b)
            city, country = batch[-1].city, batch[-1].country.code or ""
        batch.append(Signature(
            petition=petition, status="confirmed", counted=True, listed=i % 5 != 0, confirmed_at=now,
            full_name=name, city=city, country=country, visibility="public" if i % 5 else "anonymous",
            moderation="approved", email_digest=f"{start + i:064x}", email_encrypted="gAAAAAB" + "x" * 90,
        ))  # fmt: skip
        if len(batch) == 5000:
            Signature.objects.bulk_create(batch)
            batch = []
    Signature.objects.bulk_create(batch)


def labelled_precision_recall() -> None:
    from signatures.duplicates import THRESHOLD, Person, score

    path = Path(settings.BASE_DIR) / "signatures/tests/data/duplicate_pairs.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    tp = fp = fn = 0
    for row in rows:
        a = Person.of(1, row["name_a"], row["city_a"], row["country_a"])
        b = Person.of(2, row["name_b"], row["city_b"], row["country_b"])
        predicted, actual = score(a, b) >= THRESHOLD, row["same_person"] == "1"
        tp, fp, fn = (
            tp + (predicted and actual),
            fp + (predicted and not actual),
            fn + (actual and not predicted),
        )
    negatives = sum(row["same_person"] == "0" for row in rows)
    print(
        f"labelled pairs: {len(rows)} ({negatives} different people): "
        f"precision {tp / max(tp + fp, 1):.3f}, recall {tp / max(tp + fn, 1):.3f} (target ≥ 0.95)"
    )


def pdf_only(rows: int) -> None:
    """In a fresh process, as the worker: build the document, print time, pages, memory."""
    from campaigns.models import Petition
    from signatures.delivery import Selection, build_delivery

    petition = Petition.objects.get(slug="manifesto")
    output = Path(tempfile.mkdtemp(prefix="delivery-")) / "delivery.pdf"
    start = time.perf_counter()
    pages = build_delivery(petition, Selection(language="be"), output)
    seconds = time.perf_counter() - start
    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own, part = usage_self.ru_maxrss / 1024, usage_children.ru_maxrss / 1024
    cpu_self = usage_self.ru_utime + usage_self.ru_stime
    cpu_children = usage_children.ru_utime + usage_children.ru_stime
    print(
        f"{'delivery PDF, ' + format(rows, ',') + ' signatures (Belarusian)':<58} {seconds:8.2f} s"
    )
    print(
        f"  {pages} pages, {output.stat().st_size / 1e6:.1f} MB; peak memory {own:.0f} MB "
        f"(worker) + {part:.0f} MB (largest Typst part) = {own + part:.0f} MB (target < 500 MB)"
    )
    # On a shared machine the wall time depends on the others' load; CPU time does not.
    print(
        f"  CPU time {cpu_self:.1f} s (worker) + {cpu_children:.1f} s (parts) = "
        f"{cpu_self + cpu_children:.1f} s; {1000 * seconds / max(rows, 1):.2f} ms per signature"
    )
    shutil.rmtree(output.parent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--pdf-rows", type=int, default=100_000)
    parser.add_argument("--pdf-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pdf_only:
        pdf_only(args.pdf_rows)
        return
    rng = random.Random(7)
    labelled_precision_recall()

    call_command("migrate", verbosity=0)
    call_command("load_content", str(Path(settings.BASE_DIR) / "content/default"), verbosity=0)
    from campaigns.models import Petition
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
    planted = {
        (f"{i - 1:064x}", f"{i:064x}") for i in range(50, args.people, 50)
    }  # make_rows respells row i-1 as row i
    digests = dict(Signature.objects.filter(petition=petition).values_list("pk", "email_digest"))
    found = {tuple(sorted((digests[p.first_id], digests[p.second_id]))) for p in pairs}
    print(
        f"  {len(pairs):,} candidate pairs; planted respelled repeats found: "
        f"{len(planted & found):,} of {len(planted):,}"
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
    # A fresh process, as the worker runs it: its memory is the document's alone.
    subprocess.run(
        [sys.executable, __file__, "--pdf-only", "--pdf-rows", str(args.pdf_rows)],
        check=True,
        env={**os.environ, "DATA_DIR": os.environ["DATA_DIR"]},
    )


if __name__ == "__main__":
    main()
