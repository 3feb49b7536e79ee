"""The public pages in headless Chromium: accessibility (axe-core), no third-party requests,
reading without JavaScript, screenshots at phone and desktop width.

Uses Debian's Chromium (/usr/bin/chromium) through Playwright; never downloads a browser.
Screenshots land in test-results/screenshots/ to be looked at.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SHOTS = Path(settings.BASE_DIR) / "test-results" / "screenshots"
WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.fixture(scope="module")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright runs an event loop
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, content, settings):
    # The live server finds static files by their source names, not the collected hashed ones.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return live_server.url


def open_page(browser, url: str, width: int, javascript: bool = True):
    """A page that records every request to another host, and every console error."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=javascript
    )
    page = context.new_page()
    page.foreign_requests, page.console_errors = [], []
    host = urlsplit(url).netloc
    page.on(
        "request", lambda r: urlsplit(r.url).netloc != host and page.foreign_requests.append(r.url)
    )
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.goto(url)
    return page


@pytest.mark.parametrize("path", ["/en/", "/en/manifesto/", "/de/", "/be/manifesto/"])
def test_pages_have_no_serious_accessibility_violations(browser, site, path):
    from axe_playwright_python.sync_playwright import Axe

    for width in WIDTHS.values():
        page = open_page(browser, site + path, width)
        results = Axe().run(page)
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, "\n".join(serious)
        page.context.close()


@pytest.mark.parametrize("path", ["/en/", "/en/manifesto/", "/ru/", "/lt/manifesto/"])
def test_pages_make_no_request_to_another_host_and_log_no_errors(browser, site, path):
    page = open_page(browser, site + path, 1280)
    page.wait_for_load_state("networkidle")
    assert page.foreign_requests == []
    assert page.console_errors == []  # a CSP violation would show here
    page.context.close()


@pytest.mark.parametrize("path", ["/en/", "/en/manifesto/", "/uk/", "/de/manifesto/"])
def test_screenshots_at_phone_and_desktop_width_without_horizontal_overflow(browser, site, path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, width in WIDTHS.items():
        page = open_page(browser, site + path, width)
        page.screenshot(path=SHOTS / f"{name}{path.replace('/', '_')}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a {width}px screen"
        page.context.close()


def test_pages_read_the_same_without_javascript(browser, site):
    page = open_page(browser, site + "/en/manifesto/", 375, javascript=False)
    assert page.locator("h1").inner_text() == "The time for release is now"
    assert page.locator(".share-links a").count() == 6
    assert page.locator("#share-url").input_value().endswith("/en/manifesto/")
    assert page.locator(".js-copy").is_hidden()  # the copy button needs JavaScript
    page.context.close()


def test_copy_link_button_appears_with_javascript(browser, site):
    page = open_page(browser, site + "/en/manifesto/", 1280)
    assert page.locator(".js-copy").is_visible()
    page.context.close()


def test_language_switcher_leads_to_the_same_page_in_another_language(browser, site):
    page = open_page(browser, site + "/en/manifesto/", 1280, javascript=False)
    page.locator('.languages a[hreflang="pl"]').click()
    assert page.url.endswith("/pl/manifesto/")
    assert page.locator("html").get_attribute("lang") == "pl"
    page.context.close()


def test_chart_data_table_opens_with_the_keyboard(browser, site):
    page = open_page(browser, site + "/en/", 1280, javascript=False)
    summary = page.locator("#chart-per_million summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator("#chart-per_million table").is_visible()
    page.context.close()
