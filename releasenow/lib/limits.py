"""Counting hits per key in the shared cache, with the same work for a key seen before and a
new one: the shared caches' `count_many` (releasenow/lib/cache.py: two statements for all the
keys on the database cache, one round trip to Redis); on any other cache `add` (which yields if the
key exists) and then `incr`, always both. django-ratelimit calls `incr` only when `add` failed,
so its timing tells whether a key (an address's digest) was counted before.
"""

import time

from django.core.cache import cache
from django_ratelimit.core import _split_rate


def over_limit(group: str, value: str, rate: str) -> bool:
    """Count one hit of `value` in `group`; True when it goes beyond `rate` ("4/d", "1/10m")."""
    return over_limits((group, value, rate))[0]


def over_limits(*hits: tuple[str, str, str]) -> list[bool]:
    """`over_limit` for several (group, value, rate) hits, counted together: one round trip
    to Redis for all of them (the sign request counts two on every post)."""
    rates = [_split_rate(rate) for _group, _value, rate in hits]
    keys = [
        (f"limit:{group}:{int(time.time()) // period}:{value}", period + 60)
        for (group, value, _rate), (_allowed, period) in zip(hits, rates, strict=True)
    ]
    if hasattr(cache, "count_many"):
        counts = cache.count_many(keys)
    else:
        counts = [_add_then_incr(key, timeout) for key, timeout in keys]
    return [count > allowed for count, (allowed, _period) in zip(counts, rates, strict=True)]


def _add_then_incr(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout)
        return 1
