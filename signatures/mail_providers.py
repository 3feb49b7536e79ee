"""E-mail providers under Russian or Belarusian jurisdiction, whose operators may hand a
signer's mail to the authorities that persecute them.

The list is data: `signatures/data/risky_mail_domains.txt` in the repository, plus the domains
staff add in the admin (`RiskyMailDomain`). Signers are warned and offered another address or
an unlisted signature; nobody is refused.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from pathlib import Path

from django.core.cache import cache

DATA_FILE = Path(__file__).resolve().parent / "data" / "risky_mail_domains.txt"
CACHE_KEY = "signatures:risky-mail-domains"
CACHE_SECONDS = 300
PATTERN = re.compile(r"^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(\.\*)?$")


def normalise(entry: str) -> str:
    """`@Mail.RU.` → `mail.ru`; an entry that is not a domain pattern becomes ''."""
    entry = entry.strip().lower().lstrip("@").rstrip(".")
    if entry.startswith("*."):
        entry = entry[2:]
    return entry if PATTERN.match(entry) and entry != "*" else ""


@functools.cache
def repository_domains() -> tuple[str, ...]:
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(
        d for line in lines if (d := normalise(line.split("#", 1)[0])) and not line.startswith("#")
    )


# This process's copy and when it was taken: every sign request asks, a busy day thousands of
# times a second, and the shared cache is a round trip (or a query) away.
_local: list = [None, 0.0]
LOCAL_SECONDS = 10.0


def risky_domains() -> list[str]:
    """The repository's list and the staff's additions, sorted; cached in the shared cache so
    every process sees an addition within minutes (after an admin save: within LOCAL_SECONDS)."""
    now = time.monotonic()
    if _local[0] is not None and now - _local[1] < LOCAL_SECONDS:
        return _local[0]
    domains = cache.get(CACHE_KEY)
    if domains is None:
        from .models import RiskyMailDomain

        staff = RiskyMailDomain.objects.values_list("domain", flat=True)
        domains = sorted({*repository_domains(), *filter(None, map(normalise, staff))})
        cache.set(CACHE_KEY, domains, CACHE_SECONDS)
    _local[:] = [domains, now]
    return domains


def forget_cached_domains() -> None:
    cache.delete(CACHE_KEY)
    _local[0] = None


def matches(domain: str, entry: str) -> bool:
    """`mail.ru` matches mail.ru and its subdomains; `yandex.*` matches yandex.<any suffix>."""
    if entry.endswith(".*"):
        name = entry[:-2]
        return domain.startswith(name + ".") or f".{name}." in domain
    return domain == entry or domain.endswith("." + entry)


def risky_provider(email: str) -> str:
    """The domain of `email` when it is at a listed provider, else ''."""
    domain = (email or "").rpartition("@")[2].strip().lower().rstrip(".")
    if not domain:
        return ""
    with contextlib.suppress(UnicodeError):  # not a valid name: compared as typed
        domain = domain.encode("idna").decode("ascii")
    # As `matches` against every entry: a plain one by set lookups of the domain and each of
    # its parents (every sign request asks), the few `name.*` ones one by one.
    exact, wildcards = _split(tuple(risky_domains()))
    labels = domain.split(".")
    if any(".".join(labels[i:]) in exact for i in range(len(labels))):
        return domain
    return domain if any(matches(domain, entry) for entry in wildcards) else ""


@functools.lru_cache(maxsize=4)
def _split(domains: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """The plain entries, and the `name.*` ones."""
    wildcards = tuple(d for d in domains if d.endswith(".*"))
    return frozenset(domains).difference(wildcards), wildcards
