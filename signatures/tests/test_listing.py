import re

import pytest

from signatures import views
from signatures.tests.conftest import make_signature

pytestmark = pytest.mark.django_db


def names(html: str) -> list[str]:
    return re.findall(r'<span class="name">(.*?)</span>', html)


def test_verified_former_political_prisoners_are_listed_first(client, manifesto):
    make_signature(manifesto, "Ann Supporter")
    verified = make_signature(manifesto, "Maryia Babovich", group="former_political_prisoner")
    verified.verify_group()
    make_signature(manifesto, "Claimed Only", group="former_political_prisoner")
    make_signature(manifesto, "Rita Relative", group="relative")
    html = client.get("/en/manifesto/signatories/").content.decode()
    former = html[
        html.index("Former political prisoners") : html.index("Thank you for your support!")
    ]
    assert names(former) == ["Maryia Babovich"]
    others = html[html.index("Thank you for your support!") :]
    assert names(others) == ["Rita Relative", "Claimed Only", "Ann Supporter"]  # newest first


def test_keyset_pages_walk_through_everyone_once(client, manifesto, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    for i in range(7):
        make_signature(manifesto, f"Signer {i}")
    seen, url = [], "/en/manifesto/signatories/"
    for _ in range(5):
        html = client.get(url).content.decode()
        seen += names(html)
        match = re.search(r'href="(\?before=[\d.]+)" rel="next"', html)
        if not match:
            break
        url = "/en/manifesto/signatories/" + match.group(1)
    assert seen == [f"Signer {i}" for i in reversed(range(7))]


def test_a_broken_page_cursor_is_a_404_not_an_error(client, manifesto):
    assert client.get("/en/manifesto/signatories/?before=nonsense").status_code == 404


def test_signatories_page_counts_per_country(client, manifesto):
    make_signature(manifesto, "A One", country="LT")
    make_signature(manifesto, "B Two", country="LT")
    make_signature(manifesto, "C Three", country="BY", visibility="anonymous")
    html = client.get("/en/manifesto/signatories/").content.decode()
    assert re.search(r"<th scope=\"row\">Lithuania</th><td>2</td>", html)
    assert re.search(r"<th scope=\"row\">Belarus</th><td>1</td>", html)
    assert "C Three" not in html


def test_manifesto_page_shows_count_and_latest_public_signatories(client, manifesto):
    make_signature(manifesto, "Stefan Melle", city="Vienna", country="AT")
    make_signature(manifesto, "Hidden Person", visibility="anonymous")
    html = client.get("/en/manifesto/").content.decode()
    assert "<strong>2</strong> people signed" in html
    assert "Stefan Melle" in html and "Hidden Person" not in html
    assert 'href="/en/manifesto/signatories/"' in html


def test_api_gives_count_countries_and_is_open_to_other_sites(client, manifesto):
    make_signature(manifesto, "A One", country="PL")
    make_signature(manifesto, "B Two", country="")
    response = client.get("/api/v1/petitions/manifesto/?lang=de")
    body = response.json()
    assert body["slug"] == "manifesto"
    assert body["title"] == "Die Zeit der Freilassung ist jetzt"
    assert body["signature_count"] == 2
    assert body["countries"] == {"PL": 1, "unknown": 1}
    assert body["updated_at"]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age=60" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert client.get("/api/v1/petitions/nope/").status_code == 404


def test_other_petitions_have_their_own_form_and_list(client, manifesto):
    from campaigns.models import Petition

    other = Petition.objects.create(slug="appeal", moderation="post")
    other.set_current_language("en")
    other.title, other.body = "Appeal", "Text"
    other.save()
    make_signature(other, "Only Here")
    assert "Only Here" in client.get("/en/appeal/signatories/").content.decode()
    assert "Only Here" not in client.get("/en/manifesto/signatories/").content.decode()
    assert 'action="/en/appeal/sign/"' in client.get("/en/appeal/").content.decode()
