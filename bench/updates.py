"""Benchmark: an update to 100,000 consenting signers, sent by the worker through a real SMTP
server (the mail queue of `mail/`) while the web process keeps serving. Prints figures; asserts nothing.

    .venv/bin/python bench/updates.py [--rows 100000] [--seconds 600]

Uses a throw-away SQLite database in a temporary DATA_DIR; starts an SMTP sink (aiosmtpd) and
one `db_worker` as subprocesses on 127.0.0.1. Reports what the web request that starts the send
costs, the worker's rate, and the manifesto page's speed during the send as a ratio of its
speed before (same run, same machine).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="releasenow-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "releasenow.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

settings.ALLOWED_HOSTS = ["*"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_ms(client: Client, n: int = 30) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        assert client.get("/en/manifesto/").status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=600, help="stop waiting after this")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("load_content", str(ROOT / "content/default"), verbosity=0)
    from campaigns.models import Petition
    from releasenow.lib.crypto import encrypt_email
    from signatures.models import Signature
    from updates.models import Update

    petition = Petition.objects.get(slug="manifesto")
    start = time.perf_counter()
    encrypted, now, batch = encrypt_email("signer@example.org"), timezone.now(), []
    for i in range(args.rows):
        batch.append(
            Signature(
                petition=petition, status="confirmed", counted=True, confirmed_at=now,
                full_name=f"Signer {i}", visibility="anonymous", updates_consent=True,
                language=("en", "de", "ru", "pl")[i % 4], email_digest=f"{i:064x}",
                email_encrypted=encrypted,
            )
        )  # fmt: skip
        if len(batch) == 5000:
            Signature.objects.bulk_create(batch)
            batch = []
    Signature.objects.bulk_create(batch)
    print(f"inserted {args.rows:,} consenting signers in {time.perf_counter() - start:.1f} s")

    update = Update(petition=petition)
    for language, subject in (("en", "News"), ("de", "Neuigkeiten")):
        update.set_current_language(language)
        update.subject, update.body = subject, "**Ten** prisoners were released.\n\n- one\n- two"
        update.save()

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = Client()
    before = page_ms(client)
    print(f"manifesto page before the send (median)       {before:8.2f} ms")

    start = time.perf_counter()
    update.start(actor=None)
    print(
        f"starting the send (the web request's work)    {(time.perf_counter() - start) * 1000:8.2f} ms"
    )

    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    during, start = [], time.perf_counter()
    try:
        while time.perf_counter() - start < args.seconds:
            during.append(page_ms(client, 10))
            update.refresh_from_db()
            if update.status == Update.Status.SENT:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        sink.terminate()
        worker.wait()
        sink.wait()
    elapsed = time.perf_counter() - start
    update.refresh_from_db()
    delivery = update.delivery()
    handled = delivery["sent"] + delivery["failed"]
    print(
        f"status {update.status}: {update.queued:,} queued, {delivery['sent']:,} sent, "
        f"{delivery['failed']:,} failed of {update.recipients:,} in {elapsed:.1f} s"
    )
    print(f"worker rate                                   {handled / elapsed:8.0f} messages/s")
    during_ms = statistics.median(during) if during else float("nan")
    print(f"manifesto page during the send (median)       {during_ms:8.2f} ms")
    print(f"page during / before                          {during_ms / before:8.2f}x")


if __name__ == "__main__":
    main()
