"""Updates: news the campaign e-mails to the signers who asked for it (`updates_consent`).

States: draft (staff write it per language, preview it, send a test to themselves) → sending
(the worker queues one batch at a time for the mail worker, each signer in their own language,
English when there is no translation) → sent (every copy out: a final report and an audit
entry with counts, never addresses).

Who gets it is decided batch by batch, at the moment of sending: confirmed signatures with
consent; an unsubscribe or a withdrawal during a send is honoured from the next batch on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.functional import cached_property
from parler.models import TranslatableModel, TranslatedFields

from campaigns.models import Petition
from signatures.models import AuditEntry, Signature


def recipients(petition: Petition):
    """Signatures whose signers want updates: confirmed, consenting, not fraud or duplicates.
    Matches the partial index `signature_update_recipients`."""
    return (
        Signature.objects.filter(
            petition=petition, status=Signature.Status.CONFIRMED, updates_consent=True
        )
        .exclude(moderation__in=[Signature.Moderation.FRAUDULENT, Signature.Moderation.DUPLICATE])
        .exclude(email_encrypted="")
    )


class Update(TranslatableModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="updates")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_by = models.CharField(max_length=150, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Progress: copies handed to the mail queue (moved by F() with the cursor, the last
    # signature id queued); at the end, what the mail queue made of them.
    recipients = models.PositiveIntegerField(default=0, editable=False)
    per_language = models.JSONField(default=dict, blank=True, editable=False)
    queued = models.PositiveIntegerField(default=0, editable=False)
    cursor = models.BigIntegerField(default=0, editable=False)
    sent = models.PositiveIntegerField(default=0, editable=False)
    failed = models.PositiveIntegerField(default=0, editable=False)
    cancelled = models.PositiveIntegerField(default=0, editable=False)

    translations = TranslatedFields(
        subject=models.CharField("subject", max_length=200),
        body=models.TextField(
            "text (Markdown)",
            help_text="Links, lists and emphasis work; an unsubscribe link is added below.",
        ),
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.safe_translation_getter("subject", any_language=True) or f"Update {self.pk}"

    @cached_property
    def languages(self) -> frozenset[str]:
        return frozenset(self.get_available_languages())

    def language_for(self, signer_language: str) -> str:
        """The signer's language when the update has it, English otherwise."""
        if signer_language in self.languages:
            return signer_language
        return settings.PARLER_DEFAULT_LANGUAGE_CODE

    def recipient_languages(self) -> dict[str, int]:
        """How many signers would get it now, per language they will read it in."""
        counts: dict[str, int] = {}
        rows = recipients(self.petition).values_list("language").annotate(n=Count("id"))
        for language, n in rows:
            shown = self.language_for(language)
            counts[shown] = counts.get(shown, 0) + n
        return dict(sorted(counts.items()))

    def start(self, actor) -> bool:
        """Draft → sending, once (a second click or a second member of staff does nothing).
        The web request only counts and queues; the worker sends."""
        from .tasks import send_update

        per_language = self.recipient_languages()
        with transaction.atomic():
            started = Update.objects.filter(pk=self.pk, status=self.Status.DRAFT).update(
                status=self.Status.SENDING,
                started_at=timezone.now(),
                started_by=actor.get_username() if actor else "",
                recipients=sum(per_language.values()),
                per_language=per_language,
            )
            if started:
                transaction.on_commit(lambda: send_update.enqueue(self.pk))
        self.refresh_from_db()
        return bool(started)

    def copies(self):
        """This update's copies in the mail queue (kept there for a week after sending)."""
        from mail.models import OutgoingMail

        return OutgoingMail.objects.filter(kind="update", key__startswith=f"update:{self.pk}:")

    def waiting(self) -> int:
        from mail.models import OutgoingMail

        waiting = [OutgoingMail.Status.QUEUED, OutgoingMail.Status.SENDING]
        return self.copies().filter(status__in=waiting).count()

    def delivery(self) -> dict[str, int]:
        """Copies sent, failed, cancelled (the signer withdrew or unsubscribed) and waiting."""
        counts = dict(self.copies().values_list("status").annotate(n=Count("id")))
        return {
            "sent": counts.get("sent", 0),
            "failed": counts.get("failed", 0),
            "cancelled": counts.get("cancelled", 0),
            "waiting": counts.get("queued", 0) + counts.get("sending", 0),
        }

    def advance(self, batch_end: int, queued: int) -> bool:
        """Move the cursor past a batch just queued, if no other run did (compare and set)."""
        return bool(
            Update.objects.filter(
                pk=self.pk, status=self.Status.SENDING, cursor=self.cursor
            ).update(cursor=batch_end, queued=F("queued") + queued)
        )

    def finish(self) -> bool:
        """Sending → sent once every copy is out, with the report and its audit entry: counts,
        no addresses."""
        delivery = self.delivery()
        done = Update.objects.filter(pk=self.pk, status=self.Status.SENDING).update(
            status=self.Status.SENT,
            finished_at=timezone.now(),
            sent=delivery["sent"],
            failed=delivery["failed"],
            cancelled=delivery["cancelled"],
        )
        self.refresh_from_db()
        if done:
            AuditEntry.objects.create(
                actor_name=self.started_by,
                action="update sent",
                petition=self.petition,
                note=self.report()[:300],
            )
        return bool(done)

    def report(self) -> str:
        languages = ", ".join(f"{code} {n}" for code, n in self.per_language.items())
        skipped = max(self.recipients - self.queued, 0)
        return (
            f"Update #{self.pk} “{self}”: {self.recipients} recipients ({languages or 'none'}); "
            f"{self.sent} sent, {self.failed} failed, "
            f"{self.cancelled + skipped} unsubscribed or withdrawn meanwhile."
        )

    @property
    def progress_percent(self) -> int:
        if not self.recipients:
            return 100 if self.status == self.Status.SENT else 0
        return min(100, round(100 * self.queued / self.recipients))
