"""The default cache is shared by every process, and its counters count every hit once."""

import threading
import uuid

import pytest
from django.core.cache import cache
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_increments_are_all_counted():
    """Threads with their own database connections race as worker processes do."""
    key = f"counter-{uuid.uuid4().hex}"
    cache.add(key, 0, 60)
    threads, per_thread = 6, 25

    def hammer():
        try:
            for _ in range(per_thread):
                cache.incr(key)
        finally:
            connection.close()

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert cache.get(key) == threads * per_thread


def test_incr_of_a_missing_or_expired_key_raises_like_other_caches():
    with pytest.raises(ValueError):
        cache.incr(f"missing-{uuid.uuid4().hex}")
    key = f"expired-{uuid.uuid4().hex}"
    cache.set(key, 1, timeout=-1)
    with pytest.raises(ValueError):
        cache.incr(key)


def test_incr_keeps_the_expiry_and_the_value_type():
    key = f"typed-{uuid.uuid4().hex}"
    cache.set(key, 41, 60)
    assert cache.incr(key) == 42
    assert cache.get(key) == 42
    assert cache.decr(key, 2) == 40
