"""Writers of one process sharing a transaction (SQLite): each gets its own result or error."""

import threading
import time

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction

from releasenow.sqlite3 import group_commit
from releasenow.sqlite3.group_commit import atomic_together

pytestmark = pytest.mark.django_db(transaction=True)


def run_threads(target, count: int) -> None:
    def run(i):
        try:
            target(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


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
