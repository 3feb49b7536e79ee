"""What visitors read and share (issue 12): correct language on every public page in every
language, share images and icons drawn by the app, titles, trustworthy imprint and figures."""

import io
import re
from html.parser import HTMLParser

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.cache import cache
from PIL import Image

from campaigns.models import Campaign, Petition
from releasenow.lib import l10n
from signatures.tests.conftest import post_form

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]
PUBLIC_PAGES = [
    "/",
    "/manifesto/",
    "/manifesto/sign/",
    "/manifesto/signatories/",
    "/manifesto/sign/check-your-inbox/",
    "/privacy/",
    "/imprint/",
]
# Django's own messages, which would show if our wording were lost.
DJANGO_ENGLISH = ["This field is required", "Enter a valid", "Ensure this value"]


@pytest.fixture(autouse=True)
def _english_afterwards():
    """Pages in other languages leave their language active in the test process; put English
    back so that tests running later see what they expect."""
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class VisibleText(HTMLParser):
    """The text a reader of the page's language sees and hears: text, titles, labels and alt
    texts, leaving out whatever is marked as being in another language."""

    def __init__(self, language: str):
        super().__init__()
        self.language, self.stack, self.parts = language, [], []

    def foreign(self) -> bool:
        return any(lang and lang != self.language for _tag, lang in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = attrs.get("lang")
        if tag in ("script", "style"):
            lang = "code"
        if tag not in VOID:
            self.stack.append((tag, lang))
        if not self.foreign() and lang in (None, self.language):
            for name in ("aria-label", "alt", "title", "placeholder"):
                if attrs.get(name):
                    self.parts.append(attrs[name])
            if (
                tag == "meta"
                and attrs.get("property", "").startswith("og:")
                and attrs.get("property") in ("og:title", "og:description", "og:image:alt")
            ):
                self.parts.append(attrs.get("content", ""))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not self.foreign():
            self.parts.append(data)

    @classmethod
    def of(cls, html: str, language: str) -> str:
        parser = cls(language)
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split(" "))


def interface_strings(language: str) -> list[str]:
    """English interface strings whose translation differs, reduced to their plain words."""
    path = settings.BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.po"
    with open(path, "rb") as f:
        catalogue = read_po(f)
    found = []
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated = " ".join(s for s in strings if s)
        for msgid in ids:
            if not msgid or not translated or translated == msgid:
                continue
            for piece in re.split(r"%\([a-z_]+\)s|<[^>]+>|\{[^}]*\}", msgid):
                piece = piece.strip(" .,:;“”")
                if len(piece) >= 4 and piece not in translated:
                    found.append(piece)
    return found


def month_names(language: str) -> dict[str, set[str]]:
    months = Locale.parse(language).months
    own = l10n.MONTH_NAMES.get(language, {})  # the campaign's own words, as l10n uses them
    return {
        "genitive": {own.get(name, name) for name in months["format"]["wide"].values()},
        "nominative": {own.get(name, name) for name in months["stand-alone"]["wide"].values()},
    }


def defects(text: str, language: str) -> list[str]:
    """The date and number mistakes visitors found: each check names what it catches."""
    found = []
    if m := re.search(r"\w\.\.(?!\.)", text):
        found.append(f"double full stop: …{text[max(0, m.start() - 20) : m.end() + 5]}…")
    if m := re.search(r"\d \d{3}\b", text):
        found.append(f"number broken by a plain space: {m.group(0)!r}")
    if language not in ("de",) and (m := re.search(r"\b\d{1,3}\.\d{3}\b", text)):
        found.append(f"'.' groups digits: {m.group(0)!r}")
    if language not in ("en", "de"):
        names = month_names(language)
        for name in names["genitive"] | names["nominative"]:
            capital = name[:1].upper() + name[1:]
            # (not in a quoted proper name such as „21 Maja”)
            if m := re.search(rf"[\w,] {re.escape(capital)}\b(?![”“»\"])", text):
                found.append(f"capitalised month mid-sentence: {m.group(0)!r}")
            if m := re.search(rf"\b{re.escape(name)} \d{{1,2}}, \d{{4}}", text):
                found.append(f"English date order: {m.group(0)!r}")
        if language in ("be", "ru", "uk"):
            for name in names["genitive"] - names["nominative"]:
                if m := re.search(rf"\bна {re.escape(name)}\b", text):
                    found.append(f"genitive month after 'на': {m.group(0)!r}")
    if language == "lt":
        nominative = month_names("lt")["nominative"]
        if m := re.search(rf"\d{{4}} m\. ({'|'.join(nominative)})\b", text):
            found.append(f"nominative month after the year: {m.group(0)!r}")
    if language == "be" and (m := re.search(r"[^\s]*[иИщЩъЪ][^\s]*|\bмая\b", text)):
        found.append(f"Russian on a Belarusian page: {m.group(0)!r}")
    return found


