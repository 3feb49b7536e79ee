"""Middleware of the public site: a 503 page when the database is unreachable, request-size
limits."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse

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


class PublicRequestLimits:
    """Public pages take small bodies only: the sign form needs about 3 kB, nothing public
    uploads files. A larger body is answered 413, in the visitor's language, before anything
    reads it (so Django never spools a multipart upload to disk). The staff admin keeps
    Django's own limits for its imports.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(reverse("admin:index")):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django reads no body without a valid length
            if length > settings.PUBLIC_MAX_REQUEST_BODY:
                response = render(request, "413.html", status=413)
                response["Connection"] = "close"  # do not drain a huge body for keep-alive
                return response
        return self.get_response(request)
