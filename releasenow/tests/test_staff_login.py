import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

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
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = login(client, token=code)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused(client, staff):
    TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    response = login(client, token="000000")
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_login_attempts_are_throttled_per_account(client, staff, settings):
    settings.LOGIN_RATE_LIMIT = "3/15m"
    for _ in range(3):
        assert login(client, password="wrong").status_code == 200
    response = login(client)
    assert response.status_code == 429
    assert b"Too many login attempts" in response.content


@pytest.mark.parametrize("password", ["short1", "password123456", "1234567890123"])
def test_weak_staff_passwords_are_refused(staff, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=staff)


def test_add_totp_device_prints_a_setup_link(staff, capsys):
    call_command("add_totp_device", "staff")
    assert "otpauth://totp/" in capsys.readouterr().out
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
