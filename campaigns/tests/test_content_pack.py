import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from campaigns.content_pack import ContentPackError, dump_pack, load_pack
from campaigns.models import Campaign, Chart, Partner, Petition, Section
from conftest import DEFAULT_PACK

pytestmark = pytest.mark.django_db


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_loading_the_default_pack_creates_the_campaign_and_manifesto():
    report = load_pack(DEFAULT_PACK)
    assert report.created
    campaign = Campaign.objects.current()
    assert campaign.hashtag == "releasenow"
    assert campaign.petition.slug == "manifesto"
    assert campaign.partners.count() == 5
    assert Chart.objects.get(key="prisoner_history").points.count() == 7


def test_a_fresh_site_starts_at_zero_signatures():
    load_pack(DEFAULT_PACK)
    assert Petition.objects.get(slug="manifesto").signature_count == 0


def test_loading_twice_changes_nothing():
    load_pack(DEFAULT_PACK)
    stamp = Petition.objects.get(slug="manifesto").updated_at
    report = load_pack(DEFAULT_PACK)
    assert not report.changed, report.updated
    assert Petition.objects.get(slug="manifesto").updated_at == stamp


def test_load_content_command_reports_and_is_idempotent(capsys):
    call_command("load_content", str(DEFAULT_PACK))
    call_command("load_content", str(DEFAULT_PACK))
    out = capsys.readouterr().out.strip().splitlines()
    assert "0 created, 0 updated" in out[-1]


def test_load_content_if_empty_leaves_an_existing_site_alone(capsys):
    load_pack(DEFAULT_PACK)
    Section.objects.filter(key="launch").update(order=99)
    call_command("load_content", str(DEFAULT_PACK), "--if-empty")
    assert Section.objects.get(key="launch").order == 99


def test_dump_then_load_reproduces_the_same_content(tmp_path):
    load_pack(DEFAULT_PACK)
    dump_pack(tmp_path / "a")
    report = load_pack(tmp_path / "a")
    assert not report.changed, report.updated
    dump_pack(tmp_path / "b")
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")


