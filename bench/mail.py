"""Benchmark: draining a backlog of confirmation e-mails to a local SMTP sink. Prints figures.

    .venv/bin/python bench/mail.py [--messages 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/mail.py

Queues one rendered confirmation per pending signature (as the sign form does), then runs the
real database worker until the queue is empty, against an aiosmtpd sink in its own process.
Target: >= 200 messages/s on a 2-core machine. For scale on a noisy machine it also times bare
smtplib sending the same number of small messages over one connection to the same sink (the
ceiling the sink allows) and prints the ratio.
"""

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="releasenow-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "releasenow.settings")
os.environ["RATELIMIT_ENABLE"] = "false"
os.environ["LOG_LEVEL"] = "WARNING"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
os.environ.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(PORT), EMAIL_USE_TLS="false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402


def start_sink() -> subprocess.Popen:
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{PORT}", "-c",
         "aiosmtpd.handlers.Sink"],
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            return sink
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("sink did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    n = args.messages

    call_command("migrate", verbosity=0)
    call_command("load_content", str(Path(settings.BASE_DIR) / "content/default"), verbosity=0)
    from django_tasks_db.models import DBTaskResult

    from campaigns.models import Petition
    from mail.models import OutgoingMail
    from releasenow.lib.emails import QueuedMessage, build_email, queue_messages
    from signatures.emails import signature_context
    from signatures.models import Signature

    petition = Petition.objects.get(slug="manifesto")
    Signature.objects.filter(petition=petition).delete()
    OutgoingMail.objects.all().delete()
    DBTaskResult.objects.all().delete()

    start = time.perf_counter()
    signatures = []
    for i in range(n):
        s = Signature(petition=petition, full_name=f"Signer {i}", visibility="public")
        s.set_email(f"signer{i}@example.org")
        signatures.append(s)
    Signature.objects.bulk_create(signatures, batch_size=2000)
    signatures = list(Signature.objects.filter(petition=petition).select_related("petition"))
    made = time.perf_counter() - start

    start = time.perf_counter()
    queue_messages(
        QueuedMessage(
            f"{s.ref}:confirm:bench",
            build_email("confirm", s.email, signature_context(s), "en"),
            ref=s.ref,
            kind="confirm",
        )
        for s in signatures
    )
    queued = time.perf_counter() - start
    assert OutgoingMail.objects.filter(status="queued").count() == n

    sink = start_sink()
    try:
        start = time.perf_counter()
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
        drained = time.perf_counter() - start
        sent = OutgoingMail.objects.filter(status="sent").count()

        body = b"Subject: x\r\n\r\n" + (b"x" * 70 + b"\r\n") * 30
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", PORT) as smtp:
            for i in range(n):
                smtp.sendmail("noreply@localhost", [f"signer{i}@example.org"], body)
        raw = time.perf_counter() - start
    finally:
        sink.terminate()
        sink.wait()

    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    print(f"{n} pending signatures created in {made:.1f} s")
    print(f"{n} confirmations rendered and queued in {queued:.1f} s ({n / queued:.0f}/s)")
    print(f"backlog drained by the worker: {sent}/{n} sent in {drained:.1f} s")
    print(f"  drain rate:                  {sent / drained:8.0f} messages/s (target >= 200)")
    print(f"  bare smtplib, same sink:     {n / raw:8.0f} messages/s")
    print(f"  ratio worker / bare smtplib: {raw / drained * sent / n:8.2f}")


if __name__ == "__main__":
    main()
