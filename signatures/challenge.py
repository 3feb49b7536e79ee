"""Self-hosted proof of work (the ALTCHA protocol): it makes bulk signing cost CPU time, asks
nothing of people, talks to no third party, and never blocks anyone. Without JavaScript the
challenge stays unsolved; the signature still counts once confirmed, flagged for review.
"""

import hashlib
from datetime import timedelta

from altcha.v1 import create_challenge, verify_solution
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

LIFETIME = timedelta(minutes=30)


def hmac_key() -> str:
    return hashlib.sha256(f"altcha:{settings.SECRET_KEY}".encode()).hexdigest()


def create() -> dict:
    challenge = create_challenge(
        hmac_key=hmac_key(),
        max_number=settings.ALTCHA_MAX_NUMBER,
        expires=timezone.now() + LIFETIME,
    )
    return challenge.to_dict()


def verify(payload: str) -> bool:
    """True for a correct, unexpired solution seen for the first time (no replays): the
    default cache is shared by every process (Redis, or the database), and `add` is atomic in
    both, so a solution is accepted once whichever server sees it."""
    if not payload:
        return False
    try:
        ok, _error = verify_solution(payload, hmac_key(), check_expires=True)
    except (ValueError, TypeError, KeyError):
        return False
    if not ok:
        return False
    fingerprint = hashlib.sha256(payload.encode()).hexdigest()
    return cache.add(f"altcha-used:{fingerprint}", 1, timeout=int(LIFETIME.total_seconds()))
