# ruff: noqa: F811 - pytest fixtures imported from the shared browser module
"""Safe-address advice in headless Chromium: with JavaScript the warning comes before the form
is sent; without it the server asks once. Either way the signer decides."""

import pytest

from campaigns.tests.test_browser import browser, open_page, site  # noqa: F401 - fixtures
from signatures.models import Signature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_in(page, email: str) -> None:
    page.fill("#id_full_name", "Maryia Babovich")
    page.fill("#id_email", email)
    page.select_option("#id_country", "PL")
    page.check("#id_privacy_consent")


def test_the_warning_comes_before_submitting_and_signing_unlisted_works(browser, site, manifesto):  # noqa: F811
    page = open_page(browser, site + "/ru/manifesto/sign/", 375)
    fill_in(page, "maryia@yandex.ru")
    page.locator("#id_email").dispatch_event("change")
    assert page.locator("#email-warning").is_visible()
    assert page.locator("#email-warning-domain").inner_text() == "yandex.ru"
    assert "властям" in page.locator("#email-warning").inner_text()

    page.click("form.sign-form button[type=submit]:not([name])")  # plain "Sign": held back
    assert page.url.endswith("/ru/manifesto/sign/")
    assert page.evaluate("document.activeElement.id") == "email-warning"
    assert not Signature.objects.exists()

    page.click("button[name=email_advice][value=unlisted]")
    page.wait_for_url("**/check-your-inbox/")
    assert Signature.objects.get().visibility == "anonymous"
    assert page.foreign_requests == [] and page.console_errors == []
    page.context.close()


def test_a_safe_address_is_never_held_back(browser, site, manifesto):  # noqa: F811
    page = open_page(browser, site + "/en/manifesto/sign/", 1280)
    fill_in(page, "maryia@mail.ru")
    page.locator("#id_email").dispatch_event("change")
    assert page.locator("#email-warning").is_visible()
    page.fill("#id_email", "maryia@example.org")  # "use another address"
    page.locator("#id_email").dispatch_event("change")
    assert page.locator("#email-warning").is_hidden()
    page.click("form.sign-form button[type=submit]:not([name])")
    page.wait_for_url("**/check-your-inbox/")
    assert Signature.objects.get().email == "maryia@example.org"
    page.context.close()


def test_without_javascript_the_server_asks_once_then_signs_with_the_address(
    browser, site, manifesto
):  # noqa: F811
    page = open_page(browser, site + "/de/manifesto/sign/", 375, javascript=False)
    fill_in(page, "maryia@tut.by")
    page.click("form.sign-form button[type=submit]:not([name])")
    assert page.locator("#email-warning").is_visible()
    assert "Behörden" in page.locator("[role=alert]").inner_text()
    assert page.input_value("#id_email") == "maryia@tut.by"  # nothing lost
    assert page.locator("#id_privacy_consent").is_checked()
    assert not Signature.objects.exists()

    page.click("button[name=email_advice][value=keep]")
    page.wait_for_url("**/check-your-inbox/")
    signature = Signature.objects.get()
    assert signature.email == "maryia@tut.by" and signature.visibility == "public"
    page.context.close()
