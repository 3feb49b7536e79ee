"""Benchmark: what the shared limits cost, and whether signing times tell known addresses
from new ones. Prints figures; asserts nothing.

    .venv/bin/python bench/limits.py [--signs 200]

Uses a throw-away SQLite database in a temporary DATA_DIR, without Redis: the rate limit and
the proof-of-work replay check live in the database cache, as on `make run`. Figures are
ratios measured in the same run (the machine is shared and noisy).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="releasenow-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "releasenow.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

settings.ALLOWED_HOSTS = ["*"]
FORM = {"full_name": "Bench Signer", "visibility": "public", "privacy_consent": "on"}


def post(client: Client, email: str, address: str) -> float:
    start = time.perf_counter()
    client.post(
        "/en/manifesto/sign/",
        urlencode({**FORM, "email": email}),
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR=address,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signs", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("load_content", str(Path(settings.BASE_DIR) / "content/default"), verbosity=0)
    client = Client()
    print(f"cache backend: {settings.CACHES['default']['BACKEND']}")

    rates = {}
    for enabled in (False, True, False, True):  # interleaved against drift
        settings.RATELIMIT_ENABLE = enabled
        seconds = sum(
            post(client, f"r{enabled}{len(rates)}-{i}@example.org", f"10.{i % 250}.0.1")
            for i in range(args.signs)
        )
        rates.setdefault(enabled, []).append(args.signs / seconds * 3600)
    off, on = statistics.mean(rates[False]), statistics.mean(rates[True])
    print(f"signing without rate limit          {off:10,.0f} per hour per process")
    print(f"signing with the shared rate limit  {on:10,.0f} per hour per process")
    print(f"cost of the shared limit            {off / on:10.2f} × (ratio, same run)")

    # The question is whether signing tells a signed address from a new one, so both must get
    # their e-mail: without this the repeated known address would hit the per-address mail
    # limit (issue 8) and skip queueing its message.
    settings.MAIL_LIMIT_PER_ADDRESS = settings.MAIL_LIMIT_PER_ADDRESS_DAILY = "1000000/m"
    settings.MAIL_LIMIT_PER_NETWORK = "1000000/m"
    known, new = [], []
    for i in range(args.signs):  # alternate so both see the same noise
        known.append(post(client, "r-True1-0@example.org", "10.99.0.1"))
        new.append(post(client, f"fresh{i}@example.org", "10.99.0.1"))
    k, n = statistics.median(known) * 1000, statistics.median(new) * 1000
    print(f"sign, address known: median {k:6.2f} ms; new: {n:6.2f} ms; ratio {k / n:.3f}")


if __name__ == "__main__":
    main()
