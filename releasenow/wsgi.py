import gc
import itertools
import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "releasenow.settings")
django_application = get_wsgi_application()

from releasenow.lib.pagecache import answer_facts, early_answer, remember_answer  # noqa: E402

# Granian starts every request's environ from a copy of the process's environment, so Django's
# request.META carried DATABASE_URL, SECRET_KEY and every other setting (into error reports, for
# one), and a variable such as HTTP_PROXY would pass for a header the client sent. These names
# are taken out again; a request's own values (its headers, its path) are set after the copy,
# so one that has the same name as a variable goes too, which for HTTP_PROXY is the point.
CGI_NAMES = frozenset({
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
    "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
})  # fmt: skip
SERVER_ENVIRONMENT = frozenset(os.environ) - CGI_NAMES
log = logging.getLogger(__name__)


def application(environ, start_response):
    """Django's WSGI handler, without the server's environment in the request, and with a
    whole answer handed over as one piece of bytes.

    Django returns the response object itself, which the server has to iterate; granian then
    moves the body chunk by chunk between Python and its own threads. A response that is not
    streamed is complete already: it goes as a list of one bytes object, which granian sends in
    one go (a cached page measured 5-8 % less CPU), and the response is closed
    (request_finished) first. Streamed responses (static files, exports) are handed over as
    before.

    A cached page this process has answered before, for a request alike in everything the
    answer depends on, is answered without Django (`pagecache.early_answer`): a seventh of the
    CPU time (302 against 43 µs in-process), so readers leave the signers more of the machine.
    """
    for name in SERVER_ENVIRONMENT.intersection(environ):
        del environ[name]
    facts = answer_facts(environ)
    try:
        early = early_answer(facts)
    except Exception:  # noqa: BLE001 - the shared cache is away (Redis down): Django answers
        log.warning("No early answer", exc_info=True)
        early = None
    if early is not None:
        status, headers, body = early
        start_response(status, headers)
        return [body]
    response = django_application(environ, start_response)
    if getattr(response, "streaming", True):
        return response
    try:
        return [response.content]
    finally:
        response.close()
        if hasattr(response, "page_hit"):
            remember_answer(facts, response)


def ending_connections(app, every: int):
    """`app`, with one answer in `every` saying `Connection: close` (HTTP/1.1), for granian
    (releasenow/webserver.py). A kept-alive connection (nginx's pool, a browser's, a load
    test's) stays with the worker that accepted it. When a worker dies (`kill -9`, out of
    memory), its clients connect again at once, before its replacement listens, and all land on
    the others: with two workers, every one of 64 signers' connections went to the survivor,
    and the new worker served none until the end of the run. Ended now and then, connections
    are spread again by the kernel (SO_REUSEPORT), and the new worker gets its share (README,
    Performance: 7 December, last). A reconnect costs less than a request. For PEP 3333
    `Connection` is the server's: granian honours it, but wsgiref (`runserver`) refuses it,
    so only the web server adds it."""
    answers = itertools.count(1)

    def ending(environ, start_response):
        if next(answers) % every == 0:
            start_response = _closing(start_response)
        return app(environ, start_response)

    return ending


def _closing(start_response):
    """`start_response` with `Connection: close` added to the answer's headers."""

    def closing(status, headers, exc_info=None):
        if not any(name.lower() == "connection" for name, _value in headers):
            headers = [*headers, ("Connection", "close")]
        if exc_info is None:
            return start_response(status, headers)
        return start_response(status, headers, exc_info)

    return closing


# The country list's collation table, loaded on first use: load it as the worker starts, not
# while its first signers wait.
from signatures.forms import country_codes  # noqa: E402

country_codes()

# What the process has loaded by now (Django, the site's code, the country list) lives as long
# as the process does: frozen (gc.freeze), the garbage collector no longer looks at it, and a
# full collection goes through what requests made since. Going through all of it, a collection
# held the GIL, and so every thread of the worker, for 79 ms once every few thousand sign
# requests (11 ms frozen; bench/instructions.py's site, in-process): every signer and reader
# of that worker waited through it at once. Signing at 64 clients, interleaved runs: p99 216 ->
# 181 ms (README, Performance: 7 December, late night).
gc.collect()
gc.freeze()
