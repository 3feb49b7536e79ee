"""The default cache is shared by every process, and its counters count every hit once."""

import threading
import uuid

import pytest
from django.core.cache import cache
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(function, count: int = 6) -> None:
    """Run `function` in `count` threads at once, each with its own database connection, as
    worker processes race."""

    def run():
        try:
            function()
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_concurrent_increments_are_all_counted():
    """Threads with their own database connections race as worker processes do."""
    key = f"counter-{uuid.uuid4().hex}"
    cache.add(key, 0, 60)
    threads, per_thread = 6, 25

    def hammer():
        for _ in range(per_thread):
            cache.incr(key)

    in_threads(hammer, threads)
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


def test_add_sets_only_a_missing_or_expired_key():
    key = f"added-{uuid.uuid4().hex}"
    assert cache.add(key, 1, 60)
    assert not cache.add(key, 2, 60)
    assert cache.get(key) == 1
    cache.set(key, 3, timeout=-1)
    assert cache.add(key, 4, 60)
    assert cache.get(key) == 4


def test_concurrent_adds_let_exactly_one_win():
    key = f"race-{uuid.uuid4().hex}"
    wins = []

    in_threads(lambda: wins.append(cache.add(key, 1, 60)))
    assert sorted(wins) == [False] * 5 + [True]


def database_cache_only():
    if not hasattr(cache, "delete_expired"):
        pytest.skip("the database cache only")


def shared_cache_only():
    if not hasattr(cache, "count"):
        pytest.skip("the shared caches (database, Redis) only")


