"""Gunicorn settings, read from the environment (see .env.example)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Two processes per core (at most 8): Python runs one thread at a time per process, and with
# one process per core a core idles whenever its process waits (for the database's write lock,
# or with more of the keep-alive connections landing on the other process).
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1), 8))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# No client address, no query string, no referrer or user agent: logs must not identify signers.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logger_class = "releasenow.lib.logging.RedactingLogger"
