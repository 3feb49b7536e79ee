import re

import pytest

from signatures.forms import clean_text
from signatures.models import Signature
from signatures.tests.conftest import confirm_by_mail, sign

pytestmark = pytest.mark.django_db(transaction=True)


def checked_visibility(html: str) -> str:
    match = re.search(r'<input type="radio" name="visibility" value="(\w+)"[^>]*checked', html)
    return match.group(1) if match else ""


def warning_shown(html: str) -> bool:
    return bool(re.search(r'<div class="warning" id="belarus-warning">', html))


def test_form_fields_have_the_agreed_names(client, manifesto):
    html = client.get("/en/manifesto/").content.decode()
    for name in ("full_name", "email", "affiliation", "city", "country", "visibility", "group",
                 "privacy_consent", "updates_consent"):  # fmt: skip
        assert f'name="{name}"' in html, name
    assert 'href="/en/privacy/"' in html
    assert re.search(r'name="updates_consent"(?![^>]*checked)', html)  # never pre-ticked
    for group in ("former_political_prisoner", "relative", "supporter"):
        assert f'value="{group}"' in html


def test_the_form_also_stands_on_its_own_page(client, manifesto):
    html = client.get("/en/manifesto/sign/").content.decode()
    assert 'name="full_name"' in html and 'action="/en/manifesto/sign/"' in html


@pytest.mark.parametrize(
    ("language", "visibility", "warned"),
    [
        ("en", "public", False),
        ("de", "public", False),
        ("be", "anonymous", True),
        ("ru", "anonymous", True),
    ],
)
def test_belarusian_and_russian_readers_see_the_warning_and_are_not_listed_by_default(
    client, manifesto, language, visibility, warned
):
    html = client.get(f"/{language}/manifesto/").content.decode()
    assert checked_visibility(html) == visibility
    assert warning_shown(html) is warned


def test_picking_belarus_switches_to_not_listed_and_asks_once_more(client, manifesto):
    response = sign(client, country="BY", visibility="public")
    html = response.content.decode()
    assert response.status_code == 200
    assert Signature.objects.count() == 0
    assert "For your safety" in html
    assert checked_visibility(html) == "anonymous"
    assert warning_shown(html)
    assert 'value="Olga Loiko"' in html  # nothing typed is lost
    assert 'name="belarus_warning_seen" value="1"' in html

    sign(client, country="BY", visibility="public", belarus_warning_seen="1")
    assert Signature.objects.get().visibility == "public"  # the signer's second choice stands


def test_belarus_with_not_listed_goes_straight_through(client, manifesto):
    assert sign(client, country="BY", visibility="anonymous").status_code == 302


@pytest.mark.parametrize(
    "name",
    [
        "Дзмітрый Галубеў",
        "Zoë O'Brien-Łukaszewicz",
        "Natallia Maksimava",
        "Татsiana Safonava",
        "Ales Bialiatski",
        "José María Núñez",
    ],
)
def test_names_in_any_script_with_diacritics_apostrophes_and_hyphens_are_welcome(
    client, manifesto, name
):
    assert sign(client, full_name=name).status_code == 302
    assert Signature.objects.get().full_name == name