def test_count_starts_at_one_goes_up_and_starts_again_after_expiry():
    shared_cache_only()
    key = f"count-{uuid.uuid4().hex}"
    assert [cache.count(key, 60) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3
    cache.set(key, 7, timeout=-1)
    assert cache.count(key, 60) == 1


def test_concurrent_counts_are_all_counted():
    shared_cache_only()
    key = f"count-race-{uuid.uuid4().hex}"
    seen = []

    in_threads(lambda: seen.extend(cache.count(key, 60) for _ in range(25)))
    assert sorted(seen) == list(range(1, 151))


def test_count_runs_the_same_statements_for_a_new_key_and_a_known_one():
    """The counters hold digests of networks and addresses: how long a hit takes must not
    tell whether the key was seen before."""
    from django.test.utils import CaptureQueriesContext

    database_cache_only()
    key = f"count-timing-{uuid.uuid4().hex}"

    def statements() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            cache.count(key, 60)
        return [q["sql"].split(" ", 1)[0] for q in queries.captured_queries]

    assert statements() == statements()


def test_several_counts_are_two_statements_whatever_their_keys_state():
    """New, known and expired keys, and a key given twice, in one `count_many`: the same two
    statements as for one key, and each key counts as alone."""
    from django.test.utils import CaptureQueriesContext

    database_cache_only()
    known, expired, new = (f"many-{name}-{uuid.uuid4().hex}" for name in ("k", "x", "n"))
    cache.count_many([(known, 60), (known, 60)])
    cache.set(expired, 9, timeout=-1)
    with CaptureQueriesContext(connection) as queries:
        counts = cache.count_many([(known, 60), (expired, 60), (new, 3600), (new, 3600)])
    assert counts == [3, 1, 1, 2]
    verbs = [q["sql"].split(" ", 1)[0] for q in queries.captured_queries]
    assert [verb for verb in verbs if verb not in ("BEGIN", "COMMIT")] == ["INSERT", "UPDATE"]
    assert [cache.get(key) for key in (known, expired, new)] == [3, 1, 2]
    assert cache.count_many([]) == []


def redis_round_trips(monkeypatch) -> list[str]:
    """On Redis only: the list each command or pipeline sent to the server is added to."""
    import redis
    from django.core.cache import caches

    from releasenow.lib.cache import RedisCache

    if not isinstance(caches["default"], RedisCache):
        pytest.skip("Redis only")
    caches["default"].count(f"warm-{uuid.uuid4().hex}", 60)  # the server learns the script
    trips = []
    for cls, name in ((redis.client.Redis, "execute_command"), (redis.client.Pipeline, "execute")):
        real = getattr(cls, name)
        monkeypatch.setattr(
            cls, name, lambda self, *a, _real=real, _name=name, **k: trips.append(_name)
            or _real(self, *a, **k)
        )  # fmt: skip
    return trips


def test_a_count_on_redis_is_one_round_trip_and_keeps_its_expiry(monkeypatch):
    trips = redis_round_trips(monkeypatch)
    key = f"count-redis-{uuid.uuid4().hex}"
    assert [cache.count(key, 60) for _ in range(3)] == [1, 2, 3]
    # One script per hit (EVALSHA), the same for a new key and a known one.
    assert trips == ["execute_command"] * 3
    monkeypatch.undo()
    ttl = cache._cache.get_client(write=True).ttl(cache.make_and_validate_key(key))
    assert 55 <= ttl <= 60


def test_the_minute_housekeeping_forgets_expired_entries_and_keeps_live_ones():
    import time

    from releasenow.tasks import recover_stale_tasks

    if not hasattr(cache, "delete_expired"):
        pytest.skip("Redis expires keys itself")
    cache.add("short-lived", 1, 1)
    cache.add("long-lived", 1, 600)
    time.sleep(2.1)  # expiry is stored to the second
    recover_stale_tasks.call(reschedule=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM releasenow_cache")
        keys = " ".join(row[0] for row in cursor.fetchall())
    assert "short-lived" not in keys and "long-lived" in keys


def test_housekeeping_keeps_the_table_within_max_entries():
    from releasenow.lib.cache import DatabaseCache

    if not hasattr(cache, "delete_expired"):
        pytest.skip("Redis bounds itself")
    small = DatabaseCache("releasenow_cache", {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2}})
    for i in range(30):
        small.add(f"flood-{i}", 1, 600)

    def rows() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM releasenow_cache")
            return cursor.fetchone()[0]

    before = rows()
    small.delete_expired()
    assert before >= 30 and rows() <= before // 2 + 1  # CULL_FREQUENCY 2: half of them go


def test_a_missing_key_inside_a_transaction_leaves_the_transaction_usable():
    """The sign request counts limits inside its transaction; django-ratelimit and
    `over_limit` recover from a missing key, so the transaction must not be doomed by it."""
    from django.db import transaction

    if not hasattr(cache, "delete_expired"):
        pytest.skip("the database cache only")
    with transaction.atomic():
        with pytest.raises(ValueError):
            cache.incr(f"missing-{uuid.uuid4().hex}")
        cache.set("after", 1, 60)  # would raise TransactionManagementError if doomed
    assert cache.get("after") == 1


def test_redis_calls_reuse_one_client_instead_of_building_one_each(monkeypatch):
    import redis
    from django.core.cache import caches

    from releasenow.lib.cache import RedisCache

    if not isinstance(caches["default"], RedisCache):
        pytest.skip("Redis only")
    cache.set("warm", 1)  # the client of this thread's cache exists
    built = []
    real = redis.Redis.__init__
    monkeypatch.setattr(
        redis.Redis, "__init__", lambda self, *a, **k: built.append(1) or real(self, *a, **k)
    )
    key = f"reuse-{uuid.uuid4().hex}"
    cache.set(key, 1, 60)
    assert cache.get(key) == 1 and cache.add(key, 2, 60) is False and cache.count(key, 60) == 2
    assert built == []


def test_several_limits_count_together_as_each_alone():
    from releasenow.lib.limits import over_limit, over_limits

    shared_cache_only()
    a, b = f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"
    hits = (("sign", a, "2/m"), ("mail-network", b, "3/h"))
    assert [over_limits(*hits) for _ in range(4)] == [
        [False, False], [False, False], [True, False], [True, True]
    ]  # fmt: skip
    assert over_limit("sign", a, "2/m") and over_limit("mail-network", b, "3/h")


def test_counts_on_redis_go_on_after_the_server_forgot_the_script(monkeypatch):
    """A restarted Redis knows no scripts: the count sends it again."""
    redis_round_trips(monkeypatch)
    monkeypatch.undo()
    key = f"forgot-{uuid.uuid4().hex}"
    assert cache.count(key, 60) == 1
    cache._cache.get_client(write=True).script_flush()
    assert cache.count(key, 60) == 2


def test_several_counts_on_redis_are_one_round_trip_and_keep_their_expiry(monkeypatch):
    trips = redis_round_trips(monkeypatch)
    keys = [f"many-{uuid.uuid4().hex}" for _ in range(2)]
    assert cache.count_many([(keys[0], 60), (keys[1], 3600)]) == [1, 1]
    assert cache.count_many([(keys[0], 60), (keys[1], 3600)]) == [2, 2]
    assert trips == ["execute_command"] * 2
    monkeypatch.undo()
    client = cache._cache.get_client(write=True)
    ttls = [client.ttl(cache.make_and_validate_key(key)) for key in keys]
    assert 55 <= ttls[0] <= 60 and 3595 <= ttls[1] <= 3600
