"""System checks of this project's own settings (`manage.py check`, `check --deploy`)."""

import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.mail.message import sanitize_address

GENERATED_KEYS = {
    "SECRET_KEY": "secret_key",
    "EMAIL_ENCRYPTION_KEYS": "email_encryption_key",
    "EMAIL_DIGEST_KEY": "email_digest_key",
}


@register(Tags.compatibility)
def check_sender_addresses(app_configs, **kwargs) -> list:
    """A sender Python cannot parse makes every message fail: say so at start-up."""
    errors = []
    for name in ("DEFAULT_FROM_EMAIL", "SERVER_EMAIL"):
        value = getattr(settings, name)
        try:
            sanitize_address(value, "utf-8")
        except ValueError as exc:
            errors.append(
                Error(
                    f"{name} is not a valid address ({value!r}: {exc}).",
                    hint='Quote a display name with special characters: "Release NO:W" '
                    "<noreply@example.org>, or set EMAIL_FROM_NAME and EMAIL_FROM_ADDRESS.",
                    id="releasenow.E001",
                )
            )
    return errors


def inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


@register(Tags.security, deploy=True)
def check_keys_apart_from_data(app_configs, **kwargs) -> list:
    """Keys generated into DATA_DIR travel with every copy of it: a backup of the data would
    then hold the keys that decrypt it."""
    warnings = []
    data_dir = Path(settings.DATA_DIR)
    for number, (name, filename) in enumerate(GENERATED_KEYS.items(), start=2):
        if os.environ.get(name):
            continue
        source = os.environ.get(f"{name}_FILE")
        path = Path(source) if source else data_dir / filename
        if inside(path, data_dir):
            warnings.append(
                Warning(
                    f"{name} is read from {path}, inside DATA_DIR: a copy of DATA_DIR carries "
                    "the key together with the data it protects.",
                    hint=f"Set {name} in the environment or {name}_FILE to a file outside "
                    "DATA_DIR (a secrets store), and back the keys up apart from the data.",
                    id=f"releasenow.W00{number}",
                )
            )
    return warnings


@register(Tags.security)
def check_https_behind_a_proxy(app_configs, **kwargs) -> list:
    """Behind a proxy that terminates TLS the app sees plain http. Without the proxy's header
    (SECURE_PROXY_SSL_HEADER) every request is redirected to https, which arrives as http
    again: a loop, and no one can sign. gunicorn used to read the header itself; granian
    leaves it to this setting."""
    if (
        settings.SECURE_SSL_REDIRECT
        and settings.TRUSTED_PROXY_HOPS > 0
        and not getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    ):
        return [
            Warning(
                "HTTPS redirects are on and the app runs behind a proxy (TRUSTED_PROXY_HOPS), "
                "but SECURE_PROXY_SSL_HEADER is off: every request would be redirected in a loop.",
                hint="Set SECURE_PROXY_SSL_HEADER=true when the proxy terminates TLS and sets "
                "X-Forwarded-Proto (the shipped nginx configuration does).",
                id="releasenow.W005",
            )
        ]
    return []
