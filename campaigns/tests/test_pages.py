import re

import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from campaigns.models import Petition, Section

pytestmark = pytest.mark.django_db


def test_root_negotiates_language_from_accept_language(client: Client, content):
    response = client.get("/", headers={"accept-language": "pl,en;q=0.5"})
    assert response.status_code == 302
    assert response["Location"] == "/pl/"


def test_root_falls_back_to_english_for_unknown_languages(client: Client, content):
    response = client.get("/", headers={"accept-language": "ja"})
    assert response["Location"] == "/en/"


def test_campaign_page_shows_sections_figures_charts_quotes_and_call_to_sign(client, content):
    html = client.get("/en/").content.decode()
    assert "The time for release is NO:W" in html
    assert "Why we launched this campaign" in html
    assert "21 May 2025" in html
    for partner in ("FreeBelarusPrisoners", "politzek.me", "Euro-Atlantic Affairs Agency"):
        assert partner in html
    assert 'href="https://politzek.me/"' in html
    assert "more than 1,100" in html
    assert "at least 7" in html
    assert "Who are they?" in html
    assert "Anastassiya Bulybenko" in html
    assert "Ales Bialiatski" in html
    assert "Last word before the court, 13 February 2023" in html
    assert 'href="/en/manifesto/#sign"' in html


def test_per_million_chart_is_an_accessible_inline_svg_with_sources(client, content):
    html = client.get("/en/").content.decode()
    chart = html[html.index('id="chart-per_million"') :]
    chart = chart[: chart.index("</figure>")]
    assert re.search(r'<svg[^>]+role="img"[^>]+aria-labelledby="chart-per_million-svgtitle"', chart)
    assert "Belarus 140; Azerbaijan 56; Venezuela 33; Russia 4" in chart
    for source in ("Viasna", "Foro Penal", "Memorial"):
        assert source in chart
    assert "<table>" in chart  # the same numbers as a table


def test_a_chart_with_points_outside_the_brief_waits_for_staff_verification(client, content):
    assert 'id="chart-prisoner_history"' not in client.get("/en/").content.decode()
    assert 'id="chart-per_million"' in client.get("/en/").content.decode()  # all in the brief


def test_verified_points_need_the_exact_source_document():
    from django.core.exceptions import ValidationError

    from campaigns.models import ChartPoint

    point = ChartPoint(value=169, source="Viasna", source_url="https://spring96.org/en")
    point.verified = True
    with pytest.raises(ValidationError):
        point.clean()
    point.source_url = "https://spring96.org/en/news/101120"
    point.clean()
    point.verified, point.in_brief, point.source_url = False, True, ""
    point.clean()  # the brief's own numbers cite the brief


def test_prisoner_history_is_a_line_chart_of_every_point(client, content):
    from campaigns.models import ChartPoint

    ChartPoint.objects.filter(chart__key="prisoner_history").update(verified=True)
    html = client.get("/en/").content.decode()
    chart = html[html.index('id="chart-prisoner_history"') :]
    chart = chart[: chart.index("</figure>")]
    assert "<polyline" in chart
    assert chart.count('<circle class="dot"') == 2 * 7  # drawn wide, and narrow for phones
    for label in ("169", "978", "1,452", "1,374", "1,265", "≈1,200", "&gt;1,100"):
        assert label in chart


def test_figures_come_from_data_not_templates(client, content):
    from campaigns.models import Figure

    Figure.objects.filter(key="prisoners_held").update(value=1050, qualifier="about")
    html = client.get("/en/").content.decode()
    assert "about 1,050" in html


def test_manifesto_page_shows_the_whole_text_count_hashtag_and_share_links(client, content):
    html = client.get("/en/manifesto/").content.decode()
    assert "<h1" in html and "The time for release is now" in html
    for heading in (
        "Releases are necessary",
        "Releases are possible",
        "Releases need broad support",
        "Our appeal to the Belarusian authorities and to democratic governments",
        "Our core values",
    ):
        assert f"<h2>{heading}</h2>" in html
    assert "<strong>0</strong> people signed" in html
    assert "#releasenow" in html
    assert 'id="sign"' in html and 'id="signatories"' in html
    for share in (
        "mailto:?",
        "https://t.me/share/url?",
        "https://wa.me/?",
        "https://x.com/intent/post?",
        "https://www.facebook.com/sharer/sharer.php?",
        "https://bsky.app/intent/compose?",
    ):
        assert share in html
    assert 'id="share-url"' in html and 'value="http://' in html


