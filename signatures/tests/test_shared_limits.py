"""Limits hold across processes: two real app servers (the web server, one worker each, on their own
ports) share the rate limit and the proof-of-work replay check through the default cache —
the database cache without Redis, Redis with REDIS_URL."""

import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from django.conf import settings

from signatures.models import Signature
from signatures.tests.conftest import OLGA
from signatures.tests.test_abuse import solved_payload

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory):
    """Two web servers on the test database behind a (pretend) nginx, as `make run`
    starts them: returns their ports. Each test is a different visitor (X-Forwarded-For)."""
    tmp_path = tmp_path_factory.mktemp("servers")
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "releasenow.tests.live_settings",
        "RELEASENOW_LIVE_TEST_DATABASE": str(settings.DATABASES["default"]["NAME"]),
        "CACHE_KEY_PREFIX": f"live-{uuid.uuid4().hex}",
        "SIGNING_RATE_LIMIT": f"{LIMIT}/h",  # an hour: no window edge during the test
        "LOGIN_FAILURES_BEFORE_BACKOFF_PER_NETWORK": str(LIMIT),
        "TRUSTED_PROXY_HOPS": "1",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "4",
        "HOST": "127.0.0.1",
    }
    processes = []
    try:
        for port in ports:
            log = open(tmp_path / f"web-{port}.log", "w")  # noqa: SIM115
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "releasenow.webserver"],
                    cwd=settings.BASE_DIR,
                    env={**env, "PORT": str(port), "SITE_URL": f"http://127.0.0.1:{port}"},
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        deadline = time.monotonic() + 60
        for port in ports:
            while True:
                try:
                    if request(port, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    logs = [p.read_text() for p in tmp_path.glob("web-*.log")]
                    pytest.fail("servers did not start:\n" + "\n".join(logs))
                time.sleep(0.2)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


@pytest.fixture
def two_servers(servers, manifesto):
    return servers


def request(
    port: int,
    method: str,
    path: str,
    form: dict | None = None,
    cookie: str = "",
    client: str = "192.0.2.1",
) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        body = urlencode(form) if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
        headers["X-Forwarded-For"] = f"6.6.6.6, {client}"  # a forged entry, then nginx's
        if cookie:
            headers["Cookie"] = cookie
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_two_processes_let_exactly_the_configured_number_through(two_servers):
    extra = 4

    def sign(i: int) -> int:
        port = two_servers[i % 2]
        form = {**OLGA, "email": f"crowd{i}@example.org"}
        return request(port, "POST", "/en/manifesto/sign/", form, client="203.0.113.10")[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(sign, range(LIMIT + extra)))
    assert statuses == [302] * (LIMIT + extra)  # nobody refused
    assert Signature.objects.count() == LIMIT + extra
    assert Signature.objects.filter(held=True).count() == extra
    assert Signature.objects.filter(held=False).count() == LIMIT


def test_a_proof_of_work_is_accepted_once_across_processes(two_servers):
    payload = solved_payload()
    for i, port in enumerate(two_servers):
        form = {**OLGA, "email": f"pow{i}@example.org", "altcha": payload}
        assert request(port, "POST", "/en/manifesto/sign/", form, client="203.0.113.11")[0] == 302
    passed = Signature.objects.filter(email_digest__isnull=False).values_list(
        "challenge_passed", flat=True
    )
    assert sorted(passed) == [False, True]


def test_the_staff_login_back_off_holds_across_processes(two_servers):
    token = "a" * 32  # Django accepts a client-chosen CSRF secret of the right shape
    form = {"username": "someone", "password": "guess", "otp_token": "123456"}
    form["csrfmiddlewaretoken"] = token
    cookie = f"csrftoken={token}"
    statuses = [
        request(two_servers[i % 2], "POST", "/admin/login/", form, cookie, "203.0.113.12")[0]
        for i in range(LIMIT + 2)
    ]
    # LIMIT failures are free, the next one starts the back-off, whichever process counted them.
    assert statuses == [200] * (LIMIT + 1) + [429]
