"""Writers of one process sharing a transaction (SQLite): each gets its own result or error."""

import contextlib
import functools
import threading
import time

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction

from releasenow.sqlite3 import group_commit
from releasenow.sqlite3.group_commit import atomic_together

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(calls) -> dict:
    """Start `(name, function, pause)` one after another; each function's outcome by name."""
    outcomes = {}

    def run(name, function):
        try:
            outcomes[name] = ("ok", function())
        except BaseException as exc:  # noqa: BLE001 - the outcome under test
            outcomes[name] = ("error", exc)
        finally:
            connection.close()

    threads = []
    for name, function, pause in calls:
        threads.append(threading.Thread(target=run, args=(name, function)))
        threads[-1].start()
        time.sleep(pause)
    for thread in threads:
        thread.join(10)
    return outcomes


def run_threads(target, count: int) -> dict:
    """`target(i)` in `count` threads started together."""
    return in_threads([(i, functools.partial(target, i), 0) for i in range(count)])


def test_every_writer_gets_its_own_result_and_every_write_is_stored():
    results = {}

    def write(i):
        results[i] = atomic_together(lambda: Group.objects.create(name=f"g{i}").name)

    run_threads(write, 40)
    assert results == {i: f"g{i}" for i in range(40)}
    assert Group.objects.count() == 40
    assert not group_commit._leading and not any(group_commit._queues.values())


def test_a_failing_writer_fails_alone():
    Group.objects.create(name="taken")
    outcomes = {}
    start = threading.Barrier(12)

    def write(i):
        start.wait()
        name = "taken" if i % 4 == 0 else f"free{i}"
        try:
            outcomes[i] = atomic_together(lambda: Group.objects.create(name=name).name)
        except IntegrityError:
            outcomes[i] = "refused"

    run_threads(write, 12)
    assert outcomes == {i: "refused" if i % 4 == 0 else f"free{i}" for i in range(12)}
    assert Group.objects.count() == 1 + 9


