"""The web server as `make run` and the systemd unit start it (gunicorn.conf.py): several worker
processes, each with its own listening socket, each holding a thread only for a connection that
has sent a request."""

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
            "GUNICORN_THREADS": "2",
            "GUNICORN_REUSE_PORT": "true",
            # Idle connections stay open while the test looks at who holds them.
            "GUNICORN_CMD_ARGS": "--keep-alive 30",
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


def test_connections_are_spread_over_every_worker(site):
    """On one shared socket the first worker to call accept() took them: 29 / 28 / 5 / 2 of 64
    keep-alive signers were measured, and those on the crowded workers waited the longest."""
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
    """gunicorn's own threaded worker gives each new connection a thread that waits up to five
    seconds for its first bytes: a few idle connections stalled every request behind them."""
    idle = [socket.create_connection(("127.0.0.1", site.port)) for _ in range(8 * WORKERS)]
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


def test_a_second_server_on_the_same_port_refuses_to_start(site):
    """SO_REUSEPORT would let it share the port silently, taking a share of the signers."""
    import subprocess

    from deploy.localsite import GUNICORN, REPO

    second = subprocess.run(
        [GUNICORN, "releasenow.wsgi"], cwd=REPO, env=site.env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert second.returncode != 0
    assert f"127.0.0.1:{site.port} is in use already" in second.stderr
    assert site.listening() == WORKERS


def test_a_worker_holding_a_thousand_connections_does_not_run_out_of_files(tmp_path):
    """A service's default soft limit is 1,024 open files; a worker accepts up to 1,000
    connections besides its own files. At the limit accept() fails with EMFILE and the worker
    exits, dropping every connection it holds: the master raises the limit first."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip("the hard limit of open files is too low to show it")
    local = LocalSite(
        tmp_path,
        env={
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "2",
            # Up to 1,000 by default, beside the worker's own files (the database's, logs):
            # a few more here, so that the limit of 1,024 is reached for sure.
            "GUNICORN_CMD_ARGS": "--worker-connections 1100",
        },
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
