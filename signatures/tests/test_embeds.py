"""Partner embeds: the count and the sign form in an <iframe> from our origin on a partner's
site; only that route may be framed, only by the partner's sites; signatures count for the
partner. Plus the counter badge."""

import re

import pytest

from campaigns.models import Partner
from signatures.models import Signature, SigningStat
from signatures.tests.conftest import OLGA, confirm_by_mail, post_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def partner(manifesto) -> Partner:
    partner = Partner.objects.get(key="politzek-me")
    partner.embed_origins = "https://politzek.me\nhttps://*.politzek.me"
    partner.save()
    return partner


def frame_ancestors(response) -> str:
    return re.search(r"frame-ancestors ([^;]*)", response["Content-Security-Policy"]).group(1)


def embed_sign(client, partner, language="en", **fields):
    data = {k: v for k, v in {**OLGA, **fields}.items() if v is not None}
    return post_form(client, f"/{language}/manifesto/embed/?partner={partner.key}", data)


def test_the_embed_shows_the_count_and_the_form_in_the_partners_language(client, partner):
    response = client.get(f"/de/manifesto/embed/?partner={partner.key}")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="de"' in html and "Das Manifest unterschreiben" in html
    assert "<strong>0</strong>" in html
    assert 'action="/de/manifesto/embed/?partner=politzek-me" target="_self"' in html
    assert 'name="source" value="politzek-me"' in html
    assert "site-header" not in html and "site-footer" not in html  # self-contained
    assert '<base target="_blank">' in html  # links leave the frame, the form stays in it


def test_only_the_partners_sites_may_frame_the_embed(client, partner):
    response = client.get(f"/en/manifesto/embed/?partner={partner.key}")
    assert frame_ancestors(response) == "'self' https://politzek.me https://*.politzek.me"
    assert "X-Frame-Options" not in response


def test_staff_may_let_any_site_frame_a_partners_embed(client, partner):
    partner.embed_anywhere = True
    partner.save()
    response = client.get(f"/en/manifesto/embed/?partner={partner.key}")
    assert frame_ancestors(response) == "'self' *"


def test_an_unknown_partner_is_framed_by_our_own_pages_only(client, partner):
    response = client.get("/en/manifesto/embed/?partner=nobody")
    assert frame_ancestors(response) == "'self'"


@pytest.mark.parametrize(
    "path", ["/en/", "/en/manifesto/", "/en/manifesto/sign/", "/en/manifesto/signatories/"]
)
def test_every_other_page_keeps_frame_ancestors_none(client, partner, path):
    response = client.get(path)
    assert frame_ancestors(response) == "'none'"
    assert response["X-Frame-Options"] == "DENY"


def test_the_embed_sets_no_cookie_when_shown_or_signed(client, partner):
    assert not client.get(f"/en/manifesto/embed/?partner={partner.key}").cookies
    response = embed_sign(client, partner)
    assert not response.cookies
    assert not client.get(response["Location"]).cookies


def test_a_signature_in_the_embed_counts_for_the_partner_and_confirms_as_usual(client, partner):
    response = embed_sign(client, partner, language="pl", source="forged-partner")
    assert response.status_code == 302
    assert response["Location"] == "/pl/manifesto/embed/?partner=politzek-me&sent=1"
    done = client.get(response["Location"])
    assert frame_ancestors(done) == "'self' https://politzek.me https://*.politzek.me"
    assert "Sprawdź skrzynkę" in done.content.decode()

    signature = Signature.objects.get()
    assert signature.source == "politzek-me" and signature.language == "pl"
    assert SigningStat.objects.get(source="politzek-me").submitted == 1

    confirm_by_mail(client)
    stat = SigningStat.objects.get(source="politzek-me")
    assert stat.confirmed == 1
    partner.campaign.petition.refresh_from_db()
    assert partner.campaign.petition.signature_count == 1


def test_mistakes_are_shown_in_the_frame_with_everything_kept(client, partner):
    response = embed_sign(client, partner, email="not-an-address")
    assert response.status_code == 200
    assert frame_ancestors(response) == "'self' https://politzek.me https://*.politzek.me"
    html = response.content.decode()
    assert 'class="embedded"' in html and 'value="Olga Loiko"' in html
    assert not Signature.objects.exists()


def test_staff_allow_only_well_formed_origins(staff_client, partner):
    url = f"/admin/campaigns/partner/{partner.pk}/change/"
    data = {
        "campaign": partner.campaign_id, "key": partner.key, "name": partner.name,
        "url": partner.url, "order": partner.order,
        "embed_origins": "https://ok.example\nhttps://evil.example; script-src *",
    }  # fmt: skip
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "Not an origin" in response.content.decode()
    partner.refresh_from_db()
    assert "evil" not in partner.embed_origins

    data["embed_origins"] = "HTTPS://Partner.Example/\nhttp://localhost:8080"
    assert staff_client.post(url, data).status_code == 302
    partner.refresh_from_db()
    assert partner.embed_origin_list() == ["https://partner.example", "http://localhost:8080"]


def test_the_staff_page_gives_the_snippet_per_partner_and_language_with_a_preview(
    staff_client, partner
):
    response = staff_client.get(f"/admin/campaigns/partner/{partner.pk}/embed/?lang=lt")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/lt/manifesto/embed/?partner=politzek-me" in html
    assert "&lt;iframe src=&quot;" not in html and "&lt;iframe src=" in html
    assert "/static/js/embed.js" in html
    assert 'id="embed-preview"' in html and 'src="/lt/manifesto/embed/?partner=politzek-me"' in html
    assert "/lt/manifesto/badge.svg" in html
    assert "https://politzek.me" in html


def test_the_badge_is_a_cacheable_svg_with_the_count(client, partner):
    from signatures.tests.conftest import make_signature

    make_signature(partner.campaign.petition, "Ada Lovelace")
    response = client.get("/de/manifesto/badge.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "max-age=300" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert "1 Unterschrift" in response.content.decode()
    assert "<script" not in response.content.decode()
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_a_post_from_another_site_is_refused_in_the_frame_too(client, partner):
    """The embed's own form posts from our origin (same-origin); a partner's page cannot post
    a signature straight into the embed route."""
    response = post_form(
        client,
        f"/en/manifesto/embed/?partner={partner.key}",
        OLGA,
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert response.status_code == 403
    assert frame_ancestors(response) == "'self' https://politzek.me https://*.politzek.me"
    assert 'class="embedded"' in response.content.decode()
    assert not Signature.objects.exists()
