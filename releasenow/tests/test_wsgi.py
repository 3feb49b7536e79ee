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


def test_every_nth_answer_ends_its_connection_and_says_so_once(early):
    """So that kept-alive connections spread again over the workers (see test_webserver.py):
    an answer from Django or an early answer alike; one that ends its connection anyway
    (413) says it once, and a remembered answer does not keep the header for later."""
    from releasenow.wsgi import application, ending_connections

    served = ending_connections(application, 2)
    said = []

    def answer(env: dict) -> None:
        served(env, lambda status, headers: said.append(
            (status[:3], [value for name, value in headers if name.lower() == "connection"])
        ))  # fmt: skip

    too_large = {**environ("/en/"), "REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(10**7)}
    for env in (environ("/en/no-such-page/"), environ("/en/no-such-page/"), too_large, too_large):
        answer(env)
    for _ in range(4):  # rendered, from the page cache, then twice answered early
        answer(environ("/en/manifesto/"))
    assert said == [
        ("404", []), ("404", ["close"]), ("413", ["close"]), ("413", ["close"]),
        ("200", []), ("200", ["close"]), ("200", []), ("200", ["close"]),
    ]  # fmt: skip
    assert len(early) == 6, "the last two pages were answered without Django"


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


def test_a_worker_leaves_what_it_loaded_out_of_the_collectors_sight(tmp_path):
    """A full garbage collection goes through what requests made, not the whole of Django
    (it stalled the worker's every thread for 79 ms): in a process of its own, as a worker."""
    import os
    import subprocess

    code = (
        "import gc, releasenow.wsgi; "
        "print(gc.get_freeze_count(), len(gc.get_objects()), gc.isenabled())"
    )
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "releasenow.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    frozen, seen, enabled = done.stdout.split()
    assert int(frozen) > 10 * int(seen)  # Django and the site, frozen; little else in sight
    assert enabled == "True"  # the requests' garbage is still collected


def test_the_names_taken_out_are_the_processs_own_and_never_the_requests():
    import os

    from releasenow import wsgi

    assert "PATH" in os.environ and "PATH" in wsgi.SERVER_ENVIRONMENT
    assert not wsgi.SERVER_ENVIRONMENT & wsgi.CGI_NAMES


# Cached pages answered before Django --------------------------------------------------------


@pytest.fixture
def early(content):
    """A clean slate of remembered answers, and a record of the requests Django handled."""
    from releasenow.lib import pagecache

    pagecache._answers.clear()
    pagecache._hosts.clear()
    handled = []

    def record(sender, **kwargs):
        handled.append(sender)

    request_started.connect(record, weak=False, dispatch_uid="test-early")
    yield handled
    request_started.disconnect(dispatch_uid="test-early")
    pagecache._answers.clear()


def get(path: str = "/en/manifesto/", **extra) -> tuple[str, dict, bytes]:
    from releasenow.wsgi import application

    started = []
    body = application({**environ(path), **extra}, lambda *args: started.append(args[:2]))
    [(status, headers)] = started
    return status, dict(headers), b"".join(body)


def count_of(body: bytes) -> str:
    import re

    return re.search(rb'class="count"><strong>([\d,]+)</strong>', body).group(1).decode()


@pytest.mark.parametrize("encoding", ["", "gzip, deflate, br"])
def test_a_page_answered_from_the_cache_is_answered_again_without_django_the_same(early, encoding):
    request = {"HTTP_ACCEPT_ENCODING": encoding}
    miss, hit = get(**request), get(**request)
    assert (miss[1]["X-Cache"], hit[1]["X-Cache"], len(early)) == ("miss", "hit", 2)
    answer = get(**request)
    assert len(early) == 2, "Django did not see the third request"
    assert answer == hit
    assert "Content-Security-Policy" in answer[1] and answer[1]["X-Frame-Options"] == "DENY"
    assert answer[1]["Referrer-Policy"] == "same-origin"  # from the middleware before the cache
    assert ("Content-Encoding" in answer[1]) == bool(encoding)


def test_an_early_answer_shows_the_live_count(early):
    from campaigns.models import Petition

    get(), get()
    Petition.objects.filter(slug="manifesto").update(signature_count=1234)
    _, headers, body = get()
    assert len(early) == 2
    assert count_of(body) == "1,234" and int(headers["Content-Length"]) == len(body)


@pytest.mark.parametrize(
    "other",
    [
        {"HTTP_HOST": "localhost"},
        {"wsgi.url_scheme": "https", "HTTP_X_FORWARDED_PROTO": "https"},
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {"QUERY_STRING": "source=viasna"},
        {"HTTP_COOKIE": "sessionid=abc"},
        {"REQUEST_METHOD": "HEAD"},
        {"PATH_INFO": "/de/manifesto/"},
    ],
)
def test_a_request_that_differs_in_anything_the_answer_depends_on_goes_through_django(
    early, settings, other
):
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    get(), get()
    get(**other)
    assert len(early) == 3


def test_an_edit_or_a_copy_past_its_time_goes_through_django(early):
    from campaigns.models import Section
    from releasenow.lib import pagecache

    get("/en/"), get("/en/")
    section = Section.objects.first()
    section.set_current_language("en")
    section.title = "A freshly edited heading"
    section.save()
    _, headers, body = get("/en/")
    assert len(early) == 3 and headers["X-Cache"] == "miss"
    assert b"A freshly edited heading" in body
    get("/en/"), get("/en/")
    assert len(early) == 4  # remembered again
    for _version, page, _status, _headers in pagecache._answers.values():
        page.expires = 0
    get("/en/")
    assert len(early) == 5


def test_a_host_django_refuses_is_never_answered_early(early):
    get(), get()
    for _ in range(2):
        status, _, _ = get(HTTP_HOST="evil.example")
        assert status.startswith("400")
    assert len(early) == 4


def test_variants_django_treats_alike_share_one_remembered_answer(early):
    """A port in Host, an X-Forwarded-Host Django ignores, a very long header: no new entries,
    so nobody can fill the table (and keep old pages in memory) by varying them."""
    from releasenow.lib import pagecache

    get(), get()
    for i in range(20):
        get(HTTP_X_FORWARDED_HOST=f"x{i}.example" + "x" * 4000)
        get(HTTP_HOST=f"testserver:{8001 + i}")
    assert len(pagecache._answers) == 1
    assert len(pagecache._hosts) <= pagecache.MAX_HOSTS
    get(HTTP_HOST="testserver:" + "1" * 5000)
    assert all(len(host) <= pagecache.MAX_HOST_LENGTH for host in pagecache._hosts)


@pytest.mark.parametrize("proxy_header", [None, ("HTTP_X_FORWARDED_PROTO", "https")])
@pytest.mark.parametrize("forwarded_host", [False, True])
@pytest.mark.parametrize(
    "request_",
    [
        {},
        {"wsgi.url_scheme": "https", "SERVER_PORT": "443"},
        {"HTTP_X_FORWARDED_PROTO": "https, http"},
        {"HTTP_X_FORWARDED_PROTO": "http", "wsgi.url_scheme": "https"},
        {"HTTP_X_FORWARDED_HOST": "proxy.example", "HTTP_HOST": "testserver:8000"},
        {"HTTP_HOST": None, "SERVER_PORT": "8080"},
        {"HTTP_HOST": None, "wsgi.url_scheme": "https", "SERVER_PORT": "443"},
    ],
)
def test_the_scheme_and_host_of_the_early_path_are_djangos(
    settings, proxy_header, forwarded_host, request_
):
    """`pagecache` decides both without building Django's request: it must decide as Django."""
    from django.core.handlers.wsgi import WSGIRequest

    from releasenow.lib import pagecache

    settings.SECURE_PROXY_SSL_HEADER = proxy_header
    settings.USE_X_FORWARDED_HOST = forwarded_host
    request = {**environ("/en/"), **request_}
    request = {k: v for k, v in request.items() if v is not None}
    django_request = WSGIRequest(dict(request))
    secure = pagecache._is_secure(request)
    assert secure == django_request.is_secure()
    assert pagecache._host(request, secure) == django_request._get_raw_host()


def test_a_full_table_forgets_its_least_read_answer_not_every_answer(early, monkeypatch):
    """A crawler reaching every page in every language fills the table; the pages a crowd
    keeps reading stay answered early."""
    from releasenow.lib import pagecache

    monkeypatch.setattr(pagecache, "MAX_ANSWERS", 2)
    get("/en/manifesto/"), get("/en/manifesto/")  # the second is remembered as answered
    get("/en/"), get("/en/")
    handled = len(early)
    get("/en/manifesto/")  # read again: the youngest entry now
    get("/en/privacy/"), get("/en/privacy/")  # a third page: the home page, read least lately, goes
    assert len(pagecache._answers) == 2
    assert {key[0] for key in pagecache._answers} == {"/en/manifesto/", "/en/privacy/"}
    before = len(early)
    get("/en/manifesto/")
    assert len(early) == before  # still answered without Django
    assert handled < before
