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
    # "Darya Lissek, Doutchland" is refused with a suggestion, never guessed.
    assert report.created == 68
    assert [e.error for e in report.errors] == [
        "unknown country “Doutchland”: did you mean Deutschland (DE, Germany)?"
    ]
    manifesto.refresh_from_db()
    assert manifesto.signature_count == 68
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
    daniela = Signature.objects.get(full_name="Daniela Sosa")  # "Hollywood, FL"
    assert (daniela.city, daniela.country.code) == ("Hollywood", "US")
    assert mail.outbox == []  # imported signatures are never e-mailed
    assert AuditEntry.objects.filter(action="import").exists()


def test_reimporting_the_same_file_creates_nothing(manifesto):
    import_signatures(manifesto, PUBLISHED.read_text(), source="a")
    again = import_signatures(manifesto, PUBLISHED.read_text(), source="a")
    assert (again.created, again.existing) == (0, 68)
    assert Signature.objects.count() == 68


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
        ("Paris", "FR"),
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


def test_belarus_lines_are_imported_not_listed_and_flagged(manifesto):
    text = (
        "• Іван Іваноў, Мінск, Belarus\n• Anna Homel (Teacher), Homiel\n• Piotr Gomelski, Гомель\n"
        "• Olga Minska, Минск\n• Jan Nowak, Warszawa, Poland\n"
    )
    report = import_signatures(manifesto, text, source="t", visibility="public")
    assert report.created == 5
    at_risk = Signature.objects.exclude(full_name="Jan Nowak")
    assert {s.country.code for s in at_risk} == {"BY"}
    assert {s.visibility for s in at_risk} == {"anonymous"}
    assert all(s.moderation == "unreviewed" and "Belarus" in s.import_flags for s in at_risk)
    assert not any(s.listed for s in at_risk)
    jan = Signature.objects.get(full_name="Jan Nowak")
    assert (jan.visibility, jan.moderation, jan.import_flags) == ("public", "approved", "")


def test_csv_visibility_is_respected_except_for_belarus(manifesto):
    text = (
        "full_name,city,country,visibility\n"
        "Olga Loiko,Warsaw,PL,public\n"
        "Ales Bialiatski,Minsk,,public\n"
        "Maria Kolesnikova,,BY,\n"
        "No Choice,Berlin,DE,\n"
    )
    import_signatures(manifesto, text, source="x.csv", filename="x.csv")
    shown = dict(Signature.objects.values_list("full_name", "visibility"))
    assert shown == {
        "Olga Loiko": "public",
        "Ales Bialiatski": "anonymous",
        "Maria Kolesnikova": "anonymous",
        "No Choice": "initials",  # no visibility anywhere: the safest listed form, flagged
    }
    flagged = Signature.objects.get(full_name="No Choice")
    assert flagged.moderation == "unreviewed" and "no visibility given" in flagged.import_flags
    assert "instead of “public”" in Signature.objects.get(full_name="Ales Bialiatski").import_flags


@pytest.mark.parametrize(
    ("location", "city", "country"),
    [
        ("Hollywood, FL", "Hollywood", "US"),
        ("WA, Lynnwood", "Lynnwood", "US"),
        ("Hallandale Beach, Florida", "Hallandale Beach", "US"),
        ("Warsaw", "Warsaw", "PL"),
        ("Вільнюс", "Вільнюс", "LT"),
        ("Gomel", "Gomel", "BY"),
        ("Cambridge", "Cambridge", ""),  # England, Canada, Massachusetts: not guessed
        ("Xyzzyville", "Xyzzyville", ""),
    ],
)
def test_country_is_inferred_from_the_city_only_when_the_gazetteer_is_sure(location, city, country):
    (line,) = parse_list(f"• Anna Nowak, {location}\n")
    assert (line.city, line.country, line.error) == (city, country, "")


