import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

PAGES = [
    "/en/",
    "/en/manifesto/",
    "/be/",
    "/de/manifesto/",
    "/en/privacy/",
    "/en/imprint/",
    "/en/nope/",
]


class ResourceCollector(HTMLParser):
    """Every URL the browser would fetch by itself (not links the visitor may click)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "audio", "video", "source", "embed") and attrs.get(
            "src"
        ):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("rel") in (
            "stylesheet",
            "icon",
            "preload",
            "modulepreload",
            "manifest",
        ):
            self.urls.append(attrs["href"])
        if tag == "form" and attrs.get("action"):
            self.urls.append(attrs["action"])
        if attrs.get("style"):
            self.urls.append("inline style attribute")


@pytest.mark.parametrize("path", PAGES)
def test_no_page_loads_anything_from_another_host(client, content, path):
    html = client.get(path).content.decode()
    collector = ResourceCollector()
    collector.feed(html)
    assert collector.urls, "expected at least the stylesheet"
    for url in collector.urls:
        assert url.startswith("/") and not url.startswith("//"), url
    assert "<script>" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "@import" not in html and "url(http" not in html


@pytest.mark.parametrize("path", ["/en/", "/en/manifesto/", "/healthz", "/en/nope/"])
def test_security_headers_on_every_response(client, content, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_the_policy_built_once_is_the_one_django_csp_builds_and_follows_the_setting(
    client, content, settings
):
    """The header is built once (releasenow.middleware.ContentSecurityPolicy), as django-csp
    builds it; a changed setting (here, a test's) makes it again."""
    from csp.utils import build_policy

    assert client.get("/en/")["Content-Security-Policy"] == build_policy()
    posted = client.post(
        "/en/manifesto/sign/", "", content_type="application/x-www-form-urlencoded"
    )
    assert posted["Content-Security-Policy"] == build_policy()
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/en/privacy/")["Content-Security-Policy"] == "default-src 'none'"
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    response = client.get("/en/imprint/")
    assert "img-src 'self'" in response["Content-Security-Policy-Report-Only"]


def test_hsts_is_sent_over_https(client, content, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    assert "Strict-Transport-Security" not in client.get("/en/")
    response = client.get("/en/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_stylesheet_holds_no_reference_to_another_host():
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    assert "@import" not in css
    assert "@font-face" not in css
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)


def test_check_deploy_with_production_settings_reports_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG",)}
    env.update(
        SITE_URL="https://releasenow.example",
        SECRET_KEY="k3!" + "Zq8#vR2$wL5^nB7&" * 4,
        # Production keeps its keys apart from DATA_DIR (check --deploy warns otherwise).
        EMAIL_ENCRYPTION_KEYS="q0T6xCq3H8gCkY2bX1JqYq3b7nLq1Xl3yX8m0p9Zr2c=",
        EMAIL_DIGEST_KEY="d1" * 32,
        DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="releasenow.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
