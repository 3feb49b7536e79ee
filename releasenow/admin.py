"""The staff site: Django's admin behind two-factor authentication and a login throttle."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_ratelimit.core import is_ratelimited

from releasenow.lib.crypto import client_digest


def _username_key(group: str, request: HttpRequest) -> str:
    return (request.POST.get("username") or "").strip().lower()


def _client_key(group: str, request: HttpRequest) -> str:
    return client_digest(request)


class StaffLoginForm(OTPAdminAuthenticationForm):
    """Username, password and the code from the authenticator app, on one page: a member of
    staff with a single device need not pick it from a list first."""

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            confirmed = list(devices_for_user(user, confirmed=True))
            if len(confirmed) == 1:
                return confirmed[0]
        return device


class StaffAdminSite(OTPAdminSite):
    """Only staff with a verified one-time-password device (TOTP) get in.

    Failed or not, login attempts are limited per account and per network, so passwords and
    codes cannot be guessed at speed.
    """

    site_header = "Release NO:W — staff"
    site_title = "Release NO:W staff"
    index_title = "Campaign administration"
    login_form = StaffLoginForm

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def index(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        from campaigns.admin import warn_about_missing_imprint

        warn_about_missing_imprint(request)
        return super().index(request, extra_context)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.method == "POST":
            limited = is_ratelimited(
                request, group="admin-login-user", key=_username_key,
                rate=settings.LOGIN_RATE_LIMIT, increment=True,
            ) | is_ratelimited(
                request, group="admin-login-client", key=_client_key,
                rate=settings.LOGIN_RATE_LIMIT_PER_CLIENT, increment=True,
            )  # fmt: skip
            if limited:
                return TemplateResponse(request, "admin/login_throttled.html", status=429)
        return super().login(request, extra_context)