def english_left(text: str, language: str, strings: list[str]) -> list[str]:
    if language == "en":
        return []
    left = [s for s in strings if re.search(rf"(?<![\w@.-]){re.escape(s)}(?![\w@-])", text)]
    return left + [s for s in DJANGO_ENGLISH if s in text]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_reads_in_its_language_with_correct_dates_and_numbers(
    client, content, language
):
    Petition.objects.filter(slug="manifesto").update(signature_count=1234567)
    strings = interface_strings(language) if language != "en" else []
    problems = []
    pages = [(path, client.get(f"/{language}{path}")) for path in PUBLIC_PAGES]
    pages.append(
        ("sign with errors", post_form(client, f"/{language}/manifesto/sign/", {"email": "x"}))
    )
    for path, response in pages:
        assert response.status_code == 200, path
        text = VisibleText.of(response.content.decode(), language)
        problems += [f"{path}: English left: {s!r}" for s in english_left(text, language, strings)]
        problems += [f"{path}: {d}" for d in defects(text, language)]
    assert not problems, "\n".join(problems)


def test_the_checks_catch_the_defects_visitors_reported():
    assert defects("па стане на траўня 2025", "be")
    assert defects("21 мая 2025 года", "be")
    assert defects("Версія тэксту 1, траўня 21, 2025", "be")
    assert defects("по состоянию на Май 2025 г..", "ru")
    assert defects("stan na Marzec 2025", "pl")
    assert defects("2025 m. kovas", "lt") and defects("daugiau nei 1.100", "lt")
    assert defects("Более 1 100", "ru")
    assert english_left("Поделиться: E-mail Share", "ru", ["Share"])
    assert not defects("Версія тэксту 1, 21 траўня 2025 г", "be")


@pytest.mark.parametrize(
    ("language", "month_year", "long_date", "number"),
    [
        ("en", "March 2025", "21 May 2025", "1,100"),
        ("be", "сакавік 2025", "21 траўня 2025\u202fг.", "1\xa0100"),
        ("ru", "март 2025\u202fг.", "21 мая 2025\u202fг.", "1\xa0100"),
        ("uk", "березень 2025\u202fр.", "21 травня 2025\u202fр.", "1\xa0100"),
        ("pl", "marzec 2025", "21 maja 2025", "1\xa0100"),
        ("lt", "2025 m. kovo mėn.", "2025 m. gegužės 21 d.", "1\xa0100"),
        ("de", "März 2025", "21. Mai 2025", "1.100"),
        ("fr", "mars 2025", "21 mai 2025", "1\u202f100"),
    ],
)
def test_dates_and_numbers_follow_cldr(language, month_year, long_date, number):
    import datetime

    assert l10n.month_year(datetime.date(2025, 3, 1), language) == month_year
    assert l10n.long_date(datetime.date(2025, 5, 21), language) == long_date
    assert l10n.number(1100, language) == number
    assert l10n.end_of_sentence("21 мая 2025 г.") == "21 мая 2025 г"


@pytest.mark.parametrize("language", ["be", "ru", "uk"])
def test_names_of_people_and_organisations_are_in_the_pages_script(client, content, language):
    html = client.get(f"/{language}/").content.decode()
    assert "Ales Bialiatski" not in html and "Алесь" in html
    assert "Anastassiya Bulybenko" not in html
    assert "Euro-Atlantic Affairs Agency" not in VisibleText.of(html, language)
    assert "Viasna" not in VisibleText.of(html, language)


def png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_share_images_are_drawn_per_page_and_language_in_white_red_white(client, content):
    cache.clear()
    images = {}
    for language in ("en", "be"):
        for key in ("campaign", "manifesto"):
            response = client.get(f"/{language}/share/{key}.png")
            assert response.status_code == 200 and response["Content-Type"] == "image/png"
            assert f"max-age={settings.SHARE_IMAGE_MAX_AGE}" in response["Cache-Control"]
            images[language, key] = response.content
    assert len(set(images.values())) == 4
    image = Image.open(io.BytesIO(images["be", "manifesto"])).convert("RGB")
    assert image.size == (1200, 630)
    assert image.getpixel((1100, 20)) == (255, 255, 255)  # white
    assert image.getpixel((1190, 300)) == (168, 17, 28)  # red
    assert image.getpixel((1100, 610)) == (255, 255, 255)  # white


