"""The web server: granian, with the site's settings read from the environment.

    python -m releasenow.webserver          # as the Procfile and the systemd unit start it

Granian parses HTTP in Rust and hands each request to one of a few Python threads per worker
process. It replaced gunicorn, which parses HTTP in Python: under a crowd that cost as much CPU
as the site's own code. Measured on 2 CPUs (README, Performance), the same site served its pages
twice as fast or more, kept up with readers at 1,100 pages a second while people signed, and
signed somewhat more people a second. Idle connections cost no thread (a crowd's preconnects,
a client that sends nothing), a worker killed with `kill -9` is replaced, and HUP (`systemctl
reload`) replaces the workers one after another without refusing a connection.

Settings (see .env.example): HOST and PORT; WEB_CONCURRENCY worker processes (default one
per core, at most 8); WEB_THREADS threads per process (default 3: a thread that waits for the
database or the write lock lets another of its process run); WEB_CONNECTION_REQUESTS (a worker
ends one kept-alive connection in this many answers, 50 by default: releasenow/wsgi.py);
WEB_ACCESS_LOG (off by default: nginx keeps the access log in production, and here each line
cost as much CPU as answering a cached page: a static file went from 5,661 to 11,210 answers a
second without it. When on, a line carries no client address, query string, referrer or user
agent, and confirm and withdraw tokens are cut out of the path).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import socket
import sys

# Each client connection is an open file, and a service gets a soft limit of 1,024 by default:
# raised up to the hard limit before the workers start (the systemd unit sets LimitNOFILE too).
OPEN_FILES = 65536
# Granian's `backpressure`: what a worker takes on at once. It counts the connections held, idle
# keep-alive ones included, not only requests: with the default (1,024 shared by all workers) a
# thousand idle connections, from a crowd or from one attacker, stopped the site answering
# anyone. Threads, not this, bound how many requests run.
CONNECTIONS_PER_WORKER = 4096
# Idle threads are kept this long (granian's maximum; its default is 30 s): a thread that ends
# leaves its database connection to the garbage collector instead of reusing it.
THREAD_IDLE_SECONDS = 600
# WEB_CONNECTION_REQUESTS unless set (releasenow.wsgi.ending_connections).
CONNECTION_REQUESTS = 50
# PostgreSQL cancels a web request's statement after this long (WEB_STATEMENT_TIMEOUT), so
# that a visitor held up by one wait gets the 503 page before nginx gives up (35 s).
STATEMENT_TIMEOUT_SECONDS = 30
MAIN_PID = "RELEASENOW_WEB_MAIN_PID"
PR_SET_PDEATHSIG = 1
# Settings of the gunicorn set-up this server replaced: still set, they would be ignored.
RETIRED = ("GUNICORN_THREADS", "GUNICORN_REUSE_PORT", "GUNICORN_CMD_ARGS", "FORWARDED_ALLOW_IPS")
ACCESS_FORMAT = '[%(time)s] "%(method)s %(path)s" %(status)d %(dt_ms).1fms'


def workers() -> int:
    """One process per core. On 2 cores, 64 signers on SQLite cost the web server 3.7-4.2 ms of
    CPU per signature with 2 processes, 5.3-5.7 ms with 4 (README, Performance: 7 December,
    last)."""
    return int(os.environ.get("WEB_CONCURRENCY") or min(os.cpu_count() or 1, 8))


def threads() -> int:
    return int(os.environ.get("WEB_THREADS") or 3)


def connection_requests() -> int:
    """A worker ends one kept-alive connection in this many answers (0: never)."""
    return int(os.environ.get("WEB_CONNECTION_REQUESTS") or CONNECTION_REQUESTS)


def address() -> tuple[str, int]:
    return os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8000"))


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def refuse_if_in_use(host: str, port: int) -> None:
    """Granian listens with SO_REUSEPORT, so a second server started on the same port by mistake
    (a second `make run`, an old instance left running) would not fail: it would silently take
    a share of the signers, perhaps into another database. Refuse to start while something
    listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SystemExit(f"{host}:{port} is in use already: {error}") from None


def warn_of_retired_settings() -> None:
    for name in RETIRED:
        if name in os.environ:
            print(f"webserver: {name} is no longer read (see .env.example)", file=sys.stderr)


def set_web_defaults() -> None:
    """Settings for the web processes only (the worker and the management commands start
    without them): the settings module unless one is set, and the statement timeout."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "releasenow.settings")
    # On PostgreSQL, no statement of a web request runs longer (settings.py). A variable of its
    # own, so that the environment file the worker and migrations share does not limit them.
    timeout = os.environ.get("WEB_STATEMENT_TIMEOUT") or str(STATEMENT_TIMEOUT_SECONDS)
    os.environ["DATABASE_STATEMENT_TIMEOUT"] = timeout


def application():
    """The site, as each worker loads it (granian calls this in the worker: `factory`).

    A worker also stops when the server's main process ends. Granian's workers do not notice
    it themselves: with the main process killed (`kill -9`, out of memory) they went on serving
    the port, and the server started again beside them refused to start."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if str(os.getppid()) != os.environ.get(MAIN_PID, str(os.getppid())):
            os._exit(1)  # the main process ended before the line above
    from releasenow.wsgi import application, ending_connections

    every = connection_requests()
    return ending_connections(application, every) if every else application


def logging_config() -> dict:
    """Granian's own log and its access log, through the filters that keep tokens, e-mail and
    IP addresses out of every log line (releasenow.lib.logging)."""
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_personal": {"()": "releasenow.lib.logging.RedactPersonal"}},
        "formatters": {
            "server": {"format": "[%(levelname)s] %(message)s"},
            "access": {"format": "%(message)s"},
        },
        "handlers": {
            "server": {**handler, "formatter": "server", "filters": ["redact_personal"]},
            "access": {**handler, "formatter": "access", "filters": ["redact_personal"]},
        },
        "loggers": {
            "_granian": {"handlers": ["server"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


def server():
    from granian.constants import Interfaces
    from granian.server import Server

    host, port = address()
    return Server(
        "releasenow.webserver:application",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers(),
        blocking_threads=threads(),
        blocking_threads_idle_timeout=THREAD_IDLE_SECONDS,
        backpressure=CONNECTIONS_PER_WORKER,
        backlog=2048,
        websockets=False,
        # A worker that dies (kill -9, out of memory) is replaced. One that dies again within
        # 5.5 s of being replaced stops the whole server, which the supervisor (`make run`) or
        # systemd (Restart=always) then starts again.
        respawn_failed_workers=True,
        log_dictconfig=logging_config(),
        log_access=os.environ.get("WEB_ACCESS_LOG", "false").lower() in ("1", "true", "yes"),
        log_access_format=ACCESS_FORMAT,
        # Time for the requests under way when a worker is replaced or the server stops.
        workers_kill_timeout=20,
    )


def main() -> None:
    warn_of_retired_settings()
    raise_open_files_limit()
    refuse_if_in_use(*address())
    os.environ[MAIN_PID] = str(os.getpid())
    set_web_defaults()
    sys.path.insert(0, os.getcwd())
    server().serve()


if __name__ == "__main__":
    main()
