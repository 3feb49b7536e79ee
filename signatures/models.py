"""Signatures: a person's name under a petition, counted only once they proved the address.

States: pending (just submitted) → confirmed (address proved) → withdrawn (personal data erased,
a tombstone stays so counts and audit remain honest). Pending signatures are deleted after
CONFIRMATION_DAYS. A confirmed signature is *counted* unless staff hold it; it is *listed*
when counted and its signer chose to be shown.

Counting never runs COUNT(*) on a request: `Petition.signature_count` and `CountryCount` move
by atomic F() updates in the same transaction as the state change that causes them, under a
row lock on the signature, so concurrent confirmations and withdrawals cannot double-count.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from campaigns.models import Petition
from releasenow.lib.countries import country_name
from releasenow.lib.crypto import decrypt_email, email_digest, encrypt_email
from releasenow.lib.prepared import PreparedInsert, run_together

log = logging.getLogger(__name__)


def is_disposable(email: str) -> bool:
    """Addresses at throw-away mail services are flagged for staff review (still counted)."""
    from disposable_email_domains import blocklist

    return email.rpartition("@")[2].strip().lower() in blocklist


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CONFIRM_SALT = "signatures.confirm"
WITHDRAW_SALT = "signatures.withdraw"
UNSUBSCRIBE_SALT = "signatures.unsubscribe"


VERIFIED_FORMER_PRISONER = Q(group="former_political_prisoner", group_verified_at__isnull=False)


# How long an erasure tries to empty SQLite's write-ahead log while others checkpoint it.
ERASURE_CHECKPOINT_SECONDS = 5.0


def checkpoint_sqlite() -> None:
    """SQLite keeps earlier versions of changed pages in its write-ahead log until a checkpoint:
    after an erasure, write the log back and empty it (best effort while others read).

    While another connection checkpoints (group commit does, once a second while people sign:
    releasenow/sqlite3/base.py), SQLite answers "busy" at once instead of waiting: tried again
    for up to ERASURE_CHECKPOINT_SECONDS."""
    if connection.vendor != "sqlite":
        return
    deadline = time.monotonic() + ERASURE_CHECKPOINT_SECONDS
    delay = 0.01
    while True:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cursor.fetchone()[0]
        if not busy:
            return
        if time.monotonic() + delay > deadline:
            log.warning("The write-ahead log was not emptied after an erasure: busy")
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class SignatureQuerySet(models.QuerySet):
    def counted(self) -> SignatureQuerySet:
        return self.filter(counted=True)

    def public(self) -> SignatureQuerySet:
        """Shown in lists: counted, shown by the signer's choice, passed moderation.

        Matches the partial index `signature_public_list`.
        """
        return self.filter(listed=True)

    def relist_unreviewed(self, petition: Petition) -> int:
        """After a petition switches between pre- and post-moderation."""
        return (
            self.filter(petition=petition, counted=True, moderation=Signature.Moderation.UNREVIEWED)
            .exclude(visibility=Signature.Visibility.ANONYMOUS)
            .update(listed=not petition.pre_moderated)
        )

    def former_prisoners(self) -> SignatureQuerySet:
        """Listed under "Former political prisoners": the claim was verified by staff."""
        return self.filter(VERIFIED_FORMER_PRISONER)

    def not_former_prisoners(self) -> SignatureQuerySet:
        return self.exclude(VERIFIED_FORMER_PRISONER)

    def newest_first(self) -> SignatureQuerySet:
        return self.order_by("-confirmed_at", "-id")

    def before(self, cursor: tuple[datetime, int] | None) -> SignatureQuerySet:
        """Keyset pagination: the rows after `cursor` in newest-first order."""
        if cursor is None:
            return self
        when, pk = cursor
        # The plain bound first lets the index seek to the cursor instead of reading up to it.
        return self.filter(confirmed_at__lte=when).filter(
            Q(confirmed_at__lt=when) | Q(confirmed_at=when, id__lt=pk)
        )

    def delete_in_batches(self, size: int = 2000) -> int:
        """Delete without one giant statement (SQLite limits bound variables; big deletes
        lock long): for purges after a viral day."""
        deleted = 0
        while ids := list(self.values_list("pk", flat=True)[:size]):
            deleted += (
                Signature.objects.filter(pk__in=ids).delete()[1].get("signatures.Signature", 0)
            )
        return deleted

    def expired(self) -> SignatureQuerySet:
        cutoff = timezone.now() - timedelta(days=settings.CONFIRMATION_DAYS)
        return self.filter(status=Signature.Status.PENDING, created_at__lt=cutoff)


class Signature(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "waiting for confirmation"
        CONFIRMED = "confirmed", "confirmed"
        WITHDRAWN = "withdrawn", "withdrawn"

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Show my name, role, city and country")
        INITIALS = "initials", _("Show only my initials and country")
        ANONYMOUS = "anonymous", _("Count my signature but do not list it")

    class Moderation(models.TextChoices):
        UNREVIEWED = "unreviewed", "not reviewed"
        APPROVED = "approved", "approved"
        HIDDEN = "hidden", "hidden from the list (counted)"
        FRAUDULENT = "fraudulent", "fraudulent (not counted)"
        DUPLICATE = "duplicate", "duplicate (not counted)"

    class Group(models.TextChoices):
        SUPPORTER = "supporter", _("Supporter")
        FORMER_POLITICAL_PRISONER = "former_political_prisoner", _("Former political prisoner")
        RELATIVE = "relative", _("Relative of a political prisoner")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: `one_signature_per_address` (petition, address) serves it.
    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="signatures", db_index=False
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    # Personal data: erased on withdrawal.
    full_name = models.CharField(max_length=120, blank=True)
    affiliation = models.CharField(max_length=150, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = CountryField(blank=True)
    email_encrypted = models.TextField(blank=True)
    # NULL after withdrawal: NULLs never collide, so the address may sign again.
    email_digest = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    group = models.CharField(max_length=30, choices=Group.choices, default=Group.SUPPORTER)
    group_verified_at = models.DateTimeField(null=True, blank=True)
    group_rejected_at = models.DateTimeField(null=True, blank=True)
    updates_consent = models.BooleanField(default=False)
    language = models.CharField(max_length=10, default="en")

    # Abuse handling: a held signature is confirmable but neither counted nor listed.
    held = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=30, blank=True)
    challenge_passed = models.BooleanField(default=False)
    disposable_domain = models.BooleanField(default=False)
    email_failed = models.CharField(max_length=200, blank=True)

    # Moderation by staff; `counted` and `listed` are derived from the state by `_settle()`.
    moderation = models.CharField(
        max_length=12, choices=Moderation.choices, default=Moderation.UNREVIEWED
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    counted = models.BooleanField(default=False, editable=False)
    listed = models.BooleanField(default=False, editable=False)

    # Signatures imported from earlier lists: never e-mailed, re-import creates nothing new.
    imported_from = models.CharField(max_length=200, blank=True)
    # The partner link the signer came by, until confirmation moves it into SigningStat.
    source = models.CharField(max_length=40, blank=True)
    import_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    # Why an imported line waits for staff review (Belarus, place inferred, no visibility…).
    import_flags = models.CharField(max_length=300, blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        permissions = [
            ("export_personal_data", "Can export signatures with e-mail addresses"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_digest"], name="one_signature_per_address"
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn")
                | Q(email_digest__isnull=True, email_encrypted="", full_name=""),
                name="withdrawn_signatures_keep_no_personal_data",
            ),
            models.CheckConstraint(
                condition=Q(counted=False)
                | Q(
                    status="confirmed",
                    held=False,
                    moderation__in=["unreviewed", "approved", "hidden"],
                ),
                name="only_confirmed_unheld_honest_signatures_count",
            ),
            models.CheckConstraint(
                condition=Q(listed=False) | (Q(counted=True) & ~Q(visibility="anonymous")),
                name="only_counted_visible_signatures_are_listed",
            ),
            models.UniqueConstraint(
                fields=["petition", "import_key"], name="one_signature_per_imported_line"
            ),
        ]
        indexes = [
            models.Index(
                F("petition"),
                F("confirmed_at").desc(),
                F("id").desc(),
                name="signature_public_list",
                condition=Q(listed=True),
            ),
            models.Index(
                fields=["created_at"], name="signature_pending", condition=Q(status="pending")
            ),
            # Keyset batches of an update's recipients (updates.models.recipients).
            models.Index(
                fields=["petition", "id"],
                name="signature_update_recipients",
                condition=Q(status="confirmed", updates_consent=True),
            ),
            # The first signatories page lists verified former political prisoners: without
            # this, finding them reads every listed row (seconds at a million signatures).
            models.Index(
                F("petition"),
                F("confirmed_at").desc(),
                F("id").desc(),
                name="signature_former_prisoners",
                condition=Q(listed=True) & VERIFIED_FORMER_PRISONER,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_name() or _('anonymous')} ({self.get_status_display()})"

    # Creating -----------------------------------------------------------------------------

    @classmethod
    def find(cls, petition: Petition, email: str) -> Signature | None:
        # By id, not instance, and without ORDER BY: the unique index answers at once.
        digest = email_digest(email)
        return cls.objects.filter(petition_id=petition.pk, email_digest=digest).first()

    def set_email(self, email: str) -> None:
        self.email_encrypted = encrypt_email(email)
        self.email_digest = email_digest(email)

    @property
    def email(self) -> str:
        """The decrypted address: only for sending mail and explicit staff exports."""
        return decrypt_email(self.email_encrypted)

    @classmethod
    def submit(
        cls, petition: Petition, data: dict, *, language: str, challenge_passed: bool, held: bool
    ) -> tuple[Signature, bool]:
        """A new pending signature, or (existing, False) when the address signed before."""
        candidate = cls.from_form(petition, data, language=language)
        with transaction.atomic():
            stored, created = candidate.store(held=held, challenge_passed=challenge_passed)
            candidate.count_submission(created)
        return cls.objects.select_related("petition").get(pk=stored.pk), created

    @classmethod
    def from_form(cls, petition: Petition, data: dict, *, language: str) -> Signature:
        """An unsaved signature from a valid form, its address encrypted and digested: the work
        done before the sign request's transaction begins, so that it stays short."""
        candidate = cls(
            petition=petition,
            full_name=data["full_name"],
            affiliation=data.get("affiliation", ""),
            city=data.get("city", ""),
            country=data.get("country", ""),
            visibility=data["visibility"],
            group=data.get("group") or cls.Group.SUPPORTER,
            updates_consent=bool(data.get("updates_consent")),
            language=language,
            disposable_domain=is_disposable(data["email"]),
            source=data.get("source", "")[:40],
        )
        candidate.set_email(data["email"])
        candidate.prepare()
        return candidate

    def store(self, *, held: bool, challenge_passed: bool) -> tuple[Signature, bool]:
        """Insert this candidate unless its address signed the petition before; call inside a
        transaction, after `prepare()` outside it. Returns the signature stored for the address
        (its id and status: all the sign request needs) and whether it is this one.

        No address oracle: a known address and a new one take the same path, by construction,
        so neither the page nor its timing tells whether someone signed. Both run one INSERT
        that yields on the unique address (`INSERT … ON CONFLICT DO NOTHING`, SQLite `INSERT OR
        IGNORE`) and read the row back by its digest; there is no early return. The caller
        then counts the submission (`count_submission`). The caller answers both alike; only the
        e-mail, rendered later by the worker, differs.
        """
        insert = getattr(self, "_prepared", None) or self.prepare()
        hold_reason = "rate_limit" if held else ""
        (inserted, _rows), (_count, rows) = run_together([  # one round trip on PostgreSQL
            insert.statement(held=held, hold_reason=hold_reason, challenge_passed=challenge_passed),
            (_find_by_digest_sql(), [self.petition_id, self.email_digest]),
        ])  # fmt: skip
        created = inserted == 1
        row = rows[0] if rows else None
        if row is None:  # the insert was refused by something else than the address
            raise IntegrityError("The signature could not be stored.")
        # The same few fields whether the row is new or not: the same work either way. The
        # others are deferred (read from the database if ever asked for), not made up: a new
        # instance would compute every default, a UUID among them, for nothing.
        known = {
            "id": row[0], "status": row[1], "petition_id": self.petition_id,
            "email_digest": self.email_digest, "email_encrypted": self.email_encrypted,
            "language": self.language,
        }  # fmt: skip
        names = _in_field_order(tuple(known))
        signature = Signature.from_db(self._state.db, names, [known[name] for name in names])
        signature.petition = self.petition
        return signature, created

    def count_submission(self, created: bool) -> None:
        """The day's statistics, by 0 for a known address (the same statement either way)."""
        run_together([self.submission_statement(created)])

    def submission_statement(self, created: bool) -> tuple[str, list]:
        """`count_submission`'s statement, for the sign request to send with its last others.
        Last in the sign transaction: on PostgreSQL every signer of the day updates this row,
        which stays locked until the commit."""
        return SigningStat.add_statement(self.petition_id, self.source, submitted=int(created))

    def prepare(self) -> PreparedInsert:
        """Compile this candidate's INSERT (before the transaction: see `store`)."""
        self._prepared = PreparedInsert(self, ignore_conflicts=True)
        return self._prepared

    # Tokens --------------------------------------------------------------------------------

    def confirm_token(self) -> str:
        return signing.TimestampSigner(salt=CONFIRM_SALT).sign(self.uuid.hex)

    def withdraw_token(self) -> str:
        return signing.Signer(salt=WITHDRAW_SALT).sign(self.uuid.hex)

    @classmethod
    def from_confirm_token(cls, token: str) -> Signature | None:
        """The signature a confirmation link names, or None if forged or older than 7 days."""
        max_age = timedelta(days=settings.CONFIRMATION_DAYS)
        try:
            value = signing.TimestampSigner(salt=CONFIRM_SALT).unsign(token, max_age=max_age)
        except signing.BadSignature:
            return None
        return cls.objects.select_related("petition").filter(uuid=value).first()

    def unsubscribe_token(self) -> str:
        return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(self.uuid.hex)

    @classmethod
    def from_unsubscribe_token(cls, token: str) -> Signature | None:
        try:
            value = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
        except signing.BadSignature:
            return None
        return cls.objects.select_related("petition").filter(uuid=value).first()

    def unsubscribe(self) -> bool:
        """No more updates, at once: a copy still waiting in the mail queue is cancelled, and
        a send in progress picks its recipients batch by batch. False if nothing changed."""
        from mail.models import OutgoingMail

        OutgoingMail.objects.filter(kind="update").cancel(self.ref)
        return bool(
            Signature.objects.filter(pk=self.pk, updates_consent=True).update(updates_consent=False)
        )

    @classmethod
    def from_withdraw_token(cls, token: str) -> Signature | None:
        try:
            value = signing.Signer(salt=WITHDRAW_SALT).unsign(token)
        except signing.BadSignature:
            return None
        return cls.objects.select_related("petition").filter(uuid=value).first()

    # State changes -------------------------------------------------------------------------

    def _locked(self) -> Signature:
        return Signature.objects.select_for_update().select_related("petition").get(pk=self.pk)

    def should_count(self) -> bool:
        return (
            self.status == self.Status.CONFIRMED
            and not self.held
            and self.moderation not in (self.Moderation.FRAUDULENT, self.Moderation.DUPLICATE)
        )

    def should_list(self) -> bool:
        """Counted, shown by the signer's choice, and approved (or not yet reviewed where the
        petition is post-moderated)."""
        if not self.should_count() or self.visibility == self.Visibility.ANONYMOUS:
            return False
        if self.moderation == self.Moderation.APPROVED:
            return True
        return self.moderation == self.Moderation.UNREVIEWED and not self.petition.pre_moderated

    def _settle(self, was_counted: bool, old_country: str) -> None:
        """Derive `counted` and `listed` from the state, save, and move the counters by the
        difference. Called under the row lock, inside the transaction of the change."""
        self.counted = self.should_count()
        self.listed = self.should_list()
        self.save()
        new_country = self.country.code or ""
        if was_counted and (not self.counted or old_country != new_country):
            self._count(-1, old_country)
        if self.counted and (not was_counted or old_country != new_country):
            self._count(+1, new_country)

    def change(self, actor=None, action: str = "edit", note: str = "", **fields) -> bool:
        """Apply a staff change (moderation, verification, edits) with its audit entry.
        Returns False when nothing changed."""
        with transaction.atomic():
            locked = self._locked()
            before = locked.audit_fields()
            was_counted, old_country = locked.counted, locked.country.code or ""
            for name, value in fields.items():
                setattr(locked, name, value)
            if locked.audit_fields() == before and set(fields) <= set(before):
                return False
            locked._settle(was_counted, old_country)
            AuditEntry.record(locked, actor, action, before, locked.audit_fields(), note)
        self.refresh_from_db()
        return True

    def confirm(self) -> bool:
        """Pending → confirmed, counted unless held. False if it was not pending (works once)."""
        with transaction.atomic():
            locked = self._locked()
            if locked.status != self.Status.PENDING:
                return False
            locked.status = self.Status.CONFIRMED
            locked.confirmed_at = timezone.now()
            SigningStat.add(locked.petition_id, locked.source, confirmed=1)
            locked.source = ""
            locked._settle(False, "")
        self.reload()
        return True

    def withdraw(self, actor=None) -> bool:
        """Stop counting and listing at once, and erase everything that could identify the
        signer, in the audit log too. Returns False if it was already withdrawn."""
        with transaction.atomic():
            locked = self._locked()
            if locked.status == self.Status.WITHDRAWN:
                return False
            was_counted, old_country = locked.counted, locked.country.code or ""
            locked.status = self.Status.WITHDRAWN
            locked.withdrawn_at = timezone.now()
            locked.full_name = locked.affiliation = locked.city = ""
            locked.country = ""
            locked.email_encrypted = ""
            locked.email_digest = None
            locked.group = self.Group.SUPPORTER
            locked.group_verified_at = locked.group_rejected_at = None
            locked.updates_consent = False
            locked._settle(was_counted, old_country)
            AuditEntry.objects.filter(signature=locked).update(before={}, after={})
            locked.erase_traces()
            action = "withdrawn on the signer's request" if actor else "withdrawn by the signer"
            AuditEntry.record(locked, actor, action, {}, {})
            transaction.on_commit(checkpoint_sqlite)
        self.reload()
        return True

    def reload(self) -> None:
        """`refresh_from_db`, keeping the petition already loaded: Django drops a reloaded row's
        related objects, and the page that follows a confirmation or a withdrawal would load
        the petition again, a query more for every signer."""
        fields = [f.name for f in self._meta.concrete_fields if f.name != "petition"]
        self.refresh_from_db(fields=fields)

    @property
    def ref(self) -> str:
        """How queued e-mail names this signature (no personal data)."""
        return f"signature:{self.pk}"

    def erase_traces(self) -> None:
        """What else could name the signer: Django admin's change log (it records the name in
        `object_repr`), e-mail still waiting to be sent to them, and the digest the mail limits
        count their address by."""
        from django.contrib.admin.models import LogEntry
        from django.contrib.contenttypes.models import ContentType

        from mail.models import OutgoingMail

        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Signature), object_id=str(self.pk)
        ).delete()
        OutgoingMail.objects.cancel(self.ref)
        OutgoingMail.objects.filter(ref=self.ref).update(throttle_key="")

    # Staff actions -------------------------------------------------------------------------

    def withdraw_on_request(self, actor=None) -> bool:
        """Staff erase a signature when its signer asks (by e-mail, say)."""
        return self.withdraw(actor=actor)

    def release(self, actor=None) -> bool:
        """A held signature counts from now on (once confirmed)."""
        return self.held and self.change(actor, "release", held=False, hold_reason="")

    def approve(self, actor=None) -> bool:
        return self.change(
            actor, "approve", moderation=self.Moderation.APPROVED, moderated_at=timezone.now()
        )

    def hide(self, actor=None) -> bool:
        return self.change(
            actor, "hide", moderation=self.Moderation.HIDDEN, moderated_at=timezone.now()
        )

    def mark_fraudulent(self, actor=None) -> bool:
        return self.change(
            actor,
            "mark fraudulent",
            moderation=self.Moderation.FRAUDULENT,
            moderated_at=timezone.now(),
        )

    def verify_group(self, actor=None) -> bool:
        if self.group == self.Group.SUPPORTER:
            return False
        return self.change(
            actor, "verify group", group_verified_at=timezone.now(), group_rejected_at=None
        )

    def reject_group(self, actor=None) -> bool:
        if self.group == self.Group.SUPPORTER:
            return False
        return self.change(
            actor, "reject group", group_verified_at=None, group_rejected_at=timezone.now()
        )

    def merge_into(self, keep: Signature, actor=None) -> bool:
        """This signature is the same person as `keep`: it stops counting."""
        return self.change(
            actor, "merge duplicate", note=f"kept #{keep.pk}",
            moderation=self.Moderation.DUPLICATE, duplicate_of=keep, moderated_at=timezone.now(),
        )  # fmt: skip

    def _count(self, delta: int, country: str) -> None:
        """Move the petition's counter and its country's by delta, atomically in the database."""
        Petition.objects.filter(pk=self.petition_id).update(
            signature_count=F("signature_count") + delta, updated_at=timezone.now()
        )
        CountryCount.add(self.petition_id, country, delta)

    def audit_fields(self) -> dict:
        """What an audit entry records before and after a change: the public fields and state."""
        return {
            "full_name": self.full_name,
            "affiliation": self.affiliation,
            "city": self.city,
            "country": self.country.code or "",
            "visibility": self.visibility,
            "group": self.group,
            "group_verified": bool(self.group_verified_at),
            "group_rejected": bool(self.group_rejected_at),
            "moderation": self.moderation,
            "held": self.held,
        }

    # Display -------------------------------------------------------------------------------

    def initials(self) -> str:
        parts = [p for p in self.full_name.replace("-", " ").split() if p]
        return " ".join(f"{p[0].upper()}." for p in parts)

    def public_name(self) -> str:
        if self.visibility == self.Visibility.INITIALS:
            return self.initials()
        return self.full_name

    def public_details(self) -> str:
        """What follows the name in the list, exactly as far as the signer chose."""
        country = country_name(self.country.code)
        if self.visibility == self.Visibility.INITIALS:
            return country
        return ", ".join(part for part in (self.city, country) if part)

    def cursor(self) -> str:
        micros = (self.confirmed_at - EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.pk}"

    @staticmethod
    def parse_cursor(value: str) -> tuple[datetime, int] | None:
        try:
            micros, pk = value.split(".")
            return EPOCH + timedelta(microseconds=int(micros)), int(pk)
        except (ValueError, OverflowError, OSError):
            return None

    @property
    def listed_group(self) -> str:
        """The group a signature is listed under: a claim counts only once staff verified it."""
        return self.group if self.group_verified_at else self.Group.SUPPORTER


