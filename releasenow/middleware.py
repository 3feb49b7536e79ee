"""When the database is unreachable, visitors get a "please try again" page (503), never a 500."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader

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
