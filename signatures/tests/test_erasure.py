"""A signer who withdraws vanishes: from every table, every file in DATA_DIR and the logs."""

import logging
import secrets
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from signatures.models import Signature
from signatures.tests.conftest import run_tasks, sign
from signatures.tests.test_smtp import link_in

pytestmark = pytest.mark.django_db(transaction=True)


def every_table_as_text() -> str:
    """Every row of every table, django-tasks' and the admin log's included, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.append(f"{table}: {cursor.fetchall()!r}")
    return "\n".join(chunks)


def every_file_in(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def every_stored_file() -> dict[Path, bytes]:
    """Every file in DATA_DIR, and the SQLite database's own files wherever they are (with
    TEST_DATABASE_NAME, the test database may live outside DATA_DIR)."""
    files = every_file_in(Path(settings.DATA_DIR))
    if connection.vendor == "sqlite":
        database = Path(connection.settings_dict["NAME"])
        for path in (
            database,
            *(database.with_name(database.name + end) for end in ("-wal", "-shm", "-journal")),
        ):
            if path.is_file():
                files[path] = path.read_bytes()
    return files


def test_after_withdrawal_no_table_file_or_log_holds_name_address_or_tokens(
    client, manifesto, smtp_server, staff_client, caplog
):
    caplog.set_level(logging.DEBUG)
    tag = secrets.token_hex(4)
    name, email = f"Zmitser Vanished{tag}", f"vanish.{tag}@example.org"
    sign(client, full_name=name, email=email, affiliation=f"Role{tag}", city=f"City{tag}")
    run_tasks()
    [confirmation] = smtp_server.to(email)
    confirm_path, withdraw_path = (
        link_in(confirmation, "confirm"),
        link_in(confirmation, "withdraw"),
    )
    client.post(confirm_path)
    signature = Signature.objects.get()
    # Staff looked at and changed it in the admin: Django's change log names it.
    staff_client.post(
        f"/admin/signatures/signature/{signature.pk}/change/",
        {"full_name": name, "affiliation": "", "city": f"City{tag}", "country": "PL",
         "visibility": "public"},
    )  # fmt: skip
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.filter(object_repr__contains=f"Vanished{tag}").exists()
    tokens = [confirm_path.split("/")[-2], withdraw_path.split("/")[-2]]
    assert every_table_as_text().count(f"Vanished{tag}") > 0  # the scans see what is there
    if connection.vendor == "sqlite":
        assert any(f"Vanished{tag}".encode() in c for c in every_stored_file().values())

    client.post(withdraw_path)
    run_tasks()  # the withdrawal notice goes out, and its queued copy is erased
    assert len(smtp_server.to(email)) == 2

    needles = [name, f"Vanished{tag}", email, f"vanish.{tag}", f"Role{tag}", f"City{tag}", *tokens]
    tables = every_table_as_text()
    for needle in needles:
        assert needle not in tables, needle
        assert needle.lower() not in tables.lower(), needle
    files = every_stored_file()
    assert files  # the SQLite database and its WAL, in DATA_DIR in the default set-up
    for path, content in files.items():
        for needle in needles:
            assert needle.encode() not in content, (path, needle)
    for needle in needles:
        assert needle not in caplog.text, needle


def test_an_erasure_empties_the_log_even_when_another_checkpoint_is_running(client, manifesto):
    """SQLite answers "busy" at once while another connection checkpoints (group commit does,
    once a second while people sign); the erasure's checkpoint is tried again."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    from signatures.models import checkpoint_sqlite

    sign(client, full_name="Ales Busy", email="ales.busy@example.org")
    answers = []

    def busy_once(execute, sql, params, many, context):
        if "wal_checkpoint(TRUNCATE)" in sql and not answers:
            answers.append("busy")
            return execute("SELECT 1, -1, -1", None, many, context)  # as SQLite says it
        answers.append("ran")
        return execute(sql, params, many, context)

    wal = Path(str(settings.DATABASES["default"]["NAME"]) + "-wal")
    assert wal.stat().st_size > 0
    with connection.execute_wrapper(busy_once):
        checkpoint_sqlite()
    assert answers == ["busy", "ran"]
    assert wal.stat().st_size == 0


def test_a_signer_who_withdraws_before_the_worker_runs_gets_no_confirmation(client, manifesto):
    """The sign request queues the confirmation without its text (no address, no name in the
    queue); the worker renders it when sending, from the signature as it is then."""
    from django.core import mail

    from mail.models import OutgoingMail
    from signatures.emails import render_signature_email

    sign(client)
    signature = Signature.objects.get()
    queued = OutgoingMail.objects.get(kind="confirm")
    assert queued.payload == "" and "olga" not in f"{queued.key} {queued.ref}".lower()
    signature.withdraw()
    assert render_signature_email(signature.ref, "confirm") is None
    run_tasks()
    assert not [m for m in mail.outbox if "/confirm/" in m.body]
    assert OutgoingMail.objects.get(kind="confirm").status == "cancelled"


def test_a_confirmation_whose_address_no_key_opens_fails_visibly(client, manifesto):
    """Not dropped as if withdrawn: the failure is recorded for staff on the signature."""
    from mail.models import OutgoingMail

    sign(client)
    Signature.objects.update(email_encrypted="gAAAAA-not-a-token-any-key-opens")
    run_tasks()
    assert OutgoingMail.objects.get(kind="confirm").status == "failed"
    assert Signature.objects.get().email_failed