@functools.cache
def _find_by_digest_sql() -> str:
    """The id and status of a petition's signature by address digest (its unique index)."""
    qn = connection.ops.quote_name
    table = qn(Signature._meta.db_table)
    return (
        f"SELECT {qn('id')}, {qn('status')} FROM {table} "  # noqa: S608
        f"WHERE {qn('petition_id')} = %s AND {qn('email_digest')} = %s"
    )


@functools.cache
def _in_field_order(names: tuple[str, ...]) -> tuple[str, ...]:
    """Signature's attribute names `names` in the order of its columns, as `from_db` takes
    them."""
    return tuple(f.attname for f in Signature._meta.concrete_fields if f.attname in names)


def increment(model: type[models.Model], keys: dict, **deltas: int) -> None:
    """Add `deltas` to the counter columns of the row identified by `keys` (a unique
    constraint's fields), creating the row if needed: one INSERT … ON CONFLICT DO UPDATE,
    atomic in the database and safe under concurrent writers."""
    run_together([increment_statement(model, keys, **deltas)])


def increment_statement(model: type[models.Model], keys: dict, **deltas: int) -> tuple[str, list]:
    """`increment`'s (sql, params), to be run with others (`run_together`)."""
    sql, key_fields = _increment_sql(model, tuple(keys), tuple(deltas), connection.vendor)
    values = zip(key_fields, keys.values(), strict=True)
    params = [f.get_db_prep_save(value, connection) for f, value in values]
    return sql, [*params, *deltas.values()]


