import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_switcher_remembers_the_choice_and_shows_the_same_page(client, content):
    response = client.get("/language/be/?next=/de/manifesto/")
    assert response.status_code == 302 and response["Location"] == "/be/manifesto/"
    assert response.cookies["django_language"].value == "be"
    assert client.get("/", headers={"accept-language": "de"})["Location"] == "/be/"


def test_the_remembered_language_does_not_make_pages_uncacheable(client, content):
    client.get("/language/pl/?next=/pl/")
    page = client.get("/pl/manifesto/")
    assert "Set-Cookie" not in page.headers
    assert "Cookie" not in page.get("Vary", "")


def test_the_switcher_refuses_foreign_redirects_and_unknown_languages(client, content):
    assert client.get("/language/fr/?next=https://evil.example/")["Location"] == "/fr/"
    assert client.get("/language/xx/?next=/en/").status_code == 404


def test_sitemap_lists_each_page_in_every_language_with_alternates(client, content):
    xml = client.get("/sitemap.xml").content.decode()
    for code in ("en", "be", "ru", "uk", "pl", "lt", "de", "fr"):
        assert f"/{code}/manifesto/</loc>" in xml
        assert f'hreflang="{code}"' in xml
    assert 'hreflang="x-default"' in xml
    assert "Sitemap: " in client.get("/robots.txt").content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "12,345"),
        ("de", "12.345"),
        ("ru", "12\xa0345"),
        ("fr", "12\u202f345"),  # CLDR: a narrow no-break space
        ("uk", "12\xa0345"),
    ],
)
def test_numbers_are_formatted_per_locale(client, content, language, expected):
    from campaigns.models import Petition

    Petition.objects.filter(slug="manifesto").update(signature_count=12345)
    html = client.get(f"/{language}/manifesto/").content.decode()
    assert f"<strong>{expected}</strong>" in html


def test_country_select_is_in_the_visitors_language_and_collation(client, content):
    html = client.get("/be/manifesto/").content.decode()
    select = html[html.index('name="country"') : html.index("</select>")]
    names = re.findall(r'<option value="[A-Z]{2}">([^<]+)</option>', select)
    assert "Беларусь" in names and "Літва" in names and "Германія" in names
    assert names.index("Аўстрыя") < names.index("Беларусь") < names.index("Літва")
    pl = client.get("/pl/manifesto/").content.decode()
    assert '<option value="DE">Niemcy</option>' in pl