def test_names_are_nfc_normalised_and_stripped_of_controls_and_bidi_overrides():
    assert clean_text("Zoe\u0308") == "Zoë"
    assert clean_text("Ann\u202eA\u202c Smith\x00\x07") == "AnnA Smith"
    assert clean_text("  Anna \t\n Maria ") == "Anna Maria"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"full_name": ""}, "full_name", "Please write your name"),
        ({"full_name": "X"}, "full_name", "at least 2 letters"),
        ({"full_name": "x" * 121}, "full_name", "at most 120"),
        ({"full_name": "Visit https://spam.example"}, "full_name", "web or e-mail addresses"),
        ({"full_name": "mail me at a@b.org"}, "full_name", "web or e-mail addresses"),
        ({"full_name": "=HYPERLINK(1)"}, "full_name", "may not start with"),
        ({"full_name": "@admin"}, "full_name", "may not start with"),
        ({"full_name": "12345"}, "full_name", "with letters"),
        ({"affiliation": "+Journalist"}, "affiliation", "may not start with"),
        ({"city": "www.city.example"}, "city", "web or e-mail addresses"),
        ({"email": "not-an-address"}, "email", "like name@example.org"),
        ({"email": ""}, "email", "the link to confirm your signature goes there"),
        ({"country": "XX"}, "country", "valid choice"),
        ({"visibility": "everyone"}, "visibility", "valid choice"),
        ({"privacy_consent": None}, "privacy_consent", "Please tick the box"),
    ],
)
def test_bad_input_is_explained_next_to_its_field_and_nothing_typed_is_lost(
    client, manifesto, fields, field, message
):
    response = sign(client, **{"affiliation": "Human Rights Center Viasna", **fields})
    html = response.content.decode()
    assert response.status_code == 200
    assert Signature.objects.count() == 0
    error = re.search(rf'<p class="error" id="id_{field}_error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1), html[html.find("form-errors") :][:500]
    assert 'aria-invalid="true"' in html
    if field != "email":
        assert 'value="olga@example.org"' in html
    if field != "affiliation":
        assert 'value="Human Rights Center Viasna"' in html


def test_errors_are_in_the_visitors_language(client, manifesto):
    html = sign(client, language="de", full_name="").content.decode()
    assert "Bitte schreiben Sie Ihren Namen." in html
    html = sign(client, language="de", full_name="x" * 121).content.decode()
    assert "höchstens 120 Zeichen" in html  # Django's own German catalogue


def test_the_error_summary_takes_the_focus_and_links_to_each_field(client, manifesto):
    html = sign(client, full_name="", email="x", privacy_consent=None).content.decode()
    summary = html[html.index('id="form-errors"') :]
    summary = summary[: summary.index("</div>")]
    assert "autofocus" in html[html.index('<div class="form-errors"') :][:200]
    assert re.findall(r'href="#([a-z_0-9]+)"', summary) == [
        "id_full_name",
        "id_email",
        "id_privacy_consent",
    ]


def test_fields_say_what_browsers_may_fill_in(client, manifesto):
    html = client.get("/en/manifesto/").content.decode()
    for field, token in (
        ("full_name", "name"),
        ("email", "email"),
        ("affiliation", "organization"),
        ("city", "address-level2"),
        ("country", "country"),
    ):
        tag = re.search(rf'<(input|select)[^>]*name="{field}"[^>]*>', html).group(0)
        assert f'autocomplete="{token}"' in tag


XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_script_in_every_field_is_rendered_inert(client, manifesto):
    sign(client, full_name="Eve " + XSS, affiliation="Org " + XSS, city="City " + XSS)
    confirm_by_mail(client)
    for page in ("/en/manifesto/signatories/", "/en/manifesto/"):
        html = client.get(page).content.decode()
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    from django.core import mail

    for message in mail.outbox:
        assert "<script>alert(1)" not in message.alternatives[0][0]


def test_forms_share_their_fixed_choices_yet_stay_independent():
    from django.utils import translation

    from signatures.forms import SignatureForm

    first, second = SignatureForm(), SignatureForm()
    for name in ("country", "visibility", "group"):
        assert first.fields[name].choices is second.fields[name].choices
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].widget is not second.fields[name].widget
    first.fields["visibility"].choices = [("public", "Public")]
    assert [value for value, _ in second.fields["visibility"].choices] == [
        value for value, _ in Signature.Visibility.choices
    ]
    assert second.is_bound is False and "public" in str(second["visibility"])
    # The shared country list is still read in each reader's language.
    with translation.override("de"):
        assert "Deutschland" in str(SignatureForm()["country"])
    with translation.override("en"):
        assert "Germany" in str(SignatureForm()["country"])


def test_each_form_has_its_own_fields_widgets_messages_and_validators():
    """`copy_field` copies what Django's deep copy does, field by field."""
    from signatures.forms import SignatureForm

    first, second = SignatureForm(), SignatureForm()
    for name, field in first.fields.items():
        other = second.fields[name]
        assert type(field) is type(other) and field is not other
        assert field.widget is not other.widget
        for part in ("error_messages", "validators"):
            assert getattr(field, part) == getattr(other, part)
            assert getattr(field, part) is not getattr(other, part)
        assert field.widget.attrs == other.widget.attrs
        assert field.widget.attrs is not other.widget.attrs
    first.fields["email"].widget.attrs["placeholder"] = "changed"
    first.fields["email"].error_messages["invalid"] = "changed"
    first.fields["email"].validators.append(lambda value: None)
    third = SignatureForm()
    assert "placeholder" not in third.fields["email"].widget.attrs
    assert third.fields["email"].error_messages["invalid"] != "changed"
    assert len(third.fields["email"].validators) == len(second.fields["email"].validators)
    assert third.fields["email"].widget.attrs["autocomplete"] == "email"  # set once, kept


def test_a_field_that_copies_more_for_itself_is_deep_copied():
    """A field of several fields (or a widget of several widgets) must not share them."""
    from django import forms

    from signatures.forms import copy_field

    split = forms.SplitDateTimeField()
    copied = copy_field(split)
    assert copied.fields[0] is not split.fields[0]
    assert copied.widget.widgets[0] is not split.widget.widgets[0]
