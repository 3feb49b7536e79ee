import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from campaigns.models import Petition
from releasenow.lib.crypto import client_digest
from releasenow.lib.emails import mail_allowed
from releasenow.lib.pagecache import public_page, shows_count

from . import challenge
from .emails import queue_signature_email, queue_withdrawn_email
from .forms import SignatureForm
from .models import CountryCount, Signature

log = logging.getLogger(__name__)

PAGE_SIZE = 100


def open_petition(slug: str) -> Petition:
    return get_object_or_404(Petition.objects.prefetch_related("translations"), slug=slug)


def rate_key(group: str, request: HttpRequest) -> str:
    return client_digest(request)


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
    petition = get_object_or_404(Petition, slug=slug) if request.method == "POST" else None
    petition = petition or open_petition(slug)
    form = SignatureForm(initial=SignatureForm.initial_for())
    if request.method == "POST" and petition.is_open:
        if request.content_type.startswith("multipart/"):
            # Browsers send this form url-encoded; a multipart body would be parsed into files.
            context = {"petition": petition, "form": form, "refused": "multipart"}
            return render(request, "signatures/sign.html", context, status=415)
        if is_cross_site(request):
            form = SignatureForm(initial=_refill(request.POST))
            context = {"petition": petition, "form": form, "refused": "cross_site"}
            return render(request, "signatures/sign.html", context, status=403)
        form = SignatureForm(request.POST)
        if form.honeypot_filled:  # a bot: the same answer as everyone, nothing stored
            return redirect("signatures:check_inbox", slug=slug)
        if form.is_valid():
            held = is_ratelimited(
                request,
                group="sign",
                key=rate_key,
                rate=settings.SIGNING_RATE_LIMIT,
                increment=True,
            )
            try:
                signature, created = Signature.submit(
                    petition,
                    form.cleaned_data,
                    language=get_language(),
                    challenge_passed=challenge.verify(form.cleaned_data["altcha"]),
                    held=held,
                )
                if mail_allowed(request, form.cleaned_data["email"]):
                    pending = created or signature.status == Signature.Status.PENDING
                    queue_signature_email(signature, "confirm" if pending else "already-signed")
            except DatabaseError:
                log.exception("Signing failed on a database error")
                return render(
                    request,
                    "signatures/sign.html",
                    {"petition": petition, "form": form, "retry": True},
                    status=503,
                )
            return redirect("signatures:check_inbox", slug=slug)
    return render(request, "signatures/sign.html", {"petition": petition, "form": form})


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
        signature.petition.refresh_from_db(fields=["signature_count"])
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
