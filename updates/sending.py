"""Turning an update into e-mails, and the one function that sends a batch of them.

`send_batch` is the seam to the production mail path: it gets the signatures of one batch and
sends their messages over one SMTP connection. Everything about who and when lives in the task.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation

from campaigns.templatetags.campaign_tags import markdown
from signatures.models import Signature
from signatures.tasks import absolute, describe

from .models import Update

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0


def unsubscribe_url(signature: Signature, language: str) -> str:
    return absolute(
        "signatures:unsubscribe",
        language,
        slug=signature.petition.slug,
        token=signature.unsubscribe_token(),
    )


def update_context(update: Update, language: str) -> dict:
    """What every copy in `language` shares, worked out once per update and language."""
    cache = update.__dict__.setdefault("_contexts", {})
    if language not in cache:
        update.set_current_language(language)
        petition = update.petition
        petition.set_current_language(language)
        with translation.override(language):
            petition_url = settings.SITE_URL + petition.get_absolute_url()
        cache[language] = {
            "subject": update.subject,
            "body_html": markdown(update.body),
            "body_text": update.body,
            "petition_title": petition.title,
            "petition_url": petition_url,
        }
    return cache[language]


def render_update(update: Update, language: str, unsubscribe: str) -> tuple[str, str, str]:
    """Subject, text and HTML of the update in `language` (the caller picked one it has)."""
    context = {**update_context(update, language), "unsubscribe_url": unsubscribe}
    with translation.override(language):
        text = render_to_string("emails/update-body.txt", context)
        html = render_to_string("emails/update-body.html", context)
    return " ".join(context["subject"].split()), text, html


def update_message(
    update: Update, signature: Signature, to: str | None = None, connection=None
) -> EmailMultiAlternatives:
    """One signer's copy: their language, their one-click unsubscribe (RFC 8058)."""
    language = update.language_for(signature.language)
    unsubscribe = unsubscribe_url(signature, language)
    subject, text, html = render_update(update, language, unsubscribe)
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [to or signature.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def send_batch(update: Update, signatures: list[Signature]) -> BatchResult:
    """Send one batch over one connection. A message that fails is counted, not retried (the
    recipient may have received it); a dropped connection is opened again for the rest."""
    result = BatchResult()
    connection = get_connection()
    connection.open()
    try:
        for signature in signatures:
            try:
                message = update_message(update, signature, connection=connection)
                message.send()
                result.sent += 1
            except Exception as exc:  # noqa: BLE001 - counted; the batch goes on
                result.failed += 1
                log.warning("Update %s: a message failed (%s)", update.pk, describe(exc))
                connection.close()
                connection.open()
    finally:
        connection.close()
    return result
