"""Keeping e-mail and IP addresses out of the database and logs in clear.

- E-mail addresses are encrypted with Fernet keys from the environment (never stored in the
  database); the first key encrypts, all keys decrypt, so keys can be rotated.
- A keyed digest of the normalised address enforces "one signature per address" without
  keeping the address searchable.
- Client addresses become a digest whose key changes every day: enough to rate-limit, useless
  for tracing anyone afterwards.
"""

import contextlib
import datetime
import hashlib
import hmac
import unicodedata

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone


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


def client_digest(request: HttpRequest, day: datetime.date | None = None) -> str:
    """A daily-rotating keyed digest of the client's address, for rate limits only."""
    address = request.META.get(settings.CLIENT_IP_HEADER, "") or request.META.get("REMOTE_ADDR", "")
    address = address.split(",")[0].strip()
    day = day or timezone.now().date()
    key = f"{settings.SECRET_KEY}:client:{day.isoformat()}".encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]
