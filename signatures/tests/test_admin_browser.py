"""The staff screens in headless Chromium at a laptop's size (1440×900)."""

import pytest
from django.conf import settings

from campaigns.tests.test_browser import SHOTS, browser, site  # noqa: F401 - fixtures
from signatures.imports import import_signatures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff_page(browser, site, path: str):  # noqa: F811
    """A page of the admin as a moderator logged in with a verified TOTP device sees it."""
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.create_user("mod", "", "a long passphrase 42", is_staff=True)
    user.is_superuser = True
    user.save()
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    host = site.split("//")[1].split(":")[0]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "domain": host,
          "path": "/"}]
    )  # fmt: skip
    page = context.new_page()
    page.goto(site + path)
    return page


def test_the_moderation_list_shows_at_least_15_rows_on_a_laptop_screen(browser, site):  # noqa: F811
    from campaigns.models import Petition

    manifesto = Petition.objects.get(slug="manifesto")
    text = "".join(
        f"• Person{chr(65 + i)} Nowak{chr(65 + i)} (Human Rights Centre Viasna), Warsaw, Poland\n"
        for i in range(25)
    )
    import_signatures(manifesto, text, source="list")  # no visibility: flagged for review
    page = staff_page(browser, site, "/admin/signatures/signature/?queue=review")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "admin-moderation-1440.png")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() >= 15
    visible = page.evaluate(
        """() => [...document.querySelectorAll('#result_list tbody tr')]
                 .filter(r => r.getBoundingClientRect().bottom <= window.innerHeight).length"""
    )
    assert visible >= 15, visible
