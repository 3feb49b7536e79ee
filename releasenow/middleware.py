"""Request limits for the public site."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse


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
