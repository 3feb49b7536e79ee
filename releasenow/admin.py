"""The staff site: Django's admin behind two-factor authentication and a login back-off.

Username, password and the authenticator code are checked in one step and fail with one
generic error, so a stolen password cannot be tested without the code. Failures slow down
further attempts (exponential back-off, `releasenow.lib.throttle`) per network and per account;
a browser that has logged in to an account before carries a signed cookie and is throttled on
its own, so an attacker hammering an account cannot keep its owner out.
"""

import hashlib
import secrets
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django_otp import match_token
from django_otp.admin import OTPAdminSite

from releasenow.lib.crypto import client_digest
from releasenow.lib.throttle import Backoff

BROWSER_COOKIE = "staff_browser"
BROWSER_SALT = "releasenow.admin.known-browser"
BROWSER_MAX_AGE = timedelta(days=180)
login_backoff = Backoff("staff-login")


def account_key(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def known_browser(request: HttpRequest, username: str) -> str | None:
    """The id of this browser if it has logged in to `username` before (signed cookie)."""
    try:
        data = signing.loads(
            request.COOKIES.get(BROWSER_COOKIE, ""),
            salt=BROWSER_SALT,
            max_age=BROWSER_MAX_AGE,
        )
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("account") != account_key(username):
        return None
    return str(data.get("browser") or "") or None


def throttle_keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    """(key, failures allowed before back-off) for this attempt: its network, and its account,
    or only this browser's pairing with the account when it has logged in there before."""
    browser = known_browser(request, username)
    account = f"browser:{browser}" if browser else f"account:{account_key(username)}"
    return [
        (f"network:{client_digest(request)}", settings.LOGIN_FAILURES_BEFORE_BACKOFF_PER_NETWORK),
        (account, settings.LOGIN_FAILURES_BEFORE_BACKOFF),
    ]


class OneTimeCodeInput(forms.TextInput):
    """Never shown again after a failed attempt: a used code is worthless and would differ
    between the answers to a wrong password and to a wrong code."""

    def format_value(self, value):
        return None


class StaffLoginForm(AdminAuthenticationForm):
    """Username, password and the code from the authenticator app (or a backup code), checked
    together. Whatever is wrong (unknown account, wrong password, wrong or reused code, no
    device, not staff, inactive), the answer is the same."""

    otp_token = forms.CharField(
        label="Code from your authenticator app",
        max_length=16,
        required=False,
        widget=OneTimeCodeInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct username, password and code of a staff account. All three "
            "are checked together, so we cannot say which one was wrong."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        token = (self.cleaned_data.get("otp_token") or "").replace(" ", "")
        user = None
        if username and password:
            user = authenticate(self.request, username=username, password=password)
        device = None
        if user is not None and user.is_active and user.is_staff and token:
            device = match_token(user, token)
        if device is None:
            raise self.get_invalid_login_error()
        user.otp_device = device  # django_otp marks the session verified on login
        self.user_cache = user
        return self.cleaned_data


class StaffAdminSite(OTPAdminSite):
    """Only staff with a verified one-time-password device (TOTP) get in."""

    site_header = "Release NO:W — staff"
    site_title = "Release NO:W staff"
    index_title = "Campaign administration"
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.method != "POST":
            return super().login(request, extra_context)
        username = request.POST.get("username", "")
        keys = throttle_keys(request, username)
        wait = max(login_backoff.retry_after(key) for key, _free in keys)
        if wait:
            response = TemplateResponse(
                request,
                "admin/login_throttled.html",
                {"wait": wait, "max_wait": settings.LOGIN_BACKOFF_MAX},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        response = super().login(request, extra_context)
        if getattr(request.user, "otp_device", None) is not None:  # username, password and code
            login_backoff.reset(keys[1][0])
            response.set_cookie(
                BROWSER_COOKIE,
                signing.dumps(
                    {"account": account_key(username), "browser": secrets.token_urlsafe(16)},
                    salt=BROWSER_SALT,
                ),
                max_age=int(BROWSER_MAX_AGE.total_seconds()),
                path=reverse("admin:index"),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Strict",
            )
        else:
            for key, free in keys:
                login_backoff.failed(key, free=free, cap=settings.LOGIN_BACKOFF_MAX)
        return response
