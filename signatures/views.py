import functools
import logging
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language, ngettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from campaigns.models import Partner, Petition
from releasenow.lib.crypto import client_digest
from releasenow.lib.emails import NewEmail, mail_allowed, mail_network_hit, throttle_key
from releasenow.lib.limits import over_limits
from releasenow.lib.pagecache import current_count, public_page, shows_count
from releasenow.sqlite3.group_commit import atomic_together

from . import challenge
from .emails import queue_signature_email, queue_withdrawn_email, record_withheld
from .forms import SignatureForm
from .models import CountryCount, Signature

log = logging.getLogger(__name__)

PAGE_SIZE = 100


def open_petition(slug: str) -> Petition:
    return get_object_or_404(Petition.objects.prefetch_related("translations"), slug=slug)


def petition_to_sign(slug: str) -> Petition:
    """The little a posted signature needs of its petition (id, open or not): one indexed
    read by a fixed statement, without the ORM compiling a query, loading a model and its
    translations. Each of a viral day's posts saves the time. Never used to render a page
    (texts are per language).

    The read is also the connection's health check. Django's (CONN_HEALTH_CHECKS, on with
    PostgreSQL) is a `SELECT 1` before the request's first query, a round trip more for every
    signer; here, if the kept connection has died (a database restart), the read fails, and it
    is made again once on a new connection, as the check would have: the signer sees nothing."""
    table = connection.ops.quote_name(Petition._meta.db_table)
    sql = f"SELECT id, is_open FROM {table} WHERE slug = %s"  # noqa: S608
    for attempt in (1, 2):
        connection.health_check_done = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, [slug])
                row = cursor.fetchone()
            break
        except (InterfaceError, OperationalError):
            kept = connection.connection is not None and not connection.in_atomic_block
            if attempt == 2 or not kept or connection.is_usable():
                raise  # the database itself is unreachable or failing: the 503 page
            connection.close()
    if row is None:
        raise Http404("No such petition")
    return Petition(pk=row[0], slug=slug, is_open=bool(row[1]))


def _own_origins(request: HttpRequest) -> set[str]:
    site = urlsplit(settings.SITE_URL)
    return {
        f"{request.scheme}://{request.get_host()}",
        f"{site.scheme}://{site.netloc}",
        *settings.CSRF_TRUSTED_ORIGINS,
    }


