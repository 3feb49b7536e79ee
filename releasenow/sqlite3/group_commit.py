"""Group commit: the sign requests of one process that meet at SQLite's write lock share a
transaction.

SQLite lets one writer write at a time. On a viral day every sign request took the write lock
for its own short transaction; most of the time in the lock went to BEGIN, COMMIT and handing
the lock over, and a process preempted while holding it stopped every other signer. Here a
request hands its writes (`unit`, a function) to whichever thread of its process is already
writing, or leads itself: the leader runs every unit waiting at that moment, each in its own
savepoint (one that fails is undone alone and raises in its own request), commits once, and
hands the lead to the next waiting thread. Each caller gets its unit's result only once the
shared transaction has committed; if BEGIN or COMMIT fails, every caller of the batch gets
that error and nothing of the batch is stored.

Units run on the leader's thread and database connection: they must take what they need of
their request as arguments (the active language, for one, is per thread). On other databases,
or inside a transaction already, a unit simply runs in a transaction of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction

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
    if not me.lead:
        me.wake.wait()
    if me.lead:
        _lead(using)  # its own unit is the first of the batch
    if me.error is not None:
        raise me.error
    return me.result


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
            queue = _queues[using]
            if queue:
                queue[0].lead = True
                queue[0].wake.set()
            else:
                _leading.discard(using)


def _run(batch: list[_Waiting], using: str) -> None:
    try:
        with transaction.atomic(using=using):
            for waiting in batch:
                try:
                    with transaction.atomic(using=using):  # a savepoint each
                        waiting.result = waiting.unit()
                except Exception as exc:  # noqa: BLE001 - raised again in its own request
                    waiting.error = exc
    except BaseException as exc:  # BEGIN or COMMIT failed: the whole batch is lost
        for waiting in batch:
            waiting.result, waiting.error = None, waiting.error or exc
        if not isinstance(exc, Exception):
            raise
