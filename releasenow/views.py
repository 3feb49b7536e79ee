from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 otherwise: for load balancers and uptime checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /language/",
        f"Sitemap: {settings.SITE_URL}/sitemap.xml",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def in_language(path: str, code: str) -> str:
    """The same path under another language prefix (`/de/manifesto/` → `/be/manifesto/`)."""
    first, _, rest = path.lstrip("/").partition("/")
    if first in dict(settings.LANGUAGES):
        return f"/{code}/{rest}"
    return f"/{code}/"


@never_cache
def choose_language(request: HttpRequest, code: str) -> HttpResponse:
    """Remember the language a visitor picked (a cookie read only at `/`), then show the page
    in it. Pages themselves set no cookie, so they stay cacheable."""
    if code not in dict(settings.LANGUAGES):
        raise Http404("Unknown language")
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(in_language(target, code))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600,
        secure=settings.LANGUAGE_COOKIE_SECURE, samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        httponly=True,
    )  # fmt: skip
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form that came without its token (expired page, blocked cookies, another site): a
    page in the visitor's language rather than Django's technical one."""
    return render(request, "403_csrf.html", status=403)
