from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from signatures.imports import import_signatures, parse_list
from signatures.models import AuditEntry, Signature

pytestmark = pytest.mark.django_db
PUBLISHED = Path(__file__).parent / "data" / "published-list.txt"


def test_the_campaigns_published_list_imports_completely(manifesto):
    report = import_signatures(manifesto, PUBLISHED.read_text(), source="manifesto page")
    assert report.created == 69 and report.errors == []
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 69
    alana = Signature.objects.get(full_name="Alana Gebremariam")
    assert alana.affiliation == "Coordination Council (delegate), former political prisoner"
    assert (alana.city, alana.country.code) == ("Warsaw", "PL")
    assert alana.group == "former_political_prisoner" and alana.group_verified_at
    assert alana.imported_from == "manifesto page" and alana.status == "confirmed"
    ilonka = Signature.objects.get(full_name="Ilonka Kunow")
    assert (ilonka.city, ilonka.country.code, ilonka.group) == ("Gauting", "DE", "supporter")
    assert (
        Signature.objects.get(full_name="Natallia Maksimava").country.code == "DE"
    )  # "Deutschland"
    assert (
        Signature.objects.get(full_name="Aleksei Belokrylov").city == "Tbilisi"
    )  # "Georgia, Tbilisi"
    assert mail.outbox == []  # imported signatures are never e-mailed
    assert AuditEntry.objects.filter(action="import").exists()


def test_reimporting_the_same_file_creates_nothing(manifesto):
    import_signatures(manifesto, PUBLISHED.read_text(), source="a")
    again = import_signatures(manifesto, PUBLISHED.read_text(), source="a")
    assert (again.created, again.existing) == (0, 69)
    assert Signature.objects.count() == 69


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("• Anna (Teacher, Minsk", "unbalanced parentheses"),
        ("• (Teacher), Minsk", "no name"),
        ("• Anna Nowak (Teacher) Minsk", "not “, City, Country”"),
        ("• https://spam.example, Minsk", "web or e-mail address"),
        ('• =HYPERLINK("x"), Minsk', "starts with =, +, - or @"),
        ("• 69 people signed", "digits in the name"),
        ("• " + "x" * 130, "longer than 120"),
    ],
)
def test_malformed_lines_are_reported_with_their_reason_and_skipped(manifesto, line, reason):
    text = f"• Good Person, Minsk, Belarus\n{line}\n"
    report = import_signatures(manifesto, text, source="t")
    assert report.created == 1
    assert len(report.errors) == 1 and reason in report.errors[0].error
    assert report.errors[0].number == 2


def test_countries_in_any_site_language_or_missing():
    lines = parse_list(
        "• A One, Вільнюс, Літва\n• B Two, Warszawa, Polska\n• C Three, Paris\n"
        "• D Four, Berlin, Allemagne\n• E Five, Florida USA\n• F Six (Role, with comma), Kyiv, Україна\n"
    )
    assert [(line.city, line.country) for line in lines] == [
        ("Вільнюс", "LT"),
        ("Warszawa", "PL"),
        ("Paris", ""),
        ("Berlin", "DE"),
        ("Florida", "US"),
        ("Kyiv", "UA"),
    ]
    assert lines[5].affiliation == "Role, with comma"


def test_csv_import_with_documented_columns(manifesto):
    text = (
        "full_name,affiliation,city,country,email,visibility,group,group_verified\n"
        "Olga Loiko,Journalist,Warsaw,PL,olga@example.org,initials,former_political_prisoner,yes\n"
        "Bad Row,,,Atlantis,,,,\n"
        "Anon Person,,,Belarus,,anonymous,,\n"
    )
    report = import_signatures(manifesto, text, source="old.csv", filename="old.csv")
    assert report.created == 2
    assert [e.error for e in report.errors] == ["unknown country “Atlantis”"]
    olga = Signature.objects.get(full_name="Olga Loiko")
    assert (olga.visibility, olga.email, olga.group_verified_at is not None) == (
        "initials",
        "olga@example.org",
        True,
    )
    assert Signature.objects.get(full_name="Anon Person").country.code == "BY"
    # An address already signed online is not imported twice.
    again = import_signatures(
        manifesto, text.replace("Warsaw", "Warszawa"), source="old.csv", filename="old.csv"
    )
    assert again.created == 0


def test_dry_run_shows_everything_and_imports_nothing(manifesto, tmp_path, capsys):
    path = tmp_path / "list.txt"
    path.write_text("Signatories\n• Olga Loiko (Journalist), Warsaw, Poland\n• Broken (line\n")
    call_command("import_signatures", str(path), "--petition", "manifesto", "--dry-run")
    out = capsys.readouterr().out
    assert "line 2: Olga Loiko (Journalist), Warsaw, PL" in out
    assert "line 3 NOT IMPORTED: unbalanced parentheses: • Broken (line" in out
    assert "Would import 1 signatures" in out
    assert Signature.objects.count() == 0


def test_visibility_for_the_whole_import(manifesto, tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("• Olga Loiko, Warsaw, Poland\n")
    call_command(
        "import_signatures", str(path), "--petition", "manifesto", "--visibility", "initials"
    )
    assert Signature.objects.get().visibility == "initials"
