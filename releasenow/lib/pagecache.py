"""Whole-page cache for the public pages anonymous visitors read, and their compression.

A viral day is tens of thousands of people reading the same few pages in eight languages. Views
marked `@public_page` answer the same to every anonymous visitor, so their rendered HTML is kept
in the shared "pages" cache (Redis in production; files in DATA_DIR otherwise, so every process
on one machine shares it) and served without running the view:

- the key is the path (with its language prefix) and query string, under a content version
  that any save of a content model bumps (`CONTENT_APPS`), so edits show at once;
- the signature count is not frozen into the page: the count snippet is cut out when the page
  is stored and filled in on every answer (`shown_count`: from the petition row, or with Redis
  the count all processes share for a slot of PAGE_COUNT_SECONDS), so the origin never shows
  a count more than a second old and never one lower than it showed before (other parts, such
  as the latest signatories, are at most `PAGE_CACHE_SECONDS` + `STALE_GRACE` old);
- answers carry `Cache-Control: public, max-age, stale-while-revalidate` so the shipped nginx
  micro-cache (or a CDN) can hold them; with the defaults no copy anyone gets is older than
  30 s (PAGE_CACHE_SECONDS + STALE_GRACE at the origin, max-age + stale-while-revalidate after);
- HTML is gzip-compressed from pieces compressed once (deflate blocks flushed at the count
  snippet), so compression costs almost nothing per answer. Public pages carry no secret
  (the sign form has no CSRF token), so compression leaks nothing (BREACH).

Requests with a session cookie (staff), other methods and every other view bypass all of this.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import struct
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from functools import wraps
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.regex_helper import _lazy_re_compile

log = logging.getLogger(__name__)

COUNT_TEMPLATE = "campaigns/includes/count.html"
VERSION_KEY = "pages:version"
# Saving any model of these apps changes what pages show. Signatures are not content: they
# move the count (filled in live) and lists (renewed after PAGE_CACHE_SECONDS).
CONTENT_APPS = ("campaigns",)
# Staff moderation and signers' withdrawals (each writes an audit entry) must leave the lists at
# once, not after PAGE_CACHE_SECONDS; they are rare, unlike new signatures.
CONTENT_MODELS = ("signatures.auditentry",)
# Saves that only move the counter are not content changes.
COUNTER_FIELDS = frozenset({"signature_count", "updated_at"})
MAX_QUERY = 200
# The query parameters public pages read: the partner link (?source=) and the signatory list's
# cursor (?before=). A view that reads another one must add it here.
PAGE_QUERY_PARAMS = ("source", "before")
VERSION_RECHECK = 1.0  # seconds
# Seconds a page past PAGE_CACHE_SECONDS may still be served while one request renews it.
STALE_GRACE = 5
# How long a request waits for the page another thread of its process is rendering, before it
# renders the page itself.
RENDER_WAIT = 5.0
ACCEPTS_GZIP = _lazy_re_compile(r"\bgzip\b")
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
DROPPED_HEADERS = {"content-length", "content-encoding", "set-cookie", "date", "x-cache"}


def public_page(view):
    """Mark a view whose GET answers are the same for every anonymous visitor.

    Only a 200 to GET/HEAD that sets no cookie is marked: a POST, a form with errors (those only
    come from a POST), a redirect or an error page is never cached.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not response.cookies
            and not response.streaming
            and not response.has_header("Cache-Control")
        ):
            response.public_page = True
            patch_cache_control(
                response,
                public=True,
                max_age=settings.PAGE_MAX_AGE,
                stale_while_revalidate=settings.PAGE_STALE_WHILE_REVALIDATE,
            )
        return response

    return wrapped


def shows_count(request: HttpRequest, petition) -> None:
    """The page shows this petition's count: the cache fills it in live on every answer."""
    if petition is not None:
        request.page_count = (petition.pk, petition.signature_count)


# The cache ---------------------------------------------------------------------------------


def page_cache():
    alias = settings.PAGE_CACHE_ALIAS
    return caches[alias if alias in settings.CACHES else "default"]


_version: list = [None, 0.0]  # this process's last look at the shared version, and when


def content_version() -> str:
    """The shared content version, looked up at most once a second per process: an edit shows
    everywhere within a second, and a cached page costs one round trip less."""
    now = time.monotonic()
    if _version[0] is not None and now - _version[1] < VERSION_RECHECK:
        return _version[0]
    version = page_cache().get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex[:12]
        if not page_cache().add(VERSION_KEY, version, timeout=None):
            version = page_cache().get(VERSION_KEY) or version
    _version[:] = [version, now]
    return version


