"""Settings are read from the environment at start-up, so each case runs in a fresh process."""

import json
import os
import re
import subprocess
import sys

from django.conf import settings

PRINT = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "db_name": str(db["NAME"]), "db_options": db.get("OPTIONS", {}),
    "cache": settings.CACHES["default"]["BACKEND"], "email": settings.EMAIL_BACKEND,
    "email_host": getattr(settings, "EMAIL_HOST", ""),
    "email_port": getattr(settings, "EMAIL_PORT", 0),
    "email_user": getattr(settings, "EMAIL_HOST_USER", ""),
    "email_tls": getattr(settings, "EMAIL_USE_TLS", False),
    "secret_len": len(settings.SECRET_KEY), "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "hsts": settings.SECURE_HSTS_SECONDS, "debug": settings.DEBUG,
    "outbox": str(settings.EMAIL_OUTBOX_DIR),
}, default=str))
"""


def settings_with(tmp_path, **env) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            *("DATABASE_URL", "DATABASE_STATEMENT_TIMEOUT", "REDIS_URL", "EMAIL_URL"),
            *("EMAIL_HOST", "SECRET_KEY", "SITE_URL"),
        )
    }
    clean.update(
        {"DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "releasenow.settings", **env}
    )
    out = subprocess.run(
        [sys.executable, "-c", PRINT],
        env=clean,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_defaults_run_a_laptop_site_on_sqlite_in_wal_mode(tmp_path):
    s = settings_with(tmp_path)
    assert s["engine"] == "releasenow.sqlite3"
    assert s["db_name"] == str(tmp_path / "releasenow.sqlite3")
    assert "journal_mode=WAL" in s["db_options"]["init_command"]
    assert s["db_options"]["timeout"] >= 5
    assert s["cache"] == "releasenow.lib.cache.DatabaseCache"  # shared by every process
    assert s["email"] == "releasenow.lib.emails.OutboxBackend"
    assert s["outbox"] == str(tmp_path / "outbox")
    assert s["debug"] is False
    assert s["ssl_redirect"] is False


def test_a_secret_key_is_generated_once_into_the_data_dir(tmp_path):
    settings_with(tmp_path)
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    settings_with(tmp_path)
    assert (tmp_path / "secret_key").read_text() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("x" * 64 + "\n")
    assert settings_with(tmp_path, SECRET_KEY_FILE=str(secret))["secret_len"] == 64
    assert not (tmp_path / "secret_key").exists()


def test_database_url_and_redis_url_switch_to_production_engines(tmp_path):
    s = settings_with(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["cache"] == "releasenow.lib.cache.RedisCache"


def test_a_statement_timeout_is_handed_to_postgresql_only_when_set(tmp_path):
    url = "postgres://postgres@127.0.0.1:5432/test"
    assert "options" not in settings_with(tmp_path, DATABASE_URL=url)["db_options"]
    for off in ("0", "-5"):  # a negative timeout would make PostgreSQL refuse every connection
        s = settings_with(tmp_path, DATABASE_URL=url, DATABASE_STATEMENT_TIMEOUT=off)
        assert "options" not in s["db_options"]
    s = settings_with(tmp_path, DATABASE_URL=url, DATABASE_STATEMENT_TIMEOUT="30")
    assert s["db_options"]["options"] == "-c statement_timeout=30000"
    with_options = f"{url}?options=-c%20search_path%3Dcampaign"  # kept, not replaced
    s = settings_with(tmp_path, DATABASE_URL=with_options, DATABASE_STATEMENT_TIMEOUT="30")
    assert s["db_options"]["options"] == "-c search_path=campaign -c statement_timeout=30000"


def test_email_url_switches_to_smtp(tmp_path):
    s = settings_with(tmp_path, EMAIL_URL="smtp://user%40x:pa%2Fss@mail.example.org:587")
    assert s["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (s["email_host"], s["email_port"], s["email_user"], s["email_tls"]) == (
        "mail.example.org",
        587,
        "user@x",
        True,
    )


def test_https_site_url_turns_on_redirect_and_hsts(tmp_path):
    s = settings_with(tmp_path, SITE_URL="https://releasenow.example")
    assert s["ssl_redirect"] is True
    assert s["hsts"] >= 31536000


def test_every_environment_variable_the_code_reads_is_documented_in_env_example():
    root = settings.BASE_DIR
    sources = [root / "releasenow" / "settings.py"]
    for app in ("campaigns", "signatures", "releasenow"):
        sources += list((root / app).rglob("*.py"))
    read = set()
    for path in sources:
        text = path.read_text()
        read |= set(re.findall(r'env(?:_bool|_int|_list|_secret)?\("([A-Z_]+)"', text))
        read |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', text))
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert read - documented == set()


def test_a_mistyped_trusted_proxy_stops_start_up_rather_than_a_visitors_request(tmp_path):
    import pytest

    with pytest.raises(subprocess.CalledProcessError) as failure:
        settings_with(tmp_path, TRUSTED_PROXIES="10.0.0.0/8,10.0.0.300")
    assert "10.0.0.300" in failure.value.stderr


def manage(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "EMAIL_HOST", "SITE_URL")
        and not k.startswith(("SECRET_KEY", "EMAIL_ENCRYPTION_KEYS", "EMAIL_DIGEST_KEY"))
        and k not in ("DEFAULT_FROM_EMAIL",)
    }
    clean.update({"DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "releasenow.settings"})
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=clean,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )


def test_check_deploy_warns_when_keys_live_inside_the_data_dir(tmp_path):
    out = manage(tmp_path, "check", "--deploy")
    for name in ("SECRET_KEY", "EMAIL_ENCRYPTION_KEYS", "EMAIL_DIGEST_KEY"):
        assert f"{name} is read from {tmp_path}" in out.stderr, out.stderr
    inside = tmp_path / "mykey"
    inside.write_text("k" * 60)
    outside = tmp_path.parent / f"{tmp_path.name}-secrets"
    outside.mkdir()
    (outside / "secret").write_text("s" * 60)
    from cryptography.fernet import Fernet

    out = manage(
        tmp_path, "check", "--deploy",
        SECRET_KEY_FILE=str(outside / "secret"), EMAIL_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        EMAIL_DIGEST_KEY_FILE=str(inside),
    )  # fmt: skip
    assert "SECRET_KEY is read" not in out.stderr
    assert "EMAIL_ENCRYPTION_KEYS is read" not in out.stderr
    assert f"EMAIL_DIGEST_KEY is read from {inside}" in out.stderr


def test_default_sender_is_quoted_and_a_malformed_one_stops_start_up(tmp_path):
    s = settings_with(tmp_path)
    assert s["email"] == "releasenow.lib.emails.OutboxBackend"
    out = manage(tmp_path, "check")
    assert out.returncode == 0, out.stderr
    out = manage(tmp_path, "check", DEFAULT_FROM_EMAIL="Release NO:W <noreply@localhost>")
    assert out.returncode != 0
    assert (
        "releasenow.E001" in out.stderr
        and "DEFAULT_FROM_EMAIL is not a valid address" in out.stderr
    )
    out = manage(
        tmp_path, "check", EMAIL_FROM_NAME="Вызваленне: зараз", EMAIL_FROM_ADDRESS="a@b.org"
    )
    assert out.returncode == 0, out.stderr


def test_https_behind_a_proxy_without_its_header_is_flagged_before_it_loops(tmp_path):
    behind = {"SITE_URL": "https://releasenow.example", "TRUSTED_PROXY_HOPS": "1"}
    out = manage(tmp_path, "check", **behind)
    assert "releasenow.W005" in out.stderr and "redirected in a loop" in out.stderr
    out = manage(tmp_path, "check", SECURE_PROXY_SSL_HEADER="true", **behind)
    assert "releasenow.W005" not in out.stderr
    assert "releasenow.W005" not in manage(tmp_path, "check").stderr