def is_cross_site(request: HttpRequest) -> bool:
    """Whether the browser says this request was sent by a page of another site.

    Browsers add `Sec-Fetch-Site` and `Origin` to form posts themselves; a page cannot set them.
    A form on our own origin (the site, or an embed framed by a partner but served by us)
    posts as same-origin. Requests without either header (old browsers, scripts) carry no
    evidence and pass: their sender could as well have posted directly.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site", "").lower()
    if fetch_site in ("same-origin", "none"):
        return False
    if fetch_site == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return fetch_site == "same-site"  # a sibling subdomain that hides its origin
    return origin.rstrip("/") not in _own_origins(request)


def _refill(data) -> dict:
    """What a visitor had typed, for a form we did not accept as sent; the consent box and the
    proof of work are for them to do again here."""
    kept = ("full_name", "email", "affiliation", "city", "country", "visibility", "group", "source")
    return {**SignatureForm.initial_for(), **{k: data.get(k, "")[:300] for k in kept if k in data}}


# The sign form needs no CSRF token, so the manifesto page stays cacheable on a viral day.
# Cross-site posts are still answered with the form instead of a signature (`is_cross_site`).
@csrf_exempt
@require_http_methods(["GET", "POST"])
@public_page
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    # A POST needs the petition's row only; its texts load when a page is rendered.
    petition = petition_to_sign(slug) if request.method == "POST" else None
    if request.method == "POST" and petition.is_open:
        form, outcome = submit(request, petition)
        if outcome == "done":
            return HttpResponseRedirect(check_inbox_path(slug))
        petition = open_petition(slug)  # its texts, for the page
        if outcome in REFUSALS:
            extra, status = REFUSALS[outcome]
            context = {"petition": petition, "form": form, **extra}
            return render(request, "signatures/sign.html", context, status=status)
    else:
        petition = open_petition(slug)
        form = SignatureForm(initial=SignatureForm.initial_for())
    return render(request, "signatures/sign.html", {"petition": petition, "form": form})


def check_inbox_path(slug: str) -> str:
    """Where a signer goes next: looked up once per language, script prefix, URLconf and
    petition, not on every sign request (2 % of one). Only slugs of existing petitions get
    here."""
    return _check_inbox_path(get_language(), get_script_prefix(), get_urlconf(), slug)


@functools.lru_cache(maxsize=256)
def _check_inbox_path(_language: str, _prefix: str, _urlconf: str | None, slug: str) -> str:
    # The first three are the key only: `reverse` reads the thread's own.
    return reverse("signatures:check_inbox", kwargs={"slug": slug})


# What the form says when a submission was not taken, and the status of the answer.
REFUSALS = {
    "retry": ({"retry": True}, 503),  # a database error: nothing stored
    "multipart": ({"refused": "multipart"}, 415),
    "cross_site": ({"refused": "cross_site"}, 403),
}


def submit(
    request: HttpRequest, petition: Petition, source: str | None = None
) -> tuple[SignatureForm, str]:
    """Validate a posted signature, store it and queue its e-mail. The outcome is "done"
    (stored, or a bot dropped: the same answer), "invalid" (show the form again) or one of
    REFUSALS. `source` overrides the form's partner tag (embeds)."""
    if request.content_type.startswith("multipart/"):
        # Browsers send this form url-encoded; a multipart body would be parsed into files.
        return SignatureForm(initial=SignatureForm.initial_for()), "multipart"
    if is_cross_site(request):
        return SignatureForm(initial=_refill(request.POST)), "cross_site"
    form = SignatureForm(request.POST)
    if form.honeypot_filled:  # a bot: the same answer as everyone, nothing stored
        return form, "done"
    if not form.is_valid():
        return form, "invalid"
    if source is not None:
        form.cleaned_data["source"] = source
    data = form.cleaned_data
    # The CPU work first; then one short transaction (on SQLite, one turn of the write lock,
    # shared with the other signers of this process who meet there: `atomic_together`) holds
    # every write: the limits' counters (when the cache is the database), the signature, the
    # day's statistics and the queued confirmation, which the worker renders.
    candidate = Signature.from_form(petition, data, language=get_language())
    new_email = NewEmail(throttle_key(data["email"]))
    network = client_digest(request)

    def write() -> None:  # on whichever thread leads the shared transaction
        held, mail_held = over_limits(
            ("sign", network, settings.SIGNING_RATE_LIMIT), mail_network_hit(request)
        )
        signature, created = candidate.store(
            held=held, challenge_passed=challenge.verify(data["altcha"])
        )
        pending = created or signature.status == Signature.Status.PENDING
        template = "confirm" if pending else "already-signed"
        if mail_allowed(request, over=mail_held):
            # The day's statistics, last, travel with the e-mail's statements: one round trip
            # fewer on PostgreSQL.
            counted = candidate.submission_statement(created)
            queue_signature_email(signature, template, new_email, then=[counted])
        else:
            record_withheld(signature, template)
            candidate.count_submission(created)

    try:
        atomic_together(write)
    except DatabaseError:
        log.exception("Signing failed on a database error")
        return form, "retry"
    return form, "done"


