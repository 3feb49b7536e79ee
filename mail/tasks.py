"""The background task that drains the e-mail queue; `wake_sender` makes sure one is queued."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from django.conf import settings
from django.db import OperationalError
from django.utils import timezone
from django_tasks import task

from .models import OutgoingMail, until_written
from .sending import deliver

log = logging.getLogger(__name__)

# A run stops after this long and queues its continuation, so no task runs for ages (a task
# still "running" after TASK_RUNNING_TIMEOUT is taken for dead and run again).
RUN_SECONDS = 60.0
# A run the database refused (busy past its timeout) is followed by another this much later.
BUSY_RETRY_SECONDS = 30


def prepare_wake(when=None) -> tuple[str, list]:
    """`wake_sender`'s question, "is a sender run queued to start no later than `when`?"
    (get_date_max(): as soon as possible), as plain SQL: cheap enough for the sign request to
    make before its transaction, ask with its own writes and pass on as `wake_sender(queued=…)`."""
    from django.db import connection

    sql, params = _wake_statement(connection.vendor)
    when = when or timezone.now()
    return sql, [*params[:2], connection.ops.adapt_datetimefield_value(when), params[2]]


@functools.cache
def _wake_statement(vendor: str) -> tuple[str, tuple]:
    """`prepare_wake`'s SQL and its fixed parameters, made once per process and database."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult, get_date_max

    qn = connection.ops.quote_name
    sql = (
        f"SELECT 1 FROM {qn(DBTaskResult._meta.db_table)} WHERE {qn('status')} = %s "  # noqa: S608
        f"AND {qn('task_path')} = %s AND ({qn('run_after')} <= %s OR {qn('run_after')} = %s) "
        "LIMIT 1"
    )
    date_max = connection.ops.adapt_datetimefield_value(get_date_max())
    return sql, ("READY", send_queued_mail.module_path, date_max)


def wake_sender(when=None, *, queued: bool | None = None) -> None:
    """Queue a sender run for `when` (now by default) unless one is queued by then already
    (`queued`: the answer to `prepare_wake`'s question, when the caller asked it already)."""
    from django.db import connection

    when = when or timezone.now()
    if queued is None:
        with connection.cursor() as cursor:
            cursor.execute(*prepare_wake(when))
            queued = cursor.fetchone() is not None
    if queued:
        return
    if when <= timezone.now():
        send_queued_mail.enqueue()
    else:
        send_queued_mail.using(run_after=when).enqueue()


@task()
def send_queued_mail() -> dict:
    """Send what is due; then make sure a run is queued for what comes due later."""
    try:
        counts = deliver(time_limit=RUN_SECONDS)
    except OperationalError:
        # The database stayed busy past its timeout (a long import holding SQLite's write
        # lock, a failover) while this run claimed or recorded mail. The chain of runs must
        # not end here: nothing else would queue the next one until someone signs.
        log.warning("The e-mail sender stopped on a busy database; next run in %d s",
                    BUSY_RETRY_SECONDS, exc_info=True)  # fmt: skip
        later = timezone.now() + timedelta(seconds=BUSY_RETRY_SECONDS)
        until_written(lambda: wake_sender(later), settings.EMAIL_CLAIM_TIMEOUT / 3)
        return {"busy": 1}
    if counts.pop("more", 0):
        send_queued_mail.enqueue()  # the time limit stopped this run: continue at once
    else:
        upcoming = [
            OutgoingMail.objects.filter(status=OutgoingMail.Status.QUEUED)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first(),
            # Claimed by another sender: if that one dies, they are released after the timeout.
            (
                OutgoingMail.objects.filter(status=OutgoingMail.Status.SENDING)
                .order_by("claimed_at")
                .values_list("claimed_at", flat=True)
                .first()
            ),
        ]
        if upcoming[1] is not None:
            upcoming[1] += timedelta(seconds=settings.EMAIL_CLAIM_TIMEOUT + 1)
        if times := [when for when in upcoming if when is not None]:
            wake_sender(max(min(times), timezone.now() + timedelta(seconds=1)))
    return dict(counts)
