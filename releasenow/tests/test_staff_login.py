import re

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import RequestFactory
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from releasenow.admin import login_backoff, throttle_keys

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 7"


@pytest.fixture
def staff(settings):
    import uuid

    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}}
    return User.objects.create_user(
        "staff", "s@example.org", PASSWORD, is_staff=True, is_superuser=True
    )


def login(client, username="staff", password=PASSWORD, token=""):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "otp_token": token},
    )


def test_a_password_alone_does_not_open_the_admin(client, staff):
    login(client)
    assert client.get("/admin/").status_code == 302  # back to the login page


def test_password_and_a_current_totp_code_open_the_admin(client, staff):
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    response = login(client, token=current_code(device))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused(client, staff):
    TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    response = login(client, token="000000")
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def current_code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def skip_the_wait(username: str = "staff") -> None:
    """What waiting out the back-off would do, without sleeping in a test."""
    request = RequestFactory().post("/admin/login/")
    for key, _free in throttle_keys(request, username):
        cache.delete(f"{login_backoff.prefix}{key}:until")


def without_csrf_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_a_wrong_code_with_the_right_password_answers_exactly_like_a_wrong_password(client, staff):
    TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    wrong_password = login(client, password="not the password at all", token="123456")
    wrong_code = login(client, token="123456")
    no_code = login(client)
    unknown_user = login(client, username="nobody", token="123456")
    pages = {without_csrf_token(r) for r in (wrong_password, wrong_code, no_code)}
    assert len(pages) == 1
    assert {r.status_code for r in (wrong_password, wrong_code, no_code, unknown_user)} == {200}
    assert "correct username, password and code" in pages.pop()
    for response in (wrong_password, wrong_code, no_code, unknown_user):
        assert set(response.cookies) <= {"csrftoken"}
        assert "Invalid token" not in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_login_page_asks_for_all_three_at_once(client, staff):
    html = client.get("/admin/login/").content.decode()
    assert 'name="username"' in html and 'name="password"' in html and 'name="otp_token"' in html
    assert "otp_device" not in html and "otp_challenge" not in html


def test_failures_slow_down_an_account_with_growing_back_off(client, staff, settings):
    settings.LOGIN_FAILURES_BEFORE_BACKOFF = 3
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    for _ in range(3):
        assert login(client, password="wrong").status_code == 200
    login(client, password="still wrong")  # the fourth failure starts the back-off
    waits = []
    for _ in range(3):
        throttled = login(client, token=current_code(device))  # even the right code waits
        assert throttled.status_code == 429
        assert b"Too many login attempts" in throttled.content
        waits.append(int(throttled["Retry-After"]))
        skip_the_wait()
        login(client, password="wrong again")
    assert waits == [1, 2, 4]


def test_the_back_off_is_capped_and_nobody_is_locked_out_for_good(client, staff, settings):
    settings.LOGIN_FAILURES_BEFORE_BACKOFF = 1
    settings.LOGIN_BACKOFF_MAX = 3
    for _ in range(40):
        login_backoff.failed("account:test", free=1, cap=settings.LOGIN_BACKOFF_MAX)
    assert 0 < login_backoff.retry_after("account:test") <= 3


def test_a_browser_that_logged_in_before_is_not_held_up_by_attacks_on_the_account(
    client, staff, settings
):
    from django.test import Client

    settings.LOGIN_FAILURES_BEFORE_BACKOFF = 2
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    assert login(client, token=current_code(device)).status_code == 302
    assert "staff_browser" in client.cookies
    client.post("/admin/logout/")

    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        login(attacker, password="guess")
    assert login(attacker, password="guess").status_code == 429
    assert login(Client(), password=PASSWORD).status_code == 429  # a new browser waits too

    device.refresh_from_db()
    device.last_t = -1
    device.save()
    response = login(client, token=current_code(device))  # the staff member's own browser
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_attempts_are_throttled_per_network_across_accounts(client, staff, settings):
    settings.LOGIN_FAILURES_BEFORE_BACKOFF_PER_NETWORK = 3
    for i in range(4):
        login(client, username=f"someone{i}", password="guess")
    assert login(client, username="someone-else", password="guess").status_code == 429
    from django.test import Client

    assert login(Client(REMOTE_ADDR="198.51.100.1"), password="guess").status_code == 200


def test_the_back_off_is_shared_through_the_cache_not_process_memory(settings):
    from django.core.cache import caches

    assert settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.locmem.LocMemCache"
    assert caches["default"].__class__.__name__ in ("DatabaseCache", "RedisCache")


@pytest.mark.parametrize("password", ["short1", "password123456", "1234567890123"])
def test_weak_staff_passwords_are_refused(staff, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=staff)


def test_add_totp_device_prints_a_setup_link(staff, capsys):
    call_command("add_totp_device", "staff")
    assert "otpauth://totp/" in capsys.readouterr().out
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
