from releasenow.lib.logging import redact


def test_tokens_are_cut_out_of_logged_paths():
    line = '"POST /be/manifesto/withdraw/abc:DEF-123_x/" 200 "GET /en/manifesto/confirm/q:w:e/ HTTP/1.1"'
    assert (
        redact(line)
        == '"POST /be/manifesto/withdraw/…/" 200 "GET /en/manifesto/confirm/…/ HTTP/1.1"'
    )


def test_other_paths_are_logged_as_they_are():
    assert (
        redact("GET /en/manifesto/signatories/?before=1.2")
        == "GET /en/manifesto/signatories/?before=1.2"
    )


def test_django_request_warnings_lose_their_tokens(client, caplog, db):
    import logging

    from releasenow.lib.logging import RedactTokens

    handlers = logging.getLogger().handlers
    assert any(isinstance(f, RedactTokens) for h in handlers for f in h.filters)
    record = logging.LogRecord(
        "django.request", logging.WARNING, "", 0, "Not Found: %s", ("/en/x/withdraw/tok:en/",), None
    )
    RedactTokens().filter(record)
    assert record.getMessage() == "Not Found: /en/x/withdraw/…/"
