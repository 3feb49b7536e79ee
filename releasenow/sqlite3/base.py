"""SQLite for several processes and threads writing at once: writers queue instead of polling.

Every `transaction.atomic` block on SQLite begins with BEGIN IMMEDIATE (settings), which takes
the database's write lock. A writer that finds it taken is put to sleep by SQLite's busy handler
for 1, 2, 5, 10, … up to 100 ms between tries; under a crowd of signers most of a request's time
went in such sleeps while the lock stood free, and the threads asleep held up the pages behind
them. Here a write transaction first takes a lock of its process (threads wait on it and wake the
moment it is released), then an `flock` on a file beside the database, which the process's one
waiting thread tries every fraction of a millisecond. The kernel drops the flock of a process
killed with -9. Both waits end with "database is locked" after the busy timeout, as before.

Statements outside an atomic block (autocommit) still meet SQLite's own busy handler.

Checkpoints (the write-ahead log copied back into the database, an fsync on each side) are taken
out of the write lock. SQLite runs one inside the COMMIT that takes the log past
`wal_autocheckpoint` pages, and that COMMIT returns only once it is done: the write lock above
was held through it, so every signer waiting for the lock waited for the disk as well. Group
commit's leader checkpoints instead, once it has released the lock and woken its batch, at most
once every CHECKPOINT_SECONDS per process (`checkpoint_now_and_then`), in PASSIVE mode, which
waits for no reader or writer: only the leader's own answer waits for it. SQLite's own
checkpoint stays, at WAL_AUTOCHECKPOINT_PAGES, for a log that grows while nobody signs (the
worker's writes, an import). Interleaved runs with a `kill -9` (README, Performance: 7 December,
late night): 519 -> 673 signatures a second, p99 310 -> 250 ms.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_process_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()
_last_checkpoint: dict[str, float] = {}  # by database file, in this process

CHECKPOINT_SECONDS = 1.0
# SQLite's default is 1,000 pages (4 MB); while people sign, group commit checkpoints long before.
WAL_AUTOCHECKPOINT_PAGES = 10_000
# What is left of the log file after it is started again: as with the old 1,000 pages, earlier
# versions of pages (a withdrawn signer's among them, until an erasure empties the log:
# signatures.models.checkpoint_sqlite) stay on disk in at most about this much of it.
WAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024


def _now() -> float:
    """The clock of `checkpoint_now_and_then` alone (tests move it)."""
    return time.monotonic()


def process_lock(path: str) -> threading.Lock:
    with _guard:
        return _process_locks.setdefault(path, threading.Lock())


def flock_until(fd: int, deadline: float) -> None:
    """An exclusive flock, tried every fraction of a millisecond until `deadline`."""
    delay = 0.0001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise OperationalError("database is locked") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.0005)


def close_files(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


class DatabaseWrapper(base.DatabaseWrapper):
    _lock_fd: int | None = None
    _turn_fd: int | None = None
    _lock_held = False
    _files: weakref.finalize | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        connection.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        if not self.is_in_memory_db():
            path = f"{self.settings_dict['NAME']}.writelock"
            self._lock_path = os.path.abspath(path)
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            turn = f"{self.settings_dict['NAME']}.writeturn"
            self._turn_fd = os.open(turn, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            # Closed with the connection, or else when this wrapper is collected: a web server
            # thread that ends (granian lets idle ones go) never closes its connection.
            self._files = weakref.finalize(self, close_files, self._lock_fd, self._turn_fd)
        return connection

    def _start_transaction_under_autocommit(self):
        self._take_write_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._drop_write_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._drop_write_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._drop_write_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._drop_write_lock()
            if self._files is not None:
                self._files()  # closes them, once
            self._lock_fd = self._turn_fd = self._files = None

    def checkpoint_now_and_then(self) -> None:
        """A PASSIVE checkpoint, unless this process took one less than CHECKPOINT_SECONDS ago;
        never inside a transaction. It copies what no reader still needs and waits for nobody
        (while another connection checkpoints, it does nothing)."""
        if self._lock_fd is None or self.in_atomic_block:
            return
        now = _now()
        if now - _last_checkpoint.get(self._lock_path, -CHECKPOINT_SECONDS) < CHECKPOINT_SECONDS:
            return
        _last_checkpoint[self._lock_path] = now
        with self.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _take_write_lock(self) -> None:
        if self._lock_fd is None or self._lock_held:
            return
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        deadline = time.monotonic() + timeout
        lock = process_lock(self._lock_path)
        if not lock.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        try:
            # The turn first, then the lock, then the turn is given up: a process that has
            # just written and wants the lock again finds the turn held by the one waiting,
            # so the processes take turns (with group commit, one process's signers would
            # otherwise keep the lock among themselves while the others' wait).
            flock_until(self._turn_fd, deadline)
            try:
                flock_until(self._lock_fd, deadline)
            finally:
                fcntl.flock(self._turn_fd, fcntl.LOCK_UN)
        except BaseException:  # a timeout, or a file system without flock: never keep the lock
            lock.release()
            raise
        self._lock_held = True

    def _drop_write_lock(self) -> None:
        if not self._lock_held:
            return
        self._lock_held = False
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        process_lock(self._lock_path).release()
