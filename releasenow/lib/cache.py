"""The shared caches: Django's database cache, counting atomically (the embedded default), and
Django's Redis cache with the same one-step `count` (production).

Rate limits, the proof-of-work replay check and the staff login back-off live in the cache, and
several processes (web server workers, app servers) must see the same counts. Without Redis the
database is the one thing they share. Django's `DatabaseCache.incr` reads and writes in two
steps, so two processes can both read 5 and both write 6; this `incr` takes the row's write
lock before it reads, so every hit counts once; and `add` is one INSERT that yields on
conflict, atomic too, doing the same work whether the key existed or not.
"""

import base64
import pickle
from datetime import UTC, datetime

from django.core.cache.backends import db
from django.core.cache.backends import redis as redis_backend
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.db import connections, router, transaction
from django.utils import timezone


class DatabaseCache(db.DatabaseCache):
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        """Remove the key if it expired, then INSERT … ON CONFLICT DO NOTHING. Django's own
        `add` reads first and tells the cases apart by a failing INSERT (and two processes can
        both "add" over an expired row); this one cannot race and does the same statements for
        a new key and a known one, so the time it takes tells nothing."""
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        connection, (table, cache_key, value_col, expires) = self._table_sql()
        alias = connection.alias
        now = timezone.now().replace(microsecond=0)
        until = self._until(timeout)
        pickled = self._pickle(value)
        adapt = connection.ops.adapt_datetimefield_value
        with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
            # No COUNT(*) of the whole table here, as Django's `set` does before every write:
            # on a busy day that was most of a hit's cost. Expired rows go every minute, and
            # live ones beyond MAX_ENTRIES (`delete_expired`, by the worker).
            cursor.execute(
                f"DELETE FROM {table} WHERE {cache_key} = %s AND {expires} < %s",  # noqa: S608
                [key, adapt(now)],
            )
            cursor.execute(
                f"INSERT INTO {table} ({cache_key}, {value_col}, {expires}) "  # noqa: S608
                f"VALUES (%s, %s, %s) ON CONFLICT ({cache_key}) DO NOTHING",
                [key, pickled, adapt(until)],
            )
            return cursor.rowcount == 1

    def count(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> int:
        """One more hit of the counter `key` (absent or expired: it starts again); returns the
        new count (`count_many` for one key)."""
        return self.count_many([(key, timeout)], version=version)[0]

    def count_many(self, hits: list[tuple[str, float]], version=None) -> list[int]:
        """One more hit of each counter in `hits` (key, timeout), as the Redis cache has it;
        returns the new counts. Two statements for any number of keys, whatever their state,
        so the time tells nothing: an upsert of every key that yields its current value (0
        for a new or expired key: it starts again) and takes the rows (PostgreSQL) or is
        already under the database's write lock (SQLite), then one write of every value + 1.
        `add` then `incr` took five a key, and the sign request counts two limits on every
        post, in its transaction. A key given twice counts twice."""
        keyed = [
            (self.make_and_validate_key(key, version=version), self.get_backend_timeout(timeout))
            for key, timeout in hits
        ]
        if not keyed:
            return []
        connection, (table, cache_key, value, expires) = self._table_sql()
        adapt = connection.ops.adapt_datetimefield_value
        now = adapt(timezone.now().replace(microsecond=0))
        first = {}  # each key once (an upsert may not touch a row twice), its first timeout
        for key, timeout in keyed:
            first.setdefault(key, timeout)
        start = self._pickle(0)
        rows = ", ".join(["(%s, %s, %s)"] * len(first))
        # In key order: PostgreSQL locks the rows in the order given, and two requests that
        # count the same keys in different orders could otherwise wait for each other.
        params = [
            p for key, t in sorted(first.items()) for p in (key, start, adapt(self._until(t)))
        ]
        with (
            transaction.atomic(using=connection.alias, savepoint=False),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                f"INSERT INTO {table} ({cache_key}, {value}, {expires}) VALUES {rows} "  # noqa: S608
                f"ON CONFLICT ({cache_key}) DO UPDATE SET "
                f"{value} = CASE WHEN {table}.{expires} < %s "
                f"THEN EXCLUDED.{value} ELSE {table}.{value} END, "
                f"{expires} = CASE WHEN {table}.{expires} < %s "
                f"THEN EXCLUDED.{expires} ELSE {table}.{expires} END "
                f"RETURNING {cache_key}, {value}",
                [*params, now, now],
            )
            current = {
                key: self._unpickle(connection.ops.process_clob(stored))
                for key, stored in cursor.fetchall()
            }
            counts = []
            for key, _timeout in keyed:
                current[key] += 1
                counts.append(current[key])
            cases = " ".join(["WHEN %s THEN %s"] * len(current))
            cursor.execute(
                f"UPDATE {table} SET {value} = CASE {cache_key} {cases} END "  # noqa: S608
                f"WHERE {cache_key} IN ({', '.join(['%s'] * len(current))})",
                [
                    *(p for key, n in current.items() for p in (key, self._pickle(n))),
                    *current,
                ],
            )
        return counts

    def _table_sql(self):
        """The connection the cache writes through, and the quoted names of its table and
        of the key, value and expiry columns."""
        connection = connections[router.db_for_write(self.cache_model_class)]
        qn = connection.ops.quote_name
        return connection, (qn(self._table), qn("cache_key"), qn("value"), qn("expires"))

    @staticmethod
    def _until(timeout: float | None) -> datetime:
        if timeout is None:
            return datetime.max.replace(microsecond=0)
        return datetime.fromtimestamp(timeout, tz=UTC).replace(microsecond=0)

    def _pickle(self, value) -> str:
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")

    @staticmethod
    def _unpickle(stored: str):
        return pickle.loads(base64.b64decode(stored.encode()))  # noqa: S301

    def incr(self, key, delta: int = 1, version=None) -> int:
        key = self.make_and_validate_key(key, version=version)
        connection, (table, cache_key, value, expires) = self._table_sql()
        alias = connection.alias
        now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
        with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
            # A write first: it takes the row lock (PostgreSQL) or the database's write lock
            # (SQLite) before the read, so concurrent increments queue instead of racing.
            cursor.execute(
                f"UPDATE {table} SET {expires} = {expires} WHERE {cache_key} = %s",  # noqa: S608
                [key],
            )
            cursor.execute(
                f"SELECT {value} FROM {table} WHERE {cache_key} = %s AND {expires} >= %s",  # noqa: S608
                [key, now],
            )
            row = cursor.fetchone()
            if row is not None:
                stored = connection.ops.process_clob(row[0])
                new_value = self._unpickle(stored) + delta
                cursor.execute(
                    f"UPDATE {table} SET {value} = %s WHERE {cache_key} = %s",  # noqa: S608
                    [self._pickle(new_value), key],
                )
        # Raised outside the block: inside a caller's transaction (the sign request) an
        # exception leaving a block without a savepoint would doom the whole transaction.
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return new_value

    def delete_expired(self) -> int:
        """Remove every expired entry, then, beyond MAX_ENTRIES, a share of the live ones as
        Django's own culling does (a flood of new keys from many networks stays bounded).
        Returns how many expired entries went."""
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        table = connection.ops.quote_name(self._table)
        now = timezone.now().replace(microsecond=0)
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            expires = connection.ops.quote_name("expires")
            cursor.execute(
                f"DELETE FROM {table} WHERE {expires} < %s",  # noqa: S608
                [connection.ops.adapt_datetimefield_value(now)],
            )
            deleted = cursor.rowcount
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            count = cursor.fetchone()[0]
            if count > self._max_entries:
                self._cull(alias, cursor, now, count)
        return deleted


class RedisCacheClient(redis_backend.RedisCacheClient):
    """Django's Redis client, keeping one redis-py client per server. Django builds a new
    `redis.Redis` (and its table of reply callbacks) for every cache call: a tenth of the web
    process's CPU time per sign request on PostgreSQL + Redis. A redis-py client over a
    connection pool is safe to share between threads (and each thread has its own cache
    object anyway); after a fork the pool opens new connections itself."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


# `RedisCache.count_many`: for each key, SET NX with its expiry (ARGV, seconds; "": none),
# then INCR.
COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local seconds = tonumber(ARGV[i])
  if seconds then
    redis.call('SET', key, 0, 'EX', seconds, 'NX')
  else
    redis.call('SET', key, 0, 'NX')
  end
  counts[i] = redis.call('INCR', key)
end
return counts
"""


class RedisCache(redis_backend.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._scripts = {}  # per redis-py client: the script's SHA, sent with EVALSHA

    def count(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> int:
        """One more hit of the counter `key` (absent or expired: it starts again); returns the
        new count. One round trip whatever the key's state: SET NX (with the expiry) and INCR
        in one MULTI. `add` then `incr` took three (Django's `incr` asks EXISTS first)."""
        return self.count_many([(key, timeout)], version=version)[0]

    def count_many(self, hits: list[tuple[str, float]], version=None) -> list[int]:
        """`count` for several (key, timeout) at once, still one round trip: the sign request
        counts two limits on every post. One script (atomic, as a MULTI would be) rather than
        a MULTI of SET NX and INCR per key: one command to send and one reply to read instead
        of six, a third less of the web process's CPU for the call."""
        keys = [self.make_and_validate_key(k, version=version) for k, _t in hits]
        timeouts = [self.get_backend_timeout(t) for _k, t in hits]
        timeouts = ["" if seconds is None else seconds for seconds in timeouts]
        client = self._cache.get_client(write=True)
        script = self._scripts.get(client)
        if script is None:
            script = self._scripts[client] = client.register_script(COUNT_SCRIPT)
        return [int(n) for n in script(keys=keys, args=timeouts)]
