"""Random bodies, fields and URLs sent to every public form and API: the answer is never a
server error (property-based, with Hypothesis)."""

from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signatures.forms import SignatureForm
from signatures.tests.conftest import OLGA

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LANGUAGES = st.sampled_from(["en", "be", "ru", "uk", "pl", "lt", "de", "fr"])
# Any character a browser could send (no lone surrogates: they cannot be UTF-8 encoded).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)
FIELDS = st.sampled_from([*SignatureForm.base_fields, "csrfmiddlewaretoken", "x"])
CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=koi8-r",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "text/plain",
        "application/json",
        "",
    ]
)


def assert_no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]


@FUZZ
@given(language=LANGUAGES, fields=st.dictionaries(FIELDS, st.lists(TEXT, max_size=3), max_size=12))
def test_random_sign_forms_never_fail(client, manifesto, language, fields):
    body = urlencode({**OLGA, **fields}, doseq=True)
    response = client.post(
        f"/{language}/manifesto/sign/", body, content_type="application/x-www-form-urlencoded"
    )
    assert_no_server_error(response)


@FUZZ
@given(
    path=st.sampled_from(
        [
            "/en/manifesto/sign/",
            "/de/manifesto/confirm/abc/",
            "/ru/manifesto/withdraw/abc/",
            "/en/",
            "/api/v1/challenge/",
            "/api/v1/petitions/manifesto/",
            "/language/be/",
        ]
    ),
    body=st.binary(max_size=3000),
    content_type=CONTENT_TYPES,
    origin=st.sampled_from([None, "https://evil.example", "null", "http://testserver"]),
)
def test_random_bodies_to_public_endpoints_never_fail(
    client, manifesto, path, body, content_type, origin
):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    response = client.generic("POST", path, body, content_type=content_type, **headers)
    assert_no_server_error(response)


@FUZZ
@given(language=LANGUAGES, token=TEXT, method=st.sampled_from(["get", "post"]))
def test_random_confirm_and_withdraw_links_never_fail(client, manifesto, language, token, method):
    for kind in ("confirm", "withdraw"):
        path = f"/{language}/manifesto/{kind}/{quote(token, safe='') or 'x'}/"
        assert_no_server_error(getattr(client, method)(path))


@FUZZ
@given(value=TEXT, language=LANGUAGES)
def test_random_query_strings_never_fail(client, manifesto, value, language):
    for path, name in [
        (f"/{language}/manifesto/signatories/", "before"),
        ("/api/v1/petitions/manifesto/", "lang"),
        (f"/{language}/manifesto/", "source"),
        (f"/language/{language}/", "next"),
        (f"/{language}/", "source"),
    ]:
        assert_no_server_error(client.get(f"{path}?{urlencode({name: value})}"))
