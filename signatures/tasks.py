"""Background work of the signatures app: e-mail with retries, and the purge of stale data.

The request that creates a signature only enqueues; SMTP happens here, in the worker.
Temporary failures (4xx answers, dropped connections) are retried with growing delays; permanent
ones (5xx) are recorded on the signature for staff, without the address.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from campaigns.models import Petition
from releasenow.lib.crypto import decrypt_email
from releasenow.lib.emails import send_email

from .models import Signature

log = logging.getLogger(__name__)

RETRY_DELAYS = [60, 5 * 60, 15 * 60, 60 * 60, 3 * 60 * 60, 12 * 60 * 60]
PURGE_INTERVAL = timedelta(hours=1)


def is_temporary(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError)


def describe(exc: Exception) -> str:
    """What went wrong, without the message text (it may contain the address)."""
    code = getattr(exc, "smtp_code", "")
    return f"{type(exc).__name__} {code}".strip()


def absolute(name: str, language: str, **kwargs) -> str:
    with translation.override(language):
        return settings.SITE_URL + reverse(name, kwargs=kwargs)


def signature_context(signature: Signature) -> dict:
    slug, lang = signature.petition.slug, signature.language
    signature.petition.set_current_language(lang)
    return {
        "signature": signature,
        "petition": signature.petition,
        "confirm_url": absolute(
            "signatures:confirm", lang, slug=slug, token=signature.confirm_token()
        ),
        "withdraw_url": absolute(
            "signatures:withdraw", lang, slug=slug, token=signature.withdraw_token()
        ),
        "petition_url": settings.SITE_URL + signature.petition.get_absolute_url(),
        "days": settings.CONFIRMATION_DAYS,
    }


@task()
def send_signature_email(signature_id: int, template: str, attempt: int = 0) -> str:
    """`confirm` for a pending signature, `already-signed` for a second attempt."""
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None or not signature.email:
        return "gone"
    with translation.override(signature.language):
        context = signature_context(signature)
    outcome = send_or_retry(
        send_signature_email, (signature_id, template), attempt,
        template, signature.email, context, signature.language,
    )  # fmt: skip
    if outcome.startswith("failed"):
        Signature.objects.filter(pk=signature_id).update(email_failed=outcome[:200])
    return outcome


@task()
def send_withdrawn_email(
    email_encrypted: str, petition_id: int, language: str, attempt: int = 0
) -> str:
    """Sent after the data is erased: the task carries the address, still encrypted."""
    email = decrypt_email(email_encrypted)
    petition = Petition.objects.filter(pk=petition_id).first()
    if not email or petition is None:
        return "gone"
    petition.set_current_language(language)
    context = {
        "petition": petition,
        "petition_url": settings.SITE_URL + petition.get_absolute_url(),
    }
    return send_or_retry(
        send_withdrawn_email, (email_encrypted, petition_id, language), attempt,
        "withdrawn", email, context, language,
    )  # fmt: skip


def send_or_retry(retry_task, args, attempt, template, email, context, language) -> str:
    """Send now; on a temporary failure enqueue `retry_task(*args)` later. Returns the outcome."""
    try:
        send_email(template, email, context, language)
    except Exception as exc:  # noqa: BLE001 - every failure is either retried or recorded
        reason = describe(exc)
        if is_temporary(exc) and attempt < len(RETRY_DELAYS):
            run_after = timezone.now() + timedelta(seconds=RETRY_DELAYS[attempt])
            retry_task.using(run_after=run_after).enqueue(*args, attempt=attempt + 1)
            log.warning("E-mail %s failed (%s); retry %d queued", template, reason, attempt + 1)
            return "retrying"
        log.error("E-mail %s failed permanently (%s)", template, reason)
        return f"failed: {template}: {reason}"
    return "sent"


@task()
def purge_expired_signatures(reschedule: bool = True) -> int:
    """Delete signatures never confirmed within CONFIRMATION_DAYS; runs again every hour."""
    deleted = Signature.objects.expired().delete_in_batches()
    if reschedule:
        purge_expired_signatures.using(run_after=timezone.now() + PURGE_INTERVAL).enqueue()
    return deleted


@task()
def run_staff_job(job_id: int) -> str:
    """Build a delivery document or search for duplicates, reporting progress on the job."""
    from .models import StaffJob

    job = StaffJob.objects.select_related("petition").filter(pk=job_id).first()
    if job is None or job.state != StaffJob.State.QUEUED:
        return "gone"
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
        run_after = timezone.now() + timedelta(hours=settings.DUPLICATES_EVERY_HOURS)
        find_duplicates_on_schedule.using(run_after=run_after).enqueue()
    return jobs
