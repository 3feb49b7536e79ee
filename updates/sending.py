"""Turning an update into e-mails, and the one function that hands a batch of them to the
mail queue (`releasenow.lib.emails`, the same batched SMTP path, retries and limits as the
confirmations). Who gets it, and when, is the task's business (`updates.tasks`).
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from campaigns.templatetags.campaign_tags import markdown
from releasenow.lib.emails import Email, QueuedMessage, queue_messages
from signatures.emails import absolute
from signatures.models import Signature

from .models import Update

KIND = "update"


def message_key(update: Update, signature: Signature) -> str:
    """One copy per update and signer, however often a batch is queued (no personal data)."""
    return f"update:{update.pk}:{signature.pk}"


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


def update_message(update: Update, signature: Signature, to: str | None = None) -> Email:
    """One signer's copy: their language, their one-click unsubscribe (RFC 8058)."""
    language = update.language_for(signature.language)
    unsubscribe = unsubscribe_url(signature, language)
    subject, text, html = render_update(update, language, unsubscribe)
    message = Email(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [to or signature.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def send_batch(update: Update, signatures: list[Signature]) -> int:
    """Queue one batch of copies. Idempotent (a key per update and signer): a batch queued
    twice, after a crash or by two workers, still reaches each signer once. `ref` lets a
    withdrawal or an unsubscribe cancel a copy that is still waiting. Returns how many were
    newly queued."""
    return queue_messages(
        QueuedMessage(message_key(update, s), update_message(update, s), ref=s.ref, kind=KIND)
        for s in signatures
    )