def test_count_uses_the_maintained_counter_and_plural(client, content):
    Petition.objects.filter(slug="manifesto").update(signature_count=1)
    assert "<strong>1</strong> person signed" in client.get("/en/manifesto/").content.decode()
    Petition.objects.filter(slug="manifesto").update(signature_count=12345)
    assert "<strong>12,345</strong> people signed" in client.get("/en/manifesto/").content.decode()


def test_other_petitions_have_their_own_page(client, content):
    other = Petition.objects.create(slug="second-appeal")
    other.set_current_language("en")
    other.title = "A second appeal"
    other.body = "Text"
    other.save()
    assert "A second appeal" in client.get("/en/second-appeal/").content.decode()


@pytest.mark.parametrize("path", ["/en/privacy/", "/en/imprint/"])
def test_privacy_and_imprint_pages_are_content(client, content, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "<h1>" in response.content.decode()


def test_every_page_has_html_lang_switcher_and_hreflang_alternates(client, content):
    html = client.get("/de/manifesto/").content.decode()
    assert '<html lang="de"' in html
    for code in ("en", "be", "ru", "uk", "pl", "lt", "de", "fr"):
        assert (
            f'<link rel="alternate" hreflang="{code}" href="http://testserver/{code}/manifesto/"'
            in html.replace("http://127.0.0.1:8000", "http://testserver")
        )
        assert (
            f'href="/language/{code}/?next=/{code}/manifesto/" lang="{code}" hreflang="{code}"'
            in html
        )
    assert 'hreflang="x-default"' in html
    assert 'aria-current="true">Deutsch' in html


def test_missing_translation_falls_back_to_english_with_a_note(client, content):
    Section.objects.get(key="who").translations.filter(language_code="de").delete()
    html = client.get("/de/").content.decode()
    assert "werden auf Englisch gezeigt" in html  # the note, in German
    assert 'lang="en"' in html  # the English text is marked as English for screen readers


def test_translated_text_is_shown_without_the_note(client, content):
    for section in Section.objects.all():
        section.set_current_language("de")
        section.title = f"DE {section.key}"
        section.save()
    from campaigns.models import Campaign

    campaign = Campaign.objects.get()
    campaign.set_current_language("de")
    campaign.name, campaign.tagline = "Release NO:W", "Die Zeit der Freilassung ist JETZT"
    campaign.save()
    html = client.get("/de/").content.decode()
    assert "Die Zeit der Freilassung ist JETZT" in html
    assert "DE launch" in html


def test_open_graph_and_twitter_metadata_per_page_and_language(client, content):
    html = client.get("/fr/manifesto/").content.decode()
    assert (
        '<meta property="og:title" content="Le temps de la libération, c’est maintenant">' in html
    )
    assert '<meta property="og:locale" content="fr_FR">' in html
    assert 'property="og:url" content="http://127.0.0.1:8000/fr/manifesto/"' in html
    assert 'property="og:image" content="http://127.0.0.1:8000/fr/share/manifesto.png"' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_staff_markdown_is_sanitised(client, content):
    section = Section.objects.get(key="launch")
    section.set_current_language("en")
    section.body = (
        "Hello <script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"
    )
    section.save()
    html = client.get("/en/").content.decode()
    assert "<script>alert(1)" not in html
    assert "onerror" not in html
    assert "javascript:alert" not in html


def test_not_found_page_is_in_the_site_design_and_language(client, content):
    response = client.get("/uk/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="uk"' in html
    assert 'class="site-header"' in html


def test_server_error_page_renders_without_the_database(django_assert_num_queries):
    with translation.override("pl"), django_assert_num_queries(0):
        response = server_error(RequestFactory().get("/pl/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="pl"' in html
    assert 'class="site-header"' in html


def test_pages_without_content_answer_404_not_500(client):
    assert client.get("/en/").status_code == 404
    assert client.get("/en/manifesto/").status_code == 404
