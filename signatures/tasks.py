"""Background work of the signatures app: the purge of stale data, and the staff's long jobs
(delivery documents, searches for duplicates), which never run inside a web request.

E-mail is queued by the views (`signatures.emails`) and sent by the `mail` app's worker task.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from campaigns.models import Petition

from .models import Signature

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=1)
# A sign request stores the signature, then queues its e-mail; the sweep looks for signatures
# older than the grace (their request is long over) and younger than the window.
SWEEP_INTERVAL = timedelta(minutes=1)
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_WINDOW = timedelta(minutes=30)


@task()
def purge_expired_signatures(reschedule: bool = True) -> int:
    """Delete signatures never confirmed within CONFIRMATION_DAYS, finished e-mail and task
    records and outbox files older than a week; runs again every hour."""
    from mail.models import OutgoingMail
    from releasenow.lib.emails import prune_outbox
    from releasenow.tasks import enqueue_once, prune_finished_tasks

    deleted = Signature.objects.expired().delete_in_batches()
    OutgoingMail.objects.prune()
    prune_outbox()
    prune_finished_tasks()
    if reschedule:
        enqueue_once(purge_expired_signatures, timezone.now() + PURGE_INTERVAL)
    return deleted


@task()
def run_staff_job(job_id: int) -> str:
    """Build a delivery document or search for duplicates, reporting progress on the job."""
    from .models import StaffJob

    job = StaffJob.objects.select_related("petition").filter(pk=job_id).first()
    stalled = timezone.now() - timedelta(seconds=settings.TASK_RUNNING_TIMEOUT)
    if job is None or not (
        job.state == StaffJob.State.QUEUED
        or (job.state == StaffJob.State.RUNNING and job.started_at and job.started_at < stalled)
    ):
        return "gone"  # done, or being done by a live worker
    job.start()

    def progress(fraction: float, message: str) -> None:
        job.advance(round(100 * fraction), message)

    try:
        if job.kind == StaffJob.Kind.DELIVERY:
            message, file_name = build_delivery_job(job, progress)
        else:
            message, file_name = find_duplicates_job(job, progress), ""
    except Exception as exc:
        log.exception("Staff job %s failed", job.pk)
        job.fail(f"failed: {type(exc).__name__}")
        raise
    job.finish(message, file_name)
    return job.state


def build_delivery_job(job, progress) -> tuple[str, str]:
    from .delivery import Selection, build_delivery

    selection = Selection(**job.options)
    file_name = f"{job.petition.slug}-{selection.language}-{timezone.localdate()}-{job.pk}.pdf"
    started = timezone.now()
    pages = build_delivery(job.petition, selection, settings.DELIVERY_DIR / file_name, progress)
    seconds = (timezone.now() - started).total_seconds()
    return f"{pages} pages in {seconds:.0f} s", file_name


def find_duplicates_job(job, progress) -> str:
    from .models import DuplicateCandidate

    pairs = DuplicateCandidate.find(job.petition, progress=progress)
    return f"{len(pairs)} open candidate pairs"


@task()
def find_duplicates_on_schedule(reschedule: bool = True) -> int:
    """Search every open petition for duplicates; runs again every DUPLICATES_EVERY_HOURS."""
    from .models import StaffJob

    jobs = 0
    for petition in Petition.objects.filter(is_open=True):
        if StaffJob.objects.active().filter(petition=petition, kind=StaffJob.Kind.DUPLICATES):
            continue
        job = StaffJob.objects.create(
            kind=StaffJob.Kind.DUPLICATES, petition=petition, requested_by="schedule"
        )
        try:
            run_staff_job.call(job.pk)
        except Exception:  # noqa: BLE001 - recorded on the job; the other petitions go on
            log.warning("Scheduled duplicate search failed for petition %s", petition.pk)
        jobs += 1
    if reschedule and settings.DUPLICATES_EVERY_HOURS:
        from releasenow.tasks import enqueue_once

        run_after = timezone.now() + timedelta(hours=settings.DUPLICATES_EVERY_HOURS)
        enqueue_once(find_duplicates_on_schedule, run_after)
    return jobs


@task()
def mail_lost_confirmations(reschedule: bool = True) -> int:
    """Queue the confirmation of pending signatures that have no e-mail at all: a web worker
    killed (kill -9) between storing a signature and queueing its e-mail would otherwise leave
    the signer without a link. A message the network's mail limit withheld is recorded in the
    queue (`record_withheld`), so the sweep does not send what the limit kept back. Runs again
    every minute."""
    from django.db.models import CharField, Exists, OuterRef, Value
    from django.db.models.functions import Cast, Concat

    from mail.models import OutgoingMail
    from releasenow.tasks import enqueue_once

    from .emails import queue_signature_email

    now = timezone.now()
    mailed = OutgoingMail.objects.filter(
        ref=Concat(Value("signature:"), Cast(OuterRef("pk"), CharField()))
    )
    lost = Signature.objects.filter(
        status=Signature.Status.PENDING,
        created_at__gte=now - SWEEP_WINDOW,
        created_at__lt=now - SWEEP_GRACE,
    ).exclude(Exists(mailed))
    count = 0
    for signature in lost.select_related("petition"):
        queue_signature_email(signature, "confirm")
        count += 1
    if count:
        log.warning("Queued %d confirmation(s) lost by an interrupted sign request", count)
    if reschedule:
        enqueue_once(mail_lost_confirmations, timezone.now() + SWEEP_INTERVAL)
    return count
