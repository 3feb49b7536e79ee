"""The background task that drains the e-mail queue; `wake_sender` makes sure one is queued."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from .models import OutgoingMail
from .sending import deliver

# A run stops after this long and queues its continuation, so no task runs for ages (a task
# still "running" after TASK_RUNNING_TIMEOUT is taken for dead and run again).
RUN_SECONDS = 60.0


def _queued_sender_runs_by(when) -> bool:
    """Is a sender task already queued to start no later than `when`?"""
    from django_tasks_db.models import DBTaskResult, get_date_max

    return (
        DBTaskResult.objects.filter(status="READY", task_path=send_queued_mail.module_path)
        .filter(run_after__lte=when)
        .exclude(run_after=get_date_max())
        .exists()
        or DBTaskResult.objects.filter(
            status="READY", task_path=send_queued_mail.module_path, run_after=get_date_max()
        ).exists()
    )


def wake_sender(when=None) -> None:
    """Queue a sender run for `when` (now by default) unless one is queued by then already."""
    when = when or timezone.now()
    if _queued_sender_runs_by(when):
        return
    if when <= timezone.now():
        send_queued_mail.enqueue()
    else:
        send_queued_mail.using(run_after=when).enqueue()


@task()
def send_queued_mail() -> dict:
    """Send what is due; then make sure a run is queued for what comes due later."""
    counts = deliver(time_limit=RUN_SECONDS)
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
