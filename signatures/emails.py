"""The e-mails a signer receives, queued for the worker.

The confirmation and the "already signed" message are queued by the sign request without their
text and rendered by the worker when it sends them (`render_signature_email`): the request stays
one short transaction, and a signature withdrawn meanwhile gets nothing. The withdrawal notice
is built at once, before the address is erased.

Idempotency keys: each confirmation or "already signed" message has its own (how many a visitor
may cause is the business of `mail_allowed`); the withdrawal notice is keyed by the signature
alone, so it goes out once however often the form is posted.
"""

import copy
import functools
import secrets

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connections, router
from django.urls import reverse
from django.utils import translation

from campaigns.models import Petition
from releasenow.lib.crypto import decrypt_text
from releasenow.lib.emails import NewEmail, build_email, queue_email, throttle_key
from releasenow.lib.pagecache import content_version

from .models import Signature


def absolute(name: str, language: str, **kwargs) -> str:
    with translation.override(language):
        return settings.SITE_URL + reverse(name, kwargs=kwargs)


def signature_context(signature: Signature) -> dict:
    slug, lang = signature.petition.slug, signature.language
    signature.petition.set_current_language(lang)
    return {
        "count": signature.petition.signature_count,
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


SIGNATURE_TEMPLATES = ("confirm", "already-signed")


def queue_signature_email(
    signature: Signature, template: str, new: NewEmail | None = None, then=()
) -> None:
    """`confirm` for a pending signature, `already-signed` for a second attempt; rendered by
    the worker. `new` is the message prepared before the transaction (the sign request);
    `then`, statements of the caller's to send with the message's (`NewEmail.queue`)."""
    new = new or NewEmail(throttle_key(signature.email))
    new.queue(
        key=f"{signature.ref}:{template}:{secrets.token_hex(8)}", ref=signature.ref, kind=template,
        then=then,
    )  # fmt: skip


# The petitions' texts as the worker last read them, for one content version (any save of
# content starts a new one): on a viral day it renders hundreds of confirmations a second for
# the same petition. Its count is read with each signature.
_petitions: dict = {"version": None}


def petition_texts(pk: int) -> Petition:
    version = content_version()
    if _petitions["version"] != version:
        _petitions.clear()
        _petitions["version"] = version
    if pk not in _petitions:
        _petitions[pk] = Petition.objects.prefetch_related("translations").get(pk=pk)
    return _petitions[pk]


@functools.cache
def _signatures_sql(alias: str, count: int) -> str:
    """Signatures' rows and their petitions' counts, as plain SQL compiled once per process
    and number of signatures."""
    qn = connections[alias].ops.quote_name
    meta, petition = Signature._meta, Petition._meta
    columns = ", ".join(f"s.{qn(f.column)}" for f in meta.concrete_fields)
    return (
        f"SELECT {columns}, p.{qn('signature_count')} AS petition_count "  # noqa: S608
        f"FROM {qn(meta.db_table)} s JOIN {qn(petition.db_table)} p "
        f"ON p.{qn(petition.pk.column)} = s.{qn(meta.get_field('petition').column)} "
        f"WHERE s.{qn(meta.pk.column)} IN ({', '.join(['%s'] * count)})"
    )


def signatures_to_mail(pks: list[int]) -> dict[int, Signature]:
    """The signatures as they are now, by id, each with its petition's count
    (`petition_count`); one that is gone is missing. Read just before their messages are sent
    (`mail.sending.READ_AHEAD` at a time): a withdrawal a moment earlier still stops them. By
    a statement compiled once: the ORM compiling the same query for every message was a fifth
    of the worker's time per confirmation on a viral day."""
    if not pks:
        return {}
    alias = router.db_for_read(Signature)
    found = Signature.objects.using(alias).raw(_signatures_sql(alias, len(pks)), list(pks))
    return {signature.pk: signature for signature in found}


def _signature_pk(ref: str) -> int | None:
    prefix, _, pk = ref.partition(":")
    return int(pk) if prefix == "signature" and pk.isdigit() else None


def read_signatures(refs: list[str]) -> dict[str, Signature | None]:
    """The signatures of several messages' refs (`signature:<pk>`), read together."""
    pks = {ref: _signature_pk(ref) for ref in refs}
    found = signatures_to_mail(sorted({pk for pk in pks.values() if pk is not None}))
    return {ref: found.get(pk) for ref, pk in pks.items()}


_UNREAD = object()


def render_signature_email(
    ref: str, template: str, signature: Signature | None | object = _UNREAD
) -> EmailMessage | None:
    """The message for `ref` (`signature:<pk>`) as it is now; None once withdrawn or erased.
    `signature`: as `read_signatures` read it just before (None: gone), else read now."""
    if signature is _UNREAD:
        signature = read_signatures([ref])[ref]
    if signature is None or signature.status == Signature.Status.WITHDRAWN:
        return None
    if not signature.email_encrypted:  # erased
        return None
    signature = copy.copy(signature)  # one read may serve two messages (confirm, already-signed)
    signature.petition = copy.copy(petition_texts(signature.petition_id))
    signature.petition.signature_count = signature.petition_count
    # Raises InvalidToken when no configured key opens the address: a failure staff see on the
    # signature (`record_failure`), not a message silently dropped.
    address = decrypt_text(signature.email_encrypted)
    with translation.override(signature.language):
        context = signature_context(signature)
        return build_email(template, address, context, signature.language)


def register_renderers() -> None:
    from mail.models import register_renderer

    for template in SIGNATURE_TEMPLATES:

        def render(ref: str, *read, template: str = template) -> EmailMessage | None:
            return render_signature_email(ref, template, *read)

        register_renderer(template, render, read=read_signatures)


def record_withheld(signature: Signature, template: str) -> None:
    """The network's mail limit kept this message back: a row in the queue says so (without a
    message), so that `mail_lost_confirmations` does not send it after all."""
    from django.utils import timezone

    from mail.models import OutgoingMail

    OutgoingMail.objects.create(
        key=f"{signature.ref}:{template}:{secrets.token_hex(8)}",
        ref=signature.ref,
        kind=template,
        status=OutgoingMail.Status.SUPPRESSED,
        error="limit per network",
        finished_at=timezone.now(),
    )


def queue_withdrawn_email(email: str, petition: Petition, language: str, ref: str) -> bool:
    """Built before the data is erased; the queue keeps it encrypted until it is sent."""
    petition.set_current_language(language)
    context = {
        "petition": petition,
        "petition_url": settings.SITE_URL + petition.get_absolute_url(),
    }
    message = build_email("withdrawn", email, context, language)
    return queue_email(message, key=f"{ref}:withdrawn", ref=ref, kind="withdrawn")


def record_failure(sender, ref: str, kind: str, reason: str, **kwargs) -> None:
    """A permanent failure shows on the signature in the admin (without the address)."""
    if (pk := _signature_pk(ref)) is not None:
        Signature.objects.filter(pk=pk).update(email_failed=f"{kind}: {reason}"[:200])
