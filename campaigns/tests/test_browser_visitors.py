"""What visitors meet in a real browser (issue 12): the sign form within reach on a laptop and
on a phone, errors they can fix, and every public page in every language free of axe-core
findings down to "moderate".

Debian's Chromium through Playwright, as in test_browser.py (its fixtures are reused).
"""

import pytest

from campaigns.tests.test_browser import SHOTS, browser, site  # noqa: F401 - fixtures
from campaigns.tests.test_visitors import LANGUAGES, PUBLIC_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_at(browser, url: str, width: int, height: int, javascript: bool = True):  # noqa: F811
    context = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=javascript
    )
    page = context.new_page()
    page.goto(url)
    return page


def box(page, selector: str) -> dict:
    return page.evaluate(
        "s => { const r = document.querySelector(s).getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }",
        selector,
    )


def in_view(page, selector: str) -> bool:
    r, height = box(page, selector), page.viewport_size["height"]
    return r["top"] >= 0 and r["top"] < height and r["bottom"] > 0


def test_on_a_laptop_the_form_stays_beside_the_text_while_reading(browser, site):  # noqa: F811
    page = open_at(browser, site + "/en/manifesto/", 1280, 800)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "reach-1280-top.png")
    # On the first screen, to the right of the text.
    assert in_view(page, "#id_full_name")
    assert box(page, "#sign")["left"] >= box(page, ".petition-opening")["right"]
    # Anywhere in the text, the first field and the column stay on screen.
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in (1500, 3000, height // 2):
        page.evaluate(f"window.scrollTo(0, {y})")
        assert in_view(page, "#id_full_name"), f"the form left the screen at {y}px"
        panel = box(page, "#sign")
        assert panel["top"] >= 0 and panel["bottom"] <= 800
    page.screenshot(path=SHOTS / "reach-1280-reading.png")
    # The whole form, down to the button, is reachable inside the column.
    page.locator("form.sign-form button[type=submit]:not([name])").scroll_into_view_if_needed()
    assert in_view(page, "form.sign-form button[type=submit]:not([name])")
    page.context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_on_a_phone_the_form_follows_the_opening_and_a_sign_button_stays_at_hand(
    browser,  # noqa: F811
    site,  # noqa: F811
    javascript,
):
    page = open_at(browser, site + "/en/manifesto/", 390, 844, javascript=javascript)
    # The form comes right after the opening: less than one screen of scrolling away.
    top = page.evaluate("document.querySelector('#sign').getBoundingClientRect().top")
    assert top < 2 * 844, f"the form starts {top:.0f}px down"
    assert box(page, "#sign")["top"] < box(page, ".petition-rest")["top"]
    # While reading further down, the "Sign" button is on screen and leads to the form.
    page.evaluate("window.scrollTo(0, 4000)")
    dock = page.locator(".sign-dock a")
    assert dock.is_visible() and in_view(page, ".sign-dock a")
    page.screenshot(path=SHOTS / f"reach-390-reading-{javascript}.png")
    dock.click()
    page.wait_for_timeout(200)
    assert in_view(page, "#sign-title")
    if javascript:  # the button steps aside while the form is on screen
        assert dock.is_hidden()
    page.context.close()


def test_a_failed_submit_focuses_an_error_summary_linking_to_marked_fields(browser, site):  # noqa: F811
    page = open_at(browser, site + "/en/manifesto/", 390, 844)
    page.fill("#id_email", "not-an-address")
    page.click("form.sign-form button[type=submit]")
    summary = page.locator("#form-errors")
    assert page.evaluate("document.activeElement.id") == "form-errors"
    links = summary.locator("a")
    targets = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert targets == ["#id_full_name", "#id_email", "#id_privacy_consent"]
    # Marked in colour (the border turns red) and in text (the message beside the field).
    red = page.evaluate("getComputedStyle(document.querySelector('#id_email')).borderTopColor")
    assert red == "rgb(168, 17, 28)"
    assert page.get_attribute("#id_email", "aria-invalid") == "true"
    assert "example.org" in page.locator("#id_email_error").inner_text()
    assert "tick" in page.locator("#id_privacy_consent_error").inner_text()
    links.nth(1).click()
    assert page.evaluate("document.activeElement.id") == "id_email"
    page.screenshot(path=SHOTS / "errors-390.png", full_page=True)
    page.context.close()


def test_the_belarus_switch_is_announced(browser, site):  # noqa: F811
    page = open_at(browser, site + "/en/manifesto/", 1280, 800)
    status = page.locator("#belarus-status")
    assert status.get_attribute("role") == "status" and status.inner_text() == ""
    page.select_option("#id_country", "BY")
    assert "not listed" in status.inner_text()
    page.context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_has_no_axe_findings_down_to_moderate(browser, site, language):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    found = []
    for path in PUBLIC_PAGES:
        for width in (320, 1280):
            page = open_at(browser, f"{site}/{language}{path}", width, 800)
            if path == "/manifesto/sign/" and width == 320:  # the page with errors shown
                with page.expect_navigation():
                    page.click("form.sign-form button[type=submit]")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                found.append(f"{path} at {width}px: {overflow}px too wide")
            for v in Axe().run(page).response["violations"]:
                if v["impact"] in ("critical", "serious", "moderate"):
                    targets = [n["target"] for n in v["nodes"]][:3]
                    found.append(f"{path} at {width}px: {v['id']} ({v['impact']}) {targets}")
            page.context.close()
    assert not found, "\n".join(found)


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_charts_fit_the_screen_and_their_tables_too(browser, site, width):  # noqa: F811
    from campaigns.models import ChartPoint

    ChartPoint.objects.filter(chart__key="prisoner_history").update(verified=True)
    page = open_at(browser, site + "/ru/", width, 800)
    page.evaluate("document.querySelectorAll('.chart-data').forEach(d => d.open = true)")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px too wide at {width}px"
    chart = page.locator("#chart-prisoner_history")
    shown = ".chart-svg-narrow" if width < 576 else ".chart-svg-wide"
    svg = chart.locator(shown)
    assert svg.is_visible()
    frame = box(page, "#chart-prisoner_history .chart-frame")
    drawn = box(page, f"#chart-prisoner_history {shown}")
    assert drawn["right"] <= frame["right"] + 0.5  # nothing clipped off to the side
    title = svg.locator("title").text_content()
    assert "декабрь 2020" in title and "169" in title  # the values come with their dates
    chart.screenshot(path=SHOTS / f"chart-ru-{width}.png")
    page.context.close()