@functools.cache
def _increment_sql(model, key_names: tuple, delta_names: tuple, vendor: str) -> tuple[str, list]:
    """`increment`'s statement, built once per model and columns: every sign request runs one,
    inside its write transaction."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    key_fields = [model._meta.get_field(name) for name in key_names]
    delta_fields = [model._meta.get_field(name) for name in delta_names]
    columns = ", ".join(qn(f.column) for f in key_fields + delta_fields)
    conflict = ", ".join(qn(f.column) for f in key_fields)
    updates = ", ".join(
        f"{qn(f.column)} = {table}.{qn(f.column)} + EXCLUDED.{qn(f.column)}" for f in delta_fields
    )
    placeholders = ", ".join(["%s"] * (len(key_fields) + len(delta_fields)))
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )
    return sql, key_fields


class CountryCount(models.Model):
    """Counted signatures per petition and country ("" = not given), kept in step atomically."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="country_counts")
    country = models.CharField(max_length=2, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "country"], name="one_count_per_country")
        ]

    def __str__(self) -> str:
        return f"{self.country or '—'}: {self.count}"

    @classmethod
    def for_petition(cls, petition: Petition) -> list[CountryCount]:
        return list(
            cls.objects.filter(petition=petition, count__gt=0).order_by("-count", "country")
        )

    @property
    def country_name(self) -> str:
        return country_name(self.country)

    @classmethod
    def add(cls, petition_id: int, country: str, delta: int) -> None:
        increment(cls, {"petition_id": petition_id, "country": country}, count=delta)


