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
    key = _key(group, value, period)
    if hasattr(cache, "count"):
        return cache.count(key, period + 60) > allowed
    cache.add(key, 0, period + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, period + 60)
        count = 1
    return count > allowed


def over_limits(*hits: tuple[str, str, str]) -> list[bool]:
    """`over_limit` for several (group, value, rate) hits, counted together: one round trip
    to Redis for all of them (the sign request counts two on every post)."""
    if not hasattr(cache, "count_many"):
        return [over_limit(*hit) for hit in hits]
    rates = [_split_rate(rate) for _group, _value, rate in hits]
    keys = [
        (_key(group, value, period), period + 60)
        for (group, value, _rate), (_allowed, period) in zip(hits, rates, strict=True)
    ]
    counts = cache.count_many(keys)
    return [count > allowed for count, (allowed, _period) in zip(counts, rates, strict=True)]


def _key(group: str, value: str, period: int) -> str:
    return f"limit:{group}:{int(time.time()) // period}:{value}"