def content_changed() -> None:
    """Forget every cached page: now, and again once the transaction commits (a page rendered
    in between from the old rows must not outlive it)."""

    def bump() -> None:
        page_cache().set(VERSION_KEY, uuid.uuid4().hex[:12], None)
        _version[0] = None

    bump()
    transaction.on_commit(bump)


def on_content_saved(sender, update_fields=None, **kwargs) -> None:
    meta = sender._meta
    if meta.app_label not in CONTENT_APPS and meta.label_lower not in CONTENT_MODELS:
        return
    if update_fields and set(update_fields) <= COUNTER_FIELDS:
        return
    content_changed()


def connect_signals() -> None:
    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(on_content_saved, dispatch_uid=f"pagecache-{id(signal)}")


def current_count(petition_id: int) -> int | None:
    """The count as committed now: one primary-key read on the driver's own connection.

    A cached page that shows the count runs it on every answer (on SQLite by default), so it
    skips what a query through Django costs: the connection proxy looked up at every step, the
    cursor wrappers (measured: about a fifth of answering the cached manifesto). Also without
    the connection health check (CONN_HEALTH_CHECKS, on with PostgreSQL): it is a `SELECT 1`
    before the first query of each request, a second round trip for every cached page answered.
    If the connection has died, this read fails instead, the page shows the count it was
    rendered with (`Page.body`), and Django replaces the connection after the request.
    """
    db = connections[DEFAULT_DB_ALIAS]
    db.health_check_done = True
    sql = _count_sql.get(db.vendor)
    if sql is None:
        table = db.ops.quote_name(apps.get_model("campaigns", "Petition")._meta.db_table)
        marker = "?" if db.vendor == "sqlite" else "%s"
        sql = _count_sql[db.vendor] = f"SELECT signature_count FROM {table} WHERE id = {marker}"  # noqa: S608
    db.ensure_connection()
    with db.wrap_database_errors:
        row = db.connection.execute(sql, (petition_id,)).fetchone()
    return row[0] if row else None


_count_sql: dict[str, str] = {}


_shown: dict[int, tuple[int, int]] = {}  # petition id -> (time slot, count) in this process
_clock = time.time  # the slots' clock (tests move it)


def shown_count(petition_id: int) -> int | None:
    """The count a page answered now shows.

    With PAGE_COUNT_SECONDS = 0, the committed count, read on every answer. Otherwise time is
    cut in slots of that length, and every process of every app server shows the same count
    during a slot: the first process to reach a slot reads the database and offers the count to
    the default cache (`add`: atomic in Redis and in the database cache); every other process
    takes that one, then holds it in memory until the slot ends. So a cached page costs no
    round trip at all, the count is at most one slot old, and it never goes backwards from one
    answer to the next, whichever process gives them (each process holding its own copy for a
    while would let a reload show a lower count). On PostgreSQL the per-answer read was a round
    trip that halved the pages' speed against a static file.
    """
    seconds = settings.PAGE_COUNT_SECONDS
    if seconds <= 0:
        return current_count(petition_id)
    slot = int(_clock() / seconds)
    held = _shown.get(petition_id)
    if held is not None and held[0] == slot:
        return held[1]
    key = f"count:{petition_id}:{slot}"
    shared = caches["default"]
    try:
        count = shared.get(key)
        if count is None:
            count = current_count(petition_id)
            if count is None:
                return None
            if int(_clock() / seconds) != slot:
                # Read after the slot ended: that count may be newer than the next slot's,
                # which another process may show already. Take the next slot's instead.
                return shown_count(petition_id)
            if not shared.add(key, count, timeout=max(10, int(seconds * 4))):
                count = shared.get(key, count)
    except DatabaseError:
        raise
    except Exception:  # noqa: BLE001 - the shared cache is away: read the count every time
        log.warning("Page cache unavailable for the count", exc_info=True)
        return current_count(petition_id)
    held = _shown.get(petition_id)
    if held is None or held[0] < slot:
        _shown[petition_id] = (slot, count)
    return count


class _Count:
    def __init__(self, count: int):
        self.signature_count = count


_snippets: dict[tuple[str, int], str] = {}


def count_snippet(language: str, count: int) -> str:
    """The count include as the page renders it (plural forms differ by count and language)."""
    key = (language, count)
    snippet = _snippets.get(key)
    if snippet is None:
        with translation.override(language):
            snippet = render_to_string(COUNT_TEMPLATE, {"petition": _Count(count)})
        if len(_snippets) > 5000:
            _snippets.clear()
        _snippets[key] = snippet
    return snippet


