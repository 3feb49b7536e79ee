"""Access logs that keep no secrets: confirm and withdraw links carry tokens."""

import logging
import re

from gunicorn.glogging import Logger

TOKEN_PATH = re.compile(r"/(confirm|withdraw)/[^/\s\"]+")


def redact(text: str) -> str:
    return TOKEN_PATH.sub(r"/\1/…", text)


class RedactingLogger(Logger):
    """Gunicorn's logger, with tokens cut out of the request line before it is written."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "{raw_uri}e"):
            if key in atoms and isinstance(atoms[key], str):
                atoms[key] = redact(atoms[key])
        return atoms


class RedactTokens(logging.Filter):
    """For Django's own log lines ("Not Found: /en/manifesto/confirm/<token>/")."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_PATH.search(message):
            record.msg, record.args = redact(message), ()
        return True
