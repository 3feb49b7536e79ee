"""The shared cache of the embedded default: Django's database cache, counting atomically.

Rate limits, the proof-of-work replay check and the staff login back-off live in the cache, and
several processes (gunicorn workers, app servers) must see the same counts. Without Redis the
database is the one thing they share. Django's `DatabaseCache.incr` reads and writes in two
steps, so two processes can both read 5 and both write 6; this `incr` takes the row's write
lock before it reads, so every hit counts once.
"""

import base64
import pickle

from django.core.cache.backends import db
from django.db import connections, router, transaction
from django.utils import timezone


class DatabaseCache(db.DatabaseCache):
    def incr(self, key, delta: int = 1, version=None) -> int:
        key = self.make_and_validate_key(key, version=version)
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        qn = connection.ops.quote_name
        table, cache_key, value, expires = (
            qn(self._table), qn("cache_key"), qn("value"), qn("expires")
        )  # fmt: skip
        now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
        with transaction.atomic(using=alias), connection.cursor() as cursor:
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
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            stored = connection.ops.process_clob(row[0])
            new_value = pickle.loads(base64.b64decode(stored.encode())) + delta  # noqa: S301
            pickled = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol))
            cursor.execute(
                f"UPDATE {table} SET {value} = %s WHERE {cache_key} = %s",  # noqa: S608
                [pickled.decode("latin1"), key],
            )
        return new_value