def test_a_changed_text_in_the_pack_updates_only_that_text(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    load_pack(pack)
    path = pack / "en" / "sections" / "who.md"
    path.write_text(path.read_text().replace("Who are they?", "Who are the prisoners?"))
    report = load_pack(pack)
    assert report.kept == ["en/sections/who (title)"] and not report.updated
    report = load_pack(pack, force=True)
    assert report.updated == ["en/sections/who (title)"]
    assert not report.created
    section = Section.objects.get(key="who")
    section.set_current_language("en")
    assert section.title == "Who are the prisoners?"


def test_a_second_language_is_added_by_a_folder(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    shutil.rmtree(pack / "de")
    (pack / "de" / "sections").mkdir(parents=True)
    (pack / "de" / "sections" / "who.md").write_text("---\ntitle: Wer sind sie?\n---\nMenschen.\n")
    load_pack(pack)
    section = Section.objects.get(key="who")
    assert section.has_translation("de")
    section.set_current_language("de")
    assert (section.title, section.body) == ("Wer sind sie?", "Menschen.")


def test_partner_logos_are_loaded_once(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    (pack / "logos").mkdir()
    (pack / "logos" / "p.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    text = (pack / "pack.yaml").read_text()
    (pack / "pack.yaml").write_text(
        text.replace(
            "  url: https://politzek.me/\n  order: 2\n  logo: ''",
            "  url: https://politzek.me/\n  order: 2\n  logo: logos/p.svg",
        )
    )
    load_pack(pack)
    assert Partner.objects.get(key="politzek-me").logo.name.startswith("partners/p")
    assert not load_pack(pack).changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("  hashtag: releasenow", "  hashtag: releasenow\n  colour: red"),
            "campaign/releasenow: unknown fields colour",
        ),
        (("  launched_on: 2025-05-21", "  launched_on: yesterday"), "launched_on"),
        (("  petition: manifesto", "  petition: nope"), "petition 'nope' is not in the pack"),
        (("- slug: privacy", "- title: privacy"), "every entry of pages needs a slug"),
        (("charts:", "chart:"), "unknown kinds chart"),
    ],
)
def test_bad_packs_are_refused_with_a_clear_message_and_nothing_half_loaded(
    tmp_path, change, message
):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    text = (pack / "pack.yaml").read_text()
    assert change[0] in text
    (pack / "pack.yaml").write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(ContentPackError, match=message):
        load_pack(pack)
    assert not Petition.objects.exists()


def test_bad_front_matter_names_the_file(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    (pack / "en" / "portraits" / "student.md").write_text("---\ntext: [unclosed\n---\n")
    with pytest.raises(ContentPackError, match="student.md"):
        load_pack(pack)


def test_command_turns_pack_errors_into_command_errors(tmp_path):
    with pytest.raises(CommandError, match="no pack.yaml"):
        call_command("load_content", str(tmp_path))


def test_the_default_pack_speaks_every_site_language_marked_as_unreviewed_translations():
    from django.conf import settings

    load_pack(DEFAULT_PACK)
    petition = Petition.objects.get(slug="manifesto")
    for code, _name in settings.LANGUAGES:
        assert petition.has_translation(code), code
        if code != "en":
            assert petition.translation_state(code) == "unreviewed"
            for section in Section.objects.all():
                assert section.has_translation(code), (code, section.key)


def test_an_object_that_exists_is_never_overwritten_without_force(tmp_path, capsys):
    """`make run` on a site whose campaign object is missing must not replace the manifesto."""
    load_pack(DEFAULT_PACK)
    petition = Petition.objects.get(slug="manifesto")
    petition.set_current_language("en")
    petition.body = "The official manifesto, as the campaign wrote it."
    petition.text_version = 3
    petition.save()
    Campaign.objects.all().delete()
    call_command("load_content", str(DEFAULT_PACK), "--if-empty")
    petition = Petition.objects.get(slug="manifesto")
    petition.set_current_language("en")
    assert petition.body == "The official manifesto, as the campaign wrote it."
    assert petition.text_version == 3
    assert Campaign.objects.exists()  # what was missing is created
    out = capsys.readouterr().out
    assert "kept petitions/manifesto (text_version)" in out
    assert "kept en/petitions/manifesto (body)" in out
    call_command("load_content", str(DEFAULT_PACK), "--force")
    petition = Petition.objects.get(slug="manifesto")
    petition.set_current_language("en")
    assert petition.body != "The official manifesto, as the campaign wrote it."


def test_a_translation_added_to_a_changed_english_text_is_outdated(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    shutil.rmtree(pack / "de")
    load_pack(pack)
    section = Section.objects.get(key="who")
    section.set_current_language("en")
    section.title = "Who are the prisoners?"
    section.save()
    (pack / "de" / "sections").mkdir(parents=True)
    (pack / "de" / "sections" / "who.md").write_text("---\ntitle: Wer sind sie?\n---\nText.\n")
    load_pack(pack)
    assert Section.objects.get(key="who").translation_state("de") == "outdated"


def test_a_missing_title_is_a_clear_error(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    path = pack / "en" / "petitions" / "manifesto.md"
    text = path.read_text()
    lines = [line for line in text.splitlines() if not line.startswith("title:")]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ContentPackError, match="manifesto.md: required field title is missing"):
        load_pack(pack)
    assert not Petition.objects.exists()


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("en/petition", "en/petition: unknown folder \\(expected one of"),
        ("english", "english: unknown folder in the pack"),
        ("en/petitions/manifest.md", "en/petitions/manifest.md: no petitions entry"),
    ],
)
def test_an_unknown_folder_or_file_is_a_clear_error(tmp_path, folder, message):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK, pack)
    if folder.endswith(".md"):
        (pack / folder).write_text("---\ntitle: x\n---\nx\n")
    else:
        (pack / folder).mkdir()
        (pack / folder / "manifesto.md").write_text("---\ntitle: x\n---\nx\n")
    with pytest.raises(ContentPackError, match=message):
        load_pack(pack)