# Stored pages ------------------------------------------------------------------------------


def deflate(data: bytes, last: bool) -> bytes:
    """Raw deflate blocks that can be joined to others: flushed to a byte boundary, fresh
    history, and the final-block bit only on the last piece."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH
    )


@dataclass
class Page:
    """A rendered page, its headers, and where the count goes (between `parts`)."""

    status: int
    headers: list[tuple[str, str]]
    parts: list[bytes]
    language: str
    petition_id: int | None
    expires: float
    count: int | None = None  # the count when it was rendered
    charset: str = "utf-8"
    # Per process, not pickled: pieces compressed once, and the last answer built.
    _gz: list[bytes] | None = field(default=None, repr=False)
    _last: tuple | None = field(default=None, repr=False)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_gz"] = state["_last"] = None
        return state

    @classmethod
    def from_response(cls, request: HttpRequest, response: HttpResponse) -> Page:
        body = response.content
        language = response.get("Content-Language") or translation.get_language() or "en"
        petition_id, parts, count = None, [body], None
        if page_count := getattr(request, "page_count", None):
            snippet = count_snippet(language, page_count[1]).encode(response.charset)
            if snippet in body:
                petition_id, parts = page_count[0], body.split(snippet)
                count = page_count[1]
        headers = [(k, v) for k, v in response.items() if k.lower() not in DROPPED_HEADERS]
        expires = time.time() + settings.PAGE_CACHE_SECONDS
        return cls(response.status_code, headers, parts, language, petition_id, expires, count)

    def body(self, gzip: bool) -> bytes:
        count = None
        if self.petition_id:
            try:
                count = shown_count(self.petition_id)
            except DatabaseError:  # the database is away: the page as rendered is still true
                count = self.count
        last = self._last  # read once: another thread may replace it meanwhile
        if last and last[0] == (count, gzip):
            return last[1]
        if count is None:
            plain = b"".join(self.parts)
        else:
            snippet = count_snippet(self.language, count).encode(self.charset)
            plain = snippet.join(self.parts)
        data = self.compress(plain, count) if gzip else plain
        self._last = ((count, gzip), data)
        return data

    def compress(self, plain: bytes, count: int | None) -> bytes:
        if self._gz is None:
            last = len(self.parts) - 1
            self._gz = [deflate(part, i == last) for i, part in enumerate(self.parts)]
        pieces = [self._gz[0]]
        if count is not None:
            snippet = deflate(count_snippet(self.language, count).encode(self.charset), False)
            for piece in self._gz[1:]:
                pieces += [snippet, piece]
        trailer = struct.pack("<II", zlib.crc32(plain), len(plain) & 0xFFFFFFFF)
        return GZIP_HEADER + b"".join(pieces) + trailer

    def respond(self, request: HttpRequest, hit: bool) -> HttpResponse:
        gzip = bool(ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))
        body = self.body(gzip)
        response = HttpResponse(body if request.method != "HEAD" else b"", status=self.status)
        for name, value in self.headers:
            response[name] = value
        patch_vary_headers(response, ("Accept-Encoding",))
        for name, value in per_answer_headers(body, gzip, hit):
            response[name] = value
        return response


def per_answer_headers(body: bytes, gzip: bool, hit: bool) -> list[tuple[str, str]]:
    """The headers of a cached page that differ from one answer to the next (the stored ones
    leave them out: DROPPED_HEADERS)."""
    headers = [("Content-Encoding", "gzip")] if gzip else []
    return [*headers, ("Content-Length", str(len(body))), ("X-Cache", "hit" if hit else "miss")]


class PageCacheMiddleware:
    """Answer GET/HEAD of anonymous visitors from the page cache; store what views marked.

    Sits right after WhiteNoise, so a cached page skips sessions, CSRF, auth and the view; the
    headers the inner middleware adds (CSP, permissions policy, …) are stored with the page.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.local: dict[str, tuple[str, Page]] = {}
        self.lock = threading.Lock()
        self.rendering: dict[str, threading.Event] = {}
        self.not_public: set[str] = set()  # paths last answered with nothing to store

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.cacheable(request):
            return self.get_response(request)
        request.get_host()  # the same 400 for a bad Host as without the cache
        try:
            version = content_version()
            key = self.key(request, version)
            page = self.lookup(key, version)
        except Exception:  # noqa: BLE001 - the cache is away (Redis down): pages still render
            log.warning("Page cache unavailable", exc_info=True)
            return self.get_response(request)
        leader = False
        if page is None and settings.PAGE_CACHE_SECONDS > 0 and request.path not in self.not_public:
            leader, page = self.join_render(key, version)
        if page is not None:
            response = page.respond(request, hit=True)
            response.page_hit = (version, page)  # for `remember_answer`, once Django is done
            return response
        try:
            return self.render(request, key, version)
        finally:
            if leader:
                with self.lock:
                    self.rendering.pop(key).set()

    def join_render(self, key: str, version: str) -> tuple[bool, Page | None]:
        """A page no process holds (a cold start, a content edit): the first request of this
        process renders it, and the process's other requests for it wait for that page instead
        of all rendering at once. Under a crowd, hundreds of simultaneous renders held up every
        answer, signers' included, for over a second. Returns whether this request renders, or
        else the page rendered meanwhile (None: render it after all)."""
        with self.lock:
            event = self.rendering.get(key)
            if event is None:
                self.rendering[key] = threading.Event()
                return True, None
        event.wait(RENDER_WAIT)
        held = self.local.get(key)
        page = held[1] if held and held[0] == version else None
        if page is not None and page.expires + STALE_GRACE <= time.time():
            page = None  # the render did not finish: never serve a copy past its grace
        return False, page

    def render(self, request: HttpRequest, key: str, version: str) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(response, "public_page", False):
            # Not a page to store (/healthz, a redirect, a 404): its requests need not wait
            # for each other next time.
            with self.lock:
                if len(self.not_public) > 5000:
                    self.not_public.clear()
                self.not_public.add(request.path)
            return response
        if (
            response.cookies
            or "cookie" in response.get("Vary", "").lower()
            or getattr(request, "_csp_nonce", None) is not None
        ):
            # Not the same for all: something on the page set a cookie (a CSRF token, a
            # message), or used a CSP nonce, which replayed to everyone would protect nothing.
            del response["Cache-Control"]
            add_never_cache_headers(response)
            return response
        page = Page.from_response(request, response)
        if settings.PAGE_CACHE_SECONDS > 0:
            self.not_public.discard(request.path)
            self.remember(key, version, page)
            try:
                page_cache().set(key, page, settings.PAGE_CACHE_SECONDS + STALE_GRACE)
                page_cache().delete(f"{key}:renew")
            except Exception:  # noqa: BLE001
                log.warning("Page cache unavailable", exc_info=True)
        return page.respond(request, hit=False)

    @staticmethod
    def cacheable(request: HttpRequest) -> bool:
        return (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and len(request.META.get("QUERY_STRING", "")) <= MAX_QUERY
        )

    @staticmethod
    def key(request: HttpRequest, version: str) -> str:
        """The path and the query parameters pages read; others (fbclid, utm_…) change
        nothing on a page, so a link shared with tracking parameters stays one cached page."""
        query = [(name, request.GET.get(name, "")[:MAX_QUERY]) for name in PAGE_QUERY_PARAMS]
        path = f"{request.path}?{urlencode([(k, v) for k, v in query if v])}"
        return f"page:{version}:{hashlib.sha256(path.encode()).hexdigest()[:32]}"

    def lookup(self, key: str, version: str) -> Page | None:
        """A fresh copy (this process's, whose pieces are compressed already, else the shared
        one). When it has just gone stale, one request renews it while the others are still
        answered from it for up to STALE_GRACE seconds: no stampede of renders every few
        seconds on a busy page."""
        if settings.PAGE_CACHE_SECONDS <= 0:
            return None
        now = time.time()
        held = self.local.get(key)
        page = held[1] if held and held[0] == version else None
        if page is None or page.expires <= now:
            shared = page_cache().get(key)
            if shared is not None and (page is None or shared.expires > page.expires):
                page = shared
                self.remember(key, version, page)
        if page is None or page.expires > now:
            return page
        if page.expires + STALE_GRACE < now or page_cache().add(f"{key}:renew", 1, STALE_GRACE):
            return None  # this request renders the page anew
        return page

    def remember(self, key: str, version: str, page: Page) -> None:
        with self.lock:
            if len(self.local) > 500:
                self.local.clear()
            self.local[key] = (version, page)


