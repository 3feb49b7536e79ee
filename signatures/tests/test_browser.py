"""Signing end to end in headless Chromium (Debian's /usr/bin/chromium), with and without
JavaScript: fill in the form, read the e-mail, press the confirm button, see the thanks."""

import pytest

from campaigns.tests.test_browser import browser, open_page, site  # noqa: F401 - fixtures
from signatures.models import Signature
from signatures.tests.conftest import last_mail_to, link, run_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_in(page, email: str) -> None:
    page.fill("#id_full_name", "Maryia Babovich")
    page.fill("#id_email", email)
    page.fill("#id_affiliation", "Human rights activist")
    page.fill("#id_city", "Warsaw")
    page.select_option("#id_country", "PL")
    page.check("#id_privacy_consent")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_sign_confirm_and_be_listed(browser, site, manifesto, javascript):  # noqa: F811
    email = f"maryia.{javascript}@example.org"
    page = open_page(browser, site + "/en/manifesto/", 375, javascript=javascript)
    fill_in(page, email)
    if javascript:  # the proof of work finishes in the background
        page.wait_for_function(
            "document.querySelector('[name=altcha]').value !== ''", timeout=30000
        )
    page.click("form.sign-form button[type=submit]")
    assert page.locator("h1").inner_text() == "Check your inbox"

    signature = Signature.find(manifesto, email)
    assert signature.status == "pending"
    assert signature.challenge_passed is javascript

    run_tasks()
    page.goto(site + link(last_mail_to(email), "confirm"))
    page.click("text=Confirm my signature")
    assert page.locator("h1").inner_text() == "Thank you for your support!"
    assert "1 person signed" in page.locator(".count").first.inner_text()

    page.goto(site + "/en/manifesto/signatories/")
    assert "Maryia Babovich" in page.locator(".signatory-list").inner_text()
    assert page.foreign_requests == [] and page.console_errors == []
    page.context.close()


def test_choosing_belarus_shows_the_warning_and_unlists_at_once(browser, site, manifesto):  # noqa: F811
    page = open_page(browser, site + "/en/manifesto/", 1280)
    assert page.locator("#belarus-warning").is_hidden()
    assert page.locator("[name=visibility][value=public]").is_checked()
    page.select_option("#id_country", "BY")
    assert page.locator("#belarus-warning").is_visible()
    assert page.locator("[name=visibility][value=anonymous]").is_checked()
    page.context.close()


def test_errors_are_announced_and_values_kept_without_javascript(browser, site, manifesto):  # noqa: F811
    page = open_page(browser, site + "/en/manifesto/sign/", 375, javascript=False)
    page.fill("#id_full_name", "Дзмітрый Галубеў")
    page.click("form.sign-form button[type=submit]")
    assert page.locator("[role=alert]").is_visible()
    assert page.input_value("#id_full_name") == "Дзмітрый Галубеў"
    assert page.locator("#id_email_error").is_visible()
    page.context.close()


NAMES = {
    "en": "Olga Loiko", "be": "Вольга Лойка", "ru": "Ольга Лойко", "uk": "Ольга Лойко",
    "pl": "Żaneta Łukaszewicz", "lt": "Jūratė Žemaitytė", "de": "Jürgen Größmann", "fr": "Élodie Lefèvre",
}  # fmt: skip


@pytest.mark.parametrize("language", list(NAMES))
def test_sign_and_confirm_in_every_language_at_phone_width(browser, site, manifesto, language):  # noqa: F811
    from campaigns.tests.test_browser import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    email = f"signer-{language}@example.org"
    page = open_page(browser, f"{site}/{language}/", 375, javascript=False)
    page.screenshot(path=SHOTS / f"lang-{language}-home.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.goto(f"{site}/{language}/manifesto/")
    page.screenshot(path=SHOTS / f"lang-{language}-manifesto.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert page.locator("html").get_attribute("lang") == language

    page.fill("#id_full_name", NAMES[language])
    page.fill("#id_email", email)
    if language in ("be", "ru"):  # not listed by default there; choose to be listed
        page.check("[name=visibility][value=public]")
    page.check("#id_privacy_consent")
    page.click("form.sign-form button[type=submit]")
    assert f"/{language}/manifesto/sign/check-your-inbox/" in page.url

    run_tasks()
    message = last_mail_to(email)
    assert f"/{language}/manifesto/confirm/" in message.body
    page.goto(site + link(message, "confirm"))
    page.click("form button[type=submit]")
    assert page.locator(".count").first.is_visible()
    page.goto(f"{site}/{language}/manifesto/signatories/")
    assert NAMES[language] in page.locator(".signatory-list").inner_text()
    page.context.close()


def test_a_form_on_another_site_cannot_sign_in_the_visitors_name(browser, site, manifesto):  # noqa: F811
    """A real browser's cross-site post (Origin and Sec-Fetch-Site set by Chromium itself)."""
    attacker = f"""<!doctype html><form method="post" action="{site}/de/manifesto/sign/">
      <input name="full_name" value="Somebody Else"><input name="email" value="victim@example.org">
      <input name="visibility" value="public"><input name="privacy_consent" value="on">
    </form><script>document.forms[0].submit()</script>"""
    context = browser.new_context()
    page = context.new_page()
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(body=attacker, content_type="text/html"),
    )
    page.goto("http://evil.example/")
    page.wait_for_url(f"{site}/de/manifesto/sign/")
    assert "von einer anderen Website" in page.locator("#form-errors").inner_text()
    assert page.locator("#id_email").input_value() == "victim@example.org"
    assert not page.locator("#id_privacy_consent").is_checked()
    assert Signature.objects.count() == 0
    run_tasks()
    context.close()
