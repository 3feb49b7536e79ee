"""Logs that keep no secrets: confirm and withdraw links carry tokens, and neither e-mail nor
IP addresses belong in a log."""

import logging
import re

TOKEN_PATH = re.compile(r"/(confirm|withdraw)/[^/\s\"]+")
EMAIL = re.compile(r"[^\s@<>\"'(),;:\[\]]+@[^\s@<>\"'(),;:\[\]]+\.[A-Za-z0-9-]+")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
# IPv6: two or more hex groups around a "::", or eight groups; times such as 12:30:45 stay.
IPV6 = re.compile(
    r"(?<![\w:.])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?::"
    r"(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?)(?:%\w+)?(?!\w)"
)


def redact(text: str) -> str:
    return TOKEN_PATH.sub(r"/\1/…", text)


def redact_personal(text: str) -> str:
    """Tokens in paths, e-mail addresses and IP addresses cut out."""
    text = redact(text)
    text = EMAIL.sub("[e-mail]", text)
    text = IPV6.sub("[ip]", text)
    return IPV4.sub("[ip]", text)


class RedactTokens(logging.Filter):
    """For Django's own log lines ("Not Found: /en/manifesto/confirm/<token>/")."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_PATH.search(message):
            record.msg, record.args = redact(message), ()
        return True


class RedactPersonal(RedactTokens):
    """Tokens, e-mail and IP addresses out of the message and of a logged traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_personal(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_personal(record.exc_text)
        return True