class AuditEntry(models.Model):
    """Who did what to which signature, and when, with the public fields before and after.

    A signer's withdrawal erases the before/after of their entries: the log must not keep a
    name the signer took back.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    signature = models.ForeignKey(
        Signature, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    petition = models.ForeignKey(Petition, on_delete=models.SET_NULL, null=True, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.action}"

    @classmethod
    def record(cls, signature, actor, action: str, before: dict, after: dict, note: str = ""):
        changed = {k for k in after if before.get(k) != after.get(k)}
        return cls.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=getattr(actor, "get_username", lambda: "")() if actor else "",
            action=action,
            signature=signature,
            petition_id=getattr(signature, "petition_id", None),
            before={k: before[k] for k in changed if k in before},
            after={k: after[k] for k in changed},
            note=note,
        )

    @classmethod
    def record_import(cls, actor, petition, note: str):
        return cls.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=actor.get_username() if actor else "command line",
            action="import",
            petition=petition,
            note=note[:300],
        )

    @classmethod
    def record_export(cls, actor, petition, note: str):
        return cls.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=actor.get_username() if actor else "command line",
            action="export with e-mail addresses",
            petition=petition,
            note=note,
        )


class DuplicateCandidateQuerySet(models.QuerySet):
    def open(self) -> DuplicateCandidateQuerySet:
        return self.filter(status=DuplicateCandidate.Status.OPEN)


class DuplicateCandidate(models.Model):
    """Two signatures that may be one person, found by `find_duplicates`, decided by staff."""

    class Status(models.TextChoices):
        OPEN = "open", "to decide"
        MERGED = "merged", "merged"
        DISMISSED = "dismissed", "not the same person"

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE)
    first = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)

    objects = DuplicateCandidateQuerySet.as_manager()

    class Meta:
        ordering = ["-score"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="one_candidate_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.first.public_name()} ~ {self.second.public_name()} ({self.score:.0f})"

    def merge(self, actor=None, keep: Signature | None = None) -> bool:
        """Keep one signature (the earlier by default); the other stops counting."""
        keep = keep or self.first
        drop = self.second if keep.pk == self.first_id else self.first
        drop.merge_into(keep, actor=actor)
        return self._decide(self.Status.MERGED, actor)

    def dismiss(self, actor=None) -> bool:
        return self._decide(self.Status.DISMISSED, actor)

    def _decide(self, status: str, actor) -> bool:
        self.status, self.decided_at = status, timezone.now()
        self.decided_by = actor.get_username() if actor else ""
        self.save(update_fields=["status", "decided_at", "decided_by"])
        return True

    @classmethod
    def find(cls, petition: Petition, progress=None) -> list[DuplicateCandidate]:
        """Look for likely duplicates among the petition's counted signatures and store new
        pairs; pairs staff already decided are not raised again."""
        from .duplicates import Person, candidates

        progress = progress or (lambda fraction, message: None)
        rows = Signature.objects.counted().filter(petition=petition)
        fields = ("pk", "full_name", "city", "country")
        people = [Person.of(*row) for row in rows.values_list(*fields).iterator(chunk_size=5000)]
        progress(0.1, f"{len(people)} signatures read")
        known = {
            (first, second): (pk, status, score)
            for pk, first, second, status, score in cls.objects.filter(
                petition=petition
            ).values_list("pk", "first_id", "second_id", "status", "score")
        }
        new, rescored = [], []
        for first, second, value in candidates(
            people, progress=lambda f: progress(0.1 + 0.8 * f, "comparing names")
        ):
            if (first, second) not in known:
                new.append(cls(petition=petition, first_id=first, second_id=second, score=value))
            elif (
                known[(first, second)][1] == cls.Status.OPEN and known[(first, second)][2] != value
            ):
                rescored.append(cls(pk=known[(first, second)][0], score=value))
        cls.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        cls.objects.bulk_update(rescored, ["score"], batch_size=2000)
        return list(cls.objects.open().filter(petition=petition).select_related("first", "second"))


class SigningStat(models.Model):
    """Signatures submitted and confirmed per day and referring partner (`?source=`).

    The source tag is kept on a signature only until it is confirmed; from then on it exists
    only in these totals.
    """

    # No index of its own: `one_stat_per_day_and_source` (petition, day, source) serves it.
    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="signing_stats", db_index=False
    )
    day = models.DateField()
    source = models.CharField(max_length=40, blank=True)
    submitted = models.IntegerField(default=0)
    confirmed = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "day", "source"], name="one_stat_per_day_and_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source or '—'}: {self.confirmed}/{self.submitted}"

    @classmethod
    def add(cls, petition_id: int, source: str, *, submitted: int = 0, confirmed: int = 0) -> None:
        run_together(
            [cls.add_statement(petition_id, source, submitted=submitted, confirmed=confirmed)]
        )

    @classmethod
    def add_statement(
        cls, petition_id: int, source: str, *, submitted: int = 0, confirmed: int = 0
    ) -> tuple[str, list]:
        keys = {"petition_id": petition_id, "day": timezone.localdate(), "source": source}
        return increment_statement(cls, keys, submitted=submitted, confirmed=confirmed)


class RiskyMailDomain(models.Model):
    """A mail provider staff add to the repository's list (`signatures/data/`) of providers
    under Russian or Belarusian jurisdiction: signers using it are warned, never refused."""

    domain = models.CharField(
        max_length=253,
        unique=True,
        help_text="For example “mail.example.ru” (also matches its subdomains) or “example.*” "
        "(every top-level domain of that name).",
    )
    note = models.CharField(max_length=200, blank=True, help_text="Who operates it, and why.")
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class StaffJobQuerySet(models.QuerySet):
    def active(self) -> StaffJobQuerySet:
        return self.filter(state__in=[StaffJob.State.QUEUED, StaffJob.State.RUNNING])


class StaffJob(models.Model):
    """Long staff work done by the worker, never in a web request: building a delivery
    document, searching for duplicates. The admin shows its progress, and the document's
    download once it is ready. The options hold no personal data (countries, group, order)."""

    class Kind(models.TextChoices):
        DELIVERY = "delivery", "delivery document (PDF)"
        DUPLICATES = "duplicates", "search for duplicates"

    class State(models.TextChoices):
        QUEUED = "queued", "waiting for the worker"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="staff_jobs")
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent done.")
    message = models.CharField(max_length=300, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = StaffJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_state_display()})"

    def _set(self, **fields) -> None:
        """Written at once (outside any transaction of the work) so the admin sees it."""
        for name, value in fields.items():
            setattr(self, name, value)
        StaffJob.objects.filter(pk=self.pk).update(**fields)

    def start(self) -> None:
        self._set(state=self.State.RUNNING, started_at=timezone.now(), progress=0)

    def advance(self, progress: int, message: str = "") -> None:
        self._set(progress=max(0, min(int(progress), 99)), message=message[:300])

    def finish(self, message: str, file_name: str = "") -> None:
        self._set(
            state=self.State.DONE, progress=100, message=message[:300], file_name=file_name,
            finished_at=timezone.now(),
        )  # fmt: skip

    def fail(self, message: str) -> None:
        self._set(state=self.State.FAILED, message=message[:300], finished_at=timezone.now())

    @property
    def path(self):
        return settings.DELIVERY_DIR / self.file_name if self.file_name else None