# Answers before Django ---------------------------------------------------------------------

# A cached page answered through Django costs as much again in Django's own work as in the
# cache's: the request object, the request_started/finished signals (each looks at every
# database connection), the middleware on the way in and out, the response's headers checked
# one by one. The WSGI entry point (releasenow/wsgi.py) therefore answers a GET that this
# process has answered from the cache before, alike in everything the answer depends on, with
# the same page, without Django: the same status and headers, and the body built as
# `Page.body` builds it, live count included.
#
# Remembered answers are keyed by what Django makes of a request, not by its raw headers, so
# that variants Django treats alike (a port in Host, an X-Forwarded-Host it ignores) add no
# entries; a host is only answered early once Django has accepted it (ALLOWED_HOSTS).
_answers: dict[tuple, tuple] = {}
_hosts: set[str] = set()
MAX_ANSWERS = 1000
MAX_HOSTS = 100
MAX_HOST_LENGTH = 300


def _is_secure(environ: dict) -> bool:
    """As Django's `HttpRequest.scheme` decides it (SECURE_PROXY_SSL_HEADER, else the server's
    scheme): the HTTPS redirect and HSTS depend on it."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _host(environ: dict, secure: bool) -> str:
    """The host Django validates for this request (`HttpRequest._get_raw_host`)."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        return environ["HTTP_X_FORWARDED_HOST"]
    if "HTTP_HOST" in environ:
        return environ["HTTP_HOST"]
    host, port = environ.get("SERVER_NAME", ""), str(environ.get("SERVER_PORT", ""))
    return host if port == ("443" if secure else "80") else f"{host}:{port}"


