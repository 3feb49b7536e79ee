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
    assert page_numbers(out)[1:] == list(range(2, page_count(out) + 1))  # cover: a date


def page_count(path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def page_numbers(path) -> list[int]:
    """The number printed at the foot of each page (the last line of its text)."""
    numbers = []
    for page in range(1, page_count(path) + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        if text and text[-1].isdigit():
            numbers.append(int(text[-1]))
    return numbers


@needs_pdftotext
def test_delivery_pdf_in_belarusian_uses_belarusian_country_names(manifesto, tmp_path):
    make_signature(manifesto, "Ales Yuruts", city="Vilnius", country="LT")
    out = tmp_path / "be.pdf"
    call_command("delivery_pdf", "--petition", "manifesto", "--lang", "be", "--output", str(out))
    assert "Літва" in pdf_text(out)


def test_admin_shows_the_statistics(manifesto, staff_client):
    make_signature(manifesto, "Olga Loiko", country="PL")
    stats = staff_client.get(
        "/admin/signatures/signature/petition/manifesto/statistics/"
    ).content.decode()
    assert "Signatures per day" in stats and "<svg" in stats and "Poland" in stats
    listing = staff_client.get("/admin/signatures/signature/").content.decode()
    assert "Delivery PDF" in listing and "Public list (CSV)" in listing


@needs_pdftotext
def test_belarusian_cover_date_is_written_by_cldr(manifesto, tmp_path):
    from datetime import date

    from signatures.delivery import localised_date

    assert localised_date(date(2026, 4, 23), "be") == "23 красавіка 2026\u202fг."
    assert localised_date(date(2026, 11, 23), "lt") == "2026 m. lapkričio 23 d."
    out = tmp_path / "be.pdf"
    call_command("delivery_pdf", "--petition", "manifesto", "--lang", "be", "--output", str(out))
    text = pdf_text(out)
    assert "Ліс." not in text
    assert "\u202fг." in text or " г." in text


@needs_pdftotext
def test_order_alphabetical_by_family_name_or_signing_order(manifesto, tmp_path):
    from signatures.imports import import_signatures

    import_signatures(
        manifesto,
        "• Zofia Adamska, Warszawa, Poland\n• Anna Żukowska, Berlin, Germany\n"
        "• Jan Łukasz, Berlin, Germany\n• Piotr Lis, Berlin, Germany\n",
        source="list",
        visibility="public",
    )
    out = tmp_path / "signing.pdf"
    call_command("delivery_pdf", "--petition", "manifesto", "--output", str(out))
    text = pdf_text(out)
    names = ["Zofia Adamska", "Anna Żukowska", "Jan Łukasz", "Piotr Lis"]
    assert sorted(names, key=text.index) == names  # the published order
    call_command(
        "delivery_pdf", "--petition", "manifesto", "--lang", "pl", "--order", "alphabetical",
        "--output", str(out),
    )  # fmt: skip
    text = pdf_text(out)
    # Polish collation: Adamska, Lis, Łukasz (Ł after L), Żukowska.
    expected = ["Zofia Adamska", "Piotr Lis", "Jan Łukasz", "Anna Żukowska"]
    assert sorted(names, key=text.index) == expected


@needs_pdftotext
def test_subset_by_country_and_group(manifesto, tmp_path):
    maryia = make_signature(manifesto, "Maryia Babovich", group="former_political_prisoner")
    maryia.verify_group()
    make_signature(manifesto, "Hans Berliner", country="DE")
    make_signature(manifesto, "Jan Warszawski", country="PL")
    out = tmp_path / "de.pdf"
    call_command(
        "delivery_pdf", "--petition", "manifesto", "--countries", "DE", "--output", str(out)
    )
    text = pdf_text(out)
    assert "Hans Berliner" in text and "Jan Warszawski" not in text
    call_command(
        "delivery_pdf", "--petition", "manifesto", "--group", "former_political_prisoner",
        "--output", str(out),
    )  # fmt: skip
    text = pdf_text(out)
    assert "Maryia Babovich" in text and "Hans Berliner" not in text


@needs_pdftotext
def test_outdated_translation_says_so_in_the_pdf(manifesto, tmp_path):
    manifesto.set_current_language("en")
    manifesto.body = manifesto.body + "\n\nA new paragraph."
    manifesto.save()
    assert manifesto.translation_state("be") == "outdated"
    out = tmp_path / "be.pdf"
    call_command("delivery_pdf", "--petition", "manifesto", "--lang", "be", "--output", str(out))
    text = pdf_text(out)
    assert "ранейшай версіі тэксту; падпісаны англійскі тэкст" in text


@needs_pdftotext
def test_country_tables_are_never_split_across_pages(manifesto, tmp_path):
    from django_countries import countries

    from releasenow.lib.countries import country_name
    from signatures.delivery import COUNTRY_ROWS_PER_TABLE
    from signatures.models import CountryCount

    codes = [code for code, _name in countries][:60]
    for n, code in enumerate(codes):
        CountryCount.objects.create(petition=manifesto, country=code, count=1000 - n)
    out = tmp_path / "countries.pdf"
    call_command("delivery_pdf", "--petition", "manifesto", "--output", str(out))
    pages = [pdf_text_of_page(out, n) for n in range(1, page_count(out) + 1)]
    first_table = [country_name(code, "en") for code in codes[:COUNTRY_ROWS_PER_TABLE]]
    holding = [i for i, page in enumerate(pages) if first_table[0] in page]
    assert len(holding) == 1 and all(name in pages[holding[0]] for name in first_table)
    assert country_name(codes[-1], "en") in pages[holding[0] + 1]


def pdf_text_of_page(path, page: int) -> str:
    text = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return " ".join(text.split())


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


@pytest.mark.django_db(transaction=True)
def test_admin_orders_the_pdf_from_the_worker_and_downloads_it_when_ready(
    manifesto, staff_client, settings, tmp_path
):
    from signatures.models import StaffJob
    from signatures.tests.conftest import run_tasks

    settings.DELIVERY_DIR = tmp_path / "deliveries"
    make_signature(manifesto, "Olga Loiko", country="PL")
    form = staff_client.get("/admin/signatures/signature/petition/manifesto/delivery/")
    assert "Build the document" in form.content.decode()
    response = staff_client.post(
        "/admin/signatures/signature/petition/manifesto/delivery/",
        {"language": "de", "order": "alphabetical", "group": "", "countries": ["PL"]},
    )
    job = StaffJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    assert job.state == "queued" and not settings.DELIVERY_DIR.exists()  # not in the request
    page = staff_client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page and "waiting for the worker" in page
    run_tasks()
    job.refresh_from_db()
    assert (job.state, job.progress) == ("done", 100), job.message
    assert job.options == {
        "language": "de",
        "order": "alphabetical",
        "group": "",
        "countries": ["PL"],
    }
    page = staff_client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in page and "Download" in page
    pdf = staff_client.get(f"/admin/signatures/staffjob/{job.pk}/download/")
    assert pdf["Content-Disposition"].startswith("attachment")
    blocks = list(pdf.streaming_content)
    assert b"".join(blocks).startswith(b"%PDF")
    # In blocks of 256 KB, not Django's 4 KB (no wsgi.file_wrapper under granian).
    size = job.path.stat().st_size
    assert size > 4096 and len(blocks[0]) == min(size, 256 * 1024)
    assert len(blocks) == -(-size // (256 * 1024))


def test_statistics_show_labels_and_imported_signatures_as_imported(manifesto, staff_client):
    from signatures.imports import import_signatures

    maryia = make_signature(manifesto, "Maryia Babovich", group="former_political_prisoner")
    maryia.verify_group()
    import_signatures(manifesto, "• Anna Nowak, Berlin\n• Jan Kowal, Berlin\n", source="list")
    stats = staff_client.get(
        "/admin/signatures/signature/petition/manifesto/statistics/"
    ).content.decode()
    assert "Former political prisoner" in stats and "former_political_prisoner" not in stats
    assert "imported from earlier lists</td><td>2<" in stats
    assert "English (en)</td><td>1<" in stats