@public_page
def check_inbox(request: HttpRequest, slug: str) -> HttpResponse:
    """The same page whether the address was new or had signed before: it reveals nothing."""
    return render(request, "signatures/check_inbox.html", {"petition": open_petition(slug)})


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """A page with a button: mail scanners follow links, only people press buttons."""
    signature = Signature.from_confirm_token(token)
    if (
        signature is None
        or signature.petition.slug != slug
        or signature.status == Signature.Status.WITHDRAWN
    ):
        return render(
            request, "signatures/link_invalid.html", {"petition": open_petition(slug)}, status=404
        )
    if request.method == "POST" or signature.status == Signature.Status.CONFIRMED:
        signature.confirm()
        # The count now, for the page; not `refresh_from_db`, which django-parler follows by
        # deleting the petition's translations from the shared cache.
        signature.petition.signature_count = current_count(signature.petition_id)
        return render(
            request,
            "signatures/thanks.html",
            {"signature": signature, "petition": signature.petition},
        )
    return render(
        request, "signatures/confirm.html", {"signature": signature, "petition": signature.petition}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    signature = Signature.from_withdraw_token(token)
    if signature is None or signature.petition.slug != slug:
        return render(
            request, "signatures/link_invalid.html", {"petition": open_petition(slug)}, status=404
        )
    if signature.status == Signature.Status.WITHDRAWN:
        return render(request, "signatures/withdrawn.html", {"petition": signature.petition})
    if request.method == "POST":
        email, language = signature.email, signature.language
        if signature.withdraw() and email:
            queue_withdrawn_email(email, signature.petition, language, signature.ref)
        return render(request, "signatures/withdrawn.html", {"petition": signature.petition})
    return render(
        request,
        "signatures/withdraw.html",
        {"signature": signature, "petition": signature.petition},
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Stop updates. Mail providers POST `List-Unsubscribe=One-Click` here (RFC 8058), without
    cookies or a token of ours; people get a page with a button, since scanners follow links."""
    signature = Signature.from_unsubscribe_token(token)
    if signature is None or signature.petition.slug != slug:
        return render(
            request, "signatures/link_invalid.html", {"petition": open_petition(slug)}, status=404
        )
    context = {"petition": signature.petition}
    if request.method == "POST" or not signature.updates_consent:
        signature.unsubscribe()
        return render(request, "signatures/unsubscribed.html", context)
    return render(request, "signatures/unsubscribe.html", context)


@public_page
def signatories(request: HttpRequest, slug: str) -> HttpResponse:
    """All public signatories: verified former political prisoners first, then everyone else,
    newest first, a page at a time by keyset (page 10,000 costs what page 1 costs)."""
    petition = open_petition(slug)
    public = Signature.objects.public().filter(petition=petition)
    cursor = Signature.parse_cursor(request.GET.get("before", ""))
    if request.GET.get("before") and cursor is None:
        raise Http404("Bad page cursor")
    page = list(public.not_former_prisoners().before(cursor).newest_first()[: PAGE_SIZE + 1])
    former = []
    if cursor is None:
        former = list(public.former_prisoners().newest_first()[:1000])
    next_cursor = page[PAGE_SIZE - 1].cursor() if len(page) > PAGE_SIZE else None
    shows_count(request, petition)
    return render(
        request,
        "signatures/signatories.html",
        {
            "petition": petition,
            "former": former,
            "others": page[:PAGE_SIZE],
            "next_cursor": next_cursor,
            "first_page": cursor is None,
            "countries": CountryCount.for_petition(petition),
        },
    )


@require_GET
@cache_control(public=True, max_age=60)
def api_petition(request: HttpRequest, slug: str) -> JsonResponse:
    petition = get_object_or_404(Petition, slug=slug)
    language = request.GET.get("lang", settings.LANGUAGE_CODE)
    if language in dict(settings.LANGUAGES):
        petition.set_current_language(language)
    response = JsonResponse(
        {
            "slug": petition.slug,
            "title": petition.title,
            "url": settings.SITE_URL + petition.get_absolute_url(),
            "signature_count": petition.signature_count,
            "updated_at": petition.updated_at.isoformat(),
            "countries": {
                c.country or "unknown": c.count for c in CountryCount.for_petition(petition)
            },
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@never_cache
def api_challenge(request: HttpRequest) -> JsonResponse:
    """A fresh proof-of-work challenge for the sign form's script."""
    return JsonResponse(challenge.create())


# Partner embeds --------------------------------------------------------------------------------


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The count and the sign form for a partner's site, in an <iframe> from our origin.

    Only this route may be framed, and only by the partner's sites (`frame-ancestors`); it sets
    no cookie and needs no script. Signatures made here carry the partner's key as `source`.
    """
    petition = open_petition(slug)
    partner = Partner.objects.filter(key=request.GET.get("partner", "")[:50]).first()
    here = reverse("signatures:embed", kwargs={"slug": slug})
    if partner:
        here += "?" + urlencode({"partner": partner.key})
    form = SignatureForm(
        initial={**SignatureForm.initial_for(), "source": partner.key if partner else ""}
    )
    context = {"petition": petition, "partner": partner, "form_action": here, "retry": False}
    status = 200
    if request.method == "POST" and petition.is_open:
        form, outcome = submit(request, petition, source=partner.key if partner else "embed")
        if outcome == "done":
            return redirect(here + ("&" if partner else "?") + "sent=1")
        extra, status = REFUSALS.get(outcome, ({}, 200))
        context.update(extra)
    context["form"] = form
    context["sent"] = request.method == "GET" and request.GET.get("sent") == "1"
    response = render(request, "signatures/embed.html", context, status=status)
    response._csp_replace = {
        "frame-ancestors": partner.frame_ancestors() if partner else ["'self'"]
    }
    if request.method == "GET":
        patch_cache_control(response, public=True, max_age=60)
    return response


BADGE_CHAR_WIDTH = 7.2


@require_GET
@cache_control(public=True, max_age=300)
def badge(request: HttpRequest, slug: str) -> HttpResponse:
    """The count as a small SVG image for partner pages and newsletters; cached for minutes."""
    petition = get_object_or_404(Petition, slug=slug)
    count = petition.signature_count
    label = "Release NO:W"
    value = ngettext("%(count)s signature", "%(count)s signatures", count) % {
        "count": intcomma(count)
    }
    left = round(len(label) * BADGE_CHAR_WIDTH + 16)
    right = round(len(value) * BADGE_CHAR_WIDTH + 16)
    svg = render_to_string(
        "signatures/badge.svg",
        {"label": label, "value": value, "left": left, "right": right, "width": left + right},
    )
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # meant for other sites' pages
    return response
