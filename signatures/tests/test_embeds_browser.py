# ruff: noqa: F811 - pytest fixtures imported from the shared browser module
"""Partner embeds in headless Chromium: a page on another local origin embeds the sign form, a
signature goes through and the partner's statistics rise; a site not on the partner's list
cannot show it."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from campaigns.models import Partner
from campaigns.tests.test_browser import browser, open_page, site  # noqa: F401 - fixtures
from signatures.models import Signature
from signatures.statistics import petition_statistics
from signatures.tests.conftest import last_mail_to, link, run_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def partner_server(site: str, language: str = "en"):
    """A partner's page on its own origin (127.0.0.1 and a free port; the site is localhost),
    with the snippet the staff page generates."""
    snippet = (
        f'<iframe src="{site}/{language}/manifesto/embed/?partner=politzek-me" '
        f'title="Sign the manifesto" width="100%" height="300" data-releasenow-embed '
        f'style="border:0"></iframe><script src="{site}/static/js/embed.js" async></script>'
    )
    html = f"<!doctype html><html lang=en><title>Partner</title><h1>Partner news</h1>{snippet}"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def partner(manifesto):
    return Partner.objects.get(key="politzek-me")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_partner_page_embeds_the_form_and_a_signature_counts_for_the_partner(
    browser, site, manifesto, partner, javascript
):
    assert site.startswith("http://localhost:")  # the partner page is on 127.0.0.1: another origin
    server, origin = partner_server(site, "de")
    partner.embed_origins = origin
    partner.save()
    try:
        page = open_page(browser, origin + "/", 1280, javascript=javascript)
        frame = page.frame_locator("iframe[data-releasenow-embed]")
        frame.locator("h1").wait_for()
        assert frame.locator("h1").inner_text() == "Das Manifest unterschreiben"
        if javascript:  # the optional script sizes the frame to the form
            page.wait_for_function(
                "document.querySelector('iframe').getBoundingClientRect().height > 600"
            )
        frame.locator("#id_full_name").fill("Maryia Babovich")
        frame.locator("#id_email").fill("maryia.embed@example.org")
        frame.locator("#id_country").select_option("PL")
        frame.locator("#id_privacy_consent").check()
        if javascript:  # the proof of work finishes in the background
            embed = next(f for f in page.frames if f != page.main_frame)
            embed.wait_for_function(
                "document.querySelector('[name=altcha]').value !== ''", timeout=30000
            )
        frame.locator("form.sign-form button[type=submit]:not([name])").click()
        frame.locator("text=Schauen Sie in Ihr Postfach").wait_for()
        assert page.url == origin + "/"  # the partner's page stayed where it was

        signature = Signature.find(manifesto, "maryia.embed@example.org")
        assert signature.source == "politzek-me" and signature.language == "de"
        run_tasks()
        confirm = open_page(
            browser, site + link(last_mail_to("maryia.embed@example.org"), "confirm"), 375
        )
        confirm.click("form button[type=submit]")
        confirm.locator("h1").wait_for()
        per_source = dict(
            (source, confirmed)
            for source, _s, confirmed in petition_statistics(manifesto)["per_source"]
        )
        assert per_source["politzek-me"] == 1
        manifesto.refresh_from_db()
        assert manifesto.signature_count == 1
        frame_requests = [u for u in page.foreign_requests if not u.startswith(site)]
        assert frame_requests == []  # the frame loads from our origin only
        assert page.console_errors == []
        page.context.close()
        confirm.context.close()
    finally:
        server.shutdown()


def test_a_site_not_on_the_partners_list_cannot_show_the_form(browser, site, manifesto, partner):
    server, origin = partner_server(site)
    partner.embed_origins = "https://politzek.me"
    partner.save()
    try:
        page = open_page(browser, origin + "/", 1280)
        page.wait_for_timeout(500)
        embedded = [f for f in page.frames if f != page.main_frame]
        assert embedded and not embedded[0].url.startswith(site)  # blocked: an error page
        page.context.close()
    finally:
        server.shutdown()


def test_the_embed_has_no_serious_accessibility_violations(browser, site, manifesto, partner):
    from axe_playwright_python.sync_playwright import Axe

    page = open_page(browser, site + "/be/manifesto/embed/?partner=politzek-me", 375)
    results = Axe().run(page)
    serious = [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.context.close()


def test_the_staff_page_previews_the_embed_live_in_the_chosen_language(
    browser, site, manifesto, partner, staff_client
):
    """Logged in as staff (a session with a verified device), pick a language: the snippet
    and the framed preview follow at once."""
    from django.conf import settings

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": staff_client.session.session_key,
          "url": site}]
    )  # fmt: skip
    page = context.new_page()
    errors = []
    # Console errors other than the admin's missing /favicon.ico (responses are checked below).
    page.on(
        "console",
        lambda m: (
            m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text)
        ),
    )
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    page.goto(f"{site}/admin/campaigns/partner/{partner.pk}/embed/")
    assert "/en/manifesto/embed/?partner=politzek-me" in page.input_value("#embed-snippet")
    page.select_option("#embed-lang", "uk")  # the page reloads by itself
    page.wait_for_url("**lang=uk**")
    assert "/uk/manifesto/embed/?partner=politzek-me" in page.input_value("#embed-snippet")
    preview = page.frame_locator("#embed-preview")
    assert preview.locator("html").get_attribute("lang") == "uk"
    assert preview.locator("form.sign-form").is_visible()
    assert errors == []
    context.close()
