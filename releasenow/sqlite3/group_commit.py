"""Group commit: the sign requests of one process that meet at SQLite's write lock share a
transaction.

SQLite lets one writer write at a time. On a viral day every sign request took the write lock
for its own short transaction; most of the time in the lock went to BEGIN, COMMIT and handing
the lock over, and a process preempted while holding it stopped every other signer. Here a
request hands its writes (`unit`, a function) to whichever thread of its process is already
writing, or leads itself: the leader runs every unit waiting at that moment, each in its own
savepoint (one that fails is undone alone and raises in its own request; a batch of one needs
none), commits once, and hands the lead to the next waiting thread (then, now and then, it
checkpoints the write-ahead log, outside the lock: releasenow/sqlite3/base.py). Each caller
gets its unit's result only once the shared transaction has committed. If BEGIN or COMMIT
fails, or the transaction is lost midway (SQLite ends it by itself on a full disk or an I/O
error), nothing of the batch is stored and every caller gets a DatabaseError of its own. A
thread interrupted while it waits leaves the queue, and hands on the lead if it had just been
given it.

Units run on the leader's thread and database connection: they must take what they need of
their request as arguments (the active language, for one, is per thread). On other databases,
or inside a transaction already, a unit simply runs in a transaction of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, Error, connections, transaction

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH = 64


class _Waiting:
    __slots__ = ("unit", "wake", "lead", "result", "error")

    def __init__(self, unit: Callable):
        self.unit = unit
        self.wake = threading.Event()  # its batch is over, or it is to lead the next one
        self.lead = False
        self.result = None
        self.error: BaseException | None = None


_state_lock = threading.Lock()
_queues: dict[str, list[_Waiting]] = {}
_leading: set[str] = set()  # databases whose queue a thread is running


def atomic_together(unit: Callable[[], T], using: str = DEFAULT_DB_ALIAS) -> T:
    """Run `unit()` in a transaction, shared with other threads' units on SQLite."""
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic(using=using):
            return unit()
    me = _Waiting(unit)
    with _state_lock:
        _queues.setdefault(using, []).append(me)
        if using not in _leading:
            _leading.add(using)
            me.lead = True
    try:
        if not me.lead:
            me.wake.wait()
    except BaseException:  # interrupted while waiting: leave the queue, and the lead if given
        _abandon(me, using)
        raise
    if me.lead:
        _lead(using)  # its own unit is the first of the batch
    if me.error is not None:
        raise me.error
    return me.result


def _abandon(me: _Waiting, using: str) -> None:
    with _state_lock:
        queue = _queues[using]
        if me in queue:  # not taken into a batch yet: its unit will never run
            queue.remove(me)
        if me.lead:
            me.lead = False
            _hand_on_lead(using)


def _lead(using: str) -> None:
    """Run what waits (up to MAX_BATCH), then wake the batch and hand the lead on."""
    with _state_lock:
        queue = _queues[using]
        batch, queue[:] = queue[:MAX_BATCH], queue[MAX_BATCH:]
    try:
        _run(batch, using)
    finally:
        with _state_lock:
            for waiting in batch:
                waiting.lead = False
                waiting.wake.set()
            _hand_on_lead(using)
    # The batch has its answers and the lock is free: now and then, a checkpoint, which only
    # this thread's own answer waits for (releasenow/sqlite3/base.py).
    checkpoint = getattr(connections[using], "checkpoint_now_and_then", None)
    if checkpoint is not None:
        try:
            checkpoint()
        except Error:  # the batch is stored; the next leader checkpoints
            log.warning("A checkpoint after a shared commit failed", exc_info=True)


def _hand_on_lead(using: str) -> None:
    """To the first one waiting, or to nobody (the next to come leads). Under `_state_lock`."""
    queue = _queues[using]
    if queue:
        queue[0].lead = True
        queue[0].wake.set()
    else:
        _leading.discard(using)


def _run(batch: list[_Waiting], using: str) -> None:
    connection = connections[using]
    committed = []
    try:
        with transaction.atomic(using=using):
            # Registered first, so it runs first after COMMIT: a later hook that raises must
            # not make the batch look lost when it is stored.
            transaction.on_commit(lambda: committed.append(True), using=using)
            # A savepoint each; a batch of one needs none (two statements fewer, the usual
            # case): its failure rolls back the transaction, which holds nothing else.
            savepoint = len(batch) > 1
            for waiting in batch:
                try:
                    with transaction.atomic(using=using, savepoint=savepoint):
                        waiting.result = waiting.unit()
                        if connection.needs_rollback:  # it caught a database error itself
                            raise DatabaseError("the write was rolled back")
                except Exception as exc:  # noqa: BLE001 - raised again in its own request
                    waiting.error = exc
                # A failure without a savepoint, a savepoint that could not be rolled back, or
                # SQLite ending the whole transaction itself (disk full, I/O error): what ran
                # before is lost too (a caller's own error is kept).
                if connection.needs_rollback or not connection.connection.in_transaction:
                    raise DatabaseError("the shared transaction was rolled back")
    except BaseException as exc:
        if committed:  # stored; an on_commit hook failed after the commit
            log.exception("An on_commit hook failed after a shared commit")
        else:  # BEGIN or COMMIT failed, or the transaction was lost: nothing is stored
            for waiting in batch:
                waiting.result = None
                if waiting.error is None or waiting.error is exc:
                    # An error of its own for each caller (never another's traceback).
                    waiting.error = DatabaseError(f"shared transaction failed: {exc!r}")
                    waiting.error.__cause__ = exc
        if not isinstance(exc, Exception):
            raise