def test_ambiguous_and_unknown_places_are_flagged_in_the_dry_run(manifesto, tmp_path, capsys):
    path = tmp_path / "list.txt"
    path.write_text("• Ola Nowak, Cambridge\n• Jan Kowal, Xyzzyville\n• Darya Lissek, Doutchland\n")
    call_command("import_signatures", str(path), "--petition", "manifesto", "--dry-run")
    out = capsys.readouterr().out
    assert "ambiguous place “Cambridge” (CA, GB, NZ, UA, US): country left empty" in out
    assert "unknown place “Xyzzyville”: country left empty" in out
    assert "NOT IMPORTED: unknown country “Doutchland”: did you mean Deutschland" in out


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("• Anna Nowak (call +375 29 123-45-67), Berlin", "phone number in the role"),
        ('• Anna Nowak (=HYPERLINK("http://x.example")), Berlin', "address in the role"),
        ("• Anna Nowak (-2+3), Berlin", "role starts with =, +, - or @"),
        ("• Anna Nowak (write to anna@example.org), Berlin", "address in the role"),
        ("• Anna Nowak (\u200b\u2060), Berlin", "role has only invisible characters"),
        ("• Anna Nowak, 8 029 555 12 34", "phone number in the city"),
        ("• Anna Nowak, www.example.org", "address in the city"),
        ("• Anna Nowak, =1+1", "city starts with"),
        ("• Anna Nowak, \u200b\u200d, Poland", "city has only invisible characters"),
    ],
)
def test_role_and_city_are_checked_like_names(manifesto, line, reason):
    report = import_signatures(manifesto, f"• Good Person, Berlin\n{line}\n", source="t")
    assert report.created == 1
    assert len(report.errors) == 1 and reason in report.errors[0].error, report.errors[0].error


def test_role_with_years_is_not_a_phone_number():
    (line,) = parse_list("• Anna Nowak (political prisoner 2020–2023), Berlin\n")
    assert line.error == "" and line.affiliation == "political prisoner 2020–2023"


def test_identical_lines_are_two_people_raised_as_a_duplicate_candidate(manifesto):
    from signatures.models import DuplicateCandidate

    text = "• Anna Nowak (Teacher), Berlin\n• Anna Nowak (Teacher), Berlin\n• Jan Kowal, Berlin\n"
    report = import_signatures(manifesto, text, source="t", visibility="public")
    assert report.created == 3
    annas = Signature.objects.filter(full_name="Anna Nowak")
    assert annas.count() == 2
    pair = DuplicateCandidate.objects.get()
    assert {pair.first_id, pair.second_id} == set(annas.values_list("pk", flat=True))
    assert "same as line 1" in annas.get(import_flags__contains="same as").import_flags
    again = import_signatures(manifesto, text, source="t", visibility="public")
    assert (again.created, again.existing) == (0, 3)
    assert Signature.objects.count() == 3


def test_import_key_is_keyed_with_the_secret(manifesto, settings):
    import hashlib

    import_signatures(manifesto, "• Anna Nowak, Berlin\n", source="t")
    key = Signature.objects.get().import_key
    assert key != hashlib.sha256(b"anna nowak||berlin|DE").hexdigest()
    settings.IMPORT_KEY_SECRET = "another secret"
    (line,) = parse_list("• Anna Nowak, Berlin\n")
    from signatures.imports import import_key

    assert import_key(line) != key


def test_imported_entries_keep_the_published_order_on_the_public_list(manifesto, client):
    text = "• Anna Alpha, Berlin\n• Boris Beta, Berlin\n• Clara Gamma, Berlin\n"
    import_signatures(manifesto, text, source="t", visibility="public")
    listed = Signature.objects.public().filter(petition=manifesto).newest_first()
    assert [s.full_name for s in listed] == ["Anna Alpha", "Boris Beta", "Clara Gamma"]
    page = client.get("/en/manifesto/signatories/").content.decode()
    assert page.index("Anna Alpha") < page.index("Boris Beta") < page.index("Clara Gamma")
