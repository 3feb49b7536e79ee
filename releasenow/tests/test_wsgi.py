"""The WSGI entry point the web server runs (releasenow/wsgi.py)."""

import io
import sys

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_test_connection():
    """As Django's test client does: the test's database connection stays open."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def environ(path: str) -> dict:
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "HTTP_HOST": "testserver", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http", "wsgi.version": (1, 0), "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
    }  # fmt: skip


def test_a_whole_answer_goes_as_one_piece_and_the_request_is_finished_first():
    from releasenow.wsgi import application

    finished, started = [], []
    request_finished.connect(
        lambda sender, **kwargs: finished.append(sender), weak=False, dispatch_uid="test-wsgi"
    )
    try:
        body = application(environ("/en/no-such-page/"), lambda status, _: started.append(status))
        assert finished, "request_finished is sent before the body is handed over"
    finally:
        request_finished.disconnect(dispatch_uid="test-wsgi")
    assert isinstance(body, list) and len(body) == 1 and isinstance(body[0], bytes)
    assert started == ["404 Not Found"] and b"</html>" in body[0]


def test_a_streamed_answer_is_handed_over_as_it_streams(settings):
    from releasenow.wsgi import application

    static = next((p for p in (settings.STATIC_ROOT).rglob("*.css")), None)
    if static is None:
        pytest.skip("no collected static files (make build)")
    path = "/static/" + static.relative_to(settings.STATIC_ROOT).as_posix()
    statuses = []
    body = application(environ(path), lambda status, headers: statuses.append(status))
    try:
        assert not isinstance(body, list)
        assert statuses == ["200 OK"]
        assert b"".join(body) == static.read_bytes()
    finally:
        body.close()


def test_the_servers_environment_is_not_part_of_the_request(monkeypatch):
    """Granian copies the process's environment into every request's environ."""
    from django.http import HttpResponse

    from releasenow import wsgi

    seen = {}

    def site(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [])
        return HttpResponse("ok")

    monkeypatch.setattr(wsgi, "django_application", site)
    monkeypatch.setattr(wsgi, "SERVER_ENVIRONMENT", frozenset({"SECRET_KEY", "HTTP_PROXY"}))
    request = {**environ("/en/"), "SECRET_KEY": "s3cret", "HTTP_PROXY": "http://evil.example"}
    assert wsgi.application(request, lambda status, headers: None) == [b"ok"]
    assert "SECRET_KEY" not in seen and "HTTP_PROXY" not in seen
    assert seen["PATH_INFO"] == "/en/" and seen["REQUEST_METHOD"] == "GET"


def test_the_names_taken_out_are_the_processs_own_and_never_the_requests():
    import os

    from releasenow import wsgi

    assert "PATH" in os.environ and "PATH" in wsgi.SERVER_ENVIRONMENT
    assert not wsgi.SERVER_ENVIRONMENT & wsgi.CGI_NAMES
