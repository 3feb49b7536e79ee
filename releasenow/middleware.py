"""Middleware of the public site: a 503 page when the database is down, request-size limits."""

import functools
import logging
from collections.abc import Callable

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.urls import get_script_prefix, get_urlconf, reverse

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    """Turns a lost or refused database connection in any view into the 503 page, rendered
    without touching the database (no context processors, like Django's 500 page)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.error("Database unavailable: %s", type(exception).__name__)
        match = getattr(request, "resolver_match", None)
        signing = request.method == "POST" and getattr(match, "view_name", "") == "signatures:sign"
        html = loader.get_template("503.html").render({"signing": signing})
        response = HttpResponse(html, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response


@functools.cache
def admin_prefix(_script_prefix: str, _urlconf: str | None) -> str:
    """Where the staff admin starts, under the site's script prefix and URLconf (the key
    only: `reverse` reads the thread's own), looked up once rather than on every request."""
    return reverse("admin:index")


class PublicRequestLimits:
    """Public pages take small bodies only: the sign form needs about 3 kB, nothing public
    uploads files. A larger body is answered 413, in the visitor's language, before anything
    reads it (so Django never spools a multipart upload to disk). The staff admin keeps
    Django's own limits for its imports.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(admin_prefix(get_script_prefix(), get_urlconf())):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django reads no body without a valid length
            if length > settings.PUBLIC_MAX_REQUEST_BODY:
                response = render(request, "413.html", status=413)
                response["Connection"] = "close"  # do not drain a huge body for keep-alive
                return response
        return self.get_response(request)


class ContentSecurityPolicy(CSPMiddleware):
    """django-csp's middleware, with the site's policy header built once instead of for every
    answer (about 3 % of a sign request). Whatever makes the header differ from one answer to
    another still has it built by django-csp: a policy of the answer's own (`_csp_replace`
    and the like, as the embeds have), an exemption, a nonce, a report-only policy, excluded
    paths, DEBUG's error pages."""

    OWN_POLICY = (
        *("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt"),
        *("_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro"),
    )

    def __init__(self, get_response) -> None:
        super().__init__(get_response)
        self._built = (None, "")  # (the setting it was built for, the header): one object

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        if (
            not policy
            or settings.DEBUG
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or policy.get("EXCLUDE_URL_PREFIXES")
            or HEADER in response
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in self.OWN_POLICY)
        ):
            return super().process_response(request, response)
        built_for, header = self._built
        if built_for is not policy:  # built again when the setting is replaced (tests do)
            header = build_policy()
            self._built = (policy, header)
        if header:
            response[HEADER] = header
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
