"""Exponential back-off on failures, counted in the shared cache (Redis or the database).

After `free` failures under one key, each further attempt must wait: 1 s, then 2, 4, 8 … up to
`cap` seconds. Guessing slows down exponentially, yet nothing locks a person out for good, and
failures are forgotten a day after the last one. Attempts made while waiting are refused
without being checked or counted.
"""

import math
import time

from django.core.cache import cache

FORGET_AFTER = 24 * 60 * 60


class Backoff:
    def __init__(self, name: str) -> None:
        self.prefix = f"backoff:{name}:"

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may now."""
        until = cache.get(f"{self.prefix}{key}:until")
        return max(0, math.ceil(until - time.time())) if until else 0

    def failed(self, key: str, *, free: int, cap: int) -> int:
        """Count a failure; returns the failures counted so far."""
        counter = f"{self.prefix}{key}:n"
        if cache.add(counter, 1, FORGET_AFTER):
            failures = 1
        else:
            try:
                failures = cache.incr(counter)  # atomic in Redis and in our database cache
            except ValueError:  # expired between the two calls
                cache.set(counter, 1, FORGET_AFTER)
                failures = 1
            cache.touch(counter, FORGET_AFTER)
        if failures > free:
            delay = min(2 ** min(failures - free - 1, 30), cap)
            cache.set(f"{self.prefix}{key}:until", time.time() + delay, delay + 1)
        return failures

    def reset(self, key: str) -> None:
        cache.delete_many([f"{self.prefix}{key}:n", f"{self.prefix}{key}:until"])
