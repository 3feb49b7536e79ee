"""Error reports (the mail ADMINS receive on a 500) that name no signer.

Django's reports carry everything about the request: the POSTed name and address, cookies,
`REMOTE_ADDR`, `X-Forwarded-For`, and the URL with its confirm or withdraw token. Here the
values of POST and GET fields and cookies are replaced, client-address headers removed, tokens
cut out of paths and e-mail or IP addresses out of the exception message; frame variables are
reduced to their types. What stays is what a developer needs: the traceback, the view, the
field names.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from django.conf import settings
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from .logging import redact_personal

CLEANSED = SafeExceptionReporterFilter.cleansed_substitute
CLIENT_HEADERS = {
    "REMOTE_ADDR", "REMOTE_HOST", "HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED",
    "HTTP_CF_CONNECTING_IP", "HTTP_TRUE_CLIENT_IP", "HTTP_X_CLIENT_IP", "HTTP_COOKIE",
    "HTTP_AUTHORIZATION", "HTTP_REFERER", "HTTP_USER_AGENT",
}  # fmt: skip
PATH_KEYS = {"PATH_INFO", "SCRIPT_URL", "REQUEST_URI", "RAW_URI", "QUERY_STRING", "SCRIPT_URI"}


class PrivateExceptionReporterFilter(SafeExceptionReporterFilter):
    # Settings whose values are cleansed too: cache and database URLs can carry passwords.
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|LOCATION|URL", flags=re.I
    )

    def is_active(self, request) -> bool:
        return True  # with DEBUG on too: a developer's laptop may hold real data

    def get_post_parameters(self, request) -> dict:
        if request is None:
            return {}
        return {key: CLEANSED for key in request.POST}

    def get_safe_cookies(self, request) -> dict:
        if request is None:
            return {}
        return {key: CLEANSED for key in request.COOKIES}

    def get_safe_request_meta(self, request) -> dict:
        if request is None:
            return {}
        hidden = CLIENT_HEADERS | {settings.CLIENT_IP_HEADER}
        meta = {}
        for key, value in request.META.items():
            if key in hidden:
                continue
            if key in PATH_KEYS and isinstance(value, str):
                value = redact_personal(value)
            meta[key] = self.cleanse_setting(key, value)
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, f"<{type(value).__name__}>") for name, value in tb_frame.f_locals.items()]


class PrivateExceptionReporter(ExceptionReporter):
    """Django's reporter, with the request's URL and the exception message redacted."""

    def get_traceback_data(self) -> dict:
        data = super().get_traceback_data()
        if self.request is not None:
            path = redact_personal(self.request.path_info)
            data["request"] = SimpleNamespace(
                path_info=path,
                path=redact_personal(self.request.path),
                method=self.request.method,
                META=data["request_meta"],
                GET={},
            )
            data["request_GET_items"] = [(key, CLEANSED) for key in self.request.GET]
            scheme = "https" if self.request.is_secure() else "http"
            data["request_insecure_uri"] = f"{scheme}://{self.request._get_raw_host()}{path}"
        if "exception_value" in data:
            data["exception_value"] = redact_personal(data["exception_value"])
        return data
