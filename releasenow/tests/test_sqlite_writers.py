"""Several processes and threads writing to the embedded SQLite database at once
(releasenow/sqlite3/base.py): writers queue for the write lock, none is lost, a writer killed
with -9 does not leave the lock taken, and a wait that lasts too long ends in a clear error."""

import subprocess
import sys
import textwrap
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from campaigns.models import Petition
from signatures.models import CountryCount

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded database only"),
]

CHILD = textwrap.dedent("""
    import os, sys, time
    os.environ["DJANGO_SETTINGS_MODULE"] = "releasenow.settings"
    from django.conf import settings
    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    import django
    django.setup()
    from django.db import transaction
    from signatures.models import CountryCount
    petition_id, mode = int(sys.argv[2]), sys.argv[3]
    if mode == "hold":
        with transaction.atomic():
            CountryCount.add(petition_id, "XX", 1000)
            print("holding", flush=True)
            time.sleep(60)
    elif mode.startswith("for"):  # write back to back for some seconds, under a country of its own
        _, seconds, country = mode.split(":")
        end, done = time.monotonic() + float(seconds), 0
        while time.monotonic() < end:
            with transaction.atomic():
                CountryCount.add(petition_id, country, 1)
            done += 1
        print(done, flush=True)
    else:
        for _ in range(int(mode)):
            with transaction.atomic():
                CountryCount.add(petition_id, "LT", 1)
        print("done", flush=True)
""")


def child(*args: str) -> subprocess.Popen:
    name = str(connection.settings_dict["NAME"])
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, name, *args], stdout=subprocess.PIPE, text=True
    )


@pytest.fixture
def petition(content) -> Petition:
    return Petition.objects.get(slug="manifesto")


def count(petition, country) -> int:
    row = CountryCount.objects.filter(petition=petition, country=country).first()
    return row.count if row else 0


def test_writers_in_several_processes_all_commit(petition):
    children = [child(str(petition.pk), "150") for _ in range(3)]
    for _ in range(150):
        with transaction.atomic():
            CountryCount.add(petition.pk, "LT", 1)
    for process in children:
        assert process.wait(timeout=60) == 0
    assert count(petition, "LT") == 600


def test_a_writer_killed_with_minus_9_leaves_the_lock_free_and_its_writes_undone(petition):
    holder = child(str(petition.pk), "hold")
    assert holder.stdout.readline().strip() == "holding"
    holder.kill()
    holder.wait()
    began = time.monotonic()
    with transaction.atomic():
        CountryCount.add(petition.pk, "LT", 1)
    assert time.monotonic() - began < 5
    assert count(petition, "LT") == 1 and count(petition, "XX") == 0


def test_threads_queue_for_the_lock_and_a_rollback_releases_it(petition):
    errors = []

    def write(fail: bool) -> None:
        try:
            for _ in range(50):
                try:
                    with transaction.atomic():
                        CountryCount.add(petition.pk, "LT", 1)
                        if fail:
                            raise ValueError("rolled back")
                except ValueError:
                    pass
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i % 2 == 1,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and count(petition, "LT") == 100


def test_a_writer_that_waits_too_long_gets_database_is_locked(petition, settings):
    holder = child(str(petition.pk), "hold")
    try:
        assert holder.stdout.readline().strip() == "holding"
        connection.close()
        settings.DATABASES["default"]["OPTIONS"]["timeout"] = 0.3
        connection.settings_dict["OPTIONS"]["timeout"] = 0.3
        began = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            CountryCount.add(petition.pk, "LT", 1)
        assert time.monotonic() - began < 5
    finally:
        holder.kill()
        holder.wait()
        connection.settings_dict["OPTIONS"]["timeout"] = 20
        connection.close()


def test_processes_writing_back_to_back_take_turns(petition):
    """Each of several processes writing back to back gets its share of the lock (the turn
    file hands it from one process to the next)."""
    writers = [child(str(petition.pk), f"for:2:{country}") for country in ("AA", "BB", "CC")]
    done = [int(writer.communicate(timeout=60)[0]) for writer in writers]
    assert [count(petition, c) for c in ("AA", "BB", "CC")] == done
    assert min(done) > 0.3 * max(done), done


def test_a_thread_that_ends_without_closing_its_connection_leaves_no_files_open(petition):
    """The web server lets idle threads go; their connections are never closed, only
    collected. The lock files each connection opens must go with them."""
    import gc
    import os
    from pathlib import Path

    def lock_files() -> int:
        fds = Path("/proc/self/fd")
        return sum(
            os.readlink(fd).endswith((".writelock", ".writeturn"))
            for fd in fds.iterdir()
            if fd.is_symlink() and os.path.exists(fd)
        )

    def thread_that_writes() -> None:
        CountryCount.add(petition.pk, "XX", 1)  # opens this thread's connection
        assert connections["default"].connection is not None

    before = lock_files()
    for _ in range(5):
        worker = threading.Thread(target=thread_that_writes)
        worker.start()
        worker.join()
    gc.collect()
    assert lock_files() == before
