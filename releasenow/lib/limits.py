"""Counting hits per key in the shared cache, with the same work for a key seen before and a
new one: the shared caches' `count` (releasenow/lib/cache.py: two statements on the database
cache, one round trip to Redis); on any other cache `add` (which yields if the key exists) and
then `incr`, always both. django-ratelimit calls `incr` only when `add` failed, so its timing
tells whether a key (an address's digest) was counted before.
"""

import time

from django.core.cache import cache
from django_ratelimit.core import _split_rate


def over_limit(group: str, value: str, rate: str) -> bool:
    """Count one hit of `value` in `group`; True when it goes beyond `rate` ("4/d", "1/10m")."""
    allowed, period = _split_rate(rate)
    window = int(time.time()) // period
    key = f"limit:{group}:{window}:{value}"
    if hasattr(cache, "count"):
        return cache.count(key, period + 60) > allowed
    cache.add(key, 0, period + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, period + 60)
        count = 1
    return count > allowed