def answer_facts(environ: dict) -> tuple[tuple, str] | None:
    """What a cached page's answer depends on, and the host: None for a request only Django may
    answer. Taken before Django runs, which changes `environ`. The middleware before the cache
    reads the scheme (HTTPS redirect, HSTS) and the host (validated by Django); the cache reads
    the path, the query string, the session cookie and Accept-Encoding. Requests with a query
    string or a session cookie, and every method but GET, always go through Django."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
        return None
    if settings.SESSION_COOKIE_NAME in environ.get("HTTP_COOKIE", ""):
        return None
    secure = _is_secure(environ)
    gzip = bool(ACCEPTS_GZIP.search(environ.get("HTTP_ACCEPT_ENCODING", "")))
    key = (environ.get("PATH_INFO"), environ.get("SCRIPT_NAME"), secure, gzip)
    return key, _host(environ, secure)


def remember_answer(facts: tuple[tuple, str] | None, response: HttpResponse) -> None:
    """After Django answered a request from the page cache (`page_hit`): its final status and
    headers, for `early_answer` of a request with the same `answer_facts`."""
    if facts is None or response.cookies or len(facts[1]) > MAX_HOST_LENGTH:
        return
    key, host = facts
    version, page = response.page_hit
    status = f"{response.status_code} {response.reason_phrase}"
    headers = [(k, v) for k, v in response.items() if k.lower() not in DROPPED_HEADERS]
    # The least lately read go, not all of them: a crawler walking every page in every
    # language leaves the pages a crowd reads answered early (`_keep_young`).
    while key not in _answers and len(_answers) >= MAX_ANSWERS:
        with contextlib.suppress(StopIteration, RuntimeError, KeyError):  # another thread's
            del _answers[next(iter(_answers))]
    if len(_hosts) >= MAX_HOSTS:
        _hosts.clear()
    _answers[key] = (version, page, status, headers)
    _hosts.add(host)


def _keep_young(key: tuple) -> None:
    """Make `key` the youngest entry (the table forgets its oldest first: `remember_answer`).
    Threads of the process share the table: one may have taken the entry out meanwhile."""
    with contextlib.suppress(StopIteration, RuntimeError):
        if next(reversed(_answers)) == key:  # the crowd's page, read again: nothing to do
            return
    entry = _answers.pop(key, None)
    if entry is not None:
        _answers[key] = entry


def early_answer(
    facts: tuple[tuple, str] | None,
) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """(status, headers, body) for a request with these `answer_facts` answered before from
    this process's copy of a page that is still fresh and of the current content version; else
    None (Django answers: a stale copy is renewed there, an edit is seen there).

    As Django does after each request (request_finished), a connection that failed or is past
    its CONN_MAX_AGE is closed afterwards: the count's read uses it."""
    if facts is None or facts[1] not in _hosts:
        return None
    key = facts[0]
    known = _answers.get(key)
    if known is None:
        return None
    version, page, status, headers = known
    if page.expires <= time.time() or content_version() != version:
        _answers.pop(key, None)  # not kept alive by this table
        return None
    _keep_young(key)
    gzip = key[-1]
    body = page.body(gzip)
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block:  # never in production; tests run in a transaction
        connection.close_if_unusable_or_obsolete()
    return status, headers + per_answer_headers(body, gzip, hit=True), body