def test_share_images_show_the_count_and_are_redrawn_at_most_every_few_minutes(
    client, content, settings
):
    cache.clear()
    settings.SIGNATURE_COUNT_SHOWN_FROM = 10
    first = client.get("/en/share/manifesto.png").content
    Petition.objects.filter(slug="manifesto").update(signature_count=5000)
    assert client.get("/en/share/manifesto.png").content == first  # still the cached one
    cache.clear()  # as after SHARE_IMAGE_MAX_AGE
    assert client.get("/en/share/manifesto.png").content != first


def test_pages_point_to_their_share_image_in_their_language(client, content):
    html = client.get("/be/manifesto/").content.decode()
    assert re.search(r'<meta property="og:image" content="[^"]*/be/share/manifesto\.png">', html)
    html = client.get("/de/").content.decode()
    assert re.search(r'<meta property="og:image" content="[^"]*/de/share/campaign\.png">', html)


def test_the_favicon_set_answers(client, content):
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico["Content-Type"] == "image/x-icon"
    assert Image.open(io.BytesIO(ico.content)).format == "ICO"
    touch = client.get("/apple-touch-icon.png")
    assert touch.status_code == 200 and png_size(touch.content) == (180, 180)
    html = client.get("/en/").content.decode()
    assert 'rel="apple-touch-icon"' in html and 'type="image/svg+xml"' in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_has_its_own_descriptive_title(client, content, language):
    titles = []
    for path in PUBLIC_PAGES:
        html = client.get(f"/{language}{path}").content.decode()
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
        assert "Release NO:W" in title and len(title) > len("Release NO:W") + 5
        titles.append(title)
    assert len(set(titles)) == len(titles), titles


def test_a_young_petition_invites_visitors_instead_of_showing_a_small_count(
    client, content, settings
):
    settings.SIGNATURE_COUNT_SHOWN_FROM = 100
    Petition.objects.filter(slug="manifesto").update(signature_count=0)
    html = client.get("/en/").content.decode()
    hero = html[html.index('class="hero"') : html.index("</div>\n</div>")]
    assert "Be among the first to sign." in hero and "people signed" not in hero
    Petition.objects.filter(slug="manifesto").update(signature_count=150)
    html = client.get("/en/manifesto/").content.decode()
    start = html.index('class="petition-header"')
    header = html[start : html.index("</header>", start)]
    assert "<strong>150</strong> people signed" in header


def test_no_page_points_to_an_address_not_given_yet(client, content):
    for language in LANGUAGES:
        for path in ("/privacy/", "/imprint/"):
            html = client.get(f"/{language}{path}").content.decode()
            assert "mailto:" not in html
            assert "publisher-title" not in html
    html = client.get("/en/privacy/").content.decode()
    assert "contact address given in the imprint" not in html


def test_the_imprint_and_privacy_notice_show_the_details_once_given(client, content):
    Campaign.objects.update(
        publisher="Release NO:W e.V.",
        postal_address="Musterstraße 1\n10115 Berlin\nGermany",
        contact_email="contact@example.org",
    )
    html = client.get("/de/imprint/").content.decode()
    assert "Release NO:W e.V." in html and "10115 Berlin" in html
    assert "Verantwortlich für diese Seite" in html
    html = client.get("/en/privacy/").content.decode()
    assert 'write to <a href="mailto:contact@example.org">' in html


def test_staff_are_warned_while_the_imprint_is_incomplete(staff_client, content):
    html = staff_client.get("/admin/").content.decode()
    assert "The imprint is incomplete" in html and "publisher, postal address" in html
    Campaign.objects.update(publisher="P", postal_address="A", contact_email="c@example.org")
    assert "The imprint is incomplete" not in staff_client.get("/admin/").content.decode()


def test_figures_outside_the_brief_are_shown_only_once_verified(client, content):
    from campaigns.models import Figure

    # Saved as staff save it (the admin), which also renews the cached pages.
    figure = Figure.objects.get(key="released_early")
    figure.in_brief, figure.value = False, 333
    figure.save()
    assert "more than 333" not in client.get("/en/").content.decode()
    figure.verified, figure.source_url = True, "https://spring96.org/en/news/1"
    figure.save()
    assert "more than 333" in client.get("/en/").content.decode()


@pytest.mark.parametrize(
    ("language", "label"),
    [("be", "Электронная пошта"), ("ru", "Электронная почта"), ("uk", "Електронна пошта")],
)
def test_the_share_by_e_mail_button_speaks_the_pages_language(client, content, language, label):
    html = client.get(f"/{language}/manifesto/").content.decode()
    assert 'class="share-email" href="mailto:?' in html
    assert re.search(rf'class="share-email"[^>]*>{label}</a>', html)
