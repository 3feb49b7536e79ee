"""The topology a campaign deploys: the shipped nginx configuration in front of the web server and the
worker. Sign, confirm and withdraw through it. Runs only where nginx is installed
(`make test-deploy`; .ci/run installs Debian's nginx)."""

import email
import gzip
import http.cookiejar
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

import pytest

from deploy import localnginx
from deploy.localsite import LocalSite

pytestmark = [
    pytest.mark.nginx,
    pytest.mark.skipif(not localnginx.nginx_binary(), reason="nginx is not installed"),
]


class Browser:
    """Just enough of a browser: cookies, no redirects followed, the site's own certificate."""

    def __init__(self, base: str):
        self.base = base
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirect,
        )

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Origin": self.base, "Referer": self.base + path,
                                                  **(headers or {})}
        )  # fmt: skip
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        content = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            content = gzip.decompress(content)
        return response.status, response.headers, content.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deploy")
    local = LocalSite(
        folder,
        env={
            "TRUSTED_PROXY_HOPS": "1",
            "SECURE_PROXY_SSL_HEADER": "true",
            "SECURE_SSL_REDIRECT": "false",
            "WEB_CONCURRENCY": "2",
        },
    )
    local.setup()
    nginx, https_port, _http = localnginx.start(
        folder / "nginx", app_port=local.port, data_dir=local.data_dir
    )
    try:
        # Links in e-mails name the address people use: nginx's.
        local.base = local.env["SITE_URL"] = f"https://localhost:{https_port}"
        local.start_web()
        yield local
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        local.stop()


def form_token(html: str) -> dict:
    return dict(re.findall(r'name="(csrfmiddlewaretoken)" value="([^"]+)"', html))


def outbox_links(site, kind: str) -> list[str]:
    paths = []
    for path in sorted((site.data_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_payload(decode=True).decode()
                paths += re.findall(rf"https://localhost:\d+(/\S*/{kind}/\S+/)", text)
    return paths


def test_sign_confirm_and_withdraw_through_nginx(site):
    browser = Browser(site.base)
    status, headers, html = browser.request("/en/manifesto/", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and "<strong>0</strong> people signed" in html
    assert headers["Content-Encoding"] == "gzip"
    assert "public" in headers["Cache-Control"]
    _, headers, _ = browser.request("/en/manifesto/", headers={"Accept-Encoding": "gzip"})
    assert headers["X-Proxy-Cache"] == "HIT"  # the micro-cache holds public pages
    _, headers, _ = browser.request(
        "/en/manifesto/?fbclid=abc", headers={"Accept-Encoding": "gzip"}
    )
    assert headers["X-Proxy-Cache"] == "HIT"  # tracking parameters do not split the cache

    status, headers, _ = browser.request(
        "/en/manifesto/sign/",
        {"full_name": "Olga Loiko", "email": "olga@example.org", "country": "PL",
         "visibility": "public", "group": "supporter", "privacy_consent": "on"},
    )  # fmt: skip
    assert status == 302 and headers["Location"].endswith("/en/manifesto/sign/check-your-inbox/")
    site.run_tasks()
    (confirm,) = outbox_links(site, "confirm")

    status, headers, html = browser.request(confirm)
    assert status == 200 and "Confirm my signature" in html
    assert "no-store" in headers["Cache-Control"]
    status, _, html = browser.request(confirm, form_token(html))
    assert status == 200 and "Thank you for your support!" in html
    assert "<strong>1</strong> person signed" in html
    # A cached page never shows an old count: the app fills it in live, nginx keeps it 10 s.
    _, headers, html = browser.request("/en/manifesto/?source=after-confirm")
    assert "<strong>1</strong> person signed" in html

    withdraw = outbox_links(site, "withdraw")[0]
    _, _, html = browser.request(withdraw)
    status, _, html = browser.request(withdraw, form_token(html))
    assert status == 200
    _, _, html = browser.request("/en/manifesto/?source=after-withdraw")
    assert "<strong>0</strong> people signed" in html


def test_static_files_come_from_disk_compressed(site):
    browser = Browser(site.base)
    status, _, html = browser.request("/en/")
    css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html).group(1)
    status, headers, content = browser.request(css, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and "body" in content
    assert headers["Server"].startswith("nginx") and headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]


def test_staff_pages_and_errors_are_never_held_by_the_proxy(site):
    browser = Browser(site.base)
    for _ in range(2):
        _, headers, _ = browser.request("/admin/login/")
        assert headers.get("X-Proxy-Cache") != "HIT"
        _, headers, _ = browser.request("/en/manifesto/confirm/forged/")
        assert headers.get("X-Proxy-Cache") != "HIT"


def test_tokens_and_addresses_stay_out_of_the_proxy_log(site):
    log = (site.folder / "nginx" / "access.log").read_text()
    assert "/confirm/[token]" in log
    assert "127.0.0.1" not in log and "/confirm/forged" not in log


def test_a_signer_whose_request_gets_no_answer_is_told_to_press_sign_again(tmp_path):
    """nginx in front of an app that does not answer (a port nobody listens on): its bare "502
    Bad Gateway" would leave a signer wondering whether the signature counted."""
    folder = tmp_path / "nginx"
    nginx, https_port, _http = localnginx.start(
        folder, app_port=localnginx.free_port(), data_dir=tmp_path
    )
    try:
        browser = Browser(f"https://localhost:{https_port}")
        for path, data in (("/en/manifesto/sign/", {"full_name": "Olga"}), ("/en/", None)):
            status, headers, html = browser.request(path, data)
            assert status == 502
            assert "press “Sign” again" in html and "Nothing is counted twice" in html
            assert 'lang="be"' in html and "Падпісаць" in html
            assert headers["Cache-Control"] == "no-store"
            assert "src=" not in html and "href=" not in html  # nothing loaded from anywhere
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
