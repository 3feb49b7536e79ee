"""The web server as `make run` and the systemd unit start it (releasenow/webserver.py): several
granian worker processes, each with its own listening socket (SO_REUSEPORT), each giving a thread
only to a request."""

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from deploy.localsite import LocalSite, wait_until

WORKERS = 4


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    local = LocalSite(
        tmp_path_factory.mktemp("webserver"),
        env={
            "WEB_CONCURRENCY": str(WORKERS),
            "WEB_THREADS": "2",
            "WEB_ACCESS_LOG": "true",
            "WEB_CONNECTION_REQUESTS": "0",  # each test here counts its own connections
        },
    )
    local.setup()
    local.start_web()
    try:
        yield local
    finally:
        local.stop()


def get(connection: socket.socket, path: str = "/healthz") -> bytes:
    """One keep-alive request; the status line of its answer."""
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = connection.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer.split(b"\r\n", 1)[0]


def owners(site: LocalSite, connections: list[socket.socket]) -> dict[int, int]:
    """How many of these client connections each worker process holds."""
    ports = {c.getsockname()[1] for c in connections}
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if local.endswith(f":{site.port:04X}") and int(remote.split(":")[1], 16) in ports:
            inodes.add(fields[9])
    held = {}
    for pid in site.web_workers():
        fds = Path(f"/proc/{pid}/fd")
        links = {os.readlink(fd) for fd in fds.iterdir() if fd.is_symlink()}
        held[pid] = sum(f"socket:[{inode}]" in links for inode in inodes)
    return held


def test_each_worker_listens_on_its_own_socket(site):
    assert len(site.web_workers()) == WORKERS
    assert site.listening() == WORKERS


def test_web_requests_have_a_statement_timeout_that_an_operator_can_change(monkeypatch):
    """WEB_STATEMENT_TIMEOUT (30 s unless set) becomes DATABASE_STATEMENT_TIMEOUT, which
    settings.py hands to PostgreSQL, for the web server's processes only: the worker and the
    management commands read the same environment file and have no limit."""
    from releasenow import webserver

    for name in ("WEB_STATEMENT_TIMEOUT", "DATABASE_STATEMENT_TIMEOUT"):
        monkeypatch.setenv(name, "")  # so that the test leaves both as they were
        monkeypatch.delenv(name)
    webserver.set_web_defaults()
    assert os.environ["DATABASE_STATEMENT_TIMEOUT"] == "30"
    monkeypatch.setenv("WEB_STATEMENT_TIMEOUT", "5")
    webserver.set_web_defaults()
    assert os.environ["DATABASE_STATEMENT_TIMEOUT"] == "5"


def test_connections_are_spread_over_every_worker(site):
    """If one worker took most of the keep-alive signers (as gunicorn's did on a shared socket:
    29 / 28 / 5 / 2 of 64), those on the crowded worker would wait the longest."""
    connections = [socket.create_connection(("127.0.0.1", site.port)) for _ in range(64)]
    try:
        for connection in connections:
            assert get(connection) == b"HTTP/1.1 200 OK"
        held = owners(site, connections)
        assert sum(held.values()) == 64
        assert all(0 < count <= 32 for count in held.values()), held
    finally:
        for connection in connections:
            connection.close()


def test_connections_that_send_nothing_do_not_hold_up_the_others(site):
    """A crowd's preconnects, or anyone opening connections and sending nothing: far more of
    them than there are threads, and the requests of others are still answered."""
    idle = [socket.create_connection(("127.0.0.1", site.port)) for _ in range(100 * WORKERS)]
    try:
        for _ in range(10):
            with socket.create_connection(("127.0.0.1", site.port), timeout=3) as connection:
                assert get(connection) == b"HTTP/1.1 200 OK"
    finally:
        for connection in idle:
            connection.close()


def answered(site: LocalSite, seconds: float) -> int:
    """New connections, one after another, for `seconds`; each must be answered."""
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", site.port), timeout=10) as connection:
            assert get(connection) == b"HTTP/1.1 200 OK"
        count += 1
    return count


MIGRATE = Path("/proc/sys/net/ipv4/tcp_migrate_req")
needs_migrate = pytest.mark.skipif(
    not MIGRATE.exists() or MIGRATE.read_text().strip() != "1",
    reason="needs deploy/sysctl/90-releasenow.conf (net.ipv4.tcp_migrate_req = 1)",
)


@needs_migrate
def test_a_worker_killed_with_minus_9_is_replaced_and_every_connection_is_answered(site):
    victim = site.web_workers()[0]
    os.kill(victim, signal.SIGKILL)
    assert answered(site, 3) > 0
    assert wait_until(lambda: site.listening() == WORKERS and victim not in site.web_workers(), 30)
    assert answered(site, 1) > 0