def test_writers_that_meet_share_one_transaction(monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: other databases write in parallel")
    sizes = []
    run = group_commit._run
    monkeypatch.setattr(
        group_commit, "_run", lambda batch, using: (sizes.append(len(batch)), run(batch, using))
    )
    start = threading.Barrier(10)

    def write(i):
        start.wait()
        atomic_together(lambda: (Group.objects.create(name=f"s{i}"), time.sleep(0.02)))

    run_threads(write, 10)
    assert sum(sizes) == 10 and max(sizes) > 1
    assert Group.objects.count() == 10


def test_inside_a_transaction_the_write_belongs_to_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        atomic_together(lambda: Group.objects.create(name="undone"))
        raise RuntimeError
    assert not Group.objects.exists()


def test_when_sqlite_ends_the_shared_transaction_nobody_is_told_stored():
    """SQLite rolls back the whole transaction by itself on some errors (disk full, I/O):
    the signers whose writes ran before in the same batch must hear that too."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")

    def first():  # holds the lead so that the next two meet in one batch
        time.sleep(0.3)
        return Group.objects.create(name="first").name

    def lost():
        Group.objects.create(name="lost")
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")  # what SQLite does itself on such an error
        raise OperationalError("disk I/O error")

    outcomes = in_threads([
        ("first", lambda: atomic_together(first), 0.1),
        ("before", lambda: atomic_together(lambda: Group.objects.create(name="a").name), 0.05),
        ("lost", lambda: atomic_together(lost), 0),
    ])  # fmt: skip
    assert outcomes["first"] == ("ok", "first")
    for name in ("before", "lost"):
        kind, error = outcomes[name]
        assert kind == "error" and isinstance(error, DatabaseError)
    assert list(Group.objects.values_list("name", flat=True)) == ["first"]
    assert outcomes["before"][1] is not outcomes["lost"][1]


def test_a_signer_interrupted_while_waiting_leaves_the_queue_usable(monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")

    class Interrupted(threading.Event):
        def wait(self, timeout=None):
            super().wait(timeout)
            raise KeyboardInterrupt  # lands just after it was handed the lead

    made = group_commit._Waiting.__init__

    def interrupted(self, unit):
        made(self, unit)
        self.wake = Interrupted()

    def slow():
        time.sleep(0.3)
        return Group.objects.create(name="L").name

    def interrupted_signer():
        monkeypatch.setattr(group_commit._Waiting, "__init__", interrupted)
        try:
            return atomic_together(lambda: Group.objects.create(name="W").name)
        finally:
            monkeypatch.setattr(group_commit._Waiting, "__init__", made)

    outcomes = in_threads([
        ("leader", lambda: atomic_together(slow), 0.1),
        ("interrupted", interrupted_signer, 0),
    ])  # fmt: skip
    assert outcomes["interrupted"][0] == "error"
    later = in_threads([("later", lambda: atomic_together(lambda: "done"), 0)])
    assert later == {"later": ("ok", "done")}
    assert not group_commit._leading and not any(group_commit._queues.values())


def test_a_writer_alone_runs_without_a_savepoint_and_fails_alone():
    """A batch of one (the usual case) needs no savepoint: its failure rolls the transaction
    back, which held nothing else, and the writer gets its own error."""
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with CaptureQueriesContext(connection) as queries:
        assert atomic_together(lambda: Group.objects.create(name="alone").name) == "alone"
    assert not any("SAVEPOINT" in q["sql"] for q in queries.captured_queries)

    def half_done():
        Group.objects.create(name="half")
        Group.objects.create(name="alone")  # refused: the name is taken

    with pytest.raises(IntegrityError):
        atomic_together(half_done)
    assert list(Group.objects.values_list("name", flat=True)) == ["alone"]
    assert atomic_together(lambda: Group.objects.create(name="next").name) == "next"
    assert not group_commit._leading and not any(group_commit._queues.values())


def test_a_writer_that_swallows_its_database_error_hears_nothing_was_stored():
    """A unit that catches a database error of its own and returns: its writes are undone,
    alone or in a batch, and its caller gets an error, never a result for writes now gone."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    Group.objects.create(name="taken")

    def swallowing():
        Group.objects.create(name="mine")
        with contextlib.suppress(IntegrityError):
            Group.objects.create(name="taken")
        return "stored?"

    with pytest.raises(DatabaseError):
        atomic_together(swallowing)  # alone

    def first():  # holds the lead so that the next two meet in one batch
        time.sleep(0.3)
        return Group.objects.create(name="first").name

    outcomes = in_threads([
        ("first", lambda: atomic_together(first), 0.1),
        ("other", lambda: atomic_together(lambda: Group.objects.create(name="other").name), 0.05),
        ("swallowing", lambda: atomic_together(swallowing), 0),
    ])  # fmt: skip
    assert outcomes["first"] == ("ok", "first") and outcomes["other"] == ("ok", "other")
    kind, error = outcomes["swallowing"]
    assert kind == "error" and isinstance(error, DatabaseError)
    assert sorted(Group.objects.values_list("name", flat=True)) == ["first", "other", "taken"]


def test_a_writer_alone_interrupted_mid_write_stores_nothing():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")

    def interrupted():
        Group.objects.create(name="half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_together(interrupted)
    assert not Group.objects.exists()
    assert atomic_together(lambda: Group.objects.create(name="next").name) == "next"
    assert not group_commit._leading and not any(group_commit._queues.values())


def test_the_leader_checkpoints_the_log_after_its_batch_at_most_once_a_second(monkeypatch):
    """Not inside a COMMIT, where every signer waiting for the write lock waited for the disk."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL checkpoints by itself")
    from django.test.utils import CaptureQueriesContext

    from releasenow.sqlite3 import base

    clock = [1000.0]
    monkeypatch.setattr(base, "_now", lambda: clock[0])
    monkeypatch.setattr(base, "_last_checkpoint", {})
    with CaptureQueriesContext(connection) as queries:
        atomic_together(lambda: Group.objects.create(name="first"))
        atomic_together(lambda: Group.objects.create(name="within the second"))
        clock[0] += base.CHECKPOINT_SECONDS
        atomic_together(lambda: Group.objects.create(name="a second later"))
    statements = [q["sql"] for q in queries]
    assert [s for s in statements if "wal_checkpoint" in s] == [
        "PRAGMA wal_checkpoint(PASSIVE)"
    ] * 2
    assert statements.index("PRAGMA wal_checkpoint(PASSIVE)") > statements.index("COMMIT")
    with connection.cursor() as cursor:  # SQLite's own, for a log that grows while nobody signs
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == base.WAL_AUTOCHECKPOINT_PAGES
        cursor.execute("PRAGMA journal_size_limit")  # the log file, cut back when restarted
        assert cursor.fetchone()[0] == base.WAL_SIZE_LIMIT_BYTES


def test_a_checkpoint_that_fails_leaves_the_write_stored(monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL checkpoints by itself")

    def failing(self):
        raise OperationalError("disk I/O error")

    from releasenow.sqlite3.base import DatabaseWrapper

    monkeypatch.setattr(DatabaseWrapper, "checkpoint_now_and_then", failing)
    assert atomic_together(lambda: Group.objects.create(name="stored").name) == "stored"
    assert Group.objects.filter(name="stored").exists()
