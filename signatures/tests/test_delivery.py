import re
import shutil
import subprocess

import pytest
from django.core.management import call_command

from signatures.models import SigningStat
from signatures.tests.conftest import make_signature, sign

pytestmark = pytest.mark.django_db

needs_pdftotext = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed"
)


def pdf_text(path) -> str:
    """The document's text with line breaks from the columns folded into spaces."""
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())


@needs_pdftotext
def test_delivery_pdf_has_cover_text_grouped_signatories_and_countries(manifesto, tmp_path):
    maryia = make_signature(
        manifesto, "Марыя Бабовіч", group="former_political_prisoner", city="Warszawa", country="PL"
    )
    maryia.verify_group()
    make_signature(
        manifesto,
        "Zoë Łukaszewicz-Müller",
        affiliation="Université de Genève",
        city="Genève",
        country="CH",
    )
    make_signature(manifesto, "Initials Person", visibility="initials", country="LT")
    make_signature(manifesto, "Hidden Person", visibility="anonymous")
    out = tmp_path / "delivery.pdf"
    call_command("delivery_pdf", "--petition", "manifesto", "--lang", "en", "--output", str(out))
    assert out.read_bytes().startswith(b"%PDF")
    text = pdf_text(out)
    assert "The time for release is now" in text and "4 signatures" in text
    assert "Releases are possible" in text  # the manifesto text itself
    assert (
        "Марыя Бабовіч" in text
        and "Zoë Łukaszewicz-Müller" in text
        and "Université de Genève" in text
    )
    assert (
        text.index("Former political prisoners") < text.index("Марыя Бабовіч") < text.index("Zoë")
    )
    assert "I. P." in text and "Initials Person" not in text and "Hidden Person" not in text
    assert "Signatures by country" in text and "Switzerland" in text
    assert re.search(r"\b2 ?/ ?\d+\b", text)  # page numbers ("2 / 4")


@needs_pdftotext
def test_delivery_pdf_in_belarusian_uses_belarusian_country_names(manifesto, tmp_path):
    make_signature(manifesto, "Ales Yuruts", city="Vilnius", country="LT")
    out = tmp_path / "be.pdf"
    call_command("delivery_pdf", "--petition", "manifesto", "--lang", "be", "--output", str(out))
    assert "Літва" in pdf_text(out)


def test_admin_serves_the_pdf_and_the_statistics(manifesto, staff_client):
    make_signature(manifesto, "Olga Loiko", country="PL")
    pdf = staff_client.get("/admin/signatures/signature/petition/manifesto/delivery.pdf?lang=de")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    stats = staff_client.get(
        "/admin/signatures/signature/petition/manifesto/statistics/"
    ).content.decode()
    assert "Signatures per day" in stats and "<svg" in stats and "Poland" in stats
    listing = staff_client.get("/admin/signatures/signature/").content.decode()
    assert "Delivery PDF" in listing and "Public list (CSV)" in listing


@pytest.mark.django_db(transaction=True)
def test_referring_partner_is_kept_as_an_aggregate_only(client, manifesto):
    from signatures.models import Signature
    from signatures.tests.conftest import confirm_by_mail

    assert (
        'name="source" value="taskforce"'
        in client.get("/en/manifesto/?source=taskforce").content.decode()
    )
    sign(client, source="taskforce")
    sign(client, email="other@example.org", source="<script>bad</script>")
    confirm_by_mail(client)
    stats = {s.source: (s.submitted, s.confirmed) for s in SigningStat.objects.all()}
    assert stats == {"taskforce": (1, 1), "scriptbadscript": (1, 0)}
    assert Signature.find(manifesto, "olga@example.org").source == ""  # confirmed: tag gone


def test_admin_import_upload_with_dry_run(manifesto, staff_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from signatures.models import Signature

    upload = SimpleUploadedFile("list.txt", "• Olga Loiko, Warsaw, Poland\n• Bad (line\n".encode())
    response = staff_client.post(
        "/admin/signatures/signature/import/",
        {"petition": manifesto.pk, "file": upload, "visibility": "public", "dry_run": "on"},
    )
    html = response.content.decode()
    assert "would import 1 signatures" in html and "unbalanced parentheses" in html
    assert Signature.objects.count() == 0
    upload = SimpleUploadedFile("list.txt", "• Olga Loiko, Warsaw, Poland\n".encode())
    staff_client.post(
        "/admin/signatures/signature/import/",
        {"petition": manifesto.pk, "file": upload, "visibility": "public"},
    )
    assert Signature.objects.get().imported_from == "list.txt"