@needs_migrate
def test_a_reload_replaces_every_worker_and_refuses_no_connection(site):
    """`systemctl reload` (HUP) during a campaign: new workers start, the old ones finish what
    they hold and leave; no connection meanwhile is refused or reset."""
    before = set(site.web_workers())
    site.web.send_signal(signal.SIGHUP)
    assert answered(site, 4) > 0
    assert wait_until(lambda: not before & set(site.web_workers()), 30)
    assert wait_until(lambda: site.listening() == WORKERS, 30)
    assert answered(site, 1) > 0


def test_a_kept_alive_connection_is_ended_now_and_then_so_that_a_new_worker_gets_its_share(
    tmp_path,
):
    """A worker replaced after `kill -9` starts with no connection: those of the worker that
    died came back to the others before it listened, and kept alive they would stay there
    (releasenow.wsgi). Every WEB_CONNECTION_REQUESTS-th answer of a worker ends its
    connection, and the client connects again, to whichever worker the kernel picks."""
    local = LocalSite(
        tmp_path, env={"WEB_CONCURRENCY": "1", "WEB_THREADS": "2", "WEB_CONNECTION_REQUESTS": "3"}
    )
    local.setup()
    local.start_web()
    try:
        with socket.create_connection(("127.0.0.1", local.port), timeout=10) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 3)
            answers = b""
            while chunk := connection.recv(65536):  # until the server closes the connection
                answers += chunk
        heads = [part.split(b"\r\n\r\n")[0].lower() for part in answers.split(b"HTTP/1.1 ")[1:]]
        assert len(heads) == 3 and all(head.startswith(b"200 ok") for head in heads)
        assert [b"connection: close" in head for head in heads] == [False, False, True]
    finally:
        local.stop()


def test_a_second_server_on_the_same_port_refuses_to_start(site):
    """Granian listens with SO_REUSEPORT: a second server would share the port silently, taking a
    share of the signers."""
    import subprocess

    from deploy.localsite import REPO, WEBSERVER

    second = subprocess.run(
        WEBSERVER, cwd=REPO, env=site.env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert second.returncode != 0
    assert f"127.0.0.1:{site.port} is in use already" in second.stderr
    assert site.listening() == WORKERS


def test_a_worker_holding_a_thousand_connections_does_not_run_out_of_files(tmp_path):
    """A service's default soft limit is 1,024 open files, and each connection is one. At the
    limit accept() fails with EMFILE and new visitors wait in vain: the server raises the
    limit before its workers start. Granian's own default also stopped accepting at 1,024
    connections held (releasenow.webserver.CONNECTIONS_PER_WORKER)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip("the hard limit of open files is too low to show it")
    local = LocalSite(
        tmp_path,
        env={"WEB_CONCURRENCY": "1", "WEB_THREADS": "2"},
    )
    local.setup()
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # as systemd gives a service
    try:
        local.start_web()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    connections = []
    try:
        (worker,) = local.web_workers()
        for _ in range(1090):
            connections.append(socket.create_connection(("127.0.0.1", local.port)))
        time.sleep(1)
        with socket.create_connection(("127.0.0.1", local.port), timeout=15) as fresh:
            assert get(fresh) == b"HTTP/1.1 200 OK"
        assert local.web_workers() == [worker]
    finally:
        for connection in connections:
            connection.close()
        local.stop()


def test_the_access_log_names_no_one(site):
    """Neither the client's address nor a confirm token nor the query string (an address typed
    into a link) reaches the log."""
    log = site.folder / "web.log"
    size = log.stat().st_size
    with socket.create_connection(("127.0.0.1", site.port), timeout=10) as connection:
        get(connection, "/en/manifesto/confirm/secret-token:abc/?email=a.b@example.org")
        get(connection, "/healthz?from=192.0.2.7")
    assert wait_until(lambda: log.stat().st_size > size, 5)
    time.sleep(0.5)
    with open(log, "rb") as f:
        f.seek(size)
        written = f.read().decode()
    assert '"GET /en/manifesto/confirm/…/" 404' in written
    assert '"GET /healthz" 200' in written
    for secret in ("secret-token", "example.org", "127.0.0.1", "192.0.2.7", "email="):
        assert secret not in written, written


def test_the_workers_stop_when_the_main_process_is_killed_and_the_server_starts_again(tmp_path):
    """Granian's workers do not notice their main process dying: killed with -9, it left them
    serving the port, and the server started again (by the supervisor, by systemd) refused to
    start beside them."""
    local = LocalSite(tmp_path, env={"WEB_CONCURRENCY": "2", "WEB_THREADS": "2"})
    local.setup()
    local.start_web()
    try:
        workers = local.web_workers()
        assert len(workers) == 2
        local.web.kill()
        local.web.wait()
        assert wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 15)
        assert wait_until(lambda: local.listening() == 0, 5)
        local.start_web()
        with socket.create_connection(("127.0.0.1", local.port), timeout=10) as connection:
            assert get(connection) == b"HTTP/1.1 200 OK"
    finally:
        local.stop()
