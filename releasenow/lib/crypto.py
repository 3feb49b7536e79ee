"""Keeping e-mail and IP addresses out of the database and logs in clear.

- E-mail addresses are encrypted with Fernet keys from the environment (never stored in the
  database); the first key encrypts, all keys decrypt, so keys can be rotated.
- A keyed digest of the normalised address enforces "one signature per address" without
  keeping the address searchable.
- Client addresses become a digest of their network whose key changes every day: enough to
  rate-limit, useless for tracing anyone afterwards. Behind proxies only the addresses the
  trusted proxies appended count (`client_address`).
"""

import contextlib
import datetime
import functools
import hashlib
import hmac
import ipaddress
import logging
import unicodedata

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

log = logging.getLogger(__name__)


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.EMAIL_ENCRYPTION_KEYS])


def normalise_email(address: str) -> str:
    """The form of an address used for uniqueness: trimmed, NFC, lower-case, IDNA domain."""
    address = unicodedata.normalize("NFC", address.strip())
    local, _, domain = address.rpartition("@")
    with contextlib.suppress(UnicodeError):  # keep an undecodable domain as typed
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}".lower()


def encrypt_text(text: str) -> str:
    """Any personal text kept for a while (a queued e-mail), under the same keys as addresses."""
    return _fernet().encrypt(text.encode()).decode()


def decrypt_text(token: str) -> str:
    """The text; raises `cryptography.fernet.InvalidToken` when no configured key opens it."""
    return _fernet().decrypt(token.encode()).decode()


def encrypt_email(address: str) -> str:
    return _fernet().encrypt(address.strip().encode()).decode()


def decrypt_email(token: str) -> str:
    """The address, or "" when the token is empty or no configured key opens it."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def email_digest(address: str) -> str:
    key = settings.EMAIL_DIGEST_KEY.encode()
    return hmac.new(key, normalise_email(address).encode(), hashlib.sha256).hexdigest()


def _parse_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
    `[2001:db8::1]:443`; None for anything else."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=8)
def _networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    if address is None:
        return False
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


@functools.cache
def _warn_about_proxy() -> None:
    """Once per process: behind a proxy that nobody declared, every visitor shares one limit."""
    log.warning(
        "Requests carry X-Forwarded-For but TRUSTED_PROXY_HOPS is 0: behind a reverse proxy, "
        "set TRUSTED_PROXY_HOPS (see README, 'Abuse limits and proxies'), or every visitor "
        "counts as the proxy's address."
    )


def client_address(request: HttpRequest) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address the nearest trusted proxy saw, never one the client wrote.

    Each proxy appends the address it was connected from to X-Forwarded-For, so only the
    right-hand end of the chain is trustworthy: with TRUSTED_PROXY_HOPS = N the client is the
    Nth entry from the right (REMOTE_ADDR being the 0th), and entries inside TRUSTED_PROXIES are
    skipped too. Whatever the client put further left is ignored; a chain shorter than
    expected (a request that bypassed the proxy) falls back to the connection's address.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0 and not settings.TRUSTED_PROXIES:
        if "HTTP_X_FORWARDED_FOR" in request.META:
            _warn_about_proxy()
        return _parse_address(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain = [entry for entry in forwarded.split(",") if entry.strip()] + [remote]
    position = 0  # from the right; chain[-1] is the connection's address
    while position < len(chain) - 1:
        if position >= hops and not _trusted(_parse_address(chain[-1 - position])):
            break
        position += 1
    address = _parse_address(chain[-1 - position])
    # Garbage where an address should be: keep the nearest proxy rather than a free-form key.
    while address is None and position > 0:
        position -= 1
        address = _parse_address(chain[-1 - position])
    return address


def client_network(request: HttpRequest) -> str:
    """The client's network: an IPv4 address by itself and an IPv6 address by its /64 (both
    configurable), so that rotating through the addresses one is given changes nothing."""
    address = client_address(request)
    if address is None:
        return "unknown"
    prefix = settings.CLIENT_IPV4_PREFIX if address.version == 4 else settings.CLIENT_IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def client_digest(request: HttpRequest, day: datetime.date | None = None) -> str:
    """A daily-rotating keyed digest of the client's network, for rate limits only. Kept on
    the request: the sign request counts two limits by it, inside its write transaction."""
    day = day or timezone.now().date()
    known = request.__dict__.setdefault("_client_digests", {})
    if day not in known:
        key = f"{settings.SECRET_KEY}:client:{day.isoformat()}".encode()
        known[day] = hmac.new(key, client_network(request).encode(), hashlib.sha256).hexdigest()
    return known[day][:32]
