"""Benchmark: signing, counting and listing at campaign scale. Prints figures; asserts nothing.

    .venv/bin/python bench/signatures.py [--rows 200000] [--signs 300]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/signatures.py

Uses a throw-away SQLite database in a temporary DATA_DIR (or the given PostgreSQL database,
whose signatures it deletes first). Targets: the count and any signatories page in a few
milliseconds whatever the size; page 10,000 as fast as page 1; signing well above the
tens of thousands an hour a viral day brings.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="releasenow-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "releasenow.settings")
os.environ["RATELIMIT_ENABLE"] = "false"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

settings.ALLOWED_HOSTS = ["*"]


def timed(label: str, function, repeat: int = 20) -> float:
    function()  # warm up
    start = time.perf_counter()
    for _ in range(repeat):
        function()
    ms = (time.perf_counter() - start) / repeat * 1000
    print(f"{label:<46} {ms:8.2f} ms")
    return ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--signs", type=int, default=300)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("load_content", str(Path(settings.BASE_DIR) / "content/default"), verbosity=0)
    from campaigns.models import Petition
    from signatures import views
    from signatures.models import CountryCount, Signature

    petition = Petition.objects.get(slug="manifesto")
    Signature.objects.filter(petition=petition).delete()
    CountryCount.objects.filter(petition=petition).delete()

    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    start = time.perf_counter()
    now, batch = timezone.now(), []
    for i in range(args.rows):
        batch.append(
            Signature(
                petition=petition, status="confirmed", counted=True, confirmed_at=now - timezone.timedelta(seconds=i),
                full_name=f"Signer {i}", city="Vilnius", country="LT", visibility="public" if i % 5 else "anonymous",
                email_digest=f"{i:064x}", email_encrypted="x",
            )
        )  # fmt: skip
        if len(batch) == 5000:
            Signature.objects.bulk_create(batch)
            batch = []
    Signature.objects.bulk_create(batch)
    Petition.objects.filter(pk=petition.pk).update(signature_count=args.rows)
    print(f"inserted {args.rows:,} confirmed signatures in {time.perf_counter() - start:.1f} s")

    client = Client()
    timed(
        "GET /api/v1/petitions/manifesto/ (count)",
        lambda: client.get("/api/v1/petitions/manifesto/"),
    )
    timed(
        "GET /en/manifesto/ (page with count, form, latest)", lambda: client.get("/en/manifesto/")
    )
    timed("GET signatories, first page", lambda: client.get("/en/manifesto/signatories/"))
    public = Signature.objects.public().filter(petition=petition).newest_first()
    listed = public.count()
    last_cursor = public[listed - views.PAGE_SIZE - 1].cursor()  # one OFFSET query, not timed
    timed(
        f"GET signatories, last page (~{listed // views.PAGE_SIZE:,} of {listed:,} listed)",
        lambda: client.get(f"/en/manifesto/signatories/?before={last_cursor}"),
    )

    form = {
        "full_name": "Bench Signer",
        "visibility": "public",
        "privacy_consent": "on",
        "country": "PL",
    }
    start = time.perf_counter()
    for i in range(args.signs):
        client.post(
            "/en/manifesto/sign/",
            urlencode({**form, "email": f"bench{i}@example.org"}),
            content_type="application/x-www-form-urlencoded",  # as browsers send it
        )
    seconds = time.perf_counter() - start
    print(
        f"signing: {args.signs} signatures in {seconds:.1f} s = {args.signs / seconds * 3600:,.0f} per hour per process"
    )

    pending = list(Signature.objects.filter(status="pending")[: args.signs])
    start = time.perf_counter()
    for signature in pending:
        signature.confirm()
    seconds = time.perf_counter() - start
    print(f"confirming: {len(pending) / seconds:,.0f} per second (atomic counter updates)")
    petition.refresh_from_db()
    print(
        f"counter {petition.signature_count:,} = counted rows {Signature.objects.counted().count():,}"
    )


if __name__ == "__main__":
    main()
