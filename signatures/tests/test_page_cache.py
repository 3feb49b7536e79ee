"""Public pages come from the shared page cache, compressed, with a live count; nothing
personal or erroneous is ever cached."""

import gzip
import re
import time
from contextlib import contextmanager

import pytest
from django.utils import translation

from campaigns.models import Section
from signatures.forms import SignatureForm
from signatures.tests.conftest import confirm_by_mail, link, run_tasks, sign

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC_PAGES = [
    "/en/",
    "/de/manifesto/",
    "/en/manifesto/sign/",
    "/en/manifesto/sign/check-your-inbox/",
    "/en/manifesto/signatories/",
    "/en/privacy/",
]


def count_of(html: str) -> str:
    return re.search(r'class="count"><strong>([\d,]+)</strong>', html).group(1)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_are_cached_and_say_so_to_proxies(client, manifesto, path):
    first = client.get(path)
    second = client.get(path)
    assert first.status_code == second.status_code == 200
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert first.content == second.content
    for response in (first, second):
        assert response["Cache-Control"] == "public, max-age=10, stale-while-revalidate=10"
        assert "Content-Security-Policy" in response and response["X-Frame-Options"] == "DENY"
        assert "Set-Cookie" not in response


def test_pages_are_gzipped_for_clients_that_accept_it(client, manifesto):
    plain = client.get("/en/manifesto/").content
    for _ in range(2):  # a miss and a hit
        response = client.get("/en/manifesto/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert int(response["Content-Length"]) == len(response.content) < len(plain) / 2
        assert gzip.decompress(response.content) == plain


def test_a_cached_page_shows_the_live_count_in_every_form(client, manifesto):
    client.get("/en/manifesto/")
    client.get("/be/manifesto/", HTTP_ACCEPT_ENCODING="gzip")
    sign(client)
    confirm_by_mail(client)
    page = client.get("/en/manifesto/")
    assert page["X-Cache"] == "hit"
    assert count_of(page.content.decode()) == "1"
    assert "<strong>1</strong> person signed" in page.content.decode()  # singular, too
    zipped = client.get("/be/manifesto/", HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["X-Cache"] == "hit"
    assert "<strong>1</strong>" in gzip.decompress(zipped.content).decode()


def test_saving_content_renews_cached_pages(client, manifesto):
    assert client.get("/en/").status_code == 200
    section = Section.objects.first()
    section.set_current_language("en")
    section.title = "A freshly edited heading"
    section.save()
    page = client.get("/en/")
    assert page["X-Cache"] == "miss"
    assert "A freshly edited heading" in page.content.decode()


def test_a_withdrawn_signer_leaves_cached_lists_at_once(client, manifesto):
    sign(client)
    confirm_by_mail(client)
    assert "Olga Loiko" in client.get("/en/manifesto/signatories/").content.decode()
    withdraw_path = link(last_confirm_mail(), "withdraw")
    client.post(withdraw_path)
    for path in ("/en/manifesto/signatories/", "/en/manifesto/"):
        assert "Olga Loiko" not in client.get(path).content.decode()


def last_confirm_mail():
    from signatures.tests.conftest import last_mail_to

    return last_mail_to("olga@example.org")


def test_partner_links_are_cached_apart_and_tracking_parameters_ignored(client, manifesto):
    plain = client.get("/en/manifesto/").content.decode()
    partner = client.get("/en/manifesto/?source=viasna").content.decode()
    assert 'value="viasna"' in partner and 'value="viasna"' not in plain
    shared = client.get("/en/manifesto/?fbclid=abc123&source=viasna&utm_medium=social")
    assert shared["X-Cache"] == "hit" and shared.content.decode() == partner
    assert client.get("/en/manifesto/?fbclid=xyz")["X-Cache"] == "hit"


def test_nothing_personal_or_erroneous_gets_a_public_cache_header(client, manifesto):
    invalid = sign(client, full_name="x")
    assert invalid.status_code == 200 and b"field-error" in invalid.content
    assert "public" not in invalid.get("Cache-Control", "")
    assert "public" not in sign(client).get("Cache-Control", "")
    run_tasks()
    message = last_confirm_mail()
    for path in (link(message, "confirm"), link(message, "withdraw")):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and "X-Cache" not in response
    assert "public" not in client.get("/admin/login/").get("Cache-Control", "")
    assert "public" not in client.get("/en/manifesto/confirm/forged/").get("Cache-Control", "")


def test_staff_with_a_session_bypass_the_cache(staff_client, manifesto):
    staff_client.get("/en/manifesto/")
    response = staff_client.get("/en/manifesto/")
    assert "X-Cache" not in response


def test_the_country_list_is_built_once_per_language_and_keeps_the_choice():
    with translation.override("de"):
        html = str(SignatureForm(data={"country": "BY"})["country"])
        assert '<option value="BY" selected>Belarus</option>' in html
        assert html.count("<option") > 240 and html.count(" selected") == 1
    with translation.override("be"):
        assert '<option value="DE">Германія</option>' in str(SignatureForm()["country"])


def test_a_page_gone_stale_is_renewed_by_one_request_while_others_get_the_old_copy(
    client, manifesto, settings, rf
):
    from releasenow.lib import pagecache

    settings.PAGE_CACHE_SECONDS = 1
    assert client.get("/en/manifesto/")["X-Cache"] == "miss"
    assert client.get("/en/manifesto/")["X-Cache"] == "hit"
    time.sleep(1.1)
    key = pagecache.PageCacheMiddleware.key(rf.get("/en/manifesto/"), pagecache.content_version())
    pagecache.page_cache().add(f"{key}:renew", 1, 5)  # another request is renewing it
    assert client.get("/en/manifesto/")["X-Cache"] == "hit"
    pagecache.page_cache().delete(f"{key}:renew")
    assert client.get("/en/manifesto/")["X-Cache"] == "miss"
    time.sleep(1.1 + pagecache.STALE_GRACE)  # too old to serve even while renewing
    pagecache.page_cache().add(f"{key}:renew", 1, 5)
    assert client.get("/en/manifesto/")["X-Cache"] == "miss"


def test_cached_pages_still_answer_while_the_database_is_away(client, manifesto, monkeypatch):
    from django.db import OperationalError

    from releasenow.lib import pagecache

    sign(client)
    confirm_by_mail(client)
    client.get("/en/manifesto/")

    def unreachable(petition_id):
        raise OperationalError("connection refused")

    monkeypatch.setattr(pagecache, "current_count", unreachable)
    page = client.get("/en/manifesto/")
    assert page.status_code == 200 and page["X-Cache"] == "hit"
    assert "<strong>1</strong> person signed" in page.content.decode()


def test_a_cold_page_is_rendered_once_while_the_processs_other_requests_wait_for_it(rf):
    """A cold start or a content edit under a crowd: one render per process, not one per
    request (hundreds of simultaneous renders held every answer up for over a second)."""
    import threading

    from django.http import HttpResponse

    from releasenow.lib.pagecache import PageCacheMiddleware, public_page

    renders, started = [], threading.Event()

    @public_page
    def slow_page(request):
        renders.append(request)
        started.set()
        time.sleep(0.3)  # long enough for the other requests to arrive meanwhile
        return HttpResponse(f"<p>render {len(renders)}</p>")

    middleware = PageCacheMiddleware(slow_page)
    answers = []

    def visit() -> None:
        answers.append(middleware(rf.get("/en/a-cold-page/")))

    first = threading.Thread(target=visit)
    first.start()
    started.wait(5)
    others = [threading.Thread(target=visit) for _ in range(8)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(10)
    assert len(renders) == 1
    assert len(answers) == 9
    assert {answer.content for answer in answers} == {b"<p>render 1</p>"}
    assert sorted(answer["X-Cache"] for answer in answers) == ["hit"] * 8 + ["miss"]


def test_requests_for_a_page_that_is_not_cached_do_not_wait_for_each_other(rf, settings):
    from django.http import HttpResponse

    from releasenow.lib.pagecache import PageCacheMiddleware, public_page

    settings.PAGE_CACHE_SECONDS = 0
    middleware = PageCacheMiddleware(public_page(lambda request: HttpResponse("fresh")))
    assert middleware(rf.get("/en/x/")).content == b"fresh"
    assert middleware.rendering == {}


def test_a_cached_page_costs_one_query_and_no_connection_health_check(
    client, manifesto, monkeypatch
):
    """On PostgreSQL (CONN_HEALTH_CHECKS) a health check is a `SELECT 1` round trip before the
    first query of a request: for a cached page that doubled the database's work per answer."""
    from django.db import connections

    connection = connections["default"]
    client.get("/en/manifesto/")
    checks = []
    monkeypatch.setattr(connection, "health_check_enabled", True)
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or True)
    connection.health_check_done = False  # as at the start of every request
    with statements_run(connection) as statements:
        page = client.get("/en/manifesto/")
    assert page["X-Cache"] == "hit"
    assert len(statements) == 1 and "signature_count" in statements[0]
    assert checks == []


def test_requests_for_a_path_that_is_never_stored_stop_waiting_for_each_other(rf):
    from django.http import HttpResponse

    from releasenow.lib.pagecache import PageCacheMiddleware

    middleware = PageCacheMiddleware(lambda request: HttpResponse("ok"))  # not a public page
    middleware(rf.get("/healthz"))
    assert "/healthz" in middleware.not_public
    middleware(rf.get("/healthz"))
    assert middleware.rendering == {}


@pytest.fixture
def slots(settings, monkeypatch):
    """Shared counts in slots of 10 s, on a clock the test moves."""
    from releasenow.lib import pagecache

    settings.PAGE_COUNT_SECONDS = 10
    clock = [1_000_000.0]
    monkeypatch.setattr(pagecache, "_clock", lambda: clock[0])
    return clock


@contextmanager
def statements_run(connection):
    """The SQL run on `connection`: through Django's cursors, and on the driver's connection
    itself (where `pagecache.current_count` reads the count)."""
    from django.test.utils import CaptureQueriesContext

    raw = []

    class Driver:
        def __init__(self, inner):
            self.inner = inner

        def execute(self, sql, params=()):
            raw.append(sql)
            return self.inner.execute(sql, params)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    connection.ensure_connection()
    inner = connection.connection
    connection.connection = Driver(inner)
    statements = []
    try:
        with CaptureQueriesContext(connection) as queries:
            yield statements
    finally:
        connection.connection = inner
    statements += [q["sql"] for q in queries.captured_queries] + raw


def count_reads(statements) -> int:
    return sum("SELECT signature_count FROM" in sql for sql in statements)


def test_with_a_shared_count_a_cached_page_reads_the_database_once_per_slot(
    client, manifesto, slots
):
    from django.db import connection

    from signatures.tests.conftest import make_signature

    client.get("/en/manifesto/")
    make_signature(manifesto, "Anna Nowak")
    with statements_run(connection) as statements:
        pages = [client.get("/en/manifesto/") for _ in range(20)]
    assert [p["X-Cache"] for p in pages] == ["hit"] * 20
    assert statements == []
    assert {count_of(p.content.decode()) for p in pages} == {"0"}  # the slot's count
    slots[0] += 10
    with statements_run(connection) as statements:
        assert count_of(client.get("/en/manifesto/").content.decode()) == "1"
        assert count_of(client.get("/en/manifesto/").content.decode()) == "1"
    assert count_reads(statements) == 1


def test_every_process_shows_the_count_of_the_slot_so_a_reload_never_shows_less(
    client, manifesto, slots
):
    """One process took the slot's count; the database moved on; another process (its own
    memory empty) answering the next reload shows the same count, not a different one."""
    from releasenow.lib import pagecache
    from signatures.tests.conftest import make_signature

    make_signature(manifesto, "Anna Nowak")
    assert count_of(client.get("/en/manifesto/").content.decode()) == "1"
    make_signature(manifesto, "Jan Kowalski")
    pagecache._shown.clear()  # another process
    assert count_of(client.get("/en/manifesto/").content.decode()) == "1"
    slots[0] += 10
    pagecache._shown.clear()
    assert count_of(client.get("/en/manifesto/").content.decode()) == "2"


def test_with_the_shared_cache_away_the_count_is_read_from_the_database(
    client, manifesto, slots, monkeypatch
):
    from releasenow.lib import pagecache
    from signatures.tests.conftest import make_signature

    client.get("/en/manifesto/")
    make_signature(manifesto, "Anna Nowak")

    class Away:
        def get(self, *args, **kwargs):
            raise ConnectionError("redis is away")

    monkeypatch.setattr(pagecache, "caches", {"default": Away(), "pages": Away()})
    slots[0] += 10
    assert pagecache.shown_count(manifesto.pk) == 1
    page = client.get("/en/manifesto/")  # the page renders without its cache
    assert page.status_code == 200 and count_of(page.content.decode()) == "1"


def test_a_count_read_after_its_slot_ended_is_not_offered_for_that_slot(
    manifesto, slots, monkeypatch
):
    """Read late (a paused thread), it may be newer than what the next slot shows elsewhere."""
    from django.core.cache import caches

    from releasenow.lib import pagecache

    read = pagecache.current_count

    def slow_read(petition_id):
        if not reads:
            slots[0] += 10  # the slot ends during the first read
        reads.append(petition_id)
        return read(petition_id)

    reads = []
    monkeypatch.setattr(pagecache, "current_count", slow_read)
    slot = int(slots[0] / 10)
    pagecache.shown_count(manifesto.pk)
    assert caches["default"].get(f"count:{manifesto.pk}:{slot}") is None
    assert caches["default"].get(f"count:{manifesto.pk}:{slot + 1}") == 0
    assert len(reads) == 2


def test_a_page_that_uses_a_csp_nonce_is_never_stored(rf):
    """A nonce is worth something only if nobody else saw it: replayed by a cache (ours, a
    proxy's) to every visitor, it would let any injected script carry it."""
    from django.http import HttpResponse

    from releasenow.lib.pagecache import PageCacheMiddleware, public_page
    from releasenow.middleware import ContentSecurityPolicy

    @public_page
    def page_with_a_script(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}">go()</script>')

    middleware = PageCacheMiddleware(ContentSecurityPolicy(page_with_a_script))
    first, second = (middleware(rf.get("/en/a-script/")) for _ in range(2))
    assert first.content != second.content
    for answer in (first, second):
        assert "X-Cache" not in answer
        assert "no-store" in answer["Cache-Control"] and "public" not in answer["Cache-Control"]
    assert middleware.local == {}
