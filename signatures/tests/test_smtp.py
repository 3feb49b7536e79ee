"""Signing end to end through a real SMTP server, with the default sender and a real worker."""

import re
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.utils import timezone

from mail.models import OutgoingMail
from mail.testing import process_env
from releasenow.lib.emails import queue_email
from signatures.models import Signature
from signatures.tests.conftest import OLGA, run_tasks, sign

pytestmark = pytest.mark.django_db(transaction=True)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message, kind: str) -> str:
    match = re.search(rf"https?://[^/\s]+(/\S*/{kind}/\S+/)", text_of(message))
    assert match, text_of(message)
    return match.group(1)


def test_sign_confirm_withdraw_through_smtp_with_the_default_sender(client, manifesto, smtp_server):
    assert settings.DEFAULT_FROM_EMAIL == '"Release NO:W" <noreply@localhost>'
    sign(client, full_name="Алеся Кастусёва")
    run_tasks()
    [confirmation] = smtp_server.to(OLGA["email"])
    assert confirmation["From"].addresses[0].display_name == "Release NO:W"
    assert confirmation["Auto-Submitted"] == "auto-generated"
    assert confirmation.get_body(("html",)) is not None
    client.post(link_in(confirmation, "confirm"))
    assert Signature.objects.get().status == "confirmed"

    client.post(link_in(confirmation, "withdraw"))
    client.post(link_in(confirmation, "withdraw"))  # pressed twice: one notice
    run_tasks()
    notices = smtp_server.to(OLGA["email"])[1:]
    assert len(notices) == 1 and "withdrawn" in str(notices[0]["Subject"])
    assert Signature.objects.get().status == "withdrawn"
    assert set(OutgoingMail.objects.values_list("payload", flat=True)) == {""}


def start_worker(smtp_port: int, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.1"],
        cwd=settings.BASE_DIR,
        env=process_env(
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_port),
            EMAIL_USE_TLS="false",
            EMAIL_TIMEOUT="5",
            LOG_LEVEL="WARNING",
            **env,
        ),  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_send_loses_nothing_and_doubles_nothing(smtp_server, settings):
    """kill -9 while the server is taking a message: after the timeouts another worker takes
    the task and the message again; every message arrives exactly once."""
    import threading

    smtp_server.handler.hold = threading.Event()
    for i in range(3):
        queue_email(
            queue_message(f"p{i}@example.org"), key=f"kill:{i}", ref=f"signature:{i}", kind="t"
        )
    timeouts = {"EMAIL_CLAIM_TIMEOUT": "1", "TASK_RUNNING_TIMEOUT": "1"}
    worker = start_worker(smtp_server.port, **timeouts)
    try:
        wait_for(smtp_server.handler.holding.is_set)  # the worker is inside DATA
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        worker.kill()
    smtp_server.handler.hold.set()  # the server answers the dead connection
    smtp_server.handler.hold = None
    assert OutgoingMail.objects.filter(status="sending").exists()
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(status="RUNNING").exists()  # stuck for ever, before

    time.sleep(1.5)
    subprocess.run(
        [sys.executable, "manage.py", "schedule_tasks"], cwd=settings.BASE_DIR,
        env=process_env(**timeouts), check=True, capture_output=True,
    )  # fmt: skip
    worker = start_worker(smtp_server.port, **timeouts)
    try:
        wait_for(lambda: len(smtp_server.messages) >= 3)
        time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(10)
    assert sorted(str(m["To"]) for m in smtp_server.messages) == [
        f"p{i}@example.org" for i in range(3)
    ]
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {"sent"}
    assert (
        not DBTaskResult.objects.filter(status="RUNNING", started_at__lt=timezone.now())
        .exclude(task_path__endswith="recover_stale_tasks")
        .exists()
    )


def queue_message(to: str):
    from django.core.mail import EmailMessage

    return EmailMessage("Hello", "Text", settings.DEFAULT_FROM_EMAIL, [to])
