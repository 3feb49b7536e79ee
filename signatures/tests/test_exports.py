import csv
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command

from signatures.exports import neutralise
from signatures.models import AuditEntry
from signatures.tests.conftest import make_signature

pytestmark = pytest.mark.django_db


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    "payload", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_cells_that_could_be_formulas_are_neutralised(payload):
    assert neutralise(payload).startswith("'")


def test_public_export_is_what_the_public_list_shows(manifesto, capsys):
    make_signature(
        manifesto, "Olga Loiko", affiliation='=HYPERLINK("http://x")', city="Warsaw", country="PL"
    )
    make_signature(manifesto, "Ales Yuruts", city="Vilnius", country="LT", visibility="initials")
    make_signature(manifesto, "Hidden One", visibility="anonymous")
    call_command("export_signatures", "--petition", "manifesto")
    out = capsys.readouterr().out
    data = rows(out)
    assert [r["name"] for r in data] == ["A. Y.", "Olga Loiko"]
    assert data[0]["city"] == "" and data[0]["country"] == "Lithuania"
    assert data[1]["affiliation"].startswith("'=HYPERLINK")
    assert "Hidden" not in out and "@example.org" not in out


def test_full_export_needs_the_permission_and_is_audited(manifesto, tmp_path):
    make_signature(manifesto, "Olga Loiko", email="olga@example.org")
    user = User.objects.create_user("exporter", password="x" * 20, is_staff=True)
    with pytest.raises(CommandError, match="permission"):
        call_command("export_signatures", "--petition", "manifesto", "--full", "--as", "exporter")
    user.user_permissions.add(Permission.objects.get(codename="export_personal_data"))
    out = tmp_path / "full.csv"
    call_command(
        "export_signatures",
        "--petition",
        "manifesto",
        "--full",
        "--as",
        "exporter",
        "--output",
        str(out),
    )
    data = rows(out.read_text())
    assert data[0]["email"] == "olga@example.org"
    entry = AuditEntry.objects.get(action="export with e-mail addresses")
    assert entry.actor_name == "exporter"


def test_admin_downloads_stream_and_guard_the_full_export(manifesto, staff_client):
    make_signature(manifesto, "Olga Loiko", email="olga@example.org")
    response = staff_client.get("/admin/signatures/signature/petition/manifesto/public.csv")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert b"Olga Loiko" in b"".join(response.streaming_content)
    full = staff_client.get("/admin/signatures/signature/petition/manifesto/full.csv")  # superuser
    assert b"olga@example.org" in b"".join(full.streaming_content)
    staff_client.user.is_superuser = False
    staff_client.user.save()
    assert (
        staff_client.get("/admin/signatures/signature/petition/manifesto/full.csv").status_code
        == 403
    )
