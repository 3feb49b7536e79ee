"""Gunicorn settings, read from the environment (see .env.example)."""

import os
import resource
import socket

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Two processes per core (at most 8): Python runs one thread at a time per process, and with
# one process per core a core idles whenever its process waits (for the database's write lock,
# or with more of the keep-alive connections landing on the other process).
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1), 8))
worker_class = "releasenow.webserver.ThreadWorker"  # gthread, see there
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# No client address, no query string, no referrer or user agent: logs must not identify signers.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logger_class = "releasenow.lib.logging.RedactingLogger"

# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections evenly over them. On one shared socket the worker that happens to call accept()
# first takes them: measured with 64 keep-alive signers and 4 workers, 29 / 28 / 5 / 2
# connections, and the signers on the crowded workers waited several times longer than the
# others. A new worker's socket opens when it starts, before it has loaded the site: the
# connections it gets meanwhile wait for it (half a second or so), but none is refused while
# workers are replaced (`systemctl reload`). So that a worker that exits hands the connections
# waiting in its queue to the others instead of resetting them, set the sysctl
# `net.ipv4.tcp_migrate_req = 1` (deploy/sysctl/90-releasenow.conf). Set GUNICORN_REUSE_PORT=false
# for a bind that is not host:port (a Unix socket).
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "true").lower() not in ("0", "false", "no")


# Each client connection is an open file. A worker keeps up to 1,000 (gunicorn's
# worker_connections) besides its own files, but a service gets a soft limit of 1,024 by
# default: at that limit accept() fails with EMFILE and the worker exits, dropping every
# connection it holds. The master raises the soft limit up to the hard one before it starts the
# workers (the systemd unit sets LimitNOFILE too).
OPEN_FILES = 65536


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def on_starting(server) -> None:
    """With SO_REUSEPORT a second server started on the same port by mistake (a second
    `make run`, an old instance left running) would not fail: it would silently take a share of
    the signers, perhaps into another database. Refuse to start while something listens there;
    a reuse-port bind must also be host:port (each worker would replace a Unix socket's file)."""
    raise_open_files_limit()
    if not server.cfg.reuse_port:
        return
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            raise SystemExit(f"GUNICORN_REUSE_PORT needs a host:port bind, not {address!r}")
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise SystemExit(f"{address[0]}:{address[1]} is in use already: {error}") from None
