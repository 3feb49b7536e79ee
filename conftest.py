"""Fixtures shared by every app's tests."""

from pathlib import Path

import pytest
from django.conf import settings

DEFAULT_PACK = Path(settings.BASE_DIR) / "content" / "default"


@pytest.fixture
def content(db):
    """The project's default content pack, loaded as `make run` loads it."""
    from campaigns.content_pack import load_pack

    load_pack(DEFAULT_PACK)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff_client(client, db):
    """A moderator logged in with a verified TOTP device, as the admin requires."""
    from django.contrib.auth.models import User
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.create_user(
        "mod", "mod@example.org", "a long passphrase 42", is_staff=True, is_superuser=True
    )
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _fresh_page_cache(settings, tmp_path):
    """Each test starts with an empty page cache of its own (tests may change content with
    queryset updates, which send no signal)."""
    settings.CACHES = {
        **settings.CACHES,
        settings.PAGE_CACHE_ALIAS: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"pages-{tmp_path}",
        },
    }
    # The count is read on every answer unless a test says otherwise (test_page_cache).
    settings.PAGE_COUNT_SECONDS = 0
    from releasenow.lib import pagecache

    pagecache._shown.clear()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free port, with Django's settings pointing at it as a
    production site's would (EMAIL_HOST, no TLS on localhost)."""
    from mail.testing import SMTPServer

    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5
        yield server
